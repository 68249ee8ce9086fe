"""A joint visit driven through the PWA's field screens: the team (one browser context per
inspector, each with its own virtual passkey authenticator and an emulated position) and the
steps an inspector takes on the screens. Shared by test_field_flow, test_field_paths and
test_accessibility.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image
from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.roles import Caller, Role
from onevisit.auth.users import create_user
from onevisit.directory.schemas import SubjectIn
from onevisit.directory.subjects import create_subject
from onevisit.planning.visits import create_task, create_visit
from tests.browser.conftest import AUTHENTICATOR
from tests.browser.helpers import enrol_with_passkey, new_department, new_inspector, new_matter
from tests.fixtures import unique

__all__ = [
    "ADMIN",
    "SITE",
    "Inspector",
    "Visit",
    "answer",
    "check_in",
    "confirm",
    "download",
    "draw",
    "export",
    "import_files",
    "jpeg",
    "reopen",
    "short_code",
    "sign",
    "synced",
    "team",
]

SITE = {"latitude": 34.66, "longitude": 112.43, "accuracy": 12}
ADMIN = Caller(
    user_id="admin", name="admin", role=Role.admin, department=None, inspector_code=None,
    session_id=0, csrf_token="",
)  # fmt: skip


@dataclass
class Inspector:
    tab: object
    name: str
    user: str
    code: str


@dataclass
class Visit:
    id: str
    matters: dict[str, str]  # department → matter code
    subject: str


async def _inspector(make_tab, department: str, *, name: str) -> Inspector:
    code = await new_inspector(department)
    user = await create_user(
        name=name, role="inspector", department_code=department, inspector_code=code,
        created_by="test",
    )  # fmt: skip
    tab = await make_tab()
    await tab.context.grant_permissions(["geolocation"])
    await tab.context.set_geolocation(SITE)
    tab.cdp = await tab.context.new_cdp_session(tab.page)
    await tab.cdp.send("WebAuthn.enable", {"enableUI": False})
    await tab.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    enrolment = await issue_enrolment(user_id=user.id, created_by="test")
    await enrol_with_passkey(tab, enrolment.token, user.name)
    await expect(tab.page.locator("#device-key")).to_contain_text("已登记")
    return Inspector(tab, name, str(user.id), code)


async def team(make_tab, *, size: int = 3) -> tuple[Visit, list[Inspector]]:
    """A joint visit of two departments: [leader, mate] of the first, [other] of the second
    (size=2: leader and mate only, the second department's matter still in the visit)."""
    dep_a, dep_b = await new_department("市场监管局"), await new_department("卫健委")
    matter_a, matter_b = await new_matter(dep_a), await new_matter(dep_b)
    people = [
        await _inspector(make_tab, dep_a, name=unique("组长")),
        await _inspector(make_tab, dep_a, name=unique("甲队员")),
    ]
    members = [(people[0].code, dep_a), (people[1].code, dep_a)]
    if size == 3:
        people.append(await _inspector(make_tab, dep_b, name=unique("乙队员")))
        members.append((people[2].code, dep_b))
    subject = unique("CP-")
    await create_subject(
        data=SubjectIn(
            subject_id=subject, name="某某餐饮有限公司", kind="product",
            address="洛阳市西工区某路1号", lat_e6=34_660_100, lon_e6=112_430_100,
            credit_class="C", abnormal=True, last_inspected=date(2024, 5, 6),
        ),
        actor="test",
    )  # fmt: skip
    task = await create_task(
        code=unique("task"), name="食品经营联合抽查", initiator=dep_a,
        matters=[matter_a, matter_b], created_by="test",
    )  # fmt: skip
    visit = await create_visit(task_id=task, subject_id=subject, members=members)
    return Visit(visit, {dep_a: matter_a, dep_b: matter_b}, subject), people


async def reopen(i: Inspector, hash_route: str) -> None:
    """Open a screen freshly drawn: going to the hash the page already shows fires no
    hashchange, so the screen would keep what it drew before (reload instead)."""
    page = i.tab.page
    if page.url.endswith(hash_route):
        await page.reload()
    else:
        await i.tab.open(hash_route)


def jpeg(path: Path) -> Path:
    """A real JPEG photo (noise, so it does not compress to nothing) written to `path`."""
    img = Image.effect_noise((800, 600), 64).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


async def download(i: Inspector, visit: Visit) -> None:
    page = i.tab.page
    await i.tab.open("#/visits")
    await page.click(f"button[data-visit='{visit.id}']")
    await expect(page.locator(f"li[data-visit='{visit.id}'] [data-downloaded]")).to_have_attribute(
        "data-downloaded", "yes"
    )
    await i.tab.open(f"#/visit/{visit.id}")
    await expect(page.locator("#subject-card")).to_contain_text("洛阳市西工区某路1号")


async def check_in(i: Inspector) -> None:
    """Check in and wait until it is saved (the screen redrawn with "再次签到"): the line
    "已签到 0/2 人" contains "已签到" before the position has even come."""
    await i.tab.page.click("#checkin-button")
    await expect(i.tab.page.locator("#checkin-button")).to_have_text("再次签到")


async def answer(
    i: Inspector, visit: Visit, matter: str, answers: list[tuple[int, str, str]], outcome: str = ""
) -> None:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/matter/{matter}")
    for position, result, note in answers:
        if note:
            await page.fill(f"#item-{position}-note", note)
        await page.check(f"li[data-item='{position}'] input[value='{result}']")
        await expect(page.locator("#matter-status")).to_contain_text(f"第 {position + 1} 项已保存")
    if not outcome:  # the matter's result is left to a colleague of the same department
        return
    await page.select_option("#result-code", value=outcome)
    await page.click("#result-save")
    await expect(page.locator("#result-current")).not_to_have_text("尚未填写")


async def export(i: Inspector, visit: Visit, tmp: Path) -> Path:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/handover")
    async with page.expect_download() as info:
        await page.click("#handover-export")
    done = await info.value
    path = tmp / f"{i.code}-{unique('h')}.json"
    await done.save_as(path)
    return path


async def import_files(i: Inspector, visit: Visit, files: list[Path]) -> None:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/handover")
    for f in files:
        await page.set_input_files("#handover-file", str(f))
        await page.click("#handover-import")
        await expect(page.locator("#handover-status")).to_contain_text("0 条未通过核验")


async def short_code(i: Inspector, visit: Visit) -> str:
    await i.tab.open(f"#/visit/{visit.id}/record")
    return (await i.tab.page.locator("#record-hash").text_content()).strip()


async def draw(page, selector: str) -> None:
    """A signature drawn with the mouse on the canvas `selector`."""
    await page.locator(selector).scroll_into_view_if_needed()
    box = await page.locator(selector).bounding_box()
    await page.mouse.move(box["x"] + 20, box["y"] + 40)
    await page.mouse.down()
    for step in range(1, 12):
        await page.mouse.move(box["x"] + 20 + step * 20, box["y"] + 40 + (step % 3) * 15)
    await page.mouse.up()


async def sign(i: Inspector, visit: Visit, *, name: str = "陈强") -> None:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/record")
    await page.fill("#signer-name", name)
    await draw(page, "#signature-pad")
    await page.click("#signature-save")
    await expect(page.locator("#signed")).to_contain_text(name)


async def confirm(i: Inspector, visit: Visit) -> None:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/record")
    await page.click("#confirm-passkey")
    await expect(page.locator("#confirmed")).to_be_visible()


async def synced(i: Inspector, timeout: float = 30) -> None:
    """Press the sync button until nothing waits on the phone."""
    page = i.tab.page
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await page.click("#sync-button")
        if await page.get_attribute("#sync-button", "data-waiting") == "0":
            return
        assert asyncio.get_running_loop().time() < deadline, await page.text_content("#sync-button")
        await asyncio.sleep(0.5)
