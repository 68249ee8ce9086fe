"""Directory screens in the browser: department scoping as a coordinator sees it."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.helpers import new_department, new_inspector, page_fetch, signed_in_coordinator

pytestmark = pytest.mark.browser


async def test_coordinator_sees_only_own_departments_inspectors(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    dep_a, dep_b = await new_department("甲部门"), await new_department("乙部门")
    inspector_a = await new_inspector(dep_a)
    inspector_b = await new_inspector(dep_b)

    await signed_in_coordinator(tab, department=dep_b)
    await page.click("a[href='#/directory/inspectors']")
    listing = page.locator("#inspector-list")
    await expect(listing.locator(f"[data-code='{inspector_b}']")).to_be_visible()
    assert await listing.locator(f"[data-code='{inspector_a}']").count() == 0
    await expect(listing).not_to_contain_text(inspector_a)

    answer = await page_fetch(page, f"/api/inspectors?department={dep_a}")
    assert answer["status"] == 403
    assert answer["body"]["code"] == "auth.department_forbidden"
