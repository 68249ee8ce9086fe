"""The evidence store (EVIDENCE.md §3-§4). Every table here is append-only: triggers created by
the migrations refuse UPDATE and DELETE on both engines. Corrections are new events.

- event: the exact envelope bytes each device sent (never re-serialised), with the columns
  needed to check chains and find a visit's events; `hash` is recomputed from `envelope`.
- log_leaf: the RFC 6962 log, one leaf per accepted event (leaf input = JCS {h, s, r}).
- merkle_node: the hash of every PERFECT subtree (2^level leaves from leaf idx·2^level), so an
  append or a proof reads O(log n) nodes.
- checkpoint: each signed tree head, as the exact signed note served at /log/checkpoint.
- media_ref: which event (and visit) references which media hash; written with the event, it
  decides who may read a photo or signature image.
- record_ref: which event (and visit) names which inspection record hash — the confirmations,
  signatures and refusals of a record (EVIDENCE.md §5); written with the event, it finds the
  record behind GET /verify/record/{record_hash}.
"""

from piccolo.columns import BigInt, Bytea, Integer, Text, Varchar
from piccolo.table import Table


class Event(Table, tablename="event"):
    event_id = Varchar(length=36, unique=True)  # the envelope's "id" (uuid v7)
    hash = Varchar(length=64, unique=True)  # hex SHA-256 of envelope
    device_id = Varchar(length=64)  # 64 hex, or "server"
    seq = BigInt()
    prev = Varchar(length=64)
    actor = Varchar(length=64)
    visit = Varchar(length=36, null=True, default=None, index=True)
    event_type = Varchar(length=32)
    at_ms = BigInt()  # device time
    envelope = Bytea()  # the exact bytes received
    sig = Varchar(length=128)  # base64url raw r||s
    received_ms = BigInt()  # server receipt time ("r" of the leaf)
    log_index = BigInt(unique=True)


class LogLeaf(Table, tablename="log_leaf"):
    idx = BigInt(unique=True)
    leaf_input = Bytea()  # JCS({"h","s","r"}) exactly as hashed
    event_hash = Varchar(length=64)


class MerkleNode(Table, tablename="merkle_node"):
    level = Integer()
    idx = BigInt()
    hash = Bytea()


class Checkpoint(Table, tablename="checkpoint"):
    size = BigInt(unique=True)
    root = Bytea()
    note = Text()  # the signed note, byte for byte what /log/checkpoint serves
    signed_ms = BigInt()


class MediaRef(Table, tablename="media_ref"):
    sha256 = Varchar(length=64, index=True)
    event_hash = Varchar(length=64)
    visit = Varchar(length=36, null=True, default=None)


class RecordRef(Table, tablename="record_ref"):
    record_hash = Varchar(length=64, index=True)
    event_hash = Varchar(length=64)
    visit = Varchar(length=36, null=True, default=None)
