"""Tasks and visits with their joint groups. The draw (DRAW.md) will call these with its
result; until then tests, the simulator and the demo name the groups themselves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from onevisit.db import write_transaction
from onevisit.directory.tables import Department, Inspector, Matter
from onevisit.errors import AppError
from onevisit.planning.tables import Task, TaskMatter, Visit, VisitMember

__all__ = ["create_task", "create_visit", "is_visit_id"]


def is_visit_id(value: str) -> bool:
    """Whether `value` is a visit id as the system writes it (a UUID in lowercase hyphenated
    form). Anything else names no visit; PostgreSQL would refuse it as a uuid parameter."""
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, TypeError, AttributeError):
        return False


async def _ids(table, codes: Sequence[str], error: str) -> dict[str, int]:
    rows = await table.select(table.id, table.code).where(table.code.is_in(list(codes) or [""]))
    found = {r["code"]: r["id"] for r in rows}
    missing = sorted(set(codes) - set(found))
    if missing:
        raise AppError(error, ", ".join(missing))
    return found


async def create_task(
    *,
    code: str,
    name: str,
    initiator: str,
    matters: Sequence[str],
    created_by: str,
    trigger: dict[str, Any] | None = None,
    plan: tuple[str, int] | None = None,
) -> int:
    """A "1+X" task: the first matter is the lead one. With a trigger it is a triggered task
    (tasks.check_trigger); `plan`: the (plan code, line) it runs. One transaction: the task is
    never seen half made."""
    if not matters:
        raise AppError("matter.invalid", "a task needs at least its lead matter")
    async with write_transaction():
        initiator_id = (await _ids(Department, [initiator], "department.unknown"))[initiator]
        matter_ids = await _ids(Matter, matters, "matter.unknown")
        if await Task.exists().where(Task.code == code):
            raise AppError("task.exists", code)
        task = Task(
            code=code, name=name, initiator=initiator_id, created_by=created_by,
            kind="triggered" if trigger is not None else "ordinary", trigger=trigger,
            plan_code=plan[0] if plan else "", plan_line=plan[1] if plan else None,
        )  # fmt: skip
        await Task.insert(task)
        await TaskMatter.insert(
            *[
                TaskMatter(task=task.id, matter=matter_ids[m], lead=i == 0, position=i)
                for i, m in enumerate(matters)
            ]
        )
    return task.id


async def create_visit(
    *,
    task_id: int,
    subject_id: str,
    members: Sequence[tuple[str, str]],
    batch_order: int = 0,
) -> str:
    """members: (inspector code, served department code) in the order taken; the first
    member is the leader (DRAW.md: the first inspector taken for the initiating department)."""
    if len(members) < 2:  # 002:17 — at least two inspectors on site
        raise AppError("inspector.invalid", "a visit needs at least two inspectors")
    async with write_transaction():
        inspectors = await Inspector.select(
            Inspector.id, Inspector.code, Inspector.department
        ).where(Inspector.code.is_in([m[0] for m in members]))
        by_code = {r["code"]: r for r in inspectors}
        missing = sorted({m[0] for m in members} - set(by_code))
        if missing:
            raise AppError("inspector.unknown", ", ".join(missing))
        served = await _ids(Department, [m[1] for m in members], "department.unknown")
        visit = Visit(task=task_id, subject_id=subject_id, batch_order=batch_order)
        await Visit.insert(visit)
        await VisitMember.insert(
            *[
                VisitMember(
                    visit=visit.id,
                    inspector=by_code[code]["id"],
                    department=by_code[code]["department"],
                    served=served[dep],
                    position=i,
                    is_leader=i == 0,
                )
                for i, (code, dep) in enumerate(members)
            ]
        )
    return str(visit.id)
