"""The leader's day plan (002:18: the leader coordinates the schedule): which day each of the
group's visits is planned for, and their order within the day. The members' phones list their
visits in this order ("my visits")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from onevisit.auth.roles import Caller
from onevisit.db import write_transaction
from onevisit.errors import AppError
from onevisit.field.team import CLOSED
from onevisit.planning.tables import Visit, VisitMember
from onevisit.planning.visits import is_visit_id

__all__ = ["MAX_ENTRIES", "plan_days"]

MAX_ENTRIES = 500


async def plan_days(*, caller: Caller, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """entries: [{visit, date: "YYYY-MM-DD" | null}] — each visit gets its date (null: not
    planned) and its position among the entries of the same date as its order. The caller
    must lead every visit named; closed visits keep their plan."""
    if not entries or len(entries) > MAX_ENTRIES:
        raise AppError("visit.plan_invalid", f"1-{MAX_ENTRIES} visits")
    ids = [str(e.get("visit", "")) for e in entries]
    if len(set(ids)) != len(ids) or not all(map(is_visit_id, ids)):
        raise AppError("visit.plan_invalid", "each visit once, by its id")
    dates: list[dt.date | None] = []
    for e in entries:
        try:
            dates.append(None if e.get("date") is None else dt.date.fromisoformat(e["date"]))
        except (TypeError, ValueError) as exc:
            raise AppError("visit.plan_invalid", f"{e.get('date')!r} is not a date") from exc
    async with write_transaction():
        led = await VisitMember.select(
            VisitMember.visit, VisitMember.visit.status.as_alias("status")
        ).where(
            VisitMember.visit.is_in(ids)
            & (VisitMember.inspector.code == (caller.inspector_code or ""))
            & (VisitMember.is_leader == True)  # noqa: E712
        )
        status = {str(r["visit"]): r["status"] for r in led}
        foreign = [v for v in ids if v not in status]
        if foreign:
            raise AppError("auth.forbidden", "only the group's leader plans its visits",
                           visits=foreign)  # fmt: skip
        closed = [v for v in ids if status[v] == CLOSED]
        if closed:
            raise AppError("visit.closed", "a closed visit keeps its plan", visits=closed)
        order: dict[dt.date | None, int] = {}
        for visit, day in zip(ids, dates, strict=True):
            position = order.get(day, 0)
            order[day] = position + 1
            await Visit.update({
                Visit.planned_date: day, Visit.day_order: position if day else None,
            }).where(Visit.id == visit)  # fmt: skip
    return {"visits": [{"visit": v, "date": d.isoformat() if d else None}
                       for v, d in zip(ids, dates, strict=True)]}  # fmt: skip
