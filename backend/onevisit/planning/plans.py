"""Annual joint plans (002:12-13): plan lines — task name, lead matter + X matters ("1+X"),
subject scope, ratio, schedule, initiating and participating departments — published at once
and adjusted only by new versions with a reason. Each version is a server log entry (its
content hash), so an adjustment can never rewrite what was published before.

Domain logic only; planning/api.py is the HTTP face."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import read_transaction, write_transaction
from onevisit.directory.tables import Department, Matter
from onevisit.errors import AppError
from onevisit.evidence.jcs import canonical
from onevisit.planning.draw import quota
from onevisit.planning.draws import _log
from onevisit.planning.tables import Plan, PlanVersion
from onevisit.planning.tasks import CODE, SCOPE_KEYS, may_draw, names_nothing

__all__ = [
    "adjust_plan",
    "create_plan",
    "list_plans",
    "plan_detail",
    "plan_for_staff",
]

MAX_LINES = 200


def _bad(detail: str, **details: Any) -> AppError:
    return AppError("plan.invalid", detail, **details)


def _text(value: Any, what: str, limit: int, required: bool = True) -> str:
    if not isinstance(value, str) or "\x00" in value or len(value) > limit:
        raise _bad(f"{what}: text of at most {limit} characters")
    if required and not value.strip():
        raise _bad(f"{what} is required")
    return value.strip()


def _date(value: Any, what: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError) as exc:
        raise _bad(f"{what} is a date (YYYY-MM-DD)") from exc


async def _clean_lines(lines: Any, year: int) -> list[dict[str, Any]]:
    """Each line checked against the directory: matters exist and are active, the lead one
    belongs to the initiating department, the participants are the other matters'
    departments, the ratio is a decimal within every general matter's cap, the schedule lies
    in the plan's year."""
    if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
        raise _bad(f"a plan has 1-{MAX_LINES} lines")
    codes = sorted({m for line in lines if isinstance(line, Mapping)
                    for m in [line.get("lead"), *(line.get("matters") or [])]
                    if isinstance(m, str)})  # fmt: skip
    rows = await Matter.select(
        Matter.code, Matter.active, Matter.category, Matter.ratio_cap, Matter.department.code
    ).where(Matter.code.is_in(codes or [""]))
    matters = {r["code"]: r for r in rows}
    departments = {r["code"] for r in await Department.select(Department.code)}
    out = []
    for n, line in enumerate(lines, start=1):
        where = f"line {n}"
        if not isinstance(line, Mapping):
            raise _bad(f"{where} is an object")
        unknown = set(line) - {"task_name", "lead", "matters", "initiator", "scope", "ratio",
                               "schedule"}  # fmt: skip
        if unknown:
            raise _bad(f"{where}: unknown field {sorted(unknown)[0]}")
        name = _text(line.get("task_name"), f"{where}: task_name", 256)
        lead, xs = line.get("lead"), line.get("matters", [])
        if not isinstance(xs, list) or not all(isinstance(x, str) for x in xs):
            raise _bad(f"{where}: matters is a list of matter codes")
        every = [lead, *xs]
        if len(set(every)) != len(every):
            raise _bad(f"{where}: a matter is listed twice")
        missing = [m for m in every if m not in matters]
        if missing:
            raise AppError("matter.unknown", f"{where}: {missing[0]}")
        if not all(matters[m]["active"] for m in every):
            raise _bad(f"{where}: a matter is no longer active")
        initiator = line.get("initiator") or matters[lead]["department.code"]
        if initiator not in departments:
            raise AppError("department.unknown", f"{where}: {initiator}")
        if matters[lead]["department.code"] != initiator:
            raise _bad(f"{where}: the lead matter belongs to the initiating department")
        participants = sorted({matters[m]["department.code"] for m in xs} - {initiator})
        ratio = line.get("ratio")
        try:
            quota({"ratio": ratio}, 0)  # the draw's own rule for a ratio
        except AppError as exc:
            raise _bad(f'{where}: ratio is a decimal string between 0 and 1, e.g. "0.05"') from exc
        caps = [Fraction(matters[m]["ratio_cap"]) for m in every
                if matters[m]["category"] == "general" and matters[m]["ratio_cap"]]  # fmt: skip
        only_general = all(matters[m]["category"] == "general" for m in every)
        if caps and only_general and Fraction(ratio) > min(caps):
            raise AppError("draw.ratio_cap", f"{where}: {ratio} > {min(caps)}")
        scope = line.get("scope") or {}
        if not isinstance(scope, Mapping) or set(scope) - set(SCOPE_KEYS):
            raise _bad(f"{where}: scope has some of {', '.join(SCOPE_KEYS)}")
        schedule = line.get("schedule")
        if not isinstance(schedule, Mapping) or set(schedule) != {"start", "end"}:
            raise _bad(f"{where}: schedule is {{start, end}}")
        start, end = _date(schedule["start"], f"{where}: start"), _date(schedule["end"], "end")
        if not (start <= end and start[:4] == end[:4] == str(year)):
            raise _bad(f"{where}: the schedule runs forwards within {year}")
        out.append({
            "task_name": name, "lead": lead, "matters": xs, "initiator": initiator,
            "participants": participants, "scope": dict(scope), "ratio": ratio,
            "schedule": {"start": start, "end": end},
        })  # fmt: skip
    return out


def _content_hash(plan: Mapping[str, Any], version: int, reason: str, lines: Any) -> str:
    content = {"plan": plan["code"], "year": plan["year"], "name": plan["name"],
               "version": version, "reason": reason, "lines": lines}  # fmt: skip
    return hashlib.sha256(canonical(content)).hexdigest()


def _may_keep(caller: Caller, initiator: str) -> None:
    if not may_draw(caller, initiator):  # the same people: the department's coordinators
        raise AppError("auth.forbidden", "only the plan's department keeps its plan")


async def create_plan(
    *,
    caller: Caller,
    code: str,
    year: int,
    name: str,
    lines: Sequence[Mapping[str, Any]],
    initiator: str | None = None,
) -> dict[str, Any]:
    """A plan, published as its version 1."""
    if caller.role is not Role.admin:
        initiator = caller.department
    if not initiator:
        raise _bad("name the department that keeps the plan")
    if not CODE.fullmatch(code or ""):
        raise _bad("a plan code is 1-64 letters, digits, - or _")
    if not 2000 <= year <= 2100:
        raise _bad("the plan's year")
    name = _text(name, "name", 256)
    async with write_transaction():
        dep = await Department.select(Department.id).where(Department.code == initiator)
        if not dep:
            raise AppError("department.unknown", initiator)
        if await Plan.exists().where(Plan.code == code):
            raise AppError("plan.exists", code)
        clean = await _clean_lines(lines, year)
        plan = Plan(code=code, year=year, name=name, initiator=dep[0]["id"],
                    created_by=caller.user_id)  # fmt: skip
        await Plan.insert(plan)
        await _publish(plan.id, {"code": code, "year": year, "name": name}, 1, "首次发布", clean,
                       caller)  # fmt: skip
    return await plan_detail(code=code)


async def adjust_plan(
    *, caller: Caller, code: str, reason: str, lines: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A new version of the plan's lines, with the reason for the adjustment."""
    reason = _text(reason, "reason", 1000)
    async with write_transaction():
        plan = await _plan(code)
        _may_keep(caller, plan["initiator"])
        clean = await _clean_lines(lines, plan["year"])
        latest = await PlanVersion.select(PlanVersion.version).where(
            PlanVersion.plan == plan["id"]
        ).order_by(PlanVersion.version, ascending=False).limit(1)  # fmt: skip
        await _publish(plan["id"], plan, latest[0]["version"] + 1, reason, clean, caller)
    return await plan_detail(code=code)


async def _publish(plan_id: int, plan: Mapping[str, Any], version: int, reason: str,
                   lines: list[dict[str, Any]], caller: Caller) -> None:  # fmt: skip
    content_hash = _content_hash(plan, version, reason, lines)
    await _log("plan_published", {"plan": plan["code"], "version": version, "reason": reason,
                                  "lines": len(lines), "content_hash": content_hash})  # fmt: skip
    await PlanVersion.insert(
        PlanVersion(
            plan=plan_id,
            version=version,
            reason=reason,
            lines=lines,
            content_hash=content_hash,
            published_by=caller.user_id,
        )
    )


async def _plan(code: str) -> dict[str, Any]:
    names_nothing(code, "plan.unknown")
    rows = await Plan.select(
        Plan.id, Plan.code, Plan.year, Plan.name, Plan.initiator.code, Plan.initiator.name
    ).where(Plan.code == code)
    if not rows:
        raise AppError("plan.unknown", code)
    r = rows[0]
    return {"id": r["id"], "code": r["code"], "year": r["year"], "name": r["name"],
            "initiator": r["initiator.code"], "initiator_name": r["initiator.name"]}  # fmt: skip


async def plan_detail(*, code: str) -> dict[str, Any]:
    """The plan with every version, newest first (public: plans are published)."""
    async with read_transaction():
        plan = await _plan(code)
        versions = await PlanVersion.select(
            PlanVersion.version, PlanVersion.reason, PlanVersion.lines, PlanVersion.content_hash,
            PlanVersion.published_at,
        ).where(PlanVersion.plan == plan["id"]).order_by(
            PlanVersion.version, ascending=False
        ).output(load_json=True)  # fmt: skip
    plan.pop("id")
    return {
        **plan,
        "versions": [{**v, "published_at": v["published_at"].isoformat()} for v in versions],
    }


async def plan_for_staff(*, caller: Caller, code: str) -> dict[str, Any]:
    """The public detail, and whether the caller may adjust it (the plan's department)."""
    detail = await plan_detail(code=code)
    return {**detail, "may_adjust": may_draw(caller, detail["initiator"])}


async def list_plans() -> list[dict[str, Any]]:
    """Every plan with its current version's number and line count (plans are public)."""
    async with read_transaction():
        plans = await Plan.select(
            Plan.id, Plan.code, Plan.year, Plan.name, Plan.initiator.code, Plan.initiator.name
        ).order_by(Plan.year, ascending=False)
        versions = await PlanVersion.select(
            PlanVersion.plan, PlanVersion.version, PlanVersion.published_at, PlanVersion.lines
        ).output(load_json=True)
    latest: dict[int, dict[str, Any]] = {}
    for v in versions:
        if v["plan"] not in latest or v["version"] > latest[v["plan"]]["version"]:
            latest[v["plan"]] = v
    return [
        {
            "code": p["code"],
            "year": p["year"],
            "name": p["name"],
            "initiator": p["initiator.code"],
            "initiator_name": p["initiator.name"],
            "version": latest[p["id"]]["version"],
            "lines": len(latest[p["id"]]["lines"]),
            "published_at": latest[p["id"]]["published_at"].isoformat(),
            "url": f"/public/plans/{p['code']}",
        }
        for p in plans
        if p["id"] in latest
    ]
