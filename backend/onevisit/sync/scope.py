"""Who may write what (EVIDENCE.md §3, issue: "the actor is a member of the visit's group and
its department owns the matter it writes to"): loaded once per batch, checked per event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event
from onevisit.field.bodies import needs_visit
from onevisit.planning.tables import Visit, VisitMember
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
    """Two queries a batch, written out: built through the ORM's joins they cost a sync batch
    more than its database work."""
    ids = sorted(filter(is_visit_id, set(visit_ids)))  # another string: visit.unknown
    if not ids:
        return {}
    marks = ", ".join("{}" for _ in ids)
    matters = await Visit.raw(
        "SELECT v.id AS visit, m.code AS code, d.code AS dep FROM visit v "
        "LEFT JOIN task_matter tm ON tm.task = v.task LEFT JOIN matter m ON m.id = tm.matter "
        f"LEFT JOIN department d ON d.id = m.department WHERE v.id IN ({marks})",
        *ids,
    )
    scopes: dict[str, VisitScope] = {}
    for row in matters:
        scope = scopes.setdefault(str(row["visit"]), VisitScope())
        if row["code"] is not None:  # a visit whose task has no matter yet
            scope.matters[row["code"]] = row["dep"]
    if not scopes:
        return scopes
    members = await VisitMember.raw(
        "SELECT vm.visit AS visit, u.id AS user_id, d.code AS served FROM visit_member vm "
        "JOIN app_user u ON u.inspector = vm.inspector JOIN department d ON d.id = vm.served "
        f"WHERE vm.visit IN ({marks})",
        *ids,
    )
    for row in members:
        scopes[str(row["visit"])].served.setdefault(str(row["user_id"]), set()).add(row["served"])
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
