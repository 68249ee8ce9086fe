"""The sync state in the header: what waits, and an expired session that needs the user.

A phone away for days comes back with its session gone: sync answers auth.required. Nothing
may be lost, and the user must be told to sign in again rather than see silent retries."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from onevisit.evidence.tables import Event
from tests.browser.field import field_fixture, record, run  # noqa: F401 (the `field` fixture)

pytestmark = pytest.mark.browser


def _note(field, text: str) -> dict:
    return {"type": "note", "visit": field.visit, "body": {"text": text, "matter": field.matter}}


async def test_an_expired_session_asks_for_sign_in_and_loses_nothing(
    field, page_with_authenticator
):
    page = page_with_authenticator.page
    ids = await record(page, field, [_note(field, "到达现场"), _note(field, "负责人在场")])
    bar = page.locator("#sync-button")
    await expect(bar).to_have_attribute("data-waiting", "2")

    # the server forgets the session (as after an expiry); the page still thinks it is signed in
    await run(page, "await api('/api/auth/logout', {method: 'POST'});")
    await bar.click()
    await expect(bar).to_have_attribute("data-error", "auth.required")
    await expect(bar).to_contain_text("需重新登录")
    await expect(bar).to_have_attribute("data-waiting", "2")  # nothing lost, nothing sent
    assert await Event.count().where(Event.event_id.is_in(ids)) == 0

    await bar.click()  # takes the user to sign in
    await page.click("#signin-passkey")
    await expect(page.locator("#me-name")).to_be_visible()
    await page.locator("#sync-button").click()
    await expect(page.locator("#sync-button")).to_have_attribute("data-waiting", "0")
    await expect(page.locator("#sync-button")).to_have_attribute("data-error", "")
    assert await Event.count().where(Event.event_id.is_in(ids)) == 2
