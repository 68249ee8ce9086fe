"""Tasks as coordinators see and make them: one "1+X" run of joint inspection (002:15) — a lead
matter of the initiating department plus matters of participating departments — with where its
draw stands. Creating one checks what a task must be; the draw's rules are in draws.py."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import read_transaction
from onevisit.directory.tables import Matter, Subject
from onevisit.errors import AppError
from onevisit.planning.tables import Draw, Plan, PlanVersion, Task, TaskMatter, Visit, VisitMember
from onevisit.planning.visits import create_task

__all__ = [
    "CODE",
    "SCOPE_KEYS",
    "TRIGGER_KINDS",
    "check_trigger",
    "list_tasks",
    "may_draw",
    "names_nothing",
    "new_task",
    "task_detail",
]

# seed 003: what may start a triggered (non-random) inspection
TRIGGER_KINDS = ("complaint", "referral", "monitoring", "risk_alert")
SCOPE_KEYS = ("kinds", "region", "industry", "tags")

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # task and plan codes


def names_nothing(code: str, error: str) -> None:
    """A code holding NUL names no task or plan (and PostgreSQL refuses NUL in text)."""
    if "\x00" in code:
        raise AppError(error, code.replace("\x00", "\\0"))


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


def may_draw(caller: Caller, initiator: str) -> bool:
    """Whether the caller runs the task's draw (draws.py checks it again on every step)."""
    return caller.role is Role.admin or (
        caller.role is Role.coordinator and caller.department == initiator
    )


def _sees(caller: Caller, matters: list[dict[str, Any]], initiator: str) -> bool:
    """Admins see every task; a department's staff the tasks it initiates or joins."""
    if caller.role is Role.admin:
        return True
    return caller.department in {initiator, *(m["department"] for m in matters)}


def _summary_columns() -> tuple[Any, ...]:
    return (Task.id, Task.code, Task.name, Task.status, Task.initiator.code, Task.created_at,
            Task.kind)  # fmt: skip


async def list_tasks(*, caller: Caller) -> list[dict[str, Any]]:
    async with read_transaction():
        rows = await Task.select(*_summary_columns()).order_by(Task.id, ascending=False)
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
            "may_draw": may_draw(caller, r["initiator.code"]),
            "kind": r["kind"],
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
        if _sees(caller, matters.get(r["id"], []), r["initiator.code"])
    ]


async def task_detail(*, caller: Caller, code: str) -> dict[str, Any]:
    names_nothing(code, "task.unknown")
    async with read_transaction():
        rows = (
            await Task.select(*_summary_columns(), Task.trigger, Task.plan_code, Task.plan_line)
            .where(Task.code == code)
            .output(load_json=True)
        )
        if not rows:
            raise AppError("task.unknown", code)
        row = rows[0]
        matters = (await _matters_of([row["id"]])).get(row["id"], [])
        visits = await Visit.count().where(Visit.task == row["id"])
        draw = await Draw.select(Draw.status).where(Draw.task == row["id"])
    if not _sees(caller, matters, row["initiator.code"]):
        raise AppError("auth.department_forbidden", code)
    assigned = await _assigned(row["id"]) if row["kind"] == "triggered" else []
    return {
        "code": row["code"],
        "name": row["name"],
        "initiator": row["initiator.code"],
        "matters": matters,
        "visits": visits,
        "draw": draw[0]["status"] if draw else "none",
        "created_at": row["created_at"].isoformat(),
        "kind": row["kind"],
        "trigger": row["trigger"],
        "may_draw": may_draw(caller, row["initiator.code"]),
        "plan": {"code": row["plan_code"], "line": row["plan_line"]} if row["plan_code"] else None,
        "assignments": assigned,
    }


async def _assigned(task_id: int) -> list[dict[str, Any]]:
    """A triggered task's visits assigned directly (not drawn): each group with the names of
    its subject and members, in the order they were assigned."""
    if await Draw.exists().where(Draw.task == task_id):
        return []  # its groups are the draw's (GET …/draw)
    rows = await (
        VisitMember.select(
            VisitMember.visit, VisitMember.visit.subject_id.as_alias("subject_id"),
            VisitMember.visit.batch_order.as_alias("order"),
            VisitMember.visit.note.as_alias("note"),
            VisitMember.inspector.code, VisitMember.inspector.name, VisitMember.department.code,
            VisitMember.served.code, VisitMember.is_leader, VisitMember.position,
        )
        .where(VisitMember.visit.task == task_id)
        .order_by(VisitMember.position)
    )  # fmt: skip
    names = {
        r["subject_id"]: r["name"]
        for r in await Subject.select(Subject.subject_id, Subject.name).where(
            Subject.subject_id.is_in(sorted({r["subject_id"] for r in rows}) or [""])
        )
    }
    groups: dict[Any, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["order"], r["position"])):
        g = groups.setdefault(r["visit"], {
            "visit": str(r["visit"]), "subject_id": r["subject_id"],
            "subject_name": names.get(r["subject_id"], ""), "note": r["note"], "leader": "",
            "members": [], "inspector_names": {},
        })  # fmt: skip
        code = r["inspector.code"]
        g["members"].append([code, r["department.code"], r["served.code"]])
        g["inspector_names"][code] = r["inspector.name"]
        if r["is_leader"]:
            g["leader"] = code
    return list(groups.values())  # fmt: skip


async def check_trigger(trigger: Mapping[str, Any]) -> dict[str, Any]:
    """A triggered task's cause: {kind, reference, note?, and subjects: [ids] (the subjects
    the trigger concerns) or scope: {kinds?, region?, industry?, tags?} (a directional
    population), or neither (inspectors are assigned directly)}. Subjects must exist."""
    kind, reference = trigger.get("kind"), trigger.get("reference")
    if kind not in TRIGGER_KINDS:
        raise AppError("task.invalid", f"a trigger is one of {', '.join(TRIGGER_KINDS)}")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 128:
        raise AppError("task.invalid", "a trigger names its reference (complaint no., …)")
    note = trigger.get("note", "")
    if not isinstance(note, str) or len(note) > 2000:
        raise AppError("task.invalid", "a trigger's note is text of at most 2000 characters")
    out: dict[str, Any] = {"kind": kind, "reference": reference.strip(), "note": note}
    subjects, scope = trigger.get("subjects"), trigger.get("scope")
    if subjects is not None and scope is not None:
        raise AppError("task.invalid", "a trigger names its subjects or a scope, not both")
    if subjects is not None:
        if not isinstance(subjects, list) or not subjects or len(subjects) > 10_000:
            raise AppError("task.invalid", "a trigger's subjects are a list of 1-10000 ids")
        ids = list(dict.fromkeys(str(x) for x in subjects))
        found = {
            r["subject_id"]
            for r in await Subject.select(Subject.subject_id).where(Subject.subject_id.is_in(ids))
        }
        missing = [x for x in ids if x not in found]
        if missing:
            raise AppError("subject.unknown", ", ".join(missing[:5]), subjects=missing[:50])
        out["subjects"] = ids
    if scope is not None:
        if not isinstance(scope, Mapping) or not scope or set(scope) - set(SCOPE_KEYS):
            raise AppError("task.invalid", f"a scope has some of: {', '.join(SCOPE_KEYS)}")
        clean: dict[str, Any] = {}
        for key in ("kinds", "tags"):
            if key in scope:
                values = scope[key]
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise AppError("task.invalid", f"scope.{key} is a list of strings")
                clean[key] = sorted(set(values))
        for key in ("region", "industry"):
            if key in scope:
                if not isinstance(scope[key], str) or not scope[key].isalnum():
                    raise AppError("task.invalid", f"scope.{key} is a code prefix")
                clean[key] = scope[key]
        out["scope"] = clean
    return out


async def new_task(
    *,
    caller: Caller,
    code: str,
    name: str,
    matters: Sequence[str],
    initiator: str | None = None,
    trigger: Mapping[str, Any] | None = None,
    plan: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A "1+X" task: `matters[0]` is the lead matter and belongs to the initiating department
    (the caller's, or for an admin the one named); every matter is active and named once."""
    if caller.role is not Role.admin:
        if initiator not in (None, caller.department):
            raise AppError("auth.department_forbidden", "a task is initiated by your department")
        initiator = caller.department
    if not initiator:
        raise AppError("task.invalid", "name the initiating department")
    if not CODE.fullmatch(code or ""):
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
    cause = await check_trigger(trigger) if trigger is not None else None
    line = await _plan_line(plan, matters[0]) if plan is not None else None
    await create_task(
        code=code, name=name.strip(), initiator=initiator, matters=matters,
        created_by=caller.user_id, trigger=cause, plan=line,
    )  # fmt: skip
    return await task_detail(caller=caller, code=code)


async def _plan_line(plan: Mapping[str, Any], lead: str) -> tuple[str, int]:
    """{code, line}: the plan line (1-based, in the plan's current version) this task runs;
    its lead matter must be the task's."""
    code, number = plan.get("code"), plan.get("line")
    if not isinstance(code, str) or isinstance(number, bool) or not isinstance(number, int):
        raise AppError("task.invalid", "a plan reference is {code, line}")
    rows = await Plan.select(Plan.id).where(Plan.code == code)
    if not rows:
        raise AppError("plan.unknown", code)
    latest = await (
        PlanVersion.select(PlanVersion.lines)
        .where(PlanVersion.plan == rows[0]["id"])
        .order_by(PlanVersion.version, ascending=False)
        .limit(1)
        .output(load_json=True)
    )
    lines = latest[0]["lines"] if latest else []
    if not 1 <= number <= len(lines):
        raise AppError("task.invalid", f"plan {code} has no line {number}")
    if lines[number - 1]["lead"] != lead:
        raise AppError("task.invalid", f"line {number} of plan {code} leads with another matter")
    return code, number
