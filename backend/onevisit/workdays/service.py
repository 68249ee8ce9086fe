"""The calendar in the database: load it (cached), import a file as new versions of its
years, show one year. Plain async functions; the HTTP API and the CLI call these.

For callers that date results:

    calendar = await get_calendar()
    due, provisional = calendar.due_date(visit_date)
    left, provisional = calendar.working_days_left(due, today)

The cache is this process's: an import here replaces it at once, and a calendar older than
CACHE_CHECK_S is checked against the database (one small query) before it is used again,
so other server processes see an import within that time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any

from piccolo.query.functions.aggregate import Count, Max

from onevisit.db import read_transaction, write_transaction
from onevisit.workdays.calendar import Kind, SpecialDay, WorkdayCalendar
from onevisit.workdays.importing import parse_calendar_file
from onevisit.workdays.tables import CalendarDay, CalendarYear

__all__ = [
    "CACHE_CHECK_S",
    "ImportReport",
    "YearView",
    "forget_calendar",
    "get_calendar",
    "import_calendar",
    "load_calendar",
    "show_year",
]

CACHE_CHECK_S = 60.0
MAX_SOURCE_NAME = 120


@dataclass
class _Cache:
    calendar: WorkdayCalendar | None = None
    stamp: tuple[int, int] = (0, 0)  # (rows of calendar_year, highest id): changes on import
    checked: float = 0.0


_cache = _Cache()


async def _stamp() -> tuple[int, int]:
    row = await CalendarYear.select(Count(alias="n"), Max(CalendarYear.id, alias="top")).first()
    return (row["n"] or 0, row["top"] or 0) if row else (0, 0)


async def _latest_versions() -> dict[int, dict[str, Any]]:
    """year → its calendar_year row in force (the highest version)."""
    latest: dict[int, dict[str, Any]] = {}
    for row in await CalendarYear.select().order_by(CalendarYear.version):
        latest[row["year"]] = row
    return latest


async def load_calendar() -> WorkdayCalendar:
    """The calendar of the versions in force, read from the database now (no cache)."""
    return (await _read_calendar())[0]


async def _read_calendar() -> tuple[WorkdayCalendar, tuple[int, int]]:
    async with read_transaction():
        stamp = await _stamp()
        latest = await _latest_versions()
        rows = await CalendarDay.select(
            CalendarDay.year, CalendarDay.version, CalendarDay.day, CalendarDay.kind,
            CalendarDay.name,
        )  # fmt: skip
    years: dict[int, list[SpecialDay]] = {year: [] for year in latest}
    for r in rows:
        if latest[r["year"]]["version"] == r["version"]:
            years[r["year"]].append(SpecialDay(r["day"], Kind(r["kind"]), r["name"]))
    return WorkdayCalendar(years), stamp


async def get_calendar() -> WorkdayCalendar:
    """The calendar in force, from this process's cache (see the module's docstring)."""
    now = time.monotonic()
    if _cache.calendar is not None and now - _cache.checked < CACHE_CHECK_S:
        return _cache.calendar
    if _cache.calendar is not None and await _stamp() == _cache.stamp:
        _cache.checked = now
        return _cache.calendar
    _cache.calendar, _cache.stamp = await _read_calendar()
    _cache.checked = now
    return _cache.calendar


def forget_calendar() -> None:
    """Drop the cached calendar: the next get_calendar() reads the database."""
    _cache.calendar = None
    _cache.checked = 0.0


@dataclass
class ImportReport:
    source: str
    years: list[dict[str, Any]]  # year, version, days, holidays, workdays, changed
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "years": self.years, "warnings": self.warnings}


def _source_of(filename: str) -> str:
    """`import:<file name>`: the base name only (a user's file name is never a path)."""
    name = PurePath(filename.replace("\\", "/")).name if filename else ""
    name = "".join(ch for ch in name if ch.isprintable())[:MAX_SOURCE_NAME]
    return f"import:{name or 'upload'}"


async def import_calendar(*, data: bytes, filename: str, actor: str) -> ImportReport:
    """All or nothing: the file is checked first (importing.parse_calendar_file), then each
    year it covers gets a new version in one transaction. Nothing is updated or deleted."""
    parsed = parse_calendar_file(data, filename)
    source = _source_of(filename)
    summary = []
    async with write_transaction():
        latest = await _latest_versions()
        previous = await _days_of(latest)
        for year, days in parsed.years.items():
            version = latest[year]["version"] + 1 if year in latest else 1
            await CalendarYear.insert(
                CalendarYear(year=year, version=version, source=source, actor=actor,
                             days=len(days))
            )  # fmt: skip
            await CalendarDay.insert(
                *(
                    CalendarDay(year=year, version=version, day=d.day, kind=d.kind.value,
                                name=d.name, source=source)
                    for d in days
                )
            )  # fmt: skip
            summary.append({
                "year": year, "version": version, "days": len(days),
                "holidays": sum(d.kind is Kind.holiday for d in days),
                "workdays": sum(d.kind is Kind.workday for d in days),
                "changed": previous.get(year) != _key(days),
            })  # fmt: skip
    forget_calendar()
    return ImportReport(source, summary, parsed.warnings)


def _key(days: list[SpecialDay]) -> set[tuple[Any, ...]]:
    return {(d.day, d.kind.value, d.name) for d in days}


async def _days_of(latest: dict[int, dict[str, Any]]) -> dict[int, set[tuple[Any, ...]]]:
    out: dict[int, set[tuple[Any, ...]]] = {year: set() for year in latest}
    rows = await CalendarDay.select(
        CalendarDay.year, CalendarDay.version, CalendarDay.day, CalendarDay.kind, CalendarDay.name
    )
    for r in rows:
        if latest[r["year"]]["version"] == r["version"]:
            out[r["year"]].add((r["day"], r["kind"], r["name"]))
    return out


@dataclass
class YearView:
    year: int
    loaded: bool  # False: Monday–Friday is assumed and every answer is provisional
    version: int | None
    versions: int  # loads of this year so far (older ones kept)
    source: str | None
    loaded_at: datetime | None
    days: list[SpecialDay]


async def show_year(*, year: int) -> YearView:
    async with read_transaction():
        loads = (
            await CalendarYear.select()
            .where(CalendarYear.year == year)
            .order_by(CalendarYear.version)
        )
        if not loads:
            return YearView(year, False, None, 0, None, None, [])
        current = loads[-1]
        rows = (
            await CalendarDay.select()
            .where((CalendarDay.year == year) & (CalendarDay.version == current["version"]))
            .order_by(CalendarDay.day)
        )
    days = [SpecialDay(r["day"], Kind(r["kind"]), r["name"]) for r in rows]
    return YearView(
        year, True, current["version"], len(loads), current["source"], current["loaded_at"], days
    )
