"""Enrolment and sign-in in real Chromium: passkeys (virtual authenticator) and the
device-key + PIN fallback for browsers without WebAuthn."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import ROLE_ZH, enrol_with_passkey, new_user_link, page_fetch

pytestmark = pytest.mark.browser


async def test_enrol_passkey_sign_out_and_sign_in_again(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    user, token = await new_user_link(role="coordinator")

    await enrol_with_passkey(tab, token, user.name)
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["coordinator"])
    await expect(page.locator("#me-department")).to_have_text(user.department_name)
    # The passkey session also registered this phone's device key (EVIDENCE.md §2).
    await expect(page.locator("#device-key")).not_to_have_text("…")
    await expect(page.locator("#device-key")).not_to_have_text("未登记")
    creds = await tab.cdp.send("WebAuthn.getCredentials", {"authenticatorId": tab.authenticator_id})
    assert len(creds["credentials"]) == 1 and creds["credentials"][0]["isResidentCredential"]

    await page.click("#signout")
    await expect(page.locator("#signin-passkey")).to_be_visible()
    assert (await page_fetch(page, "/api/auth/me"))["status"] == 401  # ended on the server

    await page.click("#signin-passkey")
    await expect(page.locator("#me-name")).to_have_text(user.name)
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["coordinator"])
    assert (await page_fetch(page, "/api/auth/me"))["body"]["user"]["id"] == user.id


async def test_used_and_unknown_enrolment_links_are_refused(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    user, token = await new_user_link(role="inspector")
    await enrol_with_passkey(tab, token, user.name)

    await tab.open(f"#/enrol/{token}")
    error = page.locator("#enrol-error")
    await expect(error).to_contain_text("注册链接已被使用")
    await expect(error).to_contain_text("auth.enrolment_used")
    assert await page.locator("#enrol-passkey, #enrol-device, button[type=submit]").count() == 0

    await tab.open("#/enrol/no-such-token")
    await expect(error).to_contain_text("auth.enrolment_unknown")
    assert await page.locator("#enrol-passkey").count() == 0


async def test_device_key_and_pin_without_webauthn(page_without_webauthn):
    tab = page_without_webauthn
    page = tab.page
    user, token = await new_user_link(role="inspector")

    await tab.open(f"#/enrol/{token}")
    await expect(page.locator("#pin-form")).to_be_visible()
    assert await page.locator("#enrol-passkey").count() == 0
    await page.fill("#pin", "123456")
    await page.fill("#pin2", "123465")
    await page.click("#enrol-device")
    await expect(page.locator("#enrol-status")).to_contain_text("不一致")  # checked before any key
    await page.fill("#pin2", "123456")
    await page.click("#enrol-device")
    await expect(page.locator("#me-name")).to_have_text(user.name)
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["inspector"])
    await expect(page.locator("#device-key")).to_contain_text("PIN")

    await page.click("#signout")
    await expect(page.locator("#device-form")).to_be_visible()
    assert await page.locator("#signin-passkey").count() == 0
    await page.fill("#pin", "654321")
    await page.click("#signin-device")
    await expect(page.locator("#signin-status")).to_contain_text("auth.pin_invalid")
    await page.fill("#pin", "123456")
    await page.click("#signin-device")
    await expect(page.locator("#me-name")).to_have_text(user.name)


async def test_passkey_not_supported_falls_back_to_pin(make_tab):
    # WebAuthn exists but this device cannot make a passkey (no platform authenticator).
    tab = await make_tab(
        "navigator.credentials.create = () => Promise.reject("
        "new DOMException('no authenticator', 'NotSupportedError'))"
    )
    page = tab.page
    user, token = await new_user_link(role="leader")
    await tab.open(f"#/enrol/{token}")
    await page.click("#enrol-passkey")
    await expect(page.locator("#pin-form")).to_be_visible()
    await page.fill("#pin", "20261125")
    await page.fill("#pin2", "20261125")
    await page.click("#enrol-device")
    await expect(page.locator("#me-name")).to_have_text(user.name)
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["leader"])
    await expect(page.locator("#tile-visits")).to_have_text("我的检查任务")
