"""The staff screens end to end: users and enrolment links, import (bad rows, then good),
subject search, matters with their check items."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from onevisit.directory.uscc import make_uscc
from tests.browser.helpers import (
    enrol_with_passkey,
    new_department,
    new_user_link,
    signed_in_coordinator,
)
from tests.fixtures import unique

pytestmark = pytest.mark.browser


def _csv(*rows: str) -> dict:
    return {"name": "rows.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}


async def test_admin_creates_user_and_gets_enrolment_qr(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    department = await new_department("丙部门")
    admin, token = await new_user_link(role="admin")
    await enrol_with_passkey(tab, token, admin.name)
    await expect(page.locator("#me-department")).to_have_text("全部部门")

    await page.click("a.tile[href='#/users']")
    await expect(page.locator(f"#user-department option[value='{department}']")).to_have_count(1)
    name = unique("新协调员")
    await page.fill("#user-name", name)
    await page.select_option("#user-role", "coordinator")
    await page.select_option("#user-department", department)
    await page.click("#user-create")

    await expect(page.locator("#enrol-qr")).to_be_visible()
    assert (await page.get_attribute("#enrol-qr", "src")).startswith("data:image/png;base64,")
    link = await page.input_value("#enrol-link")
    assert link.startswith(f"{tab.base}/#/enrol/")
    await expect(page.locator("#user-list")).to_contain_text(name)


async def test_import_bad_rows_then_good_rows_then_browse(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    department = await new_department("丁部门")
    await signed_in_coordinator(tab, department=department)
    shop = unique("放心小店")
    good = make_uscc("9", "1", "110105", f"MA{unique('')}X0")  # 9-character organisation code
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")

    await page.click("a.tile[href='#/directory/import']")
    await page.select_option("#import-kind", "subjects")
    await page.set_input_files(
        "#import-file",
        _csv(
            "统一社会信用代码,名称,类型,地址",
            f"{good},{shop},企业,北京市朝阳区一号",
            f"{bad},坏行公司,企业,北京市",
        ),
    )
    await page.click("#import-submit")
    await expect(page.locator("#import-status")).to_contain_text("import.rows_invalid")
    rows = page.locator("#import-error-table tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator("td").first).to_have_text("3")  # header is row 1

    await page.set_input_files(
        "#import-file",
        _csv("统一社会信用代码,名称,类型,地址", f"{good},{shop},企业,北京市朝阳区一号"),
    )
    await page.click("#import-submit")
    await expect(page.locator("#import-status")).to_contain_text("导入完成")
    assert await page.locator("#import-error-table").count() == 0

    matter = unique("SXM")
    await page.select_option("#import-kind", "matters")
    await page.set_input_files(
        "#import-file",
        _csv(
            "事项编码,部门,事项名称,事项类别,检查项目",
            f"{matter},{department},食品经营许可检查,重点,许可证是否在有效期内",
            f"{matter},{department},食品经营许可检查,重点,是否公示许可证",
        ),
    )
    await page.click("#import-submit")
    await expect(page.locator("#import-status")).to_contain_text("导入完成")

    await tab.open("#/directory/subjects")
    await page.fill("#q", shop)
    await page.press("#q", "Enter")
    await expect(page.locator("#subject-list")).to_contain_text(good)
    await expect(page.locator("#subject-list .item")).to_have_count(1)

    await tab.open("#/directory/matters")
    item = page.locator(f"details[data-code='{matter}']")
    await expect(item.locator("li").first).to_be_hidden()
    await item.locator("summary").click()
    await expect(item.locator("ol.items li")).to_have_count(2)
    await expect(item).to_contain_text("是否公示许可证")
