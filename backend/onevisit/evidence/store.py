"""Writing evidence: accepted events become rows holding their exact bytes, and leaves of the
log; the server's own workflow actions are events of the reserved device "server".

Callers hold `db.write_transaction()` (one writer at a time), so the chain heads and the log's
right edge they read stay true until they commit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onevisit.db import bulk_insert
from onevisit.evidence.events import (
    GENESIS_PREV,
    SERVER_DEVICE,
    SERVER_TYPE_PREFIX,
    Event,
    leaf_input,
    media_hashes,
    named_record,
    names_media,
    parse_event,
    sign_event,
)
from onevisit.evidence.jcs import canonical_evidence
from onevisit.evidence.keys import event_key
from onevisit.evidence.log import LogAppender, sign_checkpoint
from onevisit.evidence.tables import Event as EventRow

__all__ = [
    "Accepted",
    "ChainHead",
    "append_server_entry",
    "chain_heads",
    "new_event_id",
    "now_ms",
    "server_envelope",
    "store_events",
]

EVENT_COLUMNS = (
    "event_id",
    "hash",
    "device_id",
    "seq",
    "prev",
    "actor",
    "visit",
    "event_type",
    "at_ms",
    "envelope",
    "sig",
    "received_ms",
    "log_index",
)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_event_id(ms: int | None = None) -> str:
    """A UUIDv7 (RFC 9562 §5.7): 48-bit Unix ms, version 7, variant 10, 74 random bits."""
    value = ((ms if ms is not None else now_ms()) & (2**48 - 1)) << 80
    value |= 0x7 << 76 | int.from_bytes(os.urandom(10), "big") & ((1 << 76) - 1)
    value = (value & ~(0b11 << 62)) | (0b10 << 62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: str


_HEADS_PER_QUERY = 200  # SQLite allows 500 terms in one compound SELECT


async def chain_heads(devices: Sequence[str]) -> dict[str, ChainHead]:
    """The last stored event of each device (absent: the device has sent nothing yet), in one
    query: per device, the unique (device_id, seq) index read backwards for one row, so the cost
    does not grow with the device's history (a correlated MAX() ran once per stored event)."""
    wanted = sorted(set(devices))
    if not wanted:
        return {}
    last = (
        "SELECT * FROM (SELECT device_id, seq, hash FROM event WHERE device_id = {} "
        "ORDER BY seq DESC LIMIT 1) AS h%d"
    )
    heads: dict[str, ChainHead] = {}
    for start in range(0, len(wanted), _HEADS_PER_QUERY):
        chunk = wanted[start : start + _HEADS_PER_QUERY]
        rows = await EventRow.raw(" UNION ALL ".join(last % i for i in range(len(chunk))), *chunk)
        heads.update((r["device_id"], ChainHead(r["seq"], r["hash"])) for r in rows)
    return heads


@dataclass(frozen=True, slots=True)
class Accepted:
    event: Event
    sig: str
    received_ms: int
    log_index: int


async def store_events(
    items: Sequence[tuple[Event, str]], appender: LogAppender, *, received_ms: int
) -> list[Accepted]:
    """Append verified events to the log and store their exact bytes (spec §3-§4), with the
    media and record indexes (media_ref, record_ref) in the same transaction."""
    accepted: list[Accepted] = []
    rows: list[tuple[Any, ...]] = []
    for event, sig in items:
        leaf = leaf_input(event_hash=event.hash, sig=sig, receipt_ms=received_ms)
        index = appender.append(leaf_input=leaf, event_hash=event.hash)
        accepted.append(Accepted(event, sig, received_ms, index))
        rows.append(
            (
                event.id,
                event.hash,
                event.device,
                event.seq,
                event.prev,
                event.actor,
                event.visit,
                event.type,
                event.at,
                event.raw,
                sig,
                received_ms,
                index,
            )
        )
    await bulk_insert("event", EVENT_COLUMNS, rows)
    refs = [
        (sha, e.hash, e.visit) for e, _ in items if names_media(e) for sha in media_hashes(e.body)
    ]
    await bulk_insert("media_ref", ("sha256", "event_hash", "visit"), refs)
    named = [(named_record(e.type, e.body), e.hash, e.visit) for e, _ in items]
    await bulk_insert(
        "record_ref", ("record_hash", "event_hash", "visit"), [r for r in named if r[0]]
    )
    await appender.flush()
    return accepted


async def server_envelope(
    *, event_type: str, body: dict[str, Any], visit: str | None = None
) -> tuple[Event, str]:
    """A signed event of the reserved device "server" (spec §4: workflow actions are log
    entries too), chained after the server's previous one. Call inside the write transaction
    and store it with store_events in the same one."""
    if not event_type.startswith(SERVER_TYPE_PREFIX):
        event_type = SERVER_TYPE_PREFIX + event_type
    head = (await chain_heads([SERVER_DEVICE])).get(SERVER_DEVICE)
    at = now_ms()
    envelope = {
        "v": 1,
        "id": new_event_id(at),
        "device": SERVER_DEVICE,
        "seq": head.seq + 1 if head else 1,
        "prev": head.hash if head else GENESIS_PREV,
        "actor": SERVER_DEVICE,
        "visit": visit,
        "type": event_type,
        "at": at,
        "body": body,
    }
    raw = canonical_evidence(envelope)
    return parse_event(raw), sign_event(envelope_bytes=raw, private_key=event_key())


async def append_server_entry(
    event_type: str, body: dict[str, Any], visit: str | None = None
) -> dict[str, Any]:
    """One server log entry (a workflow step, spec §4) appended and covered by a new signed
    checkpoint; call inside the caller's write transaction. Answers a reference to it."""
    appender = await LogAppender.open()
    event, sig = await server_envelope(event_type=event_type, body=body, visit=visit)
    (stored,) = await store_events([(event, sig)], appender, received_ms=now_ms())
    await sign_checkpoint(appender)
    return {"type": event.type, "event": event.id, "hash": event.hash,
            "log_index": stored.log_index}  # fmt: skip
