"""Helpers of the calendar tests: a reference count, whole synthetic years, files in memory.

The 2027 calendar below is test data shaped like a State Council notice, not the real one."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date, timedelta

from onevisit.workdays.calendar import Kind, SpecialDay

_years = itertools.count(2040)


def fresh_year() -> int:
    """A year no other test of this run loads (tests share one database per run)."""
    return next(_years)


# 元旦 Fri 1 Jan; 春节 Fri 5 – Fri 12 Feb with Sat 13 Feb worked; 劳动节 3–5 May with Sun 9
# May worked; 国庆节 1–7 Oct (weekdays 1, 4–7) with Sat 9 Oct worked.
DAYS_2027 = [
    ("2027-01-01", "holiday", "元旦"),
    ("2027-02-05", "holiday", "春节"),
    *[(f"2027-02-{d:02d}", "holiday", "春节") for d in range(8, 13)],
    ("2027-02-13", "workday", "春节"),
    *[(f"2027-05-{d:02d}", "holiday", "劳动节") for d in range(3, 6)],
    ("2027-05-09", "workday", "劳动节"),
    ("2027-10-01", "holiday", "国庆节"),
    *[(f"2027-10-{d:02d}", "holiday", "国庆节") for d in range(4, 8)],
    ("2027-10-09", "workday", "国庆节"),
]


def whole_year(year: int) -> list[tuple[str, str, str]]:
    """A plausible whole year: the first 12 weekdays of February off (春节) and the first
    Saturday after them worked."""
    rows, day = [], date(year, 2, 1)
    while len(rows) < 12:
        if day.weekday() < 5:
            rows.append((day.isoformat(), "holiday", "春节"))
        day += timedelta(days=1)
    while day.weekday() != 5:
        day += timedelta(days=1)
    rows.append((day.isoformat(), "workday", "春节"))
    return rows


def special_days(rows: list[tuple[str, str, str]]) -> list[SpecialDay]:
    return [SpecialDay(date.fromisoformat(d), Kind(k), n) for d, k, n in rows]


def csv_file(rows, header=("date", "kind", "name"), encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def json_file(rows, wrap: bool = False) -> bytes:
    days = [{"date": d, "kind": k, "name": n} for d, k, n in rows]
    return json.dumps({"days": days} if wrap else days, ensure_ascii=False).encode()


def reference_due(is_workday, visit: date, n: int = 20) -> date:
    """The rule spelt out: step day by day after the visit, counting working days."""
    day, found = visit, 0
    while found < n:
        day += timedelta(days=1)
        found += is_workday(day)
    return day
