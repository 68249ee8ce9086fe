"""The results screens in Chromium (real server, both engines): after a joint visit is closed,
department B's coordinator finds its result under 检查结果与公示 with the 20-working-day clock
and returns it with a reason; the inspector who served B corrects it (a new version); the
coordinator approves and publishes it; the public page shows the corrected result and links
the record's verification. axe on the list, the review and the correction."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from tests.browser.helpers import enrol_with_passkey, signed_in_coordinator
from tests.browser.test_accessibility import Audit
from tests.results.conftest import PRIVATE_NOTE, close_joint_visit
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


async def test_a_result_is_returned_corrected_approved_and_published_in_the_ui(
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

    await page.click("#tile-results")
    item = page.locator("#result-list li[data-state='pending_review']")
    await expect(item).to_have_count(1)
    await expect(item).to_contain_text(closed.subject_name)
    await expect(item).to_contain_text("发现问题待后续处理")
    await expect(item.locator(".clock")).to_contain_text("剩余 20 个工作日")
    await audit.check(page, "results: list")
    await item.locator("a").click()
    await expect(page.locator("#result-code")).to_have_text("发现问题待后续处理")
    await expect(page.locator("#result-detail")).to_contain_text(PRIVATE_NOTE)  # staff see notes
    await audit.check(page, "result: review")
    await page.click("#result-return")  # no reason yet: said so, nothing sent
    await expect(page.locator("#result-status")).to_contain_text("请填写理由")
    await page.fill("#review-reason", "应为责令改正")
    await page.click("#result-return")
    await expect(page.locator("#result-status")).to_contain_text("已退回")
    await expect(page.locator("#result-detail h2").first).to_contain_text("审核不通过")
    await expect(page.locator("#result-approve")).to_have_count(0)

    # the inspector who served B corrects it on the phone (谁检查、谁录入)
    enrolment = await issue_enrolment(user_id=closed.member_b.user_id, created_by="test")
    await enrol_with_passkey(tab, enrolment.token, f"检查员{closed.member_b.code}")
    rid = await item_id(page, closed)
    await tab.open(f"#/result/{rid}")
    await expect(page.locator("#review")).to_have_count(0)  # no review for inspectors
    await page.locator("#correction summary").click()
    await page.select_option("#fix-code", "corrected")
    await page.select_option("#fix-disposition", "order_correction")
    await page.fill("#fix-note", "当场责令改正，已改正")
    await page.fill("#fix-reason", "复查确认已改正")
    await audit.check(page, "result: correction")
    await page.click("#fix-send")
    await expect(page.locator("#result-status")).to_contain_text("已提交更正")
    await expect(page.locator("#result-code")).to_have_text("发现问题已责令改正")
    await expect(page.locator("#result-history li")).to_have_count(3)

    # back to the coordinator: approve, publish
    await signed_in_coordinator(tab, department=dep_b)
    await tab.open(f"#/result/{rid}")
    await page.click("#result-approve")
    await expect(page.locator("#result-status")).to_contain_text("已审核通过")
    await page.click("#result-publish")
    await expect(page.locator("#result-status")).to_contain_text("已公示")
    await expect(page.locator("#result-clock")).to_contain_text("按期公示")
    audit.assert_clean()

    await page.goto(f"{tab.base}/public/subjects/{closed.subject_id}")
    await expect(page.locator("section.result")).to_have_count(1)
    await expect(page.locator("section.result")).to_contain_text("发现问题已责令改正")
    await expect(page.locator(f"a[href='/verify/record/{closed.record_hash}']")).to_have_count(1)
    assert PRIVATE_NOTE not in await page.content()


async def item_id(page, closed) -> int:
    data = await page.evaluate("async () => (await (await fetch('/api/results')).json()).results")
    (mine,) = [r for r in data if r["visit"] == closed.visit]
    return mine["id"]
