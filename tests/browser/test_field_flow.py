"""The whole joint visit through the PWA's screens, offline, in real Chromium.

Two departments, three inspectors, one browser context each with its own virtual passkey
authenticator and an emulated position. They download the visit, lose the network, check in,
answer their own departments' items (one with a real JPEG photo), reload a page mid-visit
(nothing lost), hand their events to each other by file, the subject signs on the pad, each
inspector confirms with a passkey — all offline — and then the network returns: everything
syncs, the server's record hash equals the one every phone showed, and verification passes.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.roles import Caller, Role
from onevisit.auth.users import create_user
from onevisit.directory.schemas import SubjectIn
from onevisit.directory.subjects import create_subject
from onevisit.directory.tables import CheckItem, Department, Matter
from onevisit.evidence.verify import verify_all
from onevisit.field.service import visit_view
from onevisit.planning.visits import create_task, create_visit
from tests.browser.conftest import AUTHENTICATOR
from tests.browser.helpers import enrol_with_passkey, new_department, new_inspector
from tests.fixtures import unique

pytestmark = pytest.mark.browser

SITE = {"latitude": 34.66, "longitude": 112.43, "accuracy": 12}


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


async def _matter(department: str) -> str:
    dep = await Department.select(Department.id).where(Department.code == department).first()
    code = unique("m")
    matter = Matter(code=code, department=dep["id"], name=f"事项{code}", category="key")
    await Matter.insert(matter)
    await CheckItem.insert(
        *[CheckItem(matter=matter.id, position=i, text=f"检查项{i}") for i in range(2)]
    )
    return code


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


async def _team(make_tab) -> tuple[Visit, list[Inspector]]:
    dep_a, dep_b = await new_department("市场监管局"), await new_department("卫健委")
    matter_a, matter_b = await _matter(dep_a), await _matter(dep_b)
    leader = await _inspector(make_tab, dep_a, name=unique("组长"))
    mate = await _inspector(make_tab, dep_a, name=unique("甲队员"))
    other = await _inspector(make_tab, dep_b, name=unique("乙队员"))
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
    visit = await create_visit(
        task_id=task, subject_id=subject,
        members=[(leader.code, dep_a), (mate.code, dep_a), (other.code, dep_b)],
    )  # fmt: skip
    return Visit(visit, {dep_a: matter_a, dep_b: matter_b}, subject), [leader, mate, other]


def _jpeg(path: Path) -> Path:
    img = Image.effect_noise((800, 600), 64).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


async def _download(i: Inspector, visit: Visit) -> None:
    page = i.tab.page
    await i.tab.open("#/visits")
    await page.click(f"button[data-visit='{visit.id}']")
    await expect(page.locator(f"li[data-visit='{visit.id}'] [data-downloaded]")).to_have_attribute(
        "data-downloaded", "yes"
    )
    await i.tab.open(f"#/visit/{visit.id}")
    await expect(page.locator("#subject-card")).to_contain_text("洛阳市西工区某路1号")


async def _check_in(i: Inspector) -> None:
    await i.tab.page.click("#checkin-button")
    await expect(i.tab.page.locator("#checkin-state")).to_contain_text("已签到")


async def _answer(
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


async def _export(i: Inspector, visit: Visit, tmp: Path) -> Path:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/handover")
    async with page.expect_download() as info:
        await page.click("#handover-export")
    download = await info.value
    path = tmp / f"{i.code}.json"
    await download.save_as(path)
    return path


async def _import(i: Inspector, visit: Visit, files: list[Path]) -> None:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/handover")
    for f in files:
        await page.set_input_files("#handover-file", str(f))
        await page.click("#handover-import")
        await expect(page.locator("#handover-status")).to_contain_text("0 条未通过核验")


async def _short_code(i: Inspector, visit: Visit) -> str:
    await i.tab.open(f"#/visit/{visit.id}/record")
    return (await i.tab.page.locator("#record-hash").text_content()).strip()


async def _sign(i: Inspector, visit: Visit) -> None:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/record")
    await page.fill("#signer-name", "陈强")
    await page.locator("#signature-pad").scroll_into_view_if_needed()
    box = await page.locator("#signature-pad").bounding_box()
    await page.mouse.move(box["x"] + 20, box["y"] + 40)
    await page.mouse.down()
    for step in range(1, 12):
        await page.mouse.move(box["x"] + 20 + step * 20, box["y"] + 40 + (step % 3) * 15)
    await page.mouse.up()
    await page.click("#signature-save")
    await expect(page.locator("#signed")).to_contain_text("陈强")


async def _confirm(i: Inspector, visit: Visit) -> None:
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/record")
    await page.click("#confirm-passkey")
    await expect(page.locator("#confirmed")).to_be_visible()


async def _synced(i: Inspector, timeout: float = 30) -> None:
    page = i.tab.page
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await page.click("#sync-button")
        if await page.get_attribute("#sync-button", "data-waiting") == "0":
            return
        assert asyncio.get_running_loop().time() < deadline, await page.text_content("#sync-button")
        await asyncio.sleep(0.5)


async def test_joint_visit_offline_from_check_in_to_confirmation(make_tab, tmp_path):
    visit, team = await _team(make_tab)
    leader, mate, other = team
    dep_a, dep_b = list(visit.matters)
    for i in team:
        await _download(i, visit)
    for i in team:  # no signal on site, from here to the last confirmation
        await i.tab.context.set_offline(True)
        await _check_in(i)

    photo = _jpeg(tmp_path / "shopfront.jpg")
    page = leader.tab.page
    await leader.tab.open(f"#/visit/{visit.id}/matter/{visit.matters[dep_a]}")
    await page.set_input_files("#item-1-photo", str(photo))
    await expect(page.locator("li[data-item='1'] .thumb img")).to_be_visible()
    await _answer(
        leader, visit, visit.matters[dep_a],
        [(0, "compliant", ""), (1, "non_compliant", "经营场所与登记住所不一致")],
        outcome="pending_follow_up",
    )  # fmt: skip
    await _answer(mate, visit, visit.matters[dep_a], [(0, "compliant", "")])
    await _answer(
        other, visit, visit.matters[dep_b],
        [(0, "compliant", ""), (1, "not_applicable", "")], outcome="no_problem",
    )  # fmt: skip
    # a member cannot answer another department's matter: read only
    await mate.tab.open(f"#/visit/{visit.id}/matter/{visit.matters[dep_b]}")
    await expect(mate.tab.page.locator("li[data-item='0'] input[type=radio]")).to_have_count(0)

    # a reload in the middle, still offline: the shell, the user and every answer are still there
    await page.reload()
    await leader.tab.open(f"#/visit/{visit.id}/matter/{visit.matters[dep_a]}")
    await expect(page.locator("#item-1-state")).to_contain_text("不符合")
    await expect(page.locator("#sync-button")).not_to_have_attribute("data-waiting", "0")

    # the members hand their events to the leader, the subject signs on the leader's phone,
    # and the leader hands everything back so all three phones hold the same record
    files = {i.code: await _export(i, visit, tmp_path) for i in (mate, other)}
    await _import(leader, visit, list(files.values()))
    await _sign(leader, visit)
    lead_file = await _export(leader, visit, tmp_path)
    await _import(mate, visit, [lead_file, files[other.code]])
    await _import(other, visit, [lead_file, files[mate.code]])
    hashes = {i.code: await _short_code(i, visit) for i in team}
    assert len(set(hashes.values())) == 1, hashes
    for i in team:
        await _confirm(i, visit)

    for i in team:  # the network returns
        await i.tab.context.set_offline(False)
    for i in team:
        await _synced(i)

    admin = Caller(
        user_id="admin", name="admin", role=Role.admin, department=None, inspector_code=None,
        session_id=0, csrf_token="",
    )  # fmt: skip
    view = await visit_view(visit_id=visit.id, caller=admin)
    assert view.record_hash == next(iter(hashes.values()))
    state = view.state
    assert state.two_present
    assert state.signature is not None and not state.signature.stale
    assert sorted(c.actor for c in state.confirmations if not c.stale) == sorted(
        i.user for i in team
    )
    assert not [p for p in state.problems if not p.code.startswith("checkin.clock")], state.problems
    report = await verify_all()
    assert report.ok, report

    # the leader's view shows what the server holds from each member
    await leader.tab.open(f"#/visit/{visit.id}/team")
    for i, n in ((leader, 2), (mate, 1), (other, 2)):
        await expect(
            page.locator(f"#team-members tr[data-actor='{i.user}'] td").nth(2)
        ).to_have_text(str(n))
