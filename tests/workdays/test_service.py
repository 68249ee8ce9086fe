"""The calendar in the database (both engines): the seed, imports as new versions, all or
nothing, append-only tables, the cache."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from onevisit.db import engine, is_sqlite
from onevisit.errors import AppError
from onevisit.workdays import service
from onevisit.workdays.tables import CalendarDay, CalendarYear
from tests.workdays.util import csv_file, fresh_year, json_file, whole_year


async def test_the_seed_is_2004_to_2026_from_the_package():
    seeded = await CalendarYear.select().where(CalendarYear.actor == "migrate")
    assert sorted(r["year"] for r in seeded) == list(range(2004, 2027))
    assert {r["version"] for r in seeded} == {1}
    assert {r["source"] for r in seeded} == {"chinese-calendar 1.11.0"}
    national = await CalendarDay.select(CalendarDay.day, CalendarDay.kind).where(
        (CalendarDay.year == 2026) & (CalendarDay.name == "国庆节")
    )
    assert (date(2026, 10, 10), "workday") in {(r["day"], r["kind"]) for r in national}


async def test_the_stored_calendar_agrees_with_the_package_every_day():
    calendar = await service.load_calendar()
    assert set(range(2004, 2027)) <= calendar.loaded_years
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert calendar.due_date(date(2026, 9, 25)) == (date(2026, 10, 29), False)


async def test_an_import_adds_a_version_and_the_cached_calendar_follows():
    year = fresh_year()
    visit = date(year, 1, 25)  # its count runs through the year's 春节
    before = await service.get_calendar()
    assert before.due_date(visit).provisional

    first = await service.import_calendar(
        data=csv_file(whole_year(year)), filename="..\\..\\etc/年\x00历.csv", actor="tester"
    )
    assert first.source == "import:年历.csv"  # the base name only
    assert first.years == [
        {"year": year, "version": 1, "days": 13, "holidays": 12, "workdays": 1, "changed": True}
    ]
    after = await service.get_calendar()
    assert after is not before and after.is_loaded(year)
    assert not after.due_date(visit).provisional
    assert after.due_date(visit).due > before.due_date(visit).due  # 11 more days off

    # the same year again (one day renamed): version 2 is in force, version 1 is kept
    rows = whole_year(year)
    rows[0] = (rows[0][0], "holiday", "春节（更正）")
    second = await service.import_calendar(data=json_file(rows), filename="x.json", actor="t")
    assert second.years[0]["version"] == 2 and second.years[0]["changed"]
    view = await service.show_year(year=year)
    assert (view.loaded, view.version, view.versions) == (True, 2, 2)
    assert view.source == "import:x.json" and view.days[0].name == "春节（更正）"
    assert await CalendarDay.count().where(CalendarDay.year == year) == 26

    third = await service.import_calendar(data=json_file(rows), filename="x.json", actor="t")
    assert third.years[0]["version"] == 3 and not third.years[0]["changed"]


async def test_a_bad_file_stores_nothing_not_even_its_good_years():
    good, bad = fresh_year(), fresh_year()
    rows = [*whole_year(good), *whole_year(bad), (f"{bad}-02-30", "holiday", "春节")]
    years_before = await CalendarYear.count()
    days_before = await CalendarDay.count()
    with pytest.raises(AppError) as caught:
        await service.import_calendar(data=csv_file(rows), filename="x.csv", actor="t")
    assert caught.value.code == "calendar.rows_invalid"
    assert [e["row"] for e in caught.value.details["errors"]] == [len(rows) + 1]
    assert await CalendarYear.count() == years_before
    assert await CalendarDay.count() == days_before
    assert not (await service.show_year(year=good)).loaded


async def test_a_year_not_loaded_shows_as_provisional():
    view = await service.show_year(year=2099)
    assert (view.loaded, view.version, view.versions, view.days) == (False, None, 0, [])


@pytest.mark.parametrize("table", ["calendar_year", "calendar_day"])
async def test_the_calendar_tables_are_append_only(table):
    for sql in (f"UPDATE {table} SET year = year", f"DELETE FROM {table}"):
        with pytest.raises(Exception, match="append-only"):
            await engine().run_ddl(sql)
    if not is_sqlite():
        with pytest.raises(Exception, match="append-only"):
            await engine().run_ddl(f"TRUNCATE {table}")
    assert await CalendarYear.count().where(CalendarYear.year == 2026) >= 1


async def test_versions_of_a_year_are_unique():
    with pytest.raises(Exception):  # noqa: B017 — the engines raise their own IntegrityError
        await CalendarYear.insert(CalendarYear(year=2026, version=1, source="x", days=0))


async def test_another_process_import_is_seen_after_the_check_interval(monkeypatch):
    cached = await service.get_calendar()
    year = fresh_year()
    # what an import by another server process leaves: rows this process's cache never saw
    await CalendarYear.insert(CalendarYear(year=year, version=1, source="x", actor="t", days=0))
    assert await service.get_calendar() is cached  # within CACHE_CHECK_S: no query at all
    monkeypatch.setattr(service, "CACHE_CHECK_S", 0.0)
    fresh = await service.get_calendar()
    assert fresh is not cached and fresh.is_loaded(year)
    assert await service.get_calendar() is fresh  # unchanged stamp: the same calendar
