"""The follow-up screens in Chromium (real server, both engines): after a joint visit is closed,
department B's coordinator opens B's result and, under 后续处置, orders the subject to correct
within a week; the inspector who served B opens the order on the phone and records the
re-inspection (corrected); the list 后续处置 shows it corrected. axe on the form, the order and
the list."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from tests.browser.helpers import enrol_with_passkey, page_fetch, signed_in_coordinator
from tests.browser.test_accessibility import Audit
from tests.results.conftest import close_joint_visit
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

BEIJING = dt.timezone(dt.timedelta(hours=8))
WHAT = "七日内清理过期食品，建立进货查验记录"


async def test_an_order_to_correct_is_made_and_its_reinspection_recorded_in_the_ui(
    page_with_authenticator,
    joint_visit,  # noqa: F811
    as_role,
):
    closed = await close_joint_visit(joint_visit, as_role)
    _, dep_b = closed.deps
    tab = page_with_authenticator
    page = tab.page
    audit = Audit()
    await signed_in_coordinator(tab, department=dep_b)
    listed = await page_fetch(page, "/api/results")
    (rid,) = [r["id"] for r in listed["body"]["results"] if r["visit"] == closed.visit]

    await tab.open(f"#/result/{rid}")
    section = page.locator("#result-followups")
    await expect(section).to_contain_text("该结果尚无后续处置")
    await page.locator("#fu-new summary").click()
    await expect(page.locator("#fu-case-no")).to_be_hidden()  # an order has no case number
    await page.select_option("#fu-kind", "case")
    await expect(page.locator("#fu-case-no")).to_be_visible()
    await expect(page.locator("#fu-due")).to_be_hidden()
    await page.select_option("#fu-kind", "rectification")
    await audit.check(page, "result: open a follow-up")
    await page.click("#fu-open")  # no due date: the server says so, nothing is stored
    await expect(page.locator("#result-followups-status")).to_contain_text("后续处置内容不正确")
    due = (dt.datetime.now(BEIJING).date() + dt.timedelta(days=7)).isoformat()
    await page.fill("#fu-due", due)
    await page.fill("#fu-text", WHAT)
    await page.click("#fu-open")
    await expect(page.locator("#result-followups-status")).to_contain_text("已记录后续处置")
    order = page.locator("#result-followup-list li[data-kind='rectification']")
    await expect(order).to_have_count(1)
    await expect(order).to_contain_text("限期改正中")
    await expect(order).to_contain_text(f"改正期限 {due} · 还剩 7 天")
    oid = await order.get_attribute("data-id")

    # the inspector who served B re-inspects, on the phone
    enrolment = await issue_enrolment(user_id=closed.member_b.user_id, created_by="test")
    await enrol_with_passkey(tab, enrolment.token, f"检查员{closed.member_b.code}")
    await tab.open(f"#/followup/{oid}")
    await expect(page.locator("#followup-detail")).to_contain_text(WHAT)
    await expect(page.locator("#followup-steps li")).to_have_count(1)
    await audit.check(page, "follow-up: re-inspection")
    await page.select_option("#step-outcome", "corrected")
    await page.fill("#step-text", "已清理，查验记录已建立")
    await page.click("#step-send")
    await expect(page.locator("#followup-status")).to_contain_text("已记录复查")
    await expect(page.locator("#followup-detail h2").first).to_contain_text("已改正")
    await expect(page.locator("#followup-steps li")).to_have_count(2)
    await expect(page.locator("#followup-steps li").nth(1)).to_contain_text("复查")
    await expect(page.locator("#followup-next")).to_have_count(0)  # nothing left to record

    await tab.open("#/followups")
    mine = page.locator(f"#followup-list li[data-id='{oid}']")
    await expect(mine).to_have_attribute("data-state", "corrected")
    await expect(mine).to_contain_text(closed.subject_name)
    await audit.check(page, "follow-ups: list")
    await page.check("#followup-overdue")
    await expect(mine).to_have_count(0)  # corrected: not overdue
    audit.assert_clean()
