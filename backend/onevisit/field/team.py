"""The team leader's view of a joint visit, the phones' backlog reports behind it, and closing
the visit (docs/visits.md "Team view" and "Closing a visit").

- report_status: a phone says how many of its device's signed events its outbox still holds
  unverified, per visit. Operational state, kept latest-only in auth.DeviceStatus — not
  evidence: a report proves nothing and is overwritten by the next one.
- team_view: per member, what the server holds (check-in, answers, last receipt) beside what
  the member's phones still hold (their latest reports); the record's signature, refusal,
  confirmations and conflicts; and whether the visit may be closed, with the reasons why not.
- close_visit: the group's leader closes it. The status becomes `closed` and a workflow event
  of the reserved device "server" (EVIDENCE.md §4), signed with the server key, records who
  closed which record hash — in the same write transaction as the check, so no event can slip
  in between the check and the close. Events that arrive later are still accepted (nothing
  may be lost) and shown as "after close".

`assess` is pure: the rules of closing are tested without a database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onevisit.auth.roles import Caller
from onevisit.auth.tables import DeviceKey, DeviceStatus
from onevisit.db import read_transaction, write_transaction
from onevisit.errors import AppError
from onevisit.evidence.events import SERVER_DEVICE
from onevisit.evidence.log import LogAppender, sign_checkpoint
from onevisit.evidence.store import now_ms, server_envelope, store_events
from onevisit.field.model import MemberInfo, VisitInfo, VisitState
from onevisit.field.projection import Received, project_visit
from onevisit.field.record import short_code
from onevisit.field.service import may_see_visit, received_events, visit_info
from onevisit.planning.tables import Visit
from onevisit.planning.visits import is_visit_id

__all__ = [
    "CLOSED",
    "CLOSE_EVENT",
    "Closure",
    "Report",
    "assess",
    "close_visit",
    "closure_of",
    "report_status",
    "team_view",
]

CLOSED = "closed"  # Visit.status once closed
CLOSE_EVENT = "server.visit_closed"
_DEVICE_ID = re.compile(r"[0-9a-f]{64}")  # hex SHA-256 of the SPKI (EVIDENCE.md §2)
MAX_VISITS_PER_REPORT = 500  # a phone holds a few dozen visits; more is not a phone


@dataclass(frozen=True, slots=True)
class Report:
    """One device's latest backlog report (only of devices not revoked)."""

    device_id: str
    actor: str
    pending: int  # of the visit in question
    rejected: int  # all visits: rows the phone holds rejected for good
    last_ok_ms: int | None
    reported_ms: int


@dataclass(frozen=True, slots=True)
class Closure:
    event: str
    at: int
    received_ms: int
    by: str
    inspector: str
    record_hash: str


# --- reports ---------------------------------------------------------------------------------
async def report_status(
    *,
    caller: Caller,
    device_id: str,
    pending: int,
    visits: Mapping[str, int],
    rejected: int = 0,
    last_ok_ms: int | None = None,
) -> dict[str, Any]:
    """Keep the device's latest report. Only its owner may report for it; a revoked device's
    events are refused anyway, so its backlog is not waited for (auth.device_revoked)."""
    if not _DEVICE_ID.fullmatch(device_id):  # names no device (and PostgreSQL refuses NUL)
        raise AppError("device.unknown", device=device_id[:64])
    if len(visits) > MAX_VISITS_PER_REPORT:
        raise AppError("request.invalid", f"at most {MAX_VISITS_PER_REPORT} visits")
    bad = sorted(v for v in visits if not is_visit_id(v))
    if bad:
        raise AppError("request.invalid", "visits are keyed by visit id", visits=bad[:5])
    if sum(visits.values()) > pending:
        raise AppError("request.invalid", "the visits' counts exceed `pending`")
    kept = {v: n for v, n in sorted(visits.items()) if n > 0}
    async with write_transaction():
        key = (
            await DeviceKey.select(DeviceKey.app_user, DeviceKey.revoked_at)
            .where(DeviceKey.device_id == device_id)
            .first()
        )
        if key is None:
            raise AppError("device.unknown", device=device_id)
        if str(key["app_user"]) != caller.user_id:
            raise AppError("device.not_owner", device=device_id)
        if key["revoked_at"] is not None:
            raise AppError("auth.device_revoked", device=device_id)
        reported = now_ms()
        values = {
            DeviceStatus.pending: pending,
            DeviceStatus.rejected: rejected,
            DeviceStatus.visits: kept,
            DeviceStatus.last_ok_ms: last_ok_ms,
            DeviceStatus.reported_ms: reported,
        }
        if await DeviceStatus.exists().where(DeviceStatus.device_id == device_id):
            await DeviceStatus.update(values).where(DeviceStatus.device_id == device_id)
        else:
            await DeviceStatus.insert(
                DeviceStatus(device_id=device_id, app_user=caller.user_id, **{
                    c._meta.name: v for c, v in values.items()
                })
            )  # fmt: skip
    return {
        "device_id": device_id,
        "pending": pending,
        "visits": kept,
        "rejected": rejected,
        "last_ok_ms": last_ok_ms,
        "reported_ms": reported,
    }


async def _reports(visit_id: str, members: Sequence[MemberInfo]) -> list[Report]:
    actors = sorted({m.actor for m in members if m.actor})
    if not actors:
        return []
    rows = (
        await DeviceStatus.select()
        .where(DeviceStatus.app_user.is_in(actors))
        .output(load_json=True)
    )
    live = {
        r["device_id"]
        for r in await DeviceKey.select(DeviceKey.device_id).where(
            DeviceKey.device_id.is_in([r["device_id"] for r in rows] or [""]),
            DeviceKey.revoked_at.is_null(),
        )
    }
    return [
        Report(
            device_id=r["device_id"],
            actor=str(r["app_user"]),
            pending=int((r["visits"] or {}).get(visit_id, 0)),
            rejected=r["rejected"],
            last_ok_ms=r["last_ok_ms"],
            reported_ms=r["reported_ms"],
        )
        for r in sorted(rows, key=lambda r: r["device_id"])
        if r["device_id"] in live
    ]


# --- the rules -------------------------------------------------------------------------------
def closure_of(events: Sequence[Received]) -> tuple[Closure | None, list[Received]]:
    """The close entry, and the members' events the log received after it."""
    for i, r in enumerate(events):
        e = r.event
        if e.device == SERVER_DEVICE and e.type == CLOSE_EVENT:
            b = e.body
            closure = Closure(
                event=e.id, at=e.at, received_ms=r.received_ms, by=str(b.get("by", "")),
                inspector=str(b.get("inspector", "")), record_hash=str(b.get("record_hash", "")),
            )  # fmt: skip
            return closure, [x for x in events[i + 1 :] if x.event.device != SERVER_DEVICE]
    return None, []


def _reason(code: str, detail: str | None = None, **details: Any) -> dict[str, Any]:
    return AppError(code, detail, **details).to_body()


def _who(m: MemberInfo) -> dict[str, Any]:
    return {"actor": m.actor, "inspector": m.inspector, "name": m.name}


def assess(
    *,
    info: VisitInfo,
    state: VisitState,
    events: Sequence[Received],
    reports: Sequence[Report],
    status: str,
) -> dict[str, Any]:
    """The team view (JSON) of a visit: pure, from the visit's facts, its projected state, its
    received events in log order and its members' devices' latest reports."""
    closure, late = closure_of(events)
    checked_in = {c.actor for c in state.checkins}
    confirmed = {c.actor: c for c in state.confirmations}
    answers: dict[str, int] = {}
    for matter in state.matters:
        for a in [a for i in matter.items for a in i.answers] + list(matter.result_answers):
            answers[a.actor] = answers.get(a.actor, 0) + 1
    received: dict[str, int] = {}
    for r in events:
        if r.event.device != SERVER_DEVICE:
            received[r.event.actor] = max(received.get(r.event.actor, 0), r.received_ms)
    members = []
    for m in info.members:
        mine = [r for r in reports if r.actor == m.actor and m.actor]
        conf = confirmed.get(m.actor)
        members.append({
            **_who(m), "department": m.department, "served": m.served,
            "is_leader": m.is_leader, "checked_in": m.actor in checked_in,
            "answers": answers.get(m.actor, 0),
            "last_received_ms": received.get(m.actor),
            "pending": sum(r.pending for r in mine),
            "rejected": sum(r.rejected for r in mine),
            "reported_ms": max((r.reported_ms for r in mine), default=None),
            "devices": [{"device_id": r.device_id, "pending": r.pending, "rejected": r.rejected,
                         "last_ok_ms": r.last_ok_ms, "reported_ms": r.reported_ms} for r in mine],
            "confirmation": None if conf is None else ("stale" if conf.stale else "current"),
            "after_close": sum(1 for r in late if r.event.actor == m.actor),
        })  # fmt: skip

    sig, ref = state.signature, state.refusal
    item_conflicts = [
        {"matter": mt.code, "item": it.position, "text": it.text,
         "answers": [a.to_json() for a in it.conflict]}
        for mt in state.matters for it in mt.items if it.conflict
    ]  # fmt: skip
    result_conflicts = [
        {"matter": mt.code, "answers": [a.to_json() for a in mt.result_conflict]}
        for mt in state.matters
        if mt.result_conflict
    ]
    both_acts = sig is not None and ref is not None

    reasons: list[dict[str, Any]] = []
    if status == CLOSED:
        reasons.append(_reason("visit.closed"))
    else:
        # 002:21: where the inspection could not proceed (unreachable, deregistered…), the
        # evidence forms the result directly and there is nobody to sign or refuse.
        special = bool(state.special_outcomes)
        if not ((sig and not sig.stale) or (ref and not ref.stale) or special):
            what = "stale" if (sig or ref) else "missing"
            reasons.append(_reason("visit.not_signed", what, signature=what))
        unconfirmed = [
            {**_who(m), "confirmation": "stale" if m.actor in confirmed else "missing"}
            for m in info.members
            if m.actor in checked_in and (m.actor not in confirmed or confirmed[m.actor].stale)
        ]
        if unconfirmed:
            names = "、".join(u["name"] for u in unconfirmed)
            reasons.append(_reason("visit.unconfirmed", names, members=unconfirmed))
        if not state.two_present:
            reasons.append(_reason("visit.presence", present=len(checked_in)))
        if item_conflicts or result_conflicts or both_acts:
            reasons.append(_reason(
                "visit.conflicts", items=len(item_conflicts), results=len(result_conflicts),
                signature=both_acts,
            ))  # fmt: skip
        waiting = [
            {**_who(m), "pending": row["pending"], "reported_ms": row["reported_ms"]}
            for m, row in zip(info.members, members, strict=True)
            if row["pending"] > 0
        ]
        if waiting:
            names = "、".join(w["name"] for w in waiting)
            reasons.append(_reason("visit.pending_sync", names, members=waiting))

    def act(a: Any, **extra: Any) -> dict[str, Any] | None:
        if a is None:
            return None
        return {"event": a.event, "actor": a.actor, "at": a.at, "record_hash": a.record_hash,
                "stale": a.stale, **extra}  # fmt: skip

    names = {m.actor: m for m in info.members}
    closed = None
    if closure is not None:
        by = names.get(closure.by)
        closed = {
            "event": closure.event, "at": closure.at, "by": closure.by,
            "inspector": closure.inspector, "name": by.name if by else "",
            "record_hash": closure.record_hash,
            "record_changed": closure.record_hash != state.record_hash,
        }  # fmt: skip
    return {
        "visit": info.visit,
        "status": status,
        "task": info.task,
        "subject": {"id": info.subject.id, "name": info.subject.name},
        "as_of_ms": state.as_of_ms,
        "record_hash": state.record_hash,
        "short_code": short_code(state.record_hash),
        "signature": sig and act(sig, signer_name=sig.signer_name),
        "refusal": ref and act(ref, reason_code=ref.reason_code),
        "confirmations": [
            {
                "actor": c.actor,
                "inspector": names[c.actor].inspector if c.actor in names else "",
                "name": names[c.actor].name if c.actor in names else "",
                "method": c.method,
                "at": c.at,
                "record_hash": c.record_hash,
                "stale": c.stale,
            }
            for c in state.confirmations
        ],
        "conflicts": {"items": item_conflicts, "results": result_conflicts, "signature": both_acts},
        "two_present": state.two_present,
        "members": members,
        "closable": not reasons,
        "reasons": reasons,
        "closed": closed,
        "after_close": [
            {
                "event": r.event.id,
                "actor": r.event.actor,
                "type": r.event.type,
                "received_ms": r.received_ms,
            }
            for r in late
        ],
    }


# --- reading and closing ---------------------------------------------------------------------
async def _load(info: VisitInfo) -> tuple[str, VisitState, list[Received], list[Report]]:
    visit_id = info.visit
    status = (await Visit.select(Visit.status).where(Visit.id == visit_id).first())["status"]
    events = await received_events(visit_id)
    state = project_visit(visit=info, events=events, now_ms=now_ms())
    return status, state, events, await _reports(visit_id, info.members)


async def team_view(*, visit_id: str, caller: Caller) -> dict[str, Any]:
    """Who may see the visit (service.may_see_visit) may see its team view."""
    async with read_transaction():
        info = await visit_info(visit_id)
        if not may_see_visit(caller, info):
            raise AppError("auth.forbidden", "not your visit", visit=visit_id)
        status, state, events, reports = await _load(info)
    return assess(info=info, state=state, events=events, reports=reports, status=status)


async def close_visit(
    *, visit_id: str, caller: Caller, record_hash: str | None = None
) -> dict[str, Any]:
    """Close the visit: the group's leader only, when `assess` finds no reason not to.
    `record_hash`, when given, is the record the leader looked at: a different current record
    answers visit.record_changed instead of closing something the leader has not seen."""
    async with write_transaction():
        info = await visit_info(visit_id)
        leader = next((m for m in info.members if m.is_leader), None)
        if leader is None or not leader.actor or leader.actor != caller.user_id:
            raise AppError("auth.forbidden", "only the group's leader closes the visit")
        status, state, events, reports = await _load(info)
        view = assess(info=info, state=state, events=events, reports=reports, status=status)
        if status == CLOSED:
            raise AppError("visit.closed", closed=view["closed"])
        if record_hash is not None and record_hash != state.record_hash:
            raise AppError("visit.record_changed", current=state.record_hash, given=record_hash)
        if view["reasons"]:
            first = view["reasons"][0]
            raise AppError(
                first["code"],
                "；".join(r["message"] for r in view["reasons"]),
                **first["details"],
                reasons=view["reasons"],
            )
        sig = state.signature
        signed = (
            ("signature", sig) if sig and not sig.stale else ("signature_refused", state.refusal)
        )
        body = {
            "by": caller.user_id,
            "inspector": leader.inspector,
            "record_hash": state.record_hash,
            # what made it closable: the subject's act and the members' current confirmations
            "signed": {"type": signed[0], "event": signed[1].event},  # type: ignore[union-attr]
            "confirmations": [c.event for c in state.confirmations if not c.stale],
        }
        appender = await LogAppender.open()
        event, sig = await server_envelope(event_type=CLOSE_EVENT, body=body, visit=visit_id)
        received = now_ms()
        (stored,) = await store_events([(event, sig)], appender, received_ms=received)
        await sign_checkpoint(appender)
        await Visit.update({Visit.status: CLOSED}).where(Visit.id == visit_id)
    return {
        "visit": visit_id,
        "status": CLOSED,
        "closed": {
            "event": event.id,
            "hash": event.hash,
            "log_index": stored.log_index,
            "at": event.at,
            "by": caller.user_id,
            "inspector": leader.inspector,
            "record_hash": state.record_hash,
        },
    }
