"""The PWA shell: service worker, manifest, phone layout, language toggle."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.helpers import ROLE_ZH, signed_in_coordinator

SW = Path(__file__).resolve().parents[2] / "pwa" / "sw.js"

pytestmark = pytest.mark.browser

# Every element inside the viewport width; every control at least 48 px tall (STYLE: outdoors).
LAYOUT_JS = """() => {
  const width = document.documentElement.clientWidth;
  const overflow = [...document.querySelectorAll('body *')]
    .filter((el) => { const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5); })
    .map((el) => `${el.tagName}#${el.id}.${el.className}`);
  const small = [...document.querySelectorAll('button, a.tile, input, select')]
    .filter((el) => el.getBoundingClientRect().height < 48)
    .map((el) => `${el.tagName}#${el.id}`);
  return {width, scrollWidth: document.documentElement.scrollWidth, overflow, small};
}"""


async def test_service_worker_manifest_and_phone_layout(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    await signed_in_coordinator(tab)

    assert await page.get_attribute("link[rel=manifest]", "href") == "/manifest.webmanifest"
    manifest = await page.evaluate("fetch('/manifest.webmanifest').then((r) => r.json())")
    assert manifest["name"] == "OneVisit 一次上门"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert sizes == {"192x192", "512x512"}

    worker = await page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.active && r.active.scriptURL)"
    )
    assert worker == f"{tab.base}/sw.js"
    # one cache, named by the worker's current version (old ones are purged on activate)
    version = re.search(r"const VERSION = '(v\d+)'", SW.read_text(encoding="utf-8")).group(1)
    assert await page.evaluate("caches.keys()") == [f"onevisit-shell-{version}"]

    layout = await page.evaluate(LAYOUT_JS)
    assert layout["width"] == 360
    assert layout["scrollWidth"] <= layout["width"], layout
    assert layout["overflow"] == [], layout
    assert layout["small"] == [], layout
    await expect(page.locator("#storage-state")).not_to_have_text("…")

    # Offline, the cached shell still opens, for the user last signed in on this phone (field
    # work goes on in a dead zone), and says it is offline.
    name = await page.locator("#me-name").text_content()
    await page.evaluate("navigator.serviceWorker.ready")
    await tab.context.set_offline(True)
    await page.reload()
    await expect(page.locator("#me-name")).to_have_text(name)
    await expect(page.locator("#offline-note")).to_be_visible()
    await tab.context.set_offline(False)
    await page.reload()
    await expect(page.locator("#me-name")).to_have_text(name)
    await expect(page.locator("#offline-note")).to_have_count(0)

    # Signed out, the phone forgets the user: offline it no longer opens anyone's screens.
    await page.click("#signout")
    await expect(page.locator("#signin-passkey")).to_be_visible()
    await tab.context.set_offline(True)
    await page.reload()
    await expect(page.locator("main .alert")).to_contain_text("network.unreachable")
    await tab.context.set_offline(False)


async def test_language_toggle_switches_and_persists(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    await signed_in_coordinator(tab)
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["coordinator"])
    await expect(page.locator("#signout")).to_have_text("退出登录")

    await page.click("#lang-toggle")
    await expect(page.locator("#me-role")).to_have_text("Coordinator")
    await expect(page.locator("#signout")).to_have_text("Sign out")
    await expect(page.locator("a.tile[href='#/users']")).to_have_text("Users & enrolment")
    assert await page.get_attribute("html", "lang") == "en"

    await page.reload()  # the choice is kept on this phone
    await expect(page.locator("#me-role")).to_have_text("Coordinator")
    await page.click("#lang-toggle")
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["coordinator"])
    assert await page.get_attribute("html", "lang") == "zh-CN"


async def test_on_demand_files_stay_for_offline_use_once_loaded(page_with_authenticator):
    """English and the desk screens are not in the shell the worker installs; once the app has
    loaded them they are kept, so they still open offline."""
    tab = page_with_authenticator
    page = tab.page
    await signed_in_coordinator(tab)
    await page.evaluate("navigator.serviceWorker.ready")
    cached = "(url) => caches.match(url).then((r) => !!r)"
    assert not await page.evaluate(cached, "/i18n-en.js")  # not part of the install

    await page.click("#lang-toggle")
    await expect(page.locator("#me-role")).to_have_text("Coordinator")
    await page.click("a.tile[href='#/directory/subjects']")
    await expect(page.locator("main h1")).to_be_visible()
    subjects_title = await page.locator("main h1").text_content()
    # i18n-desk.js came with sign-up, before the worker controlled the page: app.js has it
    # fetched again through the worker, which then keeps it too
    for url in ("/i18n-en.js", "/i18n-desk.js", "/ui/subjects.js"):
        await page.wait_for_function(cached, arg=url, timeout=10_000)

    await tab.context.set_offline(True)
    await page.goto(f"{tab.base}/#/")
    await expect(page.locator("#me-role")).to_have_text("Coordinator")  # English, offline
    await page.goto(f"{tab.base}/#/directory/subjects")
    await expect(page.locator("main h1")).to_have_text(subjects_title)
    # the screen's module opened; its data needs the server, and it says so
    await expect(page.locator("main .alert")).to_contain_text("network.unreachable")
    await tab.context.set_offline(False)


async def test_english_never_loaded_offline_says_so_and_stays_chinese(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    await signed_in_coordinator(tab)
    await page.evaluate("navigator.serviceWorker.ready")
    await tab.context.set_offline(True)
    await page.reload()
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["coordinator"])
    await page.click("#lang-toggle")
    await expect(page.locator("main .alert")).to_contain_text("English needs the network")
    await expect(page.locator("#me-role")).to_have_text(ROLE_ZH["coordinator"])
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await tab.context.set_offline(False)
    await page.click("#lang-toggle")  # online: it loads now
    await expect(page.locator("#me-role")).to_have_text("Coordinator")
    assert await page.get_attribute("html", "lang") == "en"
