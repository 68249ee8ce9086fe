"""A record's public verification (EVIDENCE.md §5, §7 `GET /verify/record/{record_hash}`): the
record document, its confirmations, its signature or refusal, and the log entries behind it
with inclusion proofs against the latest checkpoint. Read by anyone, without sign-in.

Finding it: the acts about a record (signature, signature_refused, record_confirmed) name it by
hash, and the store indexes them in `record_ref` when they are accepted (filled for earlier
events by its migration), so a hash no act names is unknown — a record nobody confirmed or
signed is not published. The record document is rebuilt from the visit's events: the current
one, or, when the record changed since (a later note, result or correction), the state of the
visit's log just before an act naming it, or failing that of one of the 16 log prefixes before
each such act (`_candidates`: bounded, as the page is public). A record that was never such a
state (a phone that confirmed offline a view missing events another phone synced meanwhile)
is not found; the projection already calls such an act stale.

What is public (docs/sync.md "Verifying a record"): the record document exactly as hashed —
record.py keeps personal data out of it (witnesses by event hash only, no coordinates, no
phones or id numbers, media by hash) — so anyone can recompute `record_hash` from it; of each
act only what the page needs: inspector name, department and certificate number and the method
of a confirmation; the signer's name and role and the hashes of the signature image and
strokes; a refusal's reason and the witness's name and media hashes (never the witness's
phone, id number or role); and of each event only its log entry (hash, signature, receipt time)
— never the envelope, which carries device and user ids and, for a refusal, the witness's data.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from onevisit.db import read_transaction
from onevisit.errors import AppError
from onevisit.evidence import merkle
from onevisit.evidence.events import RECORD_ACTS, SERVER_TYPE_PREFIX, named_record
from onevisit.evidence.log import inclusion_proofs, latest_checkpoint, read_leaves
from onevisit.evidence.store import now_ms
from onevisit.evidence.tables import Event, RecordRef
from onevisit.field.bodies import BodyInvalid, check_body
from onevisit.field.model import MemberInfo, VisitInfo
from onevisit.field.projection import Projector, Received, project_visit
from onevisit.field.record import build_record, short_code
from onevisit.field.service import received_events, visit_info
from onevisit.planning.visits import is_visit_id
from onevisit.workdays.calendar import BEIJING

__all__ = ["METHODS", "RETENTION_YEARS", "public_record", "retention"]

HEX64 = re.compile(r"[0-9a-f]{64}")
# record_confirmed `method` → how the public page names it (EVIDENCE.md §5: the record states
# which form of confirmation each inspector gave).
METHODS = {"webauthn": "passkey", "device_pin": "device_pin"}
SEARCH_BACK = 16  # states tried before each act naming the record (see _candidates)
MAX_STATES = 64  # states tried in all: each costs a pass over the visit
RETENTION_YEARS = 2  # archive files kept at least two years (002:25)


@dataclass(frozen=True, slots=True)
class _Found:
    info: VisitInfo
    record: dict[str, Any]
    behind: list[Received]  # the visit's field events the record was folded from
    acts: list[Received]  # the acts of members naming the record, in log order
    current: bool  # the visit's record today is this one


def _unknown(record_hash: str) -> AppError:
    shown = record_hash if HEX64.fullmatch(record_hash) else None
    return AppError("record.unknown", record_hash=shown)


def _is_act_of(info: VisitInfo, received: Received, record_hash: str) -> bool:
    """An act naming this record, by a member, with a valid body (what the projection counts)."""
    event = received.event
    if named_record(event.type, event.body) != record_hash:
        return False
    if event.visit != info.visit or event.actor not in {m.actor for m in info.members}:
        return False
    try:
        check_body(event.type, event.body)
    except BodyInvalid:
        return False
    return True


def _field(received: Received) -> bool:
    """An event the record folds: of the visit's field work, not an act, not the server's."""
    t = received.event.type
    return t not in RECORD_ACTS and not t.startswith(SERVER_TYPE_PREFIX)


def _candidates(events: list[Received], acts: list[int]) -> list[set[int]]:
    """Prefix lengths whose state may be the record, in two rounds: the log just before each
    act naming it (a phone confirms what it sees, and its own events precede its act); then
    the SEARCH_BACK states before each (a view that missed a few events another phone synced
    just before the act), at most MAX_STATES in all. Bounded on purpose: the page is public,
    and each state costs a pass over the visit."""
    fields = [i for i, r in enumerate(events) if _field(r)]
    first: list[int] = []
    back: list[int] = []
    for act in acts:
        before = [i + 1 for i in fields if i < act] or [0]  # 0: no field work yet
        first.append(before[-1])
        back += reversed(before[-SEARCH_BACK - 1 : -1])
        if len(before) <= SEARCH_BACK and before[0] != 0:
            back.append(0)
    return [set(first[:MAX_STATES]), set(back[: max(0, MAX_STATES - len(first))])]


def _replay(info: VisitInfo, events: list[Received], wanted: set[int], record_hash: str):
    """(state, prefix length) of the shortest wanted prefix whose record has this hash."""
    projector, now = Projector(info), now_ms()
    for n in range(max(wanted, default=-1) + 1):
        if n:
            projector.apply(*events[n - 1])
        if n in wanted and (state := projector.state(now)).record_hash == record_hash:
            return state, n
    return None


def _find_in_visit(info: VisitInfo, events: list[Received], record_hash: str) -> _Found | None:
    acts = [i for i, r in enumerate(events) if _is_act_of(info, r, record_hash)]
    if not acts:
        return None
    current = project_visit(visit=info, events=events, now_ms=now_ms())
    acted = [events[i] for i in acts]
    if current.record_hash == record_hash:
        behind = [r for r in events if _field(r)]
        return _Found(info, build_record(current, info), behind, acted, current=True)
    for wanted in _candidates(events, acts):  # an earlier version: replay in log order
        found = _replay(info, events, wanted, record_hash)
        if found is not None:
            state, n = found
            behind = [r for r in events[:n] if _field(r)]
            return _Found(info, build_record(state, info), behind, acted, current=False)
    return None


async def _find(record_hash: str) -> _Found:
    if not HEX64.fullmatch(record_hash):
        raise _unknown(record_hash)
    rows = await RecordRef.select(RecordRef.visit).where(RecordRef.record_hash == record_hash)
    # The record document names its visit, so one visit holds it; an act of another visit may
    # name it too (a wrong or hostile reference), and is then simply not found there.
    for visit in sorted({r["visit"] for r in rows if r["visit"] and is_visit_id(r["visit"])}):
        try:
            info = await visit_info(visit)
        except AppError:
            continue
        found = _find_in_visit(info, await received_events(visit), record_hash)
        if found is not None:
            return found
    raise _unknown(record_hash)


def _member(info: VisitInfo, actor: str) -> MemberInfo:
    return next(m for m in info.members if m.actor == actor)


def _who(m: MemberInfo) -> dict[str, Any]:
    out = {"inspector": m.inspector, "name": m.name, "department": m.department}
    return out | ({"certificate": m.certificate} if m.certificate else {})


def _sha(ref: Any) -> str | None:
    return ref["sha256"] if isinstance(ref, dict) else None


def _acts(found: _Found, index_of: dict[str, int]) -> dict[str, Any]:
    confirmations: list[dict[str, Any]] = []
    signature = refusal = None
    for r in found.acts:  # log order: the latest signature and refusal count, as in views.py
        e, b = r.event, r.event.body
        head = {"at": e.at, "event_hash": e.hash, "log_index": index_of[e.hash]}
        by = _member(found.info, e.actor)
        if e.type == "record_confirmed":
            confirmations.append(_who(by) | {"method": METHODS[b["method"]]} | head)
        elif e.type == "signature":
            signature = {
                "signer_name": b["signer_name"],
                "signer_role": b["signer_role"],
                "image_sha256": b["image"]["sha256"],
                "strokes_sha256": b["strokes"]["sha256"],
                "collected_by": by.inspector,
            } | head
        else:
            refusal = {
                "reason_code": b["reason_code"],
                "reason": b["reason"],
                "witness": {"name": b["witness"]["name"]},
                "recorded_by": by.inspector,
            }
            for key in ("witness_signature", "photo"):
                if _sha(b.get(key)):
                    refusal[f"{key}_sha256"] = _sha(b[key])
            refusal |= head
    return {"confirmations": confirmations, "signature": signature, "refusal": refusal}


async def public_record(record_hash: str) -> dict[str, Any]:
    """The public verification of a record, as JSON (the HTML page renders this)."""
    async with read_transaction():  # one snapshot on SQLite; entries never change anyway
        found = await _find(record_hash)
        # Read after the events: every batch signs a checkpoint covering its events as it
        # commits, so this one covers all of them (the test below is for a broken store).
        checkpoint = await latest_checkpoint()
        if checkpoint is None:
            raise _unknown(record_hash)
        wanted = [r.event.hash for r in [*found.behind, *found.acts]]
        rows = await _log_indexes(wanted)
        covered = sorted(i for i in rows.values() if i < checkpoint.size)
        leaves = await read_leaves(covered)
        paths = await inclusion_proofs(covered, checkpoint.size) if covered else {}
    entries = []
    for r in sorted([*found.behind, *found.acts], key=lambda r: rows[r.event.hash]):
        index = rows[r.event.hash]
        entry: dict[str, Any] = {"log_index": index, "event_hash": r.event.hash}
        entry |= {"type": r.event.type, "leaf_input": None, "inclusion": None}
        if index in leaves:
            leaf = leaves[index]
            entry["leaf_input"] = base64.b64encode(leaf).decode()
            entry["inclusion"] = {
                "index": index,
                "size": checkpoint.size,
                "leaf_hash": merkle.leaf_hash(leaf).hex(),
                "path": [p.hex() for p in paths[index]],
            }
        entries.append(entry)
    return {
        "record_hash": record_hash,
        "short_code": short_code(record_hash),
        "current": found.current,
        "retention": retention([r.event.at for r in [*found.behind, *found.acts]]),
        "record": found.record,
        **_acts(found, rows),
        "entries": entries,
        "checkpoint": {
            "size": checkpoint.size,
            "root": base64.b64encode(checkpoint.root).decode(),
            "note": checkpoint.note,
        },
    }


def retention(event_ms: list[int]) -> dict[str, Any]:
    """How long the archive keeps the record (002:25: at least two years; the store is
    append-only, so nothing is ever removed — the date is the earliest it could be)."""
    last = dt.datetime.fromtimestamp(max(event_ms, default=0) / 1000, BEIJING).date()
    try:
        until = last.replace(year=last.year + RETENTION_YEARS)
    except ValueError:  # 29 February
        until = last.replace(year=last.year + RETENTION_YEARS, day=28)
    return {"min_years": RETENTION_YEARS, "kept_until": until.isoformat(), "deletable": False}


async def _log_indexes(hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(hashes), 500):
        rows = await Event.select(Event.hash, Event.log_index).where(
            Event.hash.is_in(hashes[start : start + 500])
        )
        found.update((r["hash"], r["log_index"]) for r in rows)
    return found
