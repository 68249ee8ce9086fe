"""The record screen never offers to sign or confirm a record that misses an event this phone
has saved or is still saving, and the sync bar never says nothing waits while one is written
(real Chromium, live server)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.visitflow import confirm, download, sign, synced, team

pytestmark = pytest.mark.browser

# The position arrives 1.5 s after it is asked for, as on a phone waiting for a GPS fix.
SLOW_POSITION = """() => {
  const geo = navigator.geolocation;
  const real = geo.getCurrentPosition.bind(geo);
  geo.getCurrentPosition = (ok, fail, opts) => setTimeout(() => real(ok, fail, opts), 1500);
}"""

# Every state of the record screen: [what its check-in line says, a save-signature button, a
# confirm button, the hash shown].
WATCH = """() => {
  window.seen = [];
  const look = () => window.seen.push([
    document.querySelector('#record-checkins')?.textContent ?? null,
    !!document.querySelector('#signature-save'), !!document.querySelector('#confirm-passkey'),
    document.querySelector('#record-hash')?.textContent ?? null]);
  new MutationObserver(look).observe(document.body, { childList: true, subtree: true });
}"""

# Another event of the visit, signed on this phone while the record screen is open.
NOTE = """async (visit) => {
  const [{ act }, session] = await Promise.all([import('/fieldwork.js'), import('/session.js')]);
  await act(session.current(), visit, 'note', { text: '补充说明' });
}"""


async def test_record_opened_while_the_check_in_is_saved(make_tab):
    visit, (leader, _) = await team(make_tab, size=2)
    await download(leader, visit)
    page = leader.tab.page
    await synced(leader)
    await expect(page.locator("#sync-button")).to_have_attribute("data-waiting", "0")
    await page.evaluate(SLOW_POSITION)
    await page.click("#checkin-button")
    # The check-in waits for its position: not "all sent" meanwhile.
    await page.wait_for_timeout(100)
    assert await page.get_attribute("#sync-button", "data-waiting") != "0"

    await page.evaluate(WATCH)
    await leader.tab.open(f"#/visit/{visit.id}/record")  # at once, before the position came
    await expect(page.locator("#record-checkins")).not_to_have_text("到场：无")
    await sign(leader, visit)
    await confirm(leader, visit)
    await expect(page.locator("#confirmations li[data-stale='no']")).to_have_count(1)
    seen = await page.evaluate("window.seen")
    without = [s for s in seen if s[0] == "到场：无"]
    assert without == [], without  # never drawn without the check-in
    await synced(leader)


async def test_a_record_shown_is_drawn_again_when_an_event_is_saved(make_tab):
    visit, (leader, _) = await team(make_tab, size=2)
    await download(leader, visit)
    page = leader.tab.page
    await leader.tab.open(f"#/visit/{visit.id}/record")
    before = (await page.locator("#record-hash").text_content()).strip()
    await expect(page.locator("#signature-save")).to_be_visible()
    await page.evaluate(NOTE, visit.id)
    await expect(page.locator("#record-status")).to_have_text("记录已更新，请重新核对")
    await expect(page.locator("#record-hash")).not_to_have_text(before)
    await expect(page.locator("#record-view")).to_contain_text("补充说明")
    await sign(leader, visit)
    await expect(page.locator("#confirm-passkey")).to_be_visible()


async def test_the_sync_bar_counts_an_event_as_soon_as_it_is_saved(make_tab):
    visit, (leader, _) = await team(make_tab, size=2)
    await download(leader, visit)
    page = leader.tab.page
    await synced(leader)
    await expect(page.locator("#sync-button")).to_have_attribute("data-waiting", "0")
    await page.fill("#note-text", "现场情况")
    await page.click("#note-save")
    await expect(page.locator("#event-log li[data-type='note']")).to_have_count(1)
    # Saved and drawn: the bar has not re-read the outbox yet, but must not say all is sent.
    assert await page.get_attribute("#sync-button", "data-waiting") != "0"
    await synced(leader)
