"""Who may write what (EVIDENCE.md §3, issue: "the actor is a member of the visit's group and
its department owns the matter it writes to"): loaded once per batch, checked per event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onevisit.auth.tables import User
from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event
from onevisit.field.bodies import needs_visit
from onevisit.planning.tables import TaskMatter, Visit, VisitMember
from onevisit.planning.visits import is_visit_id

__all__ = [
    "OutOfScope",
    "VisitRequired",
    "VisitScope",
    "check_scope",
    "load_scopes",
    "matters_written",
]


class OutOfScope(EvidenceError):
    code = "visit.not_member"


class UnknownVisit(EvidenceError):
    code = "visit.unknown"


class VisitRequired(EvidenceError):
    """`"visit": null` on an event that records a visit's work (field.bodies.needs_visit):
    without a visit there would be no group to be a member of and no matter to own."""

    code = "visit.required"


class ForeignMatter(EvidenceError):
    code = "matter.not_served"


@dataclass
class VisitScope:
    served: dict[str, set[str]] = field(default_factory=dict)  # actor user id → departments
    matters: dict[str, str] = field(default_factory=dict)  # matter code → department


def matters_written(body: dict[str, Any]) -> list[str]:
    """The matters an event body writes to (a correction writes to its new body's matter)."""
    found = []
    for part in (body, body.get("body") if isinstance(body.get("body"), dict) else None):
        if part and isinstance(part.get("matter"), str):
            found.append(part["matter"])
    return found


async def load_scopes(visit_ids: Iterable[str]) -> dict[str, VisitScope]:
    ids = sorted({v for v in visit_ids if is_visit_id(v)})  # another string: visit.unknown
    if not ids:
        return {}
    visits = await Visit.select(Visit.id, Visit.task).where(Visit.id.is_in(ids))
    scopes = {str(v["id"]): VisitScope() for v in visits}
    if not visits:
        return scopes
    members = await VisitMember.select(
        VisitMember.visit, VisitMember.inspector, VisitMember.served.code.as_alias("served")
    ).where(VisitMember.visit.is_in(ids))
    inspectors = {m["inspector"] for m in members}
    users = (
        await User.select(User.id, User.inspector).where(User.inspector.is_in(list(inspectors)))
        if inspectors
        else []
    )
    user_of: dict[int, list[str]] = {}
    for u in users:
        user_of.setdefault(u["inspector"], []).append(str(u["id"]))
    for m in members:
        for user_id in user_of.get(m["inspector"], []):
            scopes[str(m["visit"])].served.setdefault(user_id, set()).add(m["served"])
    tasks = {v["task"]: str(v["id"]) for v in visits}
    task_matters = await TaskMatter.select(
        TaskMatter.task,
        TaskMatter.matter.code.as_alias("code"),
        TaskMatter.matter.department.code.as_alias("dep"),
    ).where(TaskMatter.task.is_in(list(tasks)))
    by_task: dict[int, dict[str, str]] = {}
    for tm in task_matters:
        by_task.setdefault(tm["task"], {})[tm["code"]] = tm["dep"]
    for v in visits:
        scopes[str(v["id"])].matters = by_task.get(v["task"], {})
    return scopes


def check_scope(event: Event, scopes: dict[str, VisitScope]) -> None:
    if event.visit is None:
        if needs_visit(event.type, event.body):
            raise VisitRequired(f"a {event.type} event belongs to a visit", type=event.type)
        return
    scope = scopes.get(event.visit)
    if scope is None:
        raise UnknownVisit(event.visit)
    served = scope.served.get(event.actor)
    if not served:
        raise OutOfScope(f"{event.actor} is not in the group of visit {event.visit}")
    for code in matters_written(event.body):
        department = scope.matters.get(code)
        if department is None or department not in served:
            raise ForeignMatter(f"matter {code} is not checked by {event.actor}'s department")
