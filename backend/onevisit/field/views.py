"""The read side of the projection: turns the fold's live entries into a frozen VisitState,
computes check-in flags and the record hash, and lists the problems only the whole picture
shows (conflicts, stale acts). Deterministic: log order, VisitInfo order, or sorted keys.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from onevisit.evidence.events import Event
from onevisit.field.model import (
    Answer,
    Checkin,
    Confirmation,
    CorrectionState,
    ItemState,
    MatterState,
    MediaRef,
    NoteState,
    Person,
    PhotoState,
    Problem,
    RefusalState,
    SignatureState,
    SpecialOutcomeState,
    TranscriptState,
    VisitInfo,
    VisitState,
    WitnessState,
)
from onevisit.field.record import build_record, record_hash

__all__ = ["FAR_M", "INACCURATE_M", "Entry", "clock_suspect", "distance_m", "freeze"]

FAR_M = 500  # a check-in further than this from the registered location is flagged
INACCURATE_M = 100  # a fix less accurate than this is flagged
CLOCK_TOLERANCE_MS = 5 * 60_000
PROMPT_MS = 10 * 60_000
EARTH_RADIUS_M = 6_371_009  # IUGG mean radius R1, rounded to the metre


@dataclass
class Entry:
    """One correctable thing of the fold, keyed by its original event (`root`)."""

    type: str
    root: str
    actor: str  # the original author: answers are kept per (actor, device)
    device: str
    first_at: int
    received_ms: int
    made_after_ms: int | None
    event: str  # the event that now carries it
    hash: str
    at: int
    body: dict[str, Any]
    corrected_by: str | None = None


def distance_m(lat1_e6: int, lon1_e6: int, lat2_e6: int, lon2_e6: int) -> int:
    """Great-circle (haversine) distance in whole metres between integer micro-degrees."""
    p1, p2 = math.radians(lat1_e6 / 1e6), math.radians(lat2_e6 / 1e6)
    dp, dl = p2 - p1, math.radians((lon2_e6 - lon1_e6) / 1e6)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a))))


def clock_suspect(offset_ms: int, received_ms: int, made_after_ms: int | None) -> bool:
    """Is the device clock wrong? offset_ms = device `at` - server receipt time.

    A phone that worked offline for an hour syncs events an hour "behind" with a perfect
    clock, so a negative offset alone proves nothing: it counts only when the event is known
    to have reached us within 10 minutes of being made (made_after_ms, from the server,
    bounds the true making time from below). A positive offset is never offline delay —
    nothing is received before it is made — so beyond 5 minutes it is a clock running ahead.
    """
    if abs(offset_ms) <= CLOCK_TOLERANCE_MS:
        return False
    if offset_ms > 0:
        return True
    return made_after_ms is not None and received_ms - made_after_ms <= PROMPT_MS


def _ref(raw: dict[str, Any] | None) -> MediaRef | None:
    return None if raw is None else MediaRef(raw["sha256"], raw["bytes"], raw["mime"])


def _refs(raws: Sequence[dict[str, Any]]) -> tuple[MediaRef, ...]:
    return tuple(MediaRef(r["sha256"], r["bytes"], r["mime"]) for r in raws)


def _person(b: dict[str, Any]) -> Person:
    return Person(b["name"], b.get("id_number"), b.get("phone"), b.get("role"))


def _checkin(visit: VisitInfo, e: Entry) -> Checkin:
    b, subject = e.body, visit.subject
    lat, lon, acc = b.get("lat_e6"), b.get("lon_e6"), b.get("accuracy_m")
    dist = None
    if None not in (lat, lon, subject.lat_e6, subject.lon_e6):
        dist = distance_m(lat, lon, subject.lat_e6, subject.lon_e6)  # type: ignore[arg-type]
    offset = e.first_at - e.received_ms  # the original event's clock, even when corrected
    return Checkin(
        event=e.event, actor=e.actor, device=e.device, at=e.first_at,
        received_ms=e.received_ms, lat_e6=lat, lon_e6=lon, accuracy_m=acc,
        source=b.get("source"), reason=b.get("reason"), distance_m=dist,
        far=dist is not None and dist > FAR_M, inaccurate=acc is not None and acc > INACCURATE_M,
        clock_offset_ms=offset, clock_suspect=clock_suspect(offset, e.received_ms, e.made_after_ms),
        corrected_by=e.corrected_by,
    )  # fmt: skip


def _answer(e: Entry) -> Answer:
    b = e.body
    result = b["result"] if e.type == "item_result" else b["result_code"]
    return Answer(
        event=e.event, root=e.root, actor=e.actor, device=e.device, at=e.at, result=result,
        note=b.get("note", ""), media=_refs(b.get("media", [])),
        disposition=b.get("disposition"), corrected_by=e.corrected_by,
    )  # fmt: skip


def _settle(answers: list[Answer]) -> tuple[Answer | None, tuple[str, ...], tuple[Answer, ...]]:
    """(latest agreeing answer, agreeing actors, conflict). Answers compare by result and,
    for matters, disposition; notes may differ (the latest one is shown)."""
    if not answers:
        return None, (), ()
    if len({(a.result, a.disposition) for a in answers}) > 1:
        return None, (), tuple(answers)
    return answers[-1], tuple(sorted({a.actor for a in answers})), ()


def _matters(visit: VisitInfo, entries: list[Entry], problems: list[Problem]) -> list[MatterState]:
    slots: dict[tuple[str, Any], list[Answer]] = {}
    for e in entries:
        if e.type in ("item_result", "matter_result"):
            slots.setdefault((e.body["matter"], e.body.get("item")), []).append(_answer(e))
    out = []
    for m in visit.matters:
        items = []
        for info in m.items:
            answers = slots.get((m.code, info.position), [])
            latest, by, conflict = _settle(answers)
            media: dict[str, MediaRef] = {}  # every agreeing answer's media stays in view
            for a in answers if latest else []:
                media.update({r.sha256: r for r in a.media if r.sha256 not in media})
            items.append(ItemState(
                position=info.position, text=info.text, result=latest and latest.result,
                note=latest.note if latest else "", media=tuple(media.values()), by=by,
                answers=tuple(answers), conflict=conflict,
            ))  # fmt: skip
            if conflict:
                msg = f"{m.code} item {info.position}: answers differ"
                problems.append(Problem("item.conflict", msg, conflict[-1].event))
        answers = slots.get((m.code, None), [])
        latest, by, conflict = _settle(answers)
        if conflict:
            msg = f"{m.code}: result codes differ"
            problems.append(Problem("matter_result.conflict", msg, conflict[-1].event))
        out.append(MatterState(
            code=m.code, department=m.department, name=m.name, items=tuple(items),
            answered=sum(i.result is not None for i in items), total=len(items),
            result_code=latest and latest.result, disposition=latest and latest.disposition,
            note=latest.note if latest else "", result_by=by, result_answers=tuple(answers),
            result_conflict=conflict,
        ))  # fmt: skip
    return out


def _acts(acts: list[tuple[Event, dict[str, Any]]], current: str, problems: list[Problem]):
    signature = refusal = None
    confirmations: dict[str, Confirmation] = {}
    for ev, b in acts:  # log order: the latest of each kind wins
        stale = b["record_hash"] != current
        if ev.type == "signature":
            signature = SignatureState(
                event=ev.id, actor=ev.actor, at=ev.at, record_hash=b["record_hash"],
                signer_name=b["signer_name"], signer_role=b["signer_role"],
                image=_ref(b["image"]), strokes=_ref(b["strokes"]), stale=stale,
            )  # fmt: skip
        elif ev.type == "signature_refused":
            refusal = RefusalState(
                event=ev.id, actor=ev.actor, at=ev.at, record_hash=b["record_hash"],
                reason_code=b["reason_code"], reason=b["reason"], witness=_person(b["witness"]),
                witness_signature=_ref(b.get("witness_signature")), photo=_ref(b.get("photo")),
                stale=stale,
            )  # fmt: skip
        else:
            confirmations[ev.actor] = Confirmation(
                event=ev.id, actor=ev.actor, at=ev.at, method=b["method"],
                record_hash=b["record_hash"], stale=stale,
            )  # fmt: skip
    if signature and refusal:
        msg = "the record is both signed and refused"
        problems.append(Problem("signature.conflict", msg, refusal.event))
    for code, act in (("signature", signature), ("refusal", refusal)):
        if act and act.stale:
            msg = f"{code} names record {act.record_hash[:8]}, not the current {current[:8]}"
            problems.append(Problem(f"{code}.stale_record", msg, act.event))
    confirmed = tuple(confirmations[a] for a in sorted(confirmations))
    for c in confirmed:
        if c.stale:
            msg = f"{c.actor} confirmed record {c.record_hash[:8]}, not the current {current[:8]}"
            problems.append(Problem("confirmation.stale_record", msg, c.event))
    return signature, refusal, confirmed


def freeze(
    *,
    visit: VisitInfo,
    entries: list[Entry],
    acts: list[tuple[Event, dict[str, Any]]],
    corrections: list[CorrectionState],
    problems: list[Problem],
    now_ms: int,
) -> VisitState:
    problems = list(problems)
    of = {t: [e for e in entries if e.type == t] for t in {e.type for e in entries}}
    checkins = tuple(_checkin(visit, e) for e in of.get("checkin", []))
    flags = (("far", "far from"), ("inaccurate", "imprecise"), ("clock_suspect", "clock off at"))
    for c in checkins:
        for flag, text in flags:
            if getattr(c, flag):
                problems.append(Problem(f"checkin.{flag}", f"{c.actor}: {text} check-in", c.event))
    # Presence (002:20(二), at least two on site): a check-in counts unless it is positively
    # far; one without a position (indoors, no fix) counts and shows its reason instead.
    present = {c.actor for c in checkins if not c.far}

    def head(e: Entry) -> dict[str, Any]:
        return {"event": e.event, "root": e.root, "actor": e.actor, "at": e.at,
                "corrected_by": e.corrected_by}  # fmt: skip

    state = VisitState(
        visit=visit.visit, as_of_ms=now_ms, checkins=checkins, two_present=len(present) >= 2,
        matters=tuple(_matters(visit, entries, problems)),
        notes=tuple(NoteState(**head(e), text=e.body["text"], matter=e.body.get("matter"))
                    for e in of.get("note", [])),
        transcripts=tuple(
            TranscriptState(**head(e), text=e.body["text"], media=_refs(e.body.get("media", [])))
            for e in of.get("transcript", [])),
        photos=tuple(PhotoState(
            **head(e), media=_ref(e.body["media"]), caption=e.body.get("caption", ""),
            matter=e.body.get("matter"), item=e.body.get("item"), lat_e6=e.body.get("lat_e6"),
            lon_e6=e.body.get("lon_e6"), accuracy_m=e.body.get("accuracy_m"),
        ) for e in of.get("photo", [])),
        special_outcomes=tuple(SpecialOutcomeState(
            **head(e), code=e.body["code"], text=e.body["text"],
            media=_refs(e.body.get("media", []))) for e in of.get("special_outcome", [])),
        witnesses=tuple(WitnessState(**head(e), hash=e.hash, person=_person(e.body))
                        for e in of.get("witness", [])),
        corrections=tuple(corrections), record_hash="", signature=None, refusal=None,
        confirmations=(), problems=(),
    )  # fmt: skip
    current = record_hash(build_record(state, visit))
    signature, refusal, confirmations = _acts(acts, current, problems)
    if (signature or refusal) and len(present) < 2:
        msg = "the record was closed with fewer than two inspectors checked in on site"
        problems.append(Problem("presence.fewer_than_two", msg))
    return replace(
        state, record_hash=current, signature=signature, refusal=refusal,
        confirmations=confirmations, problems=tuple(problems),
    )  # fmt: skip
