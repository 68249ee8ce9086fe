"""In-process set-up for browser tests (same database as the live server) and page steps."""

from __future__ import annotations

from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.users import create_user
from onevisit.directory.tables import CheckItem, Department, Inspector, Matter
from tests.fixtures import unique

ROLE_ZH = {"admin": "管理员", "coordinator": "协调员", "leader": "组长", "inspector": "检查员"}


async def new_department(name: str = "测试部门") -> str:
    code = unique("bdep")
    await Department.insert(Department(code=code, name=f"{name}{code}"))
    return code


async def new_inspector(department_code: str) -> str:
    dep = await Department.select(Department.id).where(Department.code == department_code).first()
    code = unique("insp")
    await Inspector.insert(
        Inspector(code=code, name=f"检查员{code}", department=dep["id"], certificate_no=f"ZF{code}")
    )
    return code


async def new_matter(department_code: str, items: int = 2) -> str:
    """A key matter of the department with `items` check items ("检查项0", …); its code."""
    dep = await Department.select(Department.id).where(Department.code == department_code).first()
    code = unique("m")
    matter = Matter(code=code, department=dep["id"], name=f"事项{code}", category="key")
    await Matter.insert(matter)
    await CheckItem.insert(
        *[CheckItem(matter=matter.id, position=i, text=f"检查项{i}") for i in range(items)]
    )
    return code


async def new_user_link(*, role: str = "coordinator", department: str | None = None):
    """A user with a fresh enrolment link: (user, token)."""
    if department is None and role != "admin":
        department = await new_department()
    user = await create_user(
        name=unique("浏览器用户"), role=role, department_code=department, created_by="test"
    )
    enrolment = await issue_enrolment(user_id=user.id, created_by="test")
    return user, enrolment.token


async def enrol_with_passkey(tab, token: str, name: str) -> None:
    """Open the link, register a passkey with the virtual authenticator, land on home."""
    await tab.open(f"#/enrol/{token}")
    await expect(tab.page.locator("#enrol-name")).to_have_text(name)
    await tab.page.click("#enrol-passkey")
    await expect(tab.page.locator("#me-name")).to_have_text(name)


async def signed_in_coordinator(tab, department: str | None = None):
    user, token = await new_user_link(role="coordinator", department=department)
    await enrol_with_passkey(tab, token, user.name)
    return user


async def page_fetch(page, path: str) -> dict:
    """GET from inside the page (its cookie and origin): {"status", "body"}."""
    return await page.evaluate(
        """async (path) => {
            const r = await fetch(path, {headers: {Accept: 'application/json'}});
            return {status: r.status, body: await r.json().catch(() => null)};
        }""",
        path,
    )
