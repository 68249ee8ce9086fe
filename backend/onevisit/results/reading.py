"""Reading results: the staff's lists with the 20-working-day clock, and the public's view.

The clock (seed 003 art. 14, 002:20(三)): a result is due by the 20th Chinese working day
after the inspection ended (workdays/calendar.py; provisional while a year on the way is not
loaded, and recomputed on every read, so importing a year corrects it at once). Alerts at 5
and 2 working days left; past the due date without publication it is overdue and the visit
counts as not completed (002:20). Withholding with approval stops the clock.

The public sees published results only: the result code and disposition of the version
published, never notes, reasons or who entered them; a correction shows its history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import is_sqlite, read_transaction
from onevisit.errors import AppError
from onevisit.field.codes import DISPOSITIONS, RESULT_CODES, label_or_code
from onevisit.planning.tables import VisitMember
from onevisit.results.review import (
    ACTIONS,
    STATES,
    WITHHELD,
    intake_closed_visits,
    may_enter,
    may_review,
    result_row,
)
from onevisit.results.tables import Result, ResultStep, ResultVersion
from onevisit.workdays.calendar import BEIJING, WorkdayCalendar, today_in_china
from onevisit.workdays.service import get_calendar

__all__ = [
    "ALERT_DAYS",
    "clock",
    "list_results",
    "open_data",
    "public_subject",
    "result_detail",
    "search_public",
    "versions_of",
    "visible_results",
]

ALERT_DAYS = (5, 2)  # working days left when the reviewers are reminded
MAX_LIST = 500
_STATE_CODES = {c for c, _ in STATES}


def clock(calendar: WorkdayCalendar, row: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """Due date, working days left, alert and whether it was (or is) on time."""
    due, provisional = calendar.due_date(row["inspected_on"])
    out: dict[str, Any] = {"due": due.isoformat(), "provisional": provisional}
    if row["published_at"] is not None:
        published = row["published_at"].astimezone(BEIJING).date()
        out |= {"published_on": published.isoformat(), "on_time": published <= due}
        return out
    if row["state"] == WITHHELD:
        return out | {"withheld": True}
    left, soft = calendar.working_days_left(due, today)
    alert = (
        "overdue"
        if today > due
        else next((f"due_in_{n}" for n in sorted(ALERT_DAYS) if left <= n), None)
    )
    return out | {
        "working_days_left": left,
        "alert": alert,
        "overdue": today > due,
        "provisional": provisional or soft,
    }


def _summary(row: Mapping[str, Any], version: Mapping[str, Any], tick: dict[str, Any]):
    return {
        "id": row["id"],
        "key": row["key"],
        "visit": str(row["visit"]),
        "task": row["task"],
        "matter": row["matter"],
        "matter_name": row["matter_name"],
        "department": row["department"],
        "subject_id": row["subject_id"],
        "subject_name": row["subject_name"],
        "inspected_on": row["inspected_on"].isoformat(),
        "record_hash": row["record_hash"],
        "state": row["state"],
        "state_label": label_or_code(STATES, row["state"]),
        "version": row["version"],
        "published_version": row["published_version"],
        "result_code": version["result_code"],
        "result_label": label_or_code(RESULT_CODES, version["result_code"]),
        "disposition": version["disposition"],
        "disposition_label": label_or_code(DISPOSITIONS, version["disposition"]),
        "clock": tick,
    }


async def visible_results(caller: Caller) -> Any:
    """A where-clause of the results a caller may list (None: all): admins all, coordinators
    their department's, members the matters they serve in their own visits."""
    if caller.role is Role.admin:
        return None
    if caller.role is Role.coordinator:
        return Result.department == caller.department
    if caller.inspector_code is None:
        return Result.id == -1
    served = await VisitMember.select(VisitMember.visit, VisitMember.served.code).where(
        VisitMember.inspector.code == caller.inspector_code
    )
    # members see the matters of the departments they serve, in their own visits
    clause = Result.id == -1
    for department in sorted({r["served.code"] for r in served}):
        mine = sorted({str(r["visit"]) for r in served if r["served.code"] == department})
        clause = clause | (Result.visit.is_in(mine) & (Result.department == department))
    return clause


async def list_results(
    *,
    caller: Caller,
    state: str | None = None,
    task: str | None = None,
    department: str | None = None,
    alert: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The results the caller may see, newest inspections first, each with its clock (as of
    `today`, China's date unless given)."""
    for name, value in (("task", task), ("department", department), ("alert", alert)):
        if value is not None and (len(value) > 64 or "\x00" in value):
            raise AppError("result.invalid", f"{name} is at most 64 characters, no NUL")
    if state is not None and state not in _STATE_CODES:
        raise AppError("result.invalid", f"state is one of {', '.join(sorted(_STATE_CODES))}")
    if (
        department is not None
        and caller.role is Role.coordinator
        and (department != caller.department)
    ):
        raise AppError("auth.department_forbidden", department)
    await intake_closed_visits()
    calendar, today = await get_calendar(), today or today_in_china()
    async with read_transaction():
        query = Result.select().order_by(Result.inspected_on, ascending=False).limit(MAX_LIST)
        clause = await visible_results(caller)
        for extra in (
            clause,
            state and Result.state == state,
            task and Result.task == task,
            department and Result.department == department,
        ):
            if extra is not None and extra is not False and extra != "":
                query = query.where(extra)
        rows = await query
        versions = await versions_of([r["id"] for r in rows])
    items = [
        _summary(r, versions[(r["id"], r["version"])], clock(calendar, r, today)) for r in rows
    ]
    if alert is not None:
        items = [i for i in items if i["clock"].get("alert") == alert]
    counts: dict[str, int] = {}
    for i in items:
        counts[i["state"]] = counts.get(i["state"], 0) + 1
    overdue = sum(1 for i in items if i["clock"].get("overdue"))
    return {"results": items, "counts": counts, "overdue": overdue, "today": today.isoformat()}


async def versions_of(ids: list[int]) -> dict[tuple[int, int], dict[str, Any]]:
    """(result id, version) → that version's row, for every version of the results `ids`
    (in chunks: PostgreSQL takes at most 32,767 parameters)."""
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for v in await ResultVersion.select().where(ResultVersion.result.is_in(chunk)):
            out[(v["result"], v["version"])] = v
    return out


async def result_detail(*, caller: Caller, result_id: int) -> dict[str, Any]:
    """One result with every version and step (staff who may see it)."""
    await intake_closed_visits()
    async with read_transaction():
        row = await result_row(result_id)
        if not (may_review(caller, row) or await may_enter(caller, row)):
            raise AppError("auth.department_forbidden", row["department"])
        versions = (
            await ResultVersion.select()
            .where(ResultVersion.result == row["id"])
            .order_by(ResultVersion.version)
        )
        steps = (
            await ResultStep.select().where(ResultStep.result == row["id"]).order_by(ResultStep.id)
        )
    current = next(v for v in versions if v["version"] == row["version"])
    out = _summary(row, current, clock(await get_calendar(), row, today_in_china()))
    out["note"] = current["note"]
    out["may_review"] = may_review(caller, row)
    out["codes"] = {"result_codes": RESULT_CODES, "dispositions": DISPOSITIONS}
    out["versions"] = [
        {
            "version": v["version"],
            "result_code": v["result_code"],
            "result_label": label_or_code(RESULT_CODES, v["result_code"]),
            "disposition": v["disposition"],
            "note": v["note"],
            "source": v["source"],
            "reason": v["reason"],
            "by": v["by"],
            "at": v["at"].isoformat(),
        }
        for v in versions
    ]
    out["steps"] = [
        {
            "version": s["version"],
            "action": s["action"],
            "label": label_or_code(ACTIONS, s["action"]),
            "by": s["by"],
            "approver": s["approver"],
            "reason": s["reason"],
            "log_index": s["log_index"],
            "at": s["at"].isoformat(),
        }
        for s in steps
    ]
    return out


# --- the public -----------------------------------------------------------------------------

_USCC_LIKE = re.compile(r"[0-9A-Z]{15,18}")


async def _published(where: Any = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Published results, each with the version published and its publication history."""
    await intake_closed_visits()
    async with read_transaction():
        query = Result.select().where(Result.published_version.is_not_null())
        if where is not None:
            query = query.where(where)
        query = query.order_by(Result.inspected_on, ascending=False)
        if limit:
            query = query.limit(limit)
        rows = await query
        ids = [r["id"] for r in rows]
        versions = await versions_of(ids)
        steps = []
        for start in range(0, len(ids), 5000):
            steps += (
                await ResultStep.select(ResultStep.result, ResultStep.version, ResultStep.at)
                .where(
                    ResultStep.result.is_in(ids[start : start + 5000])
                    & (ResultStep.action == "published")
                )
                .order_by(ResultStep.id)
            )
    history: dict[int, list[dict[str, Any]]] = {}
    for s in steps:
        v = versions[(s["result"], s["version"])]
        history.setdefault(s["result"], []).append(
            {
                "version": s["version"],
                "published_at": s["at"].isoformat(),
                "result_code": v["result_code"],
                "result_label": label_or_code(RESULT_CODES, v["result_code"]),
            }
        )
    out = []
    for r in rows:
        v = versions[(r["id"], r["published_version"])]
        out.append(
            {
                "subject_id": r["subject_id"],
                "subject_name": r["subject_name"],
                "task": r["task"],
                "matter": r["matter"],
                "matter_name": r["matter_name"],
                "department": r["department"],
                "inspected_on": r["inspected_on"].isoformat(),
                "result_code": v["result_code"],
                "result_label": label_or_code(RESULT_CODES, v["result_code"]),
                "disposition": v["disposition"],
                "disposition_label": label_or_code(DISPOSITIONS, v["disposition"]),
                "version": r["published_version"],
                "published_at": r["published_at"].isoformat(),
                "corrected": r["published_version"] > 1 and len(history.get(r["id"], [])) > 1,
                "history": history.get(r["id"], []),
                "verify": f"/verify/record/{r['record_hash']}",
            }
        )
    return out


async def search_public(query: str) -> dict[str, Any]:
    """Subjects with published results, by USCC (exact) or by a part of the name."""
    text = (query or "").strip()
    if len(text) > 100 or "\x00" in text:
        raise AppError("result.invalid", "the search is at most 100 characters")
    if not text:
        return {"query": "", "subjects": []}
    upper, part = text.upper(), _like(text)
    if _USCC_LIKE.fullmatch(upper):
        where = Result.subject_id == upper
    elif not part:
        return {"query": text, "subjects": []}
    else:  # SQLite's LIKE ignores ASCII case already (and piccolo warns on its ILIKE)
        name = Result.subject_name
        where = name.like(f"%{part}%") if is_sqlite() else name.ilike(f"%{part}%")
    found: dict[str, dict[str, Any]] = {}
    for r in await _published(where, limit=MAX_LIST):
        s = found.setdefault(
            r["subject_id"],
            {
                "subject_id": r["subject_id"],
                "subject_name": r["subject_name"],
                "results": 0,
                "url": f"/public/subjects/{r['subject_id']}",
            },
        )
        s["results"] += 1
    return {"query": text, "subjects": list(found.values())}


def _like(text: str) -> str:
    """LIKE's wildcards and escape are left out (SQLite and PostgreSQL escape differently)."""
    return text.translate({ord(c): None for c in "%_\\"})


async def public_subject(subject_id: str) -> dict[str, Any]:
    results = await _published(Result.subject_id == subject_id)
    if not results:
        raise AppError("result.unknown", subject_id)
    return {
        "subject_id": subject_id,
        "subject_name": results[0]["subject_name"],
        "results": results,
    }


async def open_data() -> list[dict[str, Any]]:
    """Every published result (the open-data export, CSV or JSON)."""
    return await _published()


PUBLIC_COLUMNS = (
    "subject_id",
    "subject_name",
    "task",
    "matter",
    "matter_name",
    "department",
    "inspected_on",
    "result_code",
    "result_label",
    "disposition",
    "disposition_label",
    "version",
    "published_at",
    "verify",
)
