"""Figures for the coordinators', leaders' and admins' dashboard (docs/dashboard.md).

For one year: plan coverage (per plan line and task: subjects planned by the line's ratio,
drawn, visited, closed), completion (visits closed of those assigned), results by state, the
overdue ones (not published by the due date: "counted as not completed", 002:20), those
published on time and late, and the same per department.

A handful of queries whatever the size: tasks, plans, visits and draws are counted by the
database (GROUP BY), and results are read as a few narrow columns because the clock — due
date from the working-day calendar, which the database does not know — is computed here with
results.reading.clock, the same function the result lists use.

Who sees what: admins everything or one department; coordinators their department (the tasks
it initiates or joins, the results of its matters); leaders the visits they lead and their
results; inspectors nothing (auth.forbidden).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import is_sqlite, read_transaction
from onevisit.directory.tables import Department
from onevisit.errors import AppError
from onevisit.evidence.events import SERVER_DEVICE
from onevisit.field.team import CLOSED
from onevisit.planning.draw import quota
from onevisit.planning.tables import Draw, Plan, PlanVersion, Task, TaskMatter, Visit, VisitMember
from onevisit.results.reading import clock
from onevisit.results.review import STATES, intake_closed_visits
from onevisit.results.tables import Result
from onevisit.workdays.calendar import BEIJING, today_in_china
from onevisit.workdays.service import get_calendar

__all__ = ["MAX_YEAR", "MIN_YEAR", "dashboard"]

MIN_YEAR, MAX_YEAR = 2000, 2099
CHUNK = 5000  # ids per IN (): PostgreSQL takes at most 32,767 parameters a query


@dataclass(frozen=True, slots=True)
class Scope:
    """What the caller's figures cover: every task (`department` None), one department's
    tasks and results, or the visits one leader leads (`leader` = inspector code)."""

    department: str | None = None
    leader: str | None = None

    @property
    def name(self) -> str:
        return "led_visits" if self.leader else "department" if self.department else "all"


def _bad(detail: str) -> AppError:
    return AppError("dashboard.invalid", detail)


async def _scope_of(caller: Caller, department: str | None) -> Scope:
    if department is not None and (not department or len(department) > 32 or "\x00" in department):
        raise _bad("department is a department code of 1-32 characters")
    if caller.role is Role.admin:
        if department is not None and not await Department.exists().where(
            Department.code == department
        ):
            raise AppError("department.unknown", department)
        return Scope(department=department)
    if department is not None and department != caller.department:
        raise AppError("auth.department_forbidden", department)
    if caller.role is Role.coordinator:
        return Scope(department=caller.department)
    if caller.role is Role.leader and caller.inspector_code:
        return Scope(leader=caller.inspector_code)
    raise AppError("auth.forbidden", "the dashboard is for coordinators, leaders and admins")


def _chunks(values: Sequence[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _year_of_task(task: dict[str, Any], plan_years: dict[str, int]) -> int:
    """A task counts in its plan's year; a task outside any plan in the year it was made."""
    if task["plan_code"] in plan_years:
        return plan_years[task["plan_code"]]
    return task["created_at"].astimezone(BEIJING).year


async def _tasks(scope: Scope, year: int) -> list[dict[str, Any]]:
    plan_years = {p["code"]: p["year"] for p in await Plan.select(Plan.code, Plan.year)}
    rows = await Task.select(
        Task.id, Task.code, Task.name, Task.kind, Task.plan_code, Task.plan_line,
        Task.initiator.code.as_alias("initiator"), Task.created_at,
    ).order_by(Task.id)  # fmt: skip
    tasks = [r for r in rows if _year_of_task(r, plan_years) == year]
    if scope.department:
        ids = [t["id"] for t in tasks]
        joined: set[int] = set()
        for part in _chunks(ids):
            joined |= {
                r["task"]
                for r in await TaskMatter.select(TaskMatter.task).where(
                    TaskMatter.task.is_in(part)
                    & (TaskMatter.matter.department.code == scope.department)
                )
            }
        tasks = [t for t in tasks if t["initiator"] == scope.department or t["id"] in joined]
    return tasks


async def _led_visits(inspector_code: str) -> list[str]:
    rows = await VisitMember.select(VisitMember.visit).where(
        (VisitMember.inspector.code == inspector_code) & (VisitMember.is_leader == True)  # noqa: E712
    )
    return sorted({str(r["visit"]) for r in rows})


async def _visit_counts(task_ids: list[int], visits: list[str] | None) -> dict[int, dict[str, int]]:
    """Per task: visits assigned, visited (any event on the visit, or closed) and closed."""
    out: dict[int, dict[str, int]] = {}
    # a visit has begun once a phone sent an event for it (the server's own entries for a
    # visit — results, follow-ups — come after its close)
    sql = (
        "SELECT v.task AS task, COUNT(*) AS assigned, "
        "SUM(CASE WHEN v.status = {} THEN 1 ELSE 0 END) AS closed, "
        "SUM(CASE WHEN v.status = {} OR EXISTS (SELECT 1 FROM event e "
        "WHERE e.visit = CAST(v.id AS TEXT) AND e.device_id <> {}) THEN 1 ELSE 0 END) AS visited "
        "FROM visit v WHERE {} GROUP BY v.task"
    )
    if visits is None:
        parts = [("v.task IN ({})", part) for part in _chunks(task_ids)]
    else:
        parts = [("v.id IN ({})", part) for part in _chunks(visits)]
    for where, part in parts:
        marks = ", ".join("{}" for _ in part)
        query = sql.format("{}", "{}", "{}", where.format(marks))
        for r in await Visit.raw(query, CLOSED, CLOSED, SERVER_DEVICE, *part):
            add = out.setdefault(r["task"], {"assigned": 0, "visited": 0, "closed": 0})
            for key in add:
                add[key] += int(r[key] or 0)
    return out


async def _populations(task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per task with a draw: its status and the size of the population it committed to (the
    JSON array is measured by the database: populations run to a million subjects)."""
    length = (
        "json_array_length(d.inputs, '$.population')"
        if is_sqlite()
        else "json_array_length(d.inputs -> 'population')"
    )
    out: dict[int, dict[str, Any]] = {}
    for part in _chunks(task_ids):
        marks = ", ".join("{}" for _ in part)
        rows = await Draw.raw(
            f"SELECT d.task AS task, d.status AS status, {length} AS population "
            f"FROM draw d WHERE d.task IN ({marks})",
            *part,
        )
        out |= {r["task"]: {"status": r["status"], "population": r["population"]} for r in rows}
    return out


async def _plans(year: int) -> list[dict[str, Any]]:
    plans = await Plan.select(Plan.id, Plan.code, Plan.year, Plan.name).where(Plan.year == year)
    if not plans:
        return []
    versions = await (
        PlanVersion.select(PlanVersion.plan, PlanVersion.version, PlanVersion.lines)
        .where(PlanVersion.plan.is_in([p["id"] for p in plans]))
        .output(load_json=True)
    )
    latest: dict[int, dict[str, Any]] = {}
    for v in versions:
        if v["plan"] not in latest or v["version"] > latest[v["plan"]]["version"]:
            latest[v["plan"]] = v
    return [
        {**p, "version": latest[p["id"]]["version"], "lines": latest[p["id"]]["lines"]}
        for p in sorted(plans, key=lambda p: p["code"])
        if p["id"] in latest
    ]


async def _results(scope: Scope, task_codes: list[str], visits: list[str] | None):
    columns = (Result.task, Result.department, Result.state, Result.inspected_on,
               Result.published_at)  # fmt: skip
    rows: list[dict[str, Any]] = []
    if visits is not None:
        for part in _chunks(visits):
            rows += await Result.select(*columns).where(Result.visit.is_in(part))
        return rows
    for part in _chunks(task_codes):
        query = Result.select(*columns).where(Result.task.is_in(part))
        if scope.department:
            query = query.where(Result.department == scope.department)
        rows += await query
    return rows


def _tally() -> dict[str, Any]:
    return {
        "total": 0,
        "by_state": {code: 0 for code, _ in STATES},
        "overdue": 0,
        "published_on_time": 0,
        "published_late": 0,
    }


def _count(tally: dict[str, Any], state: str, tick: dict[str, Any]) -> None:
    tally["total"] += 1
    tally["by_state"][state] = tally["by_state"].get(state, 0) + 1
    if tick.get("overdue"):
        tally["overdue"] += 1
    if "on_time" in tick:
        tally["published_on_time" if tick["on_time"] else "published_late"] += 1


def _task_figures(
    task: dict[str, Any], counts: dict[str, int], draw: dict[str, Any] | None, ratio: str | None
) -> dict[str, Any]:
    population = draw["population"] if draw else None
    planned = quota({"ratio": ratio}, population) if ratio and population is not None else None
    return {
        "task": task["code"],
        "name": task["name"],
        "kind": task["kind"],
        "initiator": task["initiator"],
        "plan": task["plan_code"] or None,
        "line": task["plan_line"],
        "draw": draw["status"] if draw else "none",
        "population": population,
        "planned": planned,
        "drawn": counts.get("assigned", 0),  # visits made: drawn, or assigned directly
        "visited": counts.get("visited", 0),
        "closed": counts.get("closed", 0),
    }


def _sum(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _line_figures(
    plan: dict[str, Any], n: int, line: dict[str, Any], tasks: list[dict[str, Any]]
) -> dict[str, Any]:
    mine = [t for t in tasks if t["plan"] == plan["code"] and t["line"] == n]
    return {
        "line": n,
        "task_name": line["task_name"],
        "lead": line["lead"],
        "initiator": line["initiator"],
        "participants": line.get("participants", []),
        "ratio": line["ratio"],
        "tasks": [t["task"] for t in mine],
        "population": _sum(t["population"] for t in mine),
        "planned": _sum(t["planned"] for t in mine),
        "drawn": sum(t["drawn"] for t in mine),
        "visited": sum(t["visited"] for t in mine),
        "closed": sum(t["closed"] for t in mine),
    }


async def dashboard(
    *, caller: Caller, year: int | None = None, department: str | None = None
) -> dict[str, Any]:
    """The caller's figures for one year (default: this year, Beijing time)."""
    today = today_in_china()
    year = today.year if year is None else year
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _bad(f"year is between {MIN_YEAR} and {MAX_YEAR}")
    scope = await _scope_of(caller, department)
    await intake_closed_visits()  # closed visits' results count at once
    calendar = await get_calendar()
    async with read_transaction():
        plans = await _plans(year)
        tasks = await _tasks(scope, year)
        visits = await _led_visits(scope.leader) if scope.leader else None
        ids = [t["id"] for t in tasks]
        counts = await _visit_counts(ids, visits)
        if visits is not None:  # a leader's tasks: this year's tasks of the visits he leads
            tasks = [t for t in tasks if t["id"] in counts]
        draws = await _populations([t["id"] for t in tasks])
        results = await _results(scope, [t["code"] for t in tasks], visits)
        names = {
            r["code"]: r["name"] for r in await Department.select(Department.code, Department.name)
        }
    if visits is not None:  # results of led visits in other years' tasks stay out
        year_tasks = {t["code"] for t in tasks}
        results = [r for r in results if r["task"] in year_tasks]
    ratios = {(p["code"], n): line["ratio"] for p in plans
              for n, line in enumerate(p["lines"], start=1)}  # fmt: skip
    task_rows = [
        _task_figures(t, counts.get(t["id"], {}), draws.get(t["id"]),
                      ratios.get((t["plan_code"], t["plan_line"])))
        for t in tasks
    ]  # fmt: skip
    plan_rows = []
    if not scope.leader:  # leaders lead visits; plans are their departments' business
        for p in plans:
            lines = [
                _line_figures(p, n, line, task_rows)
                for n, line in enumerate(p["lines"], start=1)
                if scope.department is None
                or scope.department in {line["initiator"], *line.get("participants", [])}
            ]
            if lines:
                plan_rows.append({"code": p["code"], "name": p["name"], "version": p["version"],
                                  "lines": lines})  # fmt: skip
    everything, per_department = _tally(), {}
    for r in results:
        tick = clock(calendar, r, today)
        _count(everything, r["state"], tick)
        _count(per_department.setdefault(r["department"], _tally()), r["state"], tick)
    assigned = sum(t["drawn"] for t in task_rows)
    closed = sum(t["closed"] for t in task_rows)
    return {
        "year": year,
        "today": today.isoformat(),
        "scope": scope.name,
        "department": scope.department,
        "department_name": names.get(scope.department or ""),
        "states": [{"code": code, "label": label} for code, label in STATES],
        "coverage": {"plans": plan_rows, "tasks": task_rows},
        "completion": {
            "assigned": assigned,
            "visited": sum(t["visited"] for t in task_rows),
            "closed": closed,
            "rate": round(closed / assigned, 4) if assigned else None,
        },
        "results": everything,
        "departments": [
            {"department": code, "name": names.get(code, code), **tally}
            for code, tally in sorted(per_department.items())
        ],
    }
