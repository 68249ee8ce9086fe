"""Tasks as coordinators see and make them: one "1+X" run of joint inspection (002:15) — a lead
matter of the initiating department plus matters of participating departments — with where its
draw stands. Creating one checks what a task must be; the draw's rules are in draws.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import read_transaction
from onevisit.directory.tables import Matter
from onevisit.errors import AppError
from onevisit.planning.tables import Draw, Task, TaskMatter, Visit
from onevisit.planning.visits import create_task

__all__ = ["list_tasks", "new_task", "task_detail"]

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


async def _matters_of(task_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    rows = await (
        TaskMatter.select(
            TaskMatter.task,
            TaskMatter.lead,
            TaskMatter.matter.code,
            TaskMatter.matter.name,
            TaskMatter.matter.category,
            TaskMatter.matter.ratio_cap,
            TaskMatter.matter.department.code,
        )
        .where(TaskMatter.task.is_in(list(task_ids) or [0]))
        .order_by(TaskMatter.position)
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["task"], []).append({
            "code": r["matter.code"], "name": r["matter.name"], "lead": r["lead"],
            "category": r["matter.category"], "ratio_cap": r["matter.ratio_cap"],
            "department": r["matter.department.code"],
        })  # fmt: skip
    return out


def _sees(caller: Caller, matters: list[dict[str, Any]], initiator: str) -> bool:
    """Admins see every task; a department's staff the tasks it initiates or joins."""
    if caller.role is Role.admin:
        return True
    return caller.department in {initiator, *(m["department"] for m in matters)}


async def list_tasks(*, caller: Caller) -> list[dict[str, Any]]:
    async with read_transaction():
        rows = await Task.select(
            Task.id, Task.code, Task.name, Task.status, Task.initiator.code, Task.created_at
        ).order_by(Task.id, ascending=False)
        matters = await _matters_of([r["id"] for r in rows])
        draws = {
            r["task"]: r["status"]
            for r in await Draw.select(Draw.task, Draw.status).where(
                Draw.task.is_in([r["id"] for r in rows] or [0])
            )
        }
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "initiator": r["initiator.code"],
            "matters": matters.get(r["id"], []),
            "draw": draws.get(r["id"], "none"),
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
        if _sees(caller, matters.get(r["id"], []), r["initiator.code"])
    ]


async def task_detail(*, caller: Caller, code: str) -> dict[str, Any]:
    async with read_transaction():
        rows = await Task.select(
            Task.id, Task.code, Task.name, Task.status, Task.initiator.code, Task.created_at
        ).where(Task.code == code)
        if not rows:
            raise AppError("task.unknown", code)
        row = rows[0]
        matters = (await _matters_of([row["id"]])).get(row["id"], [])
        visits = await Visit.count().where(Visit.task == row["id"])
        draw = await Draw.select(Draw.status).where(Draw.task == row["id"])
    if not _sees(caller, matters, row["initiator.code"]):
        raise AppError("auth.department_forbidden", code)
    return {
        "code": row["code"], "name": row["name"], "initiator": row["initiator.code"],
        "matters": matters, "visits": visits, "draw": draw[0]["status"] if draw else "none",
        "created_at": row["created_at"].isoformat(),
    }  # fmt: skip


async def new_task(
    *, caller: Caller, code: str, name: str, matters: Sequence[str], initiator: str | None = None
) -> dict[str, Any]:
    """A "1+X" task: `matters[0]` is the lead matter and belongs to the initiating department
    (the caller's, or for an admin the one named); every matter is active and named once."""
    if caller.role is not Role.admin:
        if initiator not in (None, caller.department):
            raise AppError("auth.department_forbidden", "a task is initiated by your department")
        initiator = caller.department
    if not initiator:
        raise AppError("task.invalid", "name the initiating department")
    if not _CODE.fullmatch(code or ""):
        raise AppError("task.invalid", "a task code is 1-64 letters, digits, - or _")
    if not name.strip() or len(name) > 256:
        raise AppError("task.invalid", "a task needs a name of at most 256 characters")
    if not matters or len(set(matters)) != len(matters):
        raise AppError("task.invalid", "a task has a lead matter and no matter twice")
    rows = await Matter.select(Matter.code, Matter.active, Matter.department.code).where(
        Matter.code.is_in(list(matters))
    )
    found = {r["code"]: r for r in rows}
    missing = [m for m in matters if m not in found]
    if missing:
        raise AppError("matter.unknown", ", ".join(missing))
    inactive = [m for m in matters if not found[m]["active"]]
    if inactive:
        raise AppError("task.invalid", f"matter {inactive[0]} is no longer active")
    if found[matters[0]]["department.code"] != initiator:
        raise AppError("task.invalid", "the lead matter belongs to the initiating department")
    if await Task.exists().where(Task.code == code):
        raise AppError("task.exists", code)
    await create_task(
        code=code, name=name.strip(), initiator=initiator, matters=matters,
        created_by=caller.user_id,
    )  # fmt: skip
    return await task_detail(caller=caller, code=code)
