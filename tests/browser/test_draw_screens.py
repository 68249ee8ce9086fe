"""The coordinators' draw screens end to end in Chromium (real server, both engines): a
coordinator creates a two-department "1+X" task in the UI, commits with a notary as a second
party (its commitment computed here), sets a beacon, reveals the notary's secret, draws, sees
the groups, swaps the leader of a group (the server picks who comes in), and verifies the
public record in the browser (pwa/drawcheck.js); the same verifier agrees with the shared
vectors in tests/vectors/draw/ and reports tampered records. axe on each step of the task
screen; an inspector opening #/tasks is refused."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from onevisit.directory.schemas import SubjectIn
from onevisit.directory.subjects import create_subject
from onevisit.planning.visits import create_task
from tests.browser.conftest import AUTHENTICATOR
from tests.browser.helpers import (
    enrol_with_passkey,
    new_department,
    new_inspector,
    new_matter,
    new_user_link,
    page_fetch,
    signed_in_coordinator,
)
from tests.browser.test_accessibility import Audit, _lang
from tests.fixtures import unique

pytestmark = pytest.mark.browser

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "draw"

VERIFY_JS = """async ([record, hash]) => {
    const { verifyRecord } = await import('/drawcheck.js');
    const { ok, problems } = await verifyRecord(record, hash);
    return { ok, problems };
}"""


async def _scene() -> dict:
    """Two departments (3 and 2 inspectors), a key matter each, three subjects (A, B, C)."""
    lead, other = await new_department("甲局"), await new_department("乙局")
    inspectors = {lead: [await new_inspector(lead) for _ in range(3)],
                  other: [await new_inspector(other) for _ in range(2)]}  # fmt: skip
    matters = {lead: await new_matter(lead), other: await new_matter(other)}
    for n, credit in enumerate("ABC"):
        await create_subject(
            data=SubjectIn(subject_id=unique("DS-"), name=f"抽取测试对象{n}", kind="product",
                           credit_class=credit),
            actor="test",
        )  # fmt: skip
    return {"lead": lead, "other": other, "inspectors": inspectors, "matters": matters}


async def test_coordinator_plans_commits_draws_swaps_and_verifies(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    scene = await _scene()
    audit = Audit()
    await signed_in_coordinator(tab, department=scene["lead"])

    # the task list and the "1+X" wizard
    await page.click("a.tile[href='#/tasks']")
    await expect(page.locator("#task-form")).to_be_visible()
    await expect(
        page.locator(f"#task-lead option[value='{scene['matters'][scene['lead']]}']")
    ).to_have_count(1)
    # the other department's matter is offered as an X, our own lead matter is not
    other_box = page.locator(f"#task-others input[value='{scene['matters'][scene['other']]}']")
    await expect(other_box).to_have_count(1)
    lead_box = page.locator(f"#task-others input[value='{scene['matters'][scene['lead']]}']")
    await expect(lead_box).to_have_count(0)
    await audit.check(page, "tasks")
    code = unique("T-UI-")
    await page.fill("#task-code", code)
    await page.fill("#task-name", "食品与价格联合抽查")
    await page.select_option("#task-lead", scene["matters"][scene["lead"]])
    await other_box.check()
    await page.click("#task-create")
    await expect(page).to_have_url(re.compile(rf"#/task/{code}$"))
    await expect(page.locator("h1")).to_have_text("食品与价格联合抽查")
    await expect(page.locator("#task-matters li")).to_have_count(2)

    # 1. rules and commitment, with a notary's commitment
    await expect(page.locator("#commit-form")).to_be_visible()
    await expect(page.locator("#rule-0-value")).to_have_value("0.03")
    await expect(page.locator("#draw-steps li[aria-current='step']")).to_contain_text("规则与承诺")
    await page.click("#party-add")
    secret = bytes(range(1, 33))
    await page.fill("#party-name-0", "公证处")
    await page.fill("#party-commit-0", hashlib.sha256(secret).hexdigest())
    await audit.check(page, "task: commit form")
    await page.click("#draw-commit")
    await expect(page.locator("#draw-summary")).to_be_visible()
    await expect(page.locator("#task-status")).to_contain_text("已承诺")
    await expect(page.locator("#party-list")).to_contain_text(hashlib.sha256(secret).hexdigest())
    await expect(page.locator("#department-list li")).to_have_count(2)
    status = (await page_fetch(page, f"/api/tasks/{code}/draw"))["body"]
    assert status["status"] == "committed"
    assert [p["name"] for p in status["parties"]] == ["server", "公证处"]
    for stratum, row in status["strata"].items():
        cells = page.locator(f"#strata-table tr[data-stratum='{stratum}'] td")
        await expect(cells.nth(1)).to_have_text(str(row["eligible"]))
        await expect(cells.nth(2)).to_have_text(f"→ {row['drawn']}")
    await audit.check(page, "task: committed")

    # 2. beacon, reveal (a wrong secret first: refused with its code), draw
    await page.fill("#beacon", "福彩3D 2026330期 517")
    await page.click("#beacon-set")
    await expect(page.locator("#draw-beacon")).to_have_text("福彩3D 2026330期 517")
    await page.fill("#reveal-secret-0", "00" * 32)
    await page.click("#reveal-0")
    await expect(page.locator("#task-status")).to_contain_text("[draw.secret_mismatch]")
    await page.fill("#reveal-secret-0", secret.hex())
    await page.click("#reveal-0")
    await expect(page.locator("#reveals")).to_have_count(0)
    await expect(page.locator("#party-list")).to_contain_text("已揭示")
    await page.click("#draw-run")
    await expect(page.locator("#draw-seed")).to_be_visible()

    # 3. the result: subjects in batch order with their groups
    status = (await page_fetch(page, f"/api/tasks/{code}/draw"))["body"]
    assert status["status"] == "drawn"
    await expect(page.locator("#draw-seed")).to_have_text(status["seed"])
    groups = page.locator("#group-list > li")
    await expect(groups).to_have_count(len(status["subjects"]))
    for n, group in enumerate(status["groups"][:3]):
        card = groups.nth(n)
        await expect(card).to_have_attribute("data-subject", group["subject_id"])
        await expect(card.locator(".members li")).to_have_count(len(group["members"]))
        leader = card.locator(f".members li[data-inspector='{group['leader']}'] .badge.leader")
        await expect(leader).to_have_text("组长")
    first = status["groups"][0]
    assert [m[2] for m in first["members"]] == [scene["lead"], scene["lead"], scene["other"]]
    await expect(page.locator("#record-link")).to_have_attribute(
        "href", f"/public/tasks/{code}/draw.json"
    )
    await audit.check(page, "task: drawn")

    # swap the leader of the first group out; the server computes who comes in
    out = first["leader"]
    await groups.nth(0).locator("summary").click()
    await page.select_option("#swap-out-0", out)
    await page.select_option("#swap-reason-0", "health")
    await audit.check(page, "task: swap form")
    await page.click("#swap-submit-0")
    await expect(page.locator("#swap-status-0")).to_contain_text("调入")
    status = (await page_fetch(page, f"/api/tasks/{code}/draw"))["body"]
    (swap,) = status["swaps"]
    assert swap["out"] == out and swap["reason"] == "health"
    came_in = swap["in"]
    assert came_in != out and came_in in scene["inspectors"][scene["lead"]]
    assert status["groups"][0]["leader"] == came_in  # the leader's place goes to who came in
    await expect(page.locator("#swap-status-0")).to_contain_text(came_in)
    await expect(page.locator("#swap-list li")).to_have_count(1)
    leader = groups.nth(0).locator(f".members li[data-inspector='{came_in}'] .badge.leader")
    await expect(leader).to_be_visible()

    # verify the published record in this browser
    await page.click("#draw-verify")
    await expect(page.locator("#verify-result")).to_contain_text("核验通过")
    await expect(page.locator("#verify-problems li")).to_have_count(0)
    await _lang(page, "en")
    await expect(page.locator("#draw-verify")).to_have_text("Verify in this browser")
    await audit.check(page, "task: drawn")
    await _lang(page, "zh")

    # the same verifier on the record and on tampered copies
    record = (await page_fetch(page, f"/public/tasks/{code}/draw.json"))["body"]
    assert record["swaps"][0]["in"] == came_in
    verdict = await page.evaluate(VERIFY_JS, [record, status["record_hash"]])
    assert verdict == {"ok": True, "problems": []}
    tampered = json.loads(json.dumps(record))
    members = tampered["groups"][0]["members"]
    members[0], members[1] = members[1], members[0]  # the order taken is part of the result
    verdict = await page.evaluate(VERIFY_JS, [tampered, None])
    assert not verdict["ok"] and verdict["problems"][0].startswith("groups differ"), verdict
    # another beacon gives another seed: other subjects or groups, or a swap that no longer
    # names a member of its group (then the record cannot even be recomputed)
    tampered = {**record, "beacon": record["beacon"] + " "}
    verdict = await page.evaluate(VERIFY_JS, [tampered, None])
    assert not verdict["ok"]
    assert verdict["problems"][0].startswith(("seed differs", "swap.invalid")), verdict
    # a field the draw does not use still changes the record's hash, which the log holds
    verdict = await page.evaluate(VERIFY_JS, [{**record, "note": "x"}, status["record_hash"]])
    assert not verdict["ok"] and len(verdict["problems"]) == 1, verdict
    assert verdict["problems"][0].startswith("record hash"), verdict
    tampered = {
        **record,
        "parties": [dict(record["parties"][0]), {**record["parties"][1], "secret": "11" * 32}],
    }
    verdict = await page.evaluate(VERIFY_JS, [tampered, None])
    assert verdict["problems"] == [
        "draw.invalid: party 公证处: SHA-256(secret) is not its commitment"
    ]
    assert not tab.page_errors


async def test_the_browser_verifier_agrees_with_the_shared_vectors(page_with_authenticator):
    """Every record of tests/vectors/draw verifies in the browser, and a copy with one
    selected subject replaced (or a group's member changed) does not."""
    files = sorted(VECTORS.glob("*.json"))
    if not files:
        pytest.skip("tests/vectors/draw holds no records yet")
    tab = page_with_authenticator
    await tab.open("#/signin")
    await expect(tab.page.locator("#signin-passkey")).to_be_visible()
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        verdict = await tab.page.evaluate(VERIFY_JS, [record, None])
        assert verdict == {"ok": True, "problems": []}, (path.name, verdict)
        tampered = json.loads(json.dumps(record))
        outside = sorted({s for s, _ in record["population"]} - set(record["subjects"]))
        if outside:
            tampered["subjects"][-1] = outside[0]
        else:
            tampered["groups"][-1]["leader"] = "nobody"
        verdict = await tab.page.evaluate(VERIFY_JS, [tampered, None])
        assert not verdict["ok"], path.name


async def test_the_task_screens_are_for_coordinators_only(page_with_authenticator, make_tab):
    """An inspector opening #/tasks is refused by role; a coordinator of a participating
    department sees the task but not its draw (only the initiator's coordinators draw)."""
    scene = await _scene()
    tab = page_with_authenticator
    user, token = await new_user_link(role="inspector", department=scene["lead"])
    await enrol_with_passkey(tab, token, user.name)
    await expect(tab.page.locator("a.tile[href='#/tasks']")).to_have_count(0)
    await tab.open("#/tasks")
    await expect(tab.page.locator("#view .alert")).to_have_text("当前角色无权打开此页面")

    code = unique("T-UI-")
    await create_task(
        code=code, name="参加部门视角", initiator=scene["lead"],
        matters=[scene["matters"][scene["lead"]], scene["matters"][scene["other"]]],
        created_by="test",
    )  # fmt: skip
    other = await make_tab()
    other.cdp = await other.context.new_cdp_session(other.page)
    await other.cdp.send("WebAuthn.enable", {"enableUI": False})
    await other.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    await signed_in_coordinator(other, department=scene["other"])
    await other.open("#/tasks")
    await expect(other.page.locator(f"#task-list li[data-code='{code}']")).to_contain_text("未抽取")
    await other.page.click(f"#task-list li[data-code='{code}'] a")
    await expect(other.page.locator("h1")).to_have_text("参加部门视角")
    await expect(other.page.locator("#task-status")).to_contain_text("[auth.forbidden]")
    await expect(other.page.locator("#commit-form")).to_have_count(0)
