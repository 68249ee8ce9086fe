"""The PWA's record screen offers the PDF once an inspector confirmed the current record, and
the link, followed in the phone's own session, answers the PDF (real Chromium, live server)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.visitflow import check_in, confirm, download, sign, synced, team

pytestmark = pytest.mark.browser


async def test_record_screen_links_the_pdf_after_a_confirmation(make_tab):
    visit, (leader, _) = await team(make_tab, size=2)
    # One phone only: a colleague's events this phone never saw would change the record on the
    # server, and its confirmation would then be stale there (409, tested in test_record_pdf).
    await download(leader, visit)
    await check_in(leader)
    await sign(leader, visit)
    page = leader.tab.page
    await expect(page.locator("#confirm-passkey")).to_be_visible()
    await expect(page.locator("#record-pdf")).to_have_count(0)  # signed, not yet confirmed

    await confirm(leader, visit)
    link = page.locator("#record-pdf")
    await expect(link).to_have_text("打印检查记录 (PDF)")
    href = await link.get_attribute("href")
    assert href == f"/api/visits/{visit.id}/record.pdf"
    assert await link.get_attribute("target") == "_blank"

    await synced(leader)
    r = await page.request.get(href)  # the phone's session cookie goes with it
    assert r.status == 200, await r.text()
    assert r.headers["content-type"] == "application/pdf"
    assert (await r.body()).startswith(b"%PDF-")
