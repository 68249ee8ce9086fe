"""A visit's state, always rebuilt from its accepted events in log order (nothing derived is
stored, so the state can never drift from the evidence), and its inspection record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.auth.tables import User
from onevisit.directory.tables import CheckItem, Subject
from onevisit.errors import AppError
from onevisit.evidence.events import parse_event
from onevisit.evidence.store import now_ms
from onevisit.evidence.tables import Checkpoint, Event
from onevisit.field.model import (
    ItemInfo,
    MatterInfo,
    MemberInfo,
    SubjectInfo,
    VisitInfo,
    VisitState,
)
from onevisit.field.projection import Received, project_visit
from onevisit.field.record import build_record, record_hash, short_code
from onevisit.planning.tables import TaskMatter, Visit, VisitMember
from onevisit.planning.visits import is_visit_id

__all__ = ["VisitView", "may_see_visit", "my_visits", "received_events", "visit_info", "visit_view"]


@dataclass(frozen=True, slots=True)
class VisitView:
    info: VisitInfo
    state: VisitState
    record: dict[str, Any]
    record_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "visit": self.info.to_json(),
            "state": self.state.to_json(),
            "record": self.record,
            "record_hash": self.record_hash,
            "short_code": short_code(self.record_hash),
        }


async def visit_info(visit_id: str) -> VisitInfo:
    if not is_visit_id(visit_id):
        raise AppError("request.not_found", "visit", visit=visit_id)
    visit = (
        await Visit.select(
            Visit.id,
            Visit.subject_id,
            Visit.task.code.as_alias("task_code"),
            Visit.task.name.as_alias("task_name"),
            Visit.task,  # the id, for its matters
        )
        .where(Visit.id == visit_id)
        .first()
    )
    if visit is None:
        raise AppError("request.not_found", "visit", visit=visit_id)
    subject = await Subject.select().where(Subject.subject_id == visit["subject_id"]).first()
    members = (
        await VisitMember.select(
            VisitMember.inspector,
            VisitMember.inspector.code.as_alias("code"),
            VisitMember.inspector.name.as_alias("name"),
            VisitMember.inspector.certificate_no.as_alias("certificate"),
            VisitMember.department.code.as_alias("department"),
            VisitMember.served.code.as_alias("served"),
            VisitMember.is_leader,
        )
        .where(VisitMember.visit == visit_id)
        .order_by(VisitMember.position)
    )
    users = await User.select(User.id, User.inspector).where(
        User.inspector.is_in([m["inspector"] for m in members] or [0])
    )
    actor_of = {u["inspector"]: str(u["id"]) for u in users}
    matters = (
        await TaskMatter.select(
            TaskMatter.matter,
            TaskMatter.matter.code.as_alias("code"),
            TaskMatter.matter.name.as_alias("name"),
            TaskMatter.matter.department.code.as_alias("department"),
        )
        .where(TaskMatter.task == visit["task"])
        .order_by(TaskMatter.position)
    )
    items = await CheckItem.select(CheckItem.matter, CheckItem.position, CheckItem.text).where(
        CheckItem.matter.is_in([m["matter"] for m in matters] or [0])
    )
    return VisitInfo(
        visit=str(visit["id"]),
        subject=SubjectInfo(
            id=visit["subject_id"],
            name=subject["name"] if subject else visit["subject_id"],
            address=subject["address"] if subject else "",
            lat_e6=subject["lat_e6"] if subject else None,
            lon_e6=subject["lon_e6"] if subject else None,
        ),
        task=visit["task_code"],
        task_name=visit["task_name"],
        members=tuple(
            MemberInfo(
                actor=actor_of.get(m["inspector"], ""),
                inspector=m["code"],
                name=m["name"],
                department=m["department"],
                served=m["served"],
                is_leader=m["is_leader"],
                certificate=m["certificate"] or None,
            )
            for m in members
        ),
        matters=tuple(
            MatterInfo(
                code=m["code"],
                department=m["department"],
                name=m["name"],
                items=tuple(
                    ItemInfo(i["position"], i["text"])
                    for i in sorted(items, key=lambda i: i["position"])
                    if i["matter"] == m["matter"]
                ),
            )
            for m in matters
        ),
    )


def may_see_visit(caller: Caller, info: VisitInfo) -> bool:
    """Admins; the group's members; coordinators of a department whose matters it checks."""
    if caller.role is Role.admin:
        return True
    if any(m.actor == caller.user_id for m in info.members):
        return True
    departments = {m.department for m in info.matters}
    return caller.role is Role.coordinator and caller.department in departments


async def received_events(visit_id: str) -> list[Received]:
    rows = (
        await Event.select(Event.envelope, Event.received_ms)
        .where(Event.visit == visit_id)
        .order_by(Event.log_index)
    )
    events = [(parse_event(bytes(r["envelope"])), r["received_ms"]) for r in rows]
    # An anchor names a checkpoint the device had seen: the event was made after it was signed.
    sizes = {e.anchor.size for e, _ in events if e.anchor is not None}
    signed = {}
    if sizes:
        cps = await Checkpoint.select(Checkpoint.size, Checkpoint.root, Checkpoint.signed_ms).where(
            Checkpoint.size.is_in(sorted(sizes))
        )
        signed = {(c["size"], bytes(c["root"])): c["signed_ms"] for c in cps}
    return [
        Received(e, r, signed.get((e.anchor.size, e.anchor.root)) if e.anchor else None)
        for e, r in events
    ]


async def visit_view(*, visit_id: str, caller: Caller) -> VisitView:
    info = await visit_info(visit_id)
    if not may_see_visit(caller, info):
        raise AppError("auth.forbidden", "not your visit", visit=visit_id)
    state = project_visit(visit=info, events=await received_events(visit_id), now_ms=now_ms())
    record = build_record(state, info)
    return VisitView(info, state, record, record_hash(record))


async def my_visits(*, caller: Caller) -> list[dict[str, Any]]:
    """The visits whose group the caller belongs to: those the leader planned first, by day
    and the leader's order (planning/dayplan.py), then the rest in the draw's batch order."""
    if caller.inspector_code is None:
        return []
    rows = await VisitMember.select(
        VisitMember.visit,
        VisitMember.visit.subject_id.as_alias("subject_id"),
        VisitMember.visit.task.code.as_alias("task"),
        VisitMember.visit.task.name.as_alias("task_name"),
        VisitMember.visit.batch_order.as_alias("batch_order"),
        VisitMember.visit.status.as_alias("status"),
        VisitMember.visit.planned_date.as_alias("planned_date"),
        VisitMember.visit.day_order.as_alias("day_order"),
        VisitMember.is_leader,
    ).where(VisitMember.inspector.code == caller.inspector_code)
    rows.sort(key=lambda r: (
        r["planned_date"] is None, r["planned_date"] or dt.date.min, r["day_order"] or 0,
        r["task"], r["batch_order"],
    ))  # fmt: skip
    ids = sorted({r["subject_id"] for r in rows})
    names = {
        s["subject_id"]: s["name"]
        for s in await Subject.select(Subject.subject_id, Subject.name).where(
            Subject.subject_id.is_in(ids or [""])
        )
    }
    return [
        {
            "visit": str(r["visit"]),
            "subject_id": r["subject_id"],
            "subject_name": names.get(r["subject_id"], r["subject_id"]),
            "task": r["task"],
            "task_name": r["task_name"],
            "batch_order": r["batch_order"],
            "planned_date": r["planned_date"].isoformat() if r["planned_date"] else None,
            "status": r["status"],
            "leader": r["is_leader"],
        }
        for r in rows
    ]
