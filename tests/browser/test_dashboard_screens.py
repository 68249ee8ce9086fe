"""The dashboard and the working-day calendar in Chromium (real server, both engines).

The dashboard: department A's coordinator opens 统计看板 from home on the known scene of
tests/dashboard/conftest.py and reads its figures off the SVG charts (each an image with a
title and its numbers as a table too). The calendar: an admin imports a whole far year (2095)
and sees it loaded; a file with bad rows shows the row report and loads nothing; a coordinator
reads the year without the import form. axe on each screen."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.users import create_user
from tests.browser.helpers import (
    enrol_with_passkey,
    new_department,
    new_inspector,
    new_user_link,
    signed_in_coordinator,
)
from tests.browser.test_accessibility import Audit, _lang
from tests.dashboard.conftest import Scene, scene  # noqa: F401  (the fixture)
from tests.fixtures import unique
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture scene uses)

pytestmark = pytest.mark.browser
YEAR = 2095  # far, above tests/workdays/util.fresh_year's range: no other test loads it


async def bar(page, chart: str, key: str) -> str:
    """The value a bar of a chart shows beside it, checked against the SVG bar's own value."""
    shown = await page.locator(f"#{chart} + .value[data-key='{key}'], "
                               f"#{chart} ~ .value[data-key='{key}']").text_content()  # fmt: skip
    rect = page.locator(f"#{chart} rect[data-key='{key}']")
    if shown == "0":
        await expect(rect).to_have_count(0)  # no bar for nothing
    else:
        assert await rect.get_attribute("data-value") == shown
        assert float(await rect.get_attribute("width")) > 0
    return shown


async def test_the_dashboard_draws_the_scene_in_svg_charts(
    page_with_authenticator,
    scene: Scene,  # noqa: F811
):
    tab = page_with_authenticator
    page = tab.page
    audit = Audit()
    await signed_in_coordinator(tab, department=scene.dep_a)
    await page.click("a.tile[href='#/dashboard']")
    await expect(page.locator("#chart-completion")).to_be_visible()
    assert await page.locator("#chart-completion").get_attribute("role") == "img"
    label = await page.locator("#chart-completion").get_attribute("aria-label")
    assert await page.locator("#chart-completion > title").text_content() == label
    assert "已分派 7" in label and "已办结 2" in label
    assert [await bar(page, "chart-completion", k) for k in ("assigned", "visited", "closed")] == [
        "7", "3", "2",
    ]  # fmt: skip
    await expect(page.locator("#dash-completion")).to_contain_text("完成率 28.6%")
    clock = ("published_on_time", "published_late", "overdue")
    assert [await bar(page, "chart-clock", k) for k in clock] == ["1", "1", "0"]
    assert await bar(page, "chart-states", "published") == "2"
    assert await bar(page, "chart-states", "pending_review") == "0"
    # the same numbers as a table for screen readers
    row = page.locator("#chart-completion-table tbody tr").first
    await expect(row).to_contain_text("7")
    # coverage: the plan line runs T2: planned 2 of 4, drawn 3; T1 outside plans
    line = page.locator("#coverage-table tbody tr", has_text=scene.plan)
    await expect(line.locator("td")).to_have_text(["2", "3", "0", "0"])
    t1 = page.locator("#coverage-table tbody tr", has_text=scene.t1)
    await expect(t1.locator("td")).to_have_text(["—", "4", "3", "2"])
    await audit.check(page, "dashboard")
    await _lang(page, "en")
    await expect(page.locator("#dash-completion h2")).to_have_text("Visits completed")
    assert "Assigned 7" in await page.locator("#chart-completion").get_attribute("aria-label")
    await audit.check(page, "dashboard")
    await _lang(page, "zh")

    # the calendar, read-only for a coordinator, from the dashboard's link
    await page.click("#dash-calendar")
    await expect(page.locator("#calendar-state")).to_be_visible()
    await expect(page.locator("#calendar-readonly")).to_be_visible()
    await expect(page.locator("#calendar-import-form")).to_have_count(0)
    audit.assert_clean()


def _year_csv(year: int) -> bytes:
    """A whole year: 12 weekday holidays and one weekend day worked."""
    days = [d for d in (dt.date(year, 10, 1) + dt.timedelta(n) for n in range(20))
            if d.weekday() < 5][:12]  # fmt: skip
    saturday = next(d for d in (dt.date(year, 9, 20) + dt.timedelta(n) for n in range(7))
                    if d.weekday() == 5)  # fmt: skip
    lines = ["date,kind,name", *(f"{d},holiday,国庆节" for d in days), f"{saturday},workday,国庆节"]
    return ("\n".join(lines) + "\n").encode()


async def test_an_admin_imports_a_whole_year_and_a_bad_file_shows_its_rows(
    page_with_authenticator,
):
    tab = page_with_authenticator
    page = tab.page
    audit = Audit()
    user, token = await new_user_link(role="admin")
    await enrol_with_passkey(tab, token, user.name)
    await tab.open("#/calendar")
    await page.fill("#calendar-year", str(YEAR))
    await page.click("#calendar-show")
    await expect(page.locator("#calendar-state")).to_have_attribute("data-loaded", "false")
    await expect(page.locator("#calendar-state")).to_contain_text("周一至周五")
    await audit.check(page, "calendar: provisional year, import form")

    # a bad file: an impossible date and a make-up "workday" on a Monday — nothing imported
    monday = next(dt.date(YEAR, 3, 1) + dt.timedelta(n) for n in range(7)
                  if (dt.date(YEAR, 3, 1) + dt.timedelta(n)).weekday() == 0)  # fmt: skip
    bad = f"date,kind,name\n{YEAR}-02-30,holiday,春节\n{monday},workday,春节\n".encode()
    await page.set_input_files("#calendar-file", files=[
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])  # fmt: skip
    await page.click("#calendar-import")
    await expect(page.locator("#calendar-import-status")).to_contain_text("calendar.rows_invalid")
    rows = page.locator("#calendar-errors tbody tr")
    await expect(rows.filter(has_text="calendar.date_invalid")).to_have_count(1)
    await expect(rows.filter(has_text="calendar.workday_weekday")).to_have_count(1)
    await expect(rows.filter(has_text="calendar.date_invalid").locator("td").first).to_have_text(
        "2"
    )
    await audit.check(page, "calendar: bad rows")
    await expect(page.locator("#calendar-state")).to_have_attribute("data-loaded", "false")

    await page.set_input_files("#calendar-file", files=[
        {"name": f"{YEAR}.csv", "mimeType": "text/csv", "buffer": _year_csv(YEAR)}])  # fmt: skip
    await page.click("#calendar-import")
    await expect(page.locator("#calendar-import-status")).to_contain_text(f"已导入：{YEAR}")
    await expect(page.locator(f"#calendar-imported li[data-year='{YEAR}']")).to_contain_text(
        "放假 12 天，调休上班 1 天"
    )
    await expect(page.locator("#calendar-errors")).to_have_count(0)
    await expect(page.locator("#calendar-state")).to_have_attribute("data-loaded", "true")
    await expect(page.locator("#calendar-state")).to_contain_text(f"import:{YEAR}.csv")
    await expect(page.locator("#calendar-days tbody tr[data-kind='holiday']")).to_have_count(12)
    await expect(page.locator("#calendar-days tbody tr[data-kind='workday']")).to_have_count(1)
    await audit.check(page, "calendar: year loaded")
    audit.assert_clean()


async def test_a_leader_finds_the_dashboard_of_the_visits_he_leads(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    dep = await new_department("组长局")
    code = await new_inspector(dep)
    user = await create_user(name=unique("组长"), role="leader", department_code=dep,
                             inspector_code=code, created_by="test")  # fmt: skip
    enrolment = await issue_enrolment(user_id=user.id, created_by="test")
    await enrol_with_passkey(tab, enrolment.token, user.name)
    # of the staff tiles, a leader gets the dashboard only
    await expect(page.locator("a.tile[href='#/tasks']")).to_have_count(0)
    await page.click("a.tile[href='#/dashboard']")
    await expect(page.locator("#dash-scope")).to_contain_text("我带队的检查")
    await expect(page.locator("#dash-department")).to_have_count(0)  # admins choose one
    assert await bar(page, "chart-completion", "assigned") == "0"
