"""The pure calendar: the rule (the visit day never counts), the holidays with their make-up
weekends, provisional years, working days left, and speed."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import chinese_calendar
import pytest

from onevisit.workdays.calendar import Kind, SpecialDay, WorkdayCalendar
from onevisit.workdays.seed import package_source, package_years
from tests.workdays.util import DAYS_2027, reference_due, special_days

SEEDED = WorkdayCalendar(package_years())
WITH_2027 = WorkdayCalendar({**package_years(), 2027: special_days(DAYS_2027)})


def test_the_seed_is_the_package_2004_to_2026():
    years = package_years()
    assert sorted(years) == list(range(2004, 2027))
    assert package_source().startswith("chinese-calendar 1.11")
    for days in years.values():  # only days that change the count
        for d in days:
            assert (d.kind is Kind.holiday) == (d.day.weekday() < 5), d
    national_day = [d for d in years[2026] if d.name == "国庆节"]
    assert [d.day.isoformat() for d in national_day] == [
        "2026-09-20", "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07",
        "2026-10-10",
    ]  # fmt: skip


def test_the_visit_day_never_counts():
    # 2026-09-25 (Friday, 中秋节): the 20th working day after it is 29 October; the package's
    # find_workday(20, …) first moves to the next working day and gives 30 October.
    assert SEEDED.due_date(date(2026, 9, 25)) == (date(2026, 10, 29), False)
    assert chinese_calendar.find_workday(20, date(2026, 9, 25)) == date(2026, 10, 30)
    # a visit on a working day: still counted from the next day
    assert SEEDED.due_date(date(2026, 11, 2)).due == date(2026, 11, 30)
    assert SEEDED.due_date(date(2026, 11, 2), 1).due == date(2026, 11, 3)
    with pytest.raises(ValueError):
        SEEDED.due_date(date(2026, 11, 2), 0)


def test_national_day_with_its_make_up_weekends():
    # Sunday 20 September and Saturday 10 October 2026 are worked; 1–7 October are off.
    assert SEEDED.is_workday(date(2026, 9, 20)) and SEEDED.is_workday(date(2026, 10, 10))
    assert not SEEDED.is_workday(date(2026, 10, 5))
    # visit Fri 18 Sep: 20 (Sun, worked) is the first working day; 21–24 (5; Fri 25 is
    # 中秋节), 28–30 (8), 8–9 Oct (10), Sat 10 (11), 12–16 (16), 19–22 (20)
    assert SEEDED.due_date(date(2026, 9, 18), 1).due == date(2026, 9, 20)
    assert SEEDED.due_date(date(2026, 9, 18)) == (date(2026, 10, 22), False)


def test_a_visit_before_the_spring_festival():
    # 2026: Sat 14 Feb worked, 15–23 Feb off, Sat 28 Feb worked.
    # Tue 10 Feb → 11,12,13 (3), Sat 14 (4), 24–27 (8), Sat 28 (9), 2–6 Mar (14),
    # 9–13 Mar (19), Mon 16 Mar (20).
    assert SEEDED.due_date(date(2026, 2, 10)) == (date(2026, 3, 16), False)
    assert SEEDED.due_date(date(2026, 2, 13), 1).due == date(2026, 2, 14)
    assert SEEDED.due_date(date(2026, 2, 14), 1).due == date(2026, 2, 24)


def test_every_day_2004_to_2026_agrees_with_the_package():
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert SEEDED.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_due_dates_2004_to_2026_agree_with_stepping_through_the_package():
    day = date(2004, 1, 1)
    while day <= date(2026, 11, 20):  # due dates stay within 2026
        expected = reference_due(chinese_calendar.is_workday, day)
        assert SEEDED.due_date(day) == (expected, False), day
        day += timedelta(days=1)


def test_a_december_visit_is_provisional_until_the_next_year_is_loaded():
    # 16–31 Dec 2026 give 12 working days; 2027 unknown: Mon–Fri, so Fri 1 Jan counts.
    assert SEEDED.due_date(date(2026, 12, 15)) == (date(2027, 1, 12), True)
    # with 2027 loaded 1 January is off: one day later, and final
    assert WITH_2027.due_date(date(2026, 12, 15)) == (date(2027, 1, 13), False)
    # a due date within the loaded year is never provisional, even from the last visit day
    assert SEEDED.due_date(date(2026, 11, 30)) == (date(2026, 12, 28), False)
    assert SEEDED.is_workday(date(2027, 1, 1))  # Friday, Mon–Fri assumed
    assert not WITH_2027.is_workday(date(2027, 1, 1))
    assert WITH_2027.is_workday(date(2027, 2, 13))  # the make-up Saturday
    assert not SEEDED.is_loaded(2027) and WITH_2027.is_loaded(2027)


def test_working_days_left():
    due = date(2026, 10, 29)  # Thursday
    left = SEEDED.working_days_left
    assert left(due, date(2026, 10, 22)) == (5, False)  # 23, 26, 27, 28, 29: first alert
    assert left(due, date(2026, 10, 27)) == (2, False)  # 28, 29: second alert
    assert left(due, date(2026, 10, 29)) == (0, False)
    assert left(due, date(2026, 10, 30)) == (-1, False)
    assert left(due, date(2026, 11, 2)) == (-2, False)  # the weekend in between is no day
    assert left(due, date(2026, 9, 25)) == (20, False)  # on the visit day: all 20 ahead
    # across the holidays: on 30 September, 8–9 October and the make-up Saturday remain
    assert left(date(2026, 10, 12), date(2026, 9, 30)) == (4, False)
    # into a year not loaded: provisional, then the real count
    assert left(date(2027, 1, 12), date(2026, 12, 31)) == (8, True)  # 1, 4–8, 11, 12 Jan
    assert WITH_2027.working_days_left(date(2027, 1, 12), date(2026, 12, 31)) == (7, False)
    assert left(date(2026, 12, 28), date(2027, 1, 5)) == (-6, True)


def test_outside_the_table_monday_to_friday_is_assumed_and_provisional():
    for visit in (date(1999, 12, 20), date(2150, 6, 1), date(2030, 12, 20)):
        due, provisional = SEEDED.due_date(visit)
        assert provisional
        assert due == reference_due(lambda d: d.weekday() < 5, visit), visit
    # a count that starts before the table and ends inside it
    due, provisional = SEEDED.due_date(date(2002, 12, 20), 60)
    assert due == reference_due(SEEDED.is_workday, date(2002, 12, 20), 60)
    assert provisional  # 2002 and 2003 are not loaded


def test_table_and_stepping_agree_on_random_visits():
    rng = random.Random(6)
    for _ in range(3000):
        visit = date(2002, 1, 1) + timedelta(days=rng.randrange(0, 365 * 27))
        n = rng.choice((1, 2, 5, 20, 45, 300))
        due, provisional = WITH_2027.due_date(visit, n)
        assert due == reference_due(WITH_2027.is_workday, visit, n), (visit, n)
        span = range((visit + timedelta(days=1)).year, due.year + 1)
        assert provisional == any(not WITH_2027.is_loaded(y) for y in span)
        today = visit + timedelta(days=rng.randrange(-400, 400))
        days, _ = WITH_2027.working_days_left(due, today)
        low, high = sorted((due, today))
        steps = sum(
            WITH_2027.is_workday(low + timedelta(days=i)) for i in range(1, (high - low).days + 1)
        )
        assert days == (steps if due >= today else -steps), (due, today)


def test_a_loaded_year_without_special_days_is_final_monday_to_friday():
    calendar = WorkdayCalendar({2040: []})
    assert calendar.due_date(date(2040, 3, 1)) == (date(2040, 3, 29), False)


def test_bad_calendars_are_refused():
    day = SpecialDay(date(2027, 1, 1), Kind.holiday, "元旦")
    with pytest.raises(ValueError):
        WorkdayCalendar({2026: [day]})
    with pytest.raises(ValueError):
        WorkdayCalendar({2027: [day, day]})


def test_thousands_of_due_dates_take_microseconds_each():
    visits = [date(2026, 1, 1) + timedelta(days=i % 360) for i in range(20000)]
    started = time.perf_counter()
    for visit in visits:
        WITH_2027.due_date(visit)
    per_call = (time.perf_counter() - started) / len(visits)
    assert per_call < 50e-6, f"{per_call * 1e6:.1f} µs per due date"
