"""The Chinese working-day calendar, pure (no I/O): is a day a working day, and the n-th
working day after a visit.

A day is a working day when it is Monday–Friday and not a `holiday` (法定节假日 falling on a
weekday), or when it is a `workday` (调休上班: a make-up working Saturday or Sunday). Only the
State Council's yearly notice says which days those are, so the calendar knows them only for
the years loaded; in any other year it assumes plain Monday–Friday, and every answer that
touched such a year says `provisional=True`. Loading the year later and asking again gives the
real answer — nothing stores a computed date as final.

Results are published within 20 working days of the inspection (002:20(三)); the visit day
itself never counts: `due_date(2026-09-25)` is 2026-10-29, the 20th working day *after* it
(chinese_calendar.find_workday(20, …) first moves to the next working day, then counts, and
gives 2026-10-30).

Speed: thousands of results are dated at once. A table of cumulative working-day counts over
the loaded years (plus a margin) makes `working_days_left` two look-ups and `due_date` one
binary search; outside the table the Monday–Friday count is closed-form.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "BEIJING",
    "PUBLISH_WITHIN",
    "DueDate",
    "Kind",
    "SpecialDay",
    "WorkdayCalendar",
    "WorkingDaysLeft",
    "today_in_china",
]

BEIJING = timezone(timedelta(hours=8))  # China keeps one time zone, no summer time
PUBLISH_WITHIN = 20  # working days from the inspection to publication (002:20(三))


def today_in_china() -> date:
    """Today's date in China, whatever the server's own time zone."""
    return datetime.now(BEIJING).date()


class Kind(StrEnum):
    holiday = "holiday"  # a weekday off
    workday = "workday"  # a Saturday or Sunday worked (调休上班)


@dataclass(frozen=True, slots=True)
class SpecialDay:
    day: date
    kind: Kind
    name: str = ""


class DueDate(NamedTuple):
    due: date
    provisional: bool  # a year on the way was not loaded: Monday–Friday was assumed


class WorkingDaysLeft(NamedTuple):
    days: int  # working days from today (excluded) to due (included); < 0 when overdue
    provisional: bool


def _weekdays_through(ordinal: int) -> int:
    """Monday–Friday days among ordinals 1..ordinal (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def _is_weekday(ordinal: int) -> bool:
    return (ordinal - 1) % 7 < 5


class WorkdayCalendar:
    """The calendar of the loaded years. `years` maps each loaded year to its special days
    (a loaded year may have none); days outside their year are refused, as are two entries
    for one day. A `holiday` on a weekend or a `workday` on a weekday changes nothing."""

    __slots__ = ("_base", "_cum", "_first", "_last", "_loaded", "_overrides")

    def __init__(self, years: Mapping[int, Iterable[SpecialDay]]) -> None:
        overrides: dict[int, bool] = {}
        for year, days in years.items():
            for special in days:
                if special.day.year != year:
                    raise ValueError(f"{special.day} is listed under {year}")
                ordinal = special.day.toordinal()
                if ordinal in overrides:
                    raise ValueError(f"{special.day} is listed twice")
                overrides[ordinal] = special.kind is Kind.workday
        self._loaded = frozenset(years)
        self._overrides = overrides
        # the table spans the loaded years and one year either side (Monday–Friday there)
        low = min(self._loaded, default=2000) - 1
        high = max(self._loaded, default=2000) + 1
        self._first = date(low, 1, 1).toordinal()
        self._last = date(high, 12, 31).toordinal()
        # _cum[i] = count(first + i), where count(o) = working days among ordinals 1..o; below
        # the table count is Monday–Friday, so the table continues that count.
        self._base = _weekdays_through(self._first - 1)
        cum = array("l")
        total = self._base
        for ordinal in range(self._first, self._last + 1):
            if overrides.get(ordinal, _is_weekday(ordinal)):
                total += 1
            cum.append(total)
        self._cum = cum

    # --- what is known ---------------------------------------------------------------------
    @property
    def loaded_years(self) -> frozenset[int]:
        return self._loaded

    def is_loaded(self, year: int) -> bool:
        return year in self._loaded

    def is_workday(self, day: date) -> bool:
        """Monday–Friday for a year not loaded (see `is_loaded`)."""
        ordinal = day.toordinal()
        return self._overrides.get(ordinal, _is_weekday(ordinal))

    def provisional(self, start: date, end: date) -> bool:
        """Whether any year from start to end (inclusive, either order) is not loaded."""
        return self._provisional_years(start.year, end.year)

    def _provisional_years(self, low: int, high: int) -> bool:
        if low > high:
            low, high = high, low
        if high - low <= 1:  # nearly every call: one year or two
            return low not in self._loaded or high not in self._loaded
        return any(year not in self._loaded for year in range(low, high + 1))

    # --- counting --------------------------------------------------------------------------
    def _count(self, ordinal: int) -> int:
        """Working days among ordinals 1..ordinal: a table look-up, or Monday–Friday outside."""
        if ordinal < self._first:
            return _weekdays_through(ordinal)
        if ordinal > self._last:
            return self._cum[-1] + _weekdays_through(ordinal) - _weekdays_through(self._last)
        return self._cum[ordinal - self._first]

    def due_date(self, visit: date, n: int = PUBLISH_WITHIN) -> DueDate:
        """The n-th working day after `visit` (the visit day never counts), n >= 1."""
        if n < 1:
            raise ValueError("n must be at least 1")
        start = visit.toordinal()
        target = self._count(start) + n
        if self._first - 1 <= start and target <= self._cum[-1]:
            # the first ordinal whose count reaches target is a working day: the answer
            index = bisect_left(self._cum, target, lo=start + 1 - self._first)
            due = date.fromordinal(self._first + index)
        else:  # outside the table: step (rare — dates before or well after the loaded years)
            due, found = visit, 0
            while found < n:
                due += timedelta(days=1)
                found += self.is_workday(due)
        # the counted days run from the day after the visit (31 Dec → the next year) to due
        first_year = visit.year + (visit.month == 12 and visit.day == 31)
        return DueDate(due, self._provisional_years(first_year, due.year))

    def working_days_left(self, due: date, today: date) -> WorkingDaysLeft:
        """Working days after today up to and including `due` (0 on the due date itself when
        nothing is left; 5 and 2 are the alert points); negative when overdue: -k means k
        working days have passed since the due date."""
        days = self._count(due.toordinal()) - self._count(today.toordinal())
        if due == today:
            return WorkingDaysLeft(0, False)
        low, high = (due, today) if due < today else (today, due)
        first_year = low.year + (low.month == 12 and low.day == 31)  # counted from low + 1
        return WorkingDaysLeft(days, self._provisional_years(first_year, high.year))
