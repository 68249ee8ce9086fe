"""The leader's day plan in Chromium (real server, both engines): a group's leader sees a link
to #/dayplan under "my visits", plans two visits on one day in reverse order (down/up buttons,
a date each), saves, lands back on the visits list with the dates shown, and the server lists
them in that order; the day plan screen opens again in it. Offline the screen says it needs
the network. A member who leads no visit sees no link. axe on the day plan screen."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.users import create_user
from onevisit.planning.visits import create_task, create_visit
from tests.browser.conftest import AUTHENTICATOR
from tests.browser.helpers import (
    enrol_with_passkey,
    new_department,
    new_inspector,
    new_matter,
    page_fetch,
)
from tests.browser.test_accessibility import Audit
from tests.fixtures import unique

pytestmark = pytest.mark.browser

DAY = "2026-03-05"


async def _group() -> dict:
    """One task, two visits of the same group: the leader first, a member second."""
    dep = await new_department("行程局")
    matter = await new_matter(dep)
    leader, member = await new_inspector(dep), await new_inspector(dep)
    task = await create_task(code=unique("T-DP-"), name="行程联合抽查", initiator=dep,
                             matters=[matter], created_by="test")  # fmt: skip
    visits = [  # in batch order, as a draw makes them
        await create_visit(task_id=task, subject_id=unique("DP-"), batch_order=n,
                           members=[(leader, dep), (member, dep)])
        for n in range(2)
    ]  # fmt: skip
    return {"dep": dep, "leader": leader, "member": member, "visits": [str(v) for v in visits]}


async def _enrol(tab, department: str, inspector: str) -> None:
    user = await create_user(name=unique("检查员"), role="inspector", department_code=department,
                             inspector_code=inspector, created_by="test")  # fmt: skip
    enrolment = await issue_enrolment(user_id=user.id, created_by="test")
    await enrol_with_passkey(tab, enrolment.token, user.name)


def _rows(page, root: str):
    return page.locator(f"{root} > li[data-visit]")


async def test_the_leader_plans_two_visits_on_one_day(page_with_authenticator, make_tab):
    tab = page_with_authenticator
    page = tab.page
    g = await _group()
    first, second = g["visits"]
    await _enrol(tab, g["dep"], g["leader"])
    await tab.open("#/visits")
    await expect(_rows(page, "#visit-list")).to_have_count(2)
    await expect(page.locator(f"#visit-list li[data-visit='{first}']")).not_to_contain_text(DAY)

    await page.click("#dayplan-link")
    await expect(page).to_have_url(re.compile(r"#/dayplan$"))
    rows = _rows(page, "#dayplan-list")
    await expect(rows).to_have_count(2)
    assert await rows.evaluate_all("(els) => els.map((e) => e.dataset.visit)") == [first, second]
    await Audit().check(page, "dayplan")
    # the first visit moves down: the second comes first; the focus stays on the button
    down = page.locator(f"#dayplan-list li[data-visit='{first}'] .dayplan-down")
    await down.click()
    await expect(down).to_be_focused()
    assert await rows.evaluate_all("(els) => els.map((e) => e.dataset.visit)") == [second, first]
    up = page.locator(f"#dayplan-list li[data-visit='{second}'] .dayplan-up")
    await up.click()  # already first: nothing moves
    for visit in g["visits"]:
        await page.fill(f"#dayplan-date-{visit}", DAY)
    await page.click("#dayplan-save")

    await expect(page).to_have_url(re.compile(r"#/visits$"))
    for visit in g["visits"]:
        await expect(page.locator(f"#visit-list li[data-visit='{visit}']")).to_contain_text(DAY)
    listed = (await page_fetch(page, "/api/visits"))["body"]["visits"]
    assert [(v["visit"], v["planned_date"]) for v in listed] == [(second, DAY), (first, DAY)]
    # the day plan opens again in the saved order, with the dates
    await tab.open("#/dayplan")
    await expect(page.locator(f"#dayplan-date-{first}")).to_have_value(DAY)
    assert await rows.evaluate_all("(els) => els.map((e) => e.dataset.visit)") == [second, first]

    # offline: the screen (kept by the worker) says the plan needs the network
    await tab.open("#/visits")
    await tab.context.set_offline(True)
    await tab.open("#/dayplan")
    await expect(page.locator("#dayplan-status")).to_contain_text("离线")
    await expect(page.locator("#dayplan-save")).to_have_count(0)
    await tab.context.set_offline(False)

    # a member who leads none of the visits sees them, without the link
    mate = await make_tab()
    mate.cdp = await mate.context.new_cdp_session(mate.page)
    await mate.cdp.send("WebAuthn.enable", {"enableUI": False})
    await mate.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    await _enrol(mate, g["dep"], g["member"])
    await mate.open("#/visits")
    await expect(_rows(mate.page, "#visit-list")).to_have_count(2)
    await expect(mate.page.locator(f"#visit-list li[data-visit='{first}']")).to_contain_text(DAY)
    await expect(mate.page.locator("#dayplan-link")).to_have_count(0)
    assert not tab.page_errors and not mate.page_errors


async def test_my_visits_lists_the_day_plan_order(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    g = await _group()
    first, second = g["visits"]
    await _enrol(tab, g["dep"], g["leader"])
    await tab.open("#/dayplan")
    await page.click(f"#dayplan-list li[data-visit='{first}'] .dayplan-down")
    for visit in g["visits"]:
        await page.fill(f"#dayplan-date-{visit}", DAY)
    await page.click("#dayplan-save")
    await expect(page).to_have_url(re.compile(r"#/visits$"))
    await expect(_rows(page, "#visit-list")).to_have_count(2)
    order = await _rows(page, "#visit-list").evaluate_all(
        "(els) => els.map((e) => e.dataset.visit)"
    )
    assert order == [second, first]
