"""The inspection record (检查记录, EVIDENCE.md §5): the document the subject signs and the
inspectors confirm, and its hash.

Covered: every field event except the acts about the record itself — `signature`,
`signature_refused` (with its witness) and `record_confirmed` name the record by hash, so
they cannot be inside it. Everything else reaches the record through the projection: the
matters' items and results, notes, transcripts, photos, special outcomes, witnesses (by event
hash only: their names and numbers are personal data and the record is public), applied
corrections, and each member's first check-in (arrival). A later correction of a covered
event therefore changes the hash and makes earlier signatures and confirmations stale.

The record is a function of the SET of events, not of the order the log received them in:
phones sync whenever they find a signal, so the same events reach the log in any
interleaving across devices (within one device the order is fixed by seq). Every list is
sorted by a key of its own content — (at, inspector, event id) for notes, transcripts,
photos, special outcomes and corrections; (inspector, at) for arrivals — and where the fold
keeps one of several agreeing answers, the record takes the note of the latest by device
time, (at, inspector, event id), not the last one synced. What can still depend on the log
order is the fold's own semantics across devices (docs/events.md "The record"): whether a
correction applies or comes too late, and a same-device replacement racing a colleague's
correction. pwa/visit/record.js computes the same document and hash on the phone.

The document holds strings, integers and lists/objects only: no floats, no booleans, no
nulls (an absent value is an absent key), strings in NFC — so any JCS implementation
reproduces its bytes.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import TYPE_CHECKING, Any

from onevisit.evidence.jcs import canonical_evidence

if TYPE_CHECKING:  # record.py is imported by the projection; types only, no cycle at run time
    from onevisit.field.model import Checkin, MediaRef, MemberInfo, VisitInfo, VisitState

__all__ = ["RECORD_KIND", "build_record", "record_hash", "short_code"]

RECORD_KIND = "onevisit.inspection_record/2"  # bump when the document's shape or order changes


def build_record(state: VisitState, visit: VisitInfo) -> dict[str, Any]:
    """The record document of a projected visit (its signature/refusal/confirmations aside)."""
    members = {m.actor: m for m in visit.members}

    def who(actor: str) -> str:  # inspector codes are public; user ids are internal
        return members[actor].inspector if actor in members else actor

    def order(x: Any) -> tuple[int, str, str]:
        """Device time, inspector, event id: a key of the event itself, never of its sync."""
        return (x.at, who(x.actor), x.event)

    media: set[str] = set()

    def refs(refs: tuple[MediaRef, ...]) -> list[str]:
        media.update(r.sha256 for r in refs)
        return sorted({r.sha256 for r in refs})

    matters = []
    for m in state.matters:
        items = []
        for i in m.items:
            item: dict[str, Any] = {"position": i.position, "text": i.text}
            if i.result is not None:  # agreeing answers: the note of the latest by device time
                note = max(i.answers, key=order).note
                item |= {"result": i.result, "by": sorted(who(a) for a in i.by)}
                item |= _opt(note=note) | {"media": refs(i.media)}
            elif i.conflict:  # a disputed item is shown as disputed, never as one side
                item["conflict"] = sorted({a.result for a in i.conflict})
            items.append(item)
        matter = {"code": m.code, "name": m.name, "department": m.department, "items": items}
        if m.result_code is not None:
            note = max(m.result_answers, key=order).note
            matter |= {"result_code": m.result_code} | _opt(disposition=m.disposition, note=note)
        elif m.result_conflict:
            matter["result_conflict"] = sorted({a.result for a in m.result_conflict})
        matters.append(matter)

    arrivals: dict[str, Checkin] = {}
    for c in sorted(state.checkins, key=lambda c: (c.at, c.event)):
        arrivals.setdefault(c.actor, c)  # the arrival: each member's earliest by device time
    checkins = [
        {"inspector": who(c.actor), "at": c.at}
        | _opt(distance_m=c.distance_m, accuracy_m=c.accuracy_m, reason=c.reason)
        for c in arrivals.values()
    ]
    record = {
        "kind": RECORD_KIND,
        "visit": visit.visit,
        "task": {"code": visit.task} | _opt(name=visit.task_name),
        "subject": {"id": visit.subject.id, "name": visit.subject.name}
        | _opt(address=visit.subject.address),
        "members": [_member(m) for m in visit.members],
        "checkins": sorted(checkins, key=lambda a: (a["inspector"], a["at"])),
        "matters": matters,
        "notes": [
            {"by": who(n.actor), "at": n.at, "text": n.text} | _opt(matter=n.matter)
            for n in sorted(state.notes, key=order)
        ],
        "transcripts": [
            {"by": who(t.actor), "at": t.at, "text": t.text, "media": refs(t.media)}
            for t in sorted(state.transcripts, key=order)
        ],
        "photos": [
            {"by": who(p.actor), "at": p.at, "sha256": refs((p.media,))[0]}
            | _opt(caption=p.caption, matter=p.matter, item=p.item)
            for p in sorted(state.photos, key=order)
        ],
        "special_outcomes": [
            {"by": who(s.actor), "at": s.at, "code": s.code, "text": s.text, "media": refs(s.media)}
            for s in sorted(state.special_outcomes, key=order)
        ],
        "witnesses": sorted(w.hash for w in state.witnesses),
        "corrections": [
            {"event": c.event, "supersedes": c.supersedes, "reason": c.reason}
            for c in sorted(state.corrections, key=order)
            if c.applied
        ],
    }
    record["media"] = sorted(media)
    return _nfc(record)


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the record's canonical bytes (JCS, EVIDENCE.md §1), lowercase hex."""
    return hashlib.sha256(canonical_evidence(record)).hexdigest()


def short_code(hash_hex: str) -> str:
    """What the subject compares on screen and on paper before signing (§5)."""
    return hash_hex[:8]


def _member(m: MemberInfo) -> dict[str, Any]:
    role = "leader" if m.is_leader else "member"
    member = {"inspector": m.inspector, "name": m.name, "department": m.department}
    return member | {"served": m.served, "role": role} | _opt(certificate=m.certificate)


def _opt(**values: Any) -> dict[str, Any]:
    """Only the values that are there: None and "" become absent keys."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value
