"""Every screen of the PWA checked with axe-core (axe-playwright-python bundles axe.min.js) at
360×640 in Chinese, the main ones in English too: no violation of impact serious or critical.

The screens are reached the way a user reaches them — sign-in and enrolment signed out, the
directory screens as a coordinator, the field screens as the leader of a joint visit whose
matter has answers and a conflict between two inspectors of the same department, and the
record before the signature (pad and refusal form open) and after it (confirmation).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from onevisit.directory.schemas import SubjectIn
from onevisit.directory.subjects import create_subject
from tests.browser.conftest import AUTHENTICATOR
from tests.browser.helpers import enrol_with_passkey, new_user_link
from tests.browser.visitflow import (
    answer,
    check_in,
    confirm,
    download,
    export,
    import_files,
    sign,
    team,
)
from tests.fixtures import unique

pytestmark = pytest.mark.browser

AXE = Axe()
OPTIONS = {"resultTypes": ["violations", "incomplete"]}
BLOCKING = {"serious", "critical"}


def _describe(screen: str, lang: str, kind: str, v: dict) -> str:
    lines = [f"{screen} [{lang}] {kind}: {v['id']} ({v['impact']}) {v['help']}"]
    for n in v["nodes"][:6]:
        why = (n.get("failureSummary") or "").replace("\n", " ")
        if not why:
            why = "; ".join(c["message"] for c in n.get("any", []) + n.get("all", []))
        lines.append(f"    {' '.join(map(str, n['target']))}  {n['html'][:120]}\n      {why}")
    return "\n".join(lines)


class Audit:
    """Runs axe on each screen and collects what blocks, so one failure lists every screen."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.screens: list[str] = []

    async def check(self, page, screen: str) -> None:
        lang = await page.evaluate("document.documentElement.lang")
        results = (await AXE.run(page, options=OPTIONS)).response
        self.screens.append(f"{screen} [{lang}]")
        # axe really looked: the rules this screen depends on were evaluated and passed
        passed = {r["id"] for r in results["passes"]}
        assert {"color-contrast", "html-has-lang", "document-title"} <= passed, (screen, passed)
        # "incomplete" = axe could not decide (e.g. a cell holding only a symbol): a person
        # would have to; a serious one fails here too, so it gets looked at.
        for kind in ("violations", "incomplete"):
            for v in results[kind]:
                if v["impact"] in BLOCKING:
                    self.found.append(_describe(screen, lang, kind, v))

    def assert_clean(self) -> None:
        assert not self.found, "axe found serious/critical violations:\n" + "\n".join(self.found)


async def _lang(page, value: str) -> None:
    """The language switch in the header, as a user presses it."""
    if await page.evaluate("document.documentElement.lang") != ("en" if value == "en" else "zh-CN"):
        await page.click("#lang-toggle")
    await expect(page.locator("html")).to_have_attribute("lang", "en" if value == "en" else "zh-CN")


async def test_sign_in_enrolment_home_and_directory_screens(make_tab):
    audit = Audit()
    await create_subject(
        data=SubjectIn(
            subject_id=unique("CP-"), name="无障碍测试商行", kind="product",
            address="洛阳市涧西区某路2号", lat_e6=34_660_100, lon_e6=112_430_100,
            credit_class="A", abnormal=False, last_inspected=date(2024, 5, 6),
        ),
        actor="test",
    )  # fmt: skip
    tab = await make_tab()
    page = tab.page
    await tab.open("#/signin")
    await expect(page.locator("#signin-passkey")).to_be_visible()
    await audit.check(page, "sign-in")

    user, token = await new_user_link(role="coordinator")
    tab.cdp = await tab.context.new_cdp_session(page)
    await tab.cdp.send("WebAuthn.enable", {"enableUI": False})
    await tab.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    await tab.open(f"#/enrol/{token}")
    await expect(page.locator("#enrol-name")).to_have_text(user.name)
    await audit.check(page, "enrolment")
    await enrol_with_passkey(tab, token, user.name)
    await expect(page.locator("#device-key")).not_to_have_text("…")

    for lang in ("zh", "en"):
        await tab.open("#/")
        await _lang(page, lang)
        await expect(page.locator("#me-name")).to_have_text(user.name)
        await audit.check(page, "home")
        await tab.open("#/directory/subjects")
        await expect(page.locator("#subject-list .item").first).to_be_visible()
        await audit.check(page, "subjects")
        await tab.open("#/directory/inspectors")
        await expect(page.locator("#inspector-list")).to_be_visible()
        await audit.check(page, "inspectors")
        await tab.open("#/directory/matters")
        await expect(page.locator("#matter-list")).to_be_visible()
        await audit.check(page, "matters")
        await tab.open("#/directory/import")
        await expect(page.locator("#import-file")).to_be_visible()
        await audit.check(page, "import")
        await tab.open("#/users")
        await expect(page.locator("#user-list li").first).to_be_visible()
        await page.fill("#user-name", unique("新用户"))
        await page.click("#user-create")
        await expect(page.locator("#enrol-qr")).to_be_visible()
        await audit.check(page, "users (enrolment code shown)")
    assert len(audit.screens) == 14
    audit.assert_clean()


async def test_field_screens(make_tab, tmp_path):
    audit = Audit()
    visit, (leader, mate) = await team(make_tab, size=2)
    dep_a, dep_b = list(visit.matters)
    matter = visit.matters[dep_a]
    page = leader.tab.page
    for i in (leader, mate):
        await download(i, visit)
        await check_in(i)
    # two inspectors of the same department disagree on item 0: a conflict on the leader's phone
    answers = [(0, "compliant", ""), (1, "non_compliant", "未公示许可证")]
    await answer(leader, visit, matter, answers)
    await answer(mate, visit, matter, [(0, "not_applicable", "")])
    await import_files(leader, visit, [await export(mate, visit, tmp_path)])

    for lang in ("zh", "en"):
        await leader.tab.open("#/")
        await _lang(page, lang)
        await expect(page.locator("#tile-visits")).to_be_visible()
        await audit.check(page, "home (inspector)")
        await leader.tab.open("#/visits")
        await expect(page.locator(f"li[data-visit='{visit.id}'] a.tile")).to_be_visible()
        await audit.check(page, "my visits")
        await leader.tab.open(f"#/visit/{visit.id}")
        await expect(page.locator("#event-log li").first).to_be_visible()
        await page.click("#notice summary")
        await page.click("#special summary")
        await audit.check(page, "visit (notice and special outcome open)")
        await leader.tab.open(f"#/visit/{visit.id}/matter/{matter}")
        await expect(page.locator("[data-conflict=yes]")).to_be_visible()
        if lang == "zh":  # names a screen reader speaks: the item's text, the pending count
            await expect(page.get_by_role("radiogroup", name="1. 检查项0")).to_be_visible()
            sync_name = re.compile(r"^(待同步 \d+|已全部同步) · 立即同步$")
            await expect(page.get_by_role("button", name=sync_name)).to_be_visible()
            await expect(page.get_by_role("button", name="English")).to_have_attribute("lang", "en")
        await audit.check(page, "matter (answers, conflict)")
        await leader.tab.open(f"#/visit/{visit.id}/matter/{visit.matters[dep_b]}")
        await expect(page.locator("#items li").first).to_be_visible()
        await audit.check(page, "matter of another department (read only)")
        await leader.tab.open(f"#/visit/{visit.id}/record")
        await expect(page.locator("#signature-pad")).to_be_visible()
        await page.click("#refusal summary")
        await expect(page.locator("#witness-pad")).to_be_visible()
        pad = "在此签名" if lang == "zh" else "Sign here"
        named = page.get_by_role("img", name=pad, exact=True)
        await expect(named).to_have_attribute("id", "signature-pad")
        await audit.check(page, "record before signature (pad, refusal form open)")
        await leader.tab.open(f"#/visit/{visit.id}/credential")
        await expect(page.locator("#credential-qr")).to_be_visible()
        await audit.check(page, "亮证 credential")
        await leader.tab.open(f"#/visit/{visit.id}/team")
        await expect(page.locator("#team-conflicts li")).to_have_count(1)
        await expect(page.locator("#team-members td[data-checked-in=yes]")).to_have_count(2)
        await audit.check(page, "team (leader)")
        await leader.tab.open(f"#/visit/{visit.id}/handover")
        await expect(page.locator("#handover-export")).to_be_visible()
        await audit.check(page, "hand-over")

    await _lang(page, "zh")
    await sign(leader, visit)
    await expect(page.locator("#confirm-passkey")).to_be_visible()
    await audit.check(page, "record signed, before confirmation")
    await confirm(leader, visit)
    await audit.check(page, "record confirmed")
    await _lang(page, "en")
    await leader.tab.open(f"#/visit/{visit.id}/record")
    await expect(page.locator("#confirmed")).to_be_visible()
    await audit.check(page, "record confirmed")
    assert len(audit.screens) == 21
    audit.assert_clean()
