"""The plan screens in Chromium (real server, both engines): a coordinator creates an annual
plan with two lines in the UI (#/plans), adjusts it with a reason (#/plan/<code>: the form
starts from the latest version), sees both versions newest first, and the public page
/public/plans/<code> shows both. axe on the list with its form and on the plan screen; a
coordinator of another department sees the plan without the adjust form (the server's
may_adjust decides)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import AUTHENTICATOR
from tests.browser.helpers import new_department, new_matter, page_fetch, signed_in_coordinator
from tests.browser.test_accessibility import Audit, _lang
from tests.fixtures import unique

pytestmark = pytest.mark.browser


async def test_a_plan_is_created_adjusted_and_public_with_both_versions(
    page_with_authenticator, make_tab
):
    tab = page_with_authenticator
    page = tab.page
    lead, other = await new_department("计划甲局"), await new_department("计划乙局")
    food, price = await new_matter(lead), await new_matter(lead)
    joint = await new_matter(other)
    audit = Audit()
    await signed_in_coordinator(tab, department=lead)

    await page.click("a.tile[href='#/plans']")
    await expect(page.locator("#plan-form")).to_be_visible()
    await audit.check(page, "plans: list and form")
    code = unique("P-UI-")
    await page.fill("#plan-code", code)
    await page.fill("#plan-year", "2026")
    await page.fill("#plan-name", "2026 年度联合抽查计划")
    # line 1: a lead matter and another department's matter, a scope
    await page.fill("#line-0-name", "食品安全联合抽查")
    await page.select_option("#line-0-lead", food)
    await page.check(f"#line-0-x input[value='{joint}']")
    await page.fill("#line-0-ratio", "0.05")
    await page.fill("#line-0-start", "2026-03-01")
    await page.fill("#line-0-end", "2026-06-30")
    await page.locator(".plan-line[data-line='0'] summary").click()
    await page.fill("#line-0-scope-region", "4103")
    await page.fill("#line-0-scope-tags", "餐饮, 学校周边")
    # line 2: its own lead matter only
    await page.click("#plan-line-add")
    await expect(page.locator("#line-1-name")).to_be_focused()
    await page.fill("#line-1-name", "价格专项抽查")
    await page.select_option("#line-1-lead", price)
    await page.fill("#line-1-ratio", "0.03")
    await page.fill("#line-1-start", "2026-07-01")
    await page.fill("#line-1-end", "2026-09-30")
    await audit.check(page, "plans: form with two lines")
    await page.click("#plan-create")
    await expect(page).to_have_url(re.compile(rf"#/plan/{code}$"))
    await expect(page.locator("h1")).to_have_text("2026 年度联合抽查计划")
    await expect(page.locator("#plan-versions > li")).to_have_count(1)
    await expect(page.locator("#plan-versions > li").first).to_contain_text("首次发布")

    detail = (await page_fetch(page, f"/public/plans/{code}"))["body"]
    (v1,) = detail["versions"]
    assert [x["task_name"] for x in v1["lines"]] == ["食品安全联合抽查", "价格专项抽查"]
    assert v1["lines"][0]["matters"] == [joint] and v1["lines"][0]["participants"] == [other]
    assert v1["lines"][0]["scope"] == {"region": "4103", "tags": ["餐饮", "学校周边"]}
    assert v1["lines"][1]["schedule"] == {"start": "2026-07-01", "end": "2026-09-30"}

    # adjust: the form starts from the latest version; a reason is required
    await expect(page.locator("#line-0-name")).to_have_value("食品安全联合抽查")
    await expect(page.locator(f"#line-0-x input[value='{joint}']")).to_be_checked()
    await expect(page.locator("#line-0-scope-region")).to_have_value("4103")
    await expect(page.locator("#line-1-ratio")).to_have_value("0.03")
    await page.fill("#line-1-ratio", "0.1")
    await page.fill("#line-1-end", "2026-10-31")
    await audit.check(page, "plan: versions and adjust form")
    await page.click("#plan-adjust")  # no reason: the browser's required check stops it
    await expect(page.locator("#plan-versions > li")).to_have_count(1)
    await page.fill("#plan-reason", "价格专项整治提前，提高比例并延长一个月")
    await page.click("#plan-adjust")
    await expect(page.locator("#plan-status")).to_contain_text("已发布第 2 版")
    versions = page.locator("#plan-versions > li")
    await expect(versions).to_have_count(2)
    await expect(versions.nth(0)).to_have_attribute("data-version", "2")
    await expect(versions.nth(0)).to_contain_text("价格专项整治提前")
    await expect(versions.nth(0)).to_contain_text("0.1")
    await expect(versions.nth(1)).to_have_attribute("data-version", "1")
    await expect(versions.nth(1)).to_contain_text("首次发布")
    link = page.locator("#plan-public-link")
    await expect(link).to_have_attribute("href", f"/public/plans/{code}")
    await audit.check(page, "plan: two versions")
    await _lang(page, "en")
    await expect(page.locator("#plan-adjust")).to_have_text("Publish a new version")
    await audit.check(page, "plan: two versions")
    await _lang(page, "zh")

    detail = (await page_fetch(page, f"/public/plans/{code}"))["body"]
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    assert detail["versions"][0]["lines"][1]["ratio"] == "0.1"
    assert detail["versions"][1]["lines"][1]["ratio"] == "0.03"  # version 1 as published

    # the public page (no sign-in needed) shows both versions and the reason
    html = await page.evaluate(
        """async (p) => (await fetch(p, {headers: {Accept: 'text/html'},
                                        credentials: 'omit'})).text()""",
        f"/public/plans/{code}",
    )
    assert "第 2 版" in html and "第 1 版" in html
    assert "价格专项整治提前，提高比例并延长一个月" in html and "首次发布" in html

    # the list shows the current version
    await tab.open("#/plans")
    row = page.locator(f"#plan-list li[data-code='{code}']")
    await expect(row).to_contain_text("第 2 版")
    await expect(row).to_contain_text("2 项任务")

    # another department's coordinator sees the plan but does not adjust it
    second = await make_tab()
    second.cdp = await second.context.new_cdp_session(second.page)
    await second.cdp.send("WebAuthn.enable", {"enableUI": False})
    await second.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    await signed_in_coordinator(second, department=other)
    await second.open(f"#/plan/{code}")
    await expect(second.page.locator("#plan-versions > li")).to_have_count(2)
    await expect(second.page.locator("#plan-not-mine")).to_contain_text("计划甲局")
    await expect(second.page.locator("#plan-adjust-form")).to_have_count(0)
    assert (await page_fetch(second.page, f"/api/plans/{code}"))["body"]["may_adjust"] is False
    assert (await page_fetch(page, f"/api/plans/{code}"))["body"]["may_adjust"] is True

    # the screen asks the server (GET /api/plans/<code> may_adjust), not the caller's role
    async def refuse(route):
        answer = await route.fetch()
        await route.fulfill(response=answer, json={**await answer.json(), "may_adjust": False})

    await page.route(f"**/api/plans/{code}", refuse)
    await tab.open(f"#/plan/{code}")
    await expect(page.locator("#plan-not-mine")).to_contain_text("计划甲局")
    await expect(page.locator("#plan-adjust-form")).to_have_count(0)
    await page.unroute(f"**/api/plans/{code}")
    assert not tab.page_errors
    audit.assert_clean()
