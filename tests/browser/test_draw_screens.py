"""The coordinators' draw screens end to end in Chromium (real server, both engines): a
coordinator creates a two-department "1+X" task in the UI, commits with a notary as a second
party (its commitment computed here), sets a beacon, reveals the notary's secret, draws, sees
the groups, swaps the leader of a group (the server picks who comes in), and verifies the
public record in the browser (pwa/drawcheck.js); the same verifier agrees with the shared
vectors in tests/vectors/draw/ and reports tampered records. Groups show subjects' and
inspectors' names; a group whose visit has begun offers no swap. Triggered tasks: drawn among
named subjects, or with a group assigned directly (read back with names after a reload).
A task that runs a plan line (picked in the wizard) shows it. axe on each step of the task
screen and the triggered wizard; an inspector opening #/tasks is refused, and a participating
department's coordinator sees no draw action, with the reason."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from onevisit.db import write_transaction
from onevisit.directory.schemas import SubjectIn
from onevisit.directory.subjects import create_subject
from onevisit.evidence.log import LogAppender, sign_checkpoint
from onevisit.evidence.store import now_ms, server_envelope, store_events
from onevisit.planning.tables import Task, Visit
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
from tests.planning.test_draws import ALL_STRATA
from tests.planning.test_draws import _scene as api_scene

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
    subjects = []
    for n, credit in enumerate("ABC"):
        subjects.append(unique("DS-"))
        await create_subject(
            data=SubjectIn(subject_id=subjects[-1], name=f"抽取测试对象{n}", kind="product",
                           credit_class=credit, address=f"测试路{n}号"),
            actor="test",
        )  # fmt: skip
    return {"lead": lead, "other": other, "inspectors": inspectors, "matters": matters,
            "subjects": subjects}  # fmt: skip


async def _begin_visit(task_code: str, subject_id: str) -> None:
    """A log entry naming the visit, as its first field event would: the visit has begun."""
    task_id = (await Task.select(Task.id).where(Task.code == task_code))[0]["id"]
    visit = await Visit.select(Visit.id).where(
        (Visit.task == task_id) & (Visit.subject_id == subject_id)
    )
    async with write_transaction():
        appender = await LogAppender.open()
        event, sig = await server_envelope(
            event_type="test_marker", body={"n": 1}, visit=str(visit[0]["id"])
        )
        await store_events([(event, sig)], appender, received_ms=now_ms())
        await sign_checkpoint(appender)


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
    await page.fill("#reveal-hours", "6")
    await audit.check(page, "task: commit form")
    await page.click("#draw-commit")
    await expect(page.locator("#draw-summary")).to_be_visible()
    await expect(page.locator("#task-status")).to_contain_text("已承诺")
    await expect(page.locator("#party-list")).to_contain_text(hashlib.sha256(secret).hexdigest())
    await expect(page.locator("#department-list li")).to_have_count(2)
    status = (await page_fetch(page, f"/api/tasks/{code}/draw"))["body"]
    assert status["status"] == "committed"
    assert [p["name"] for p in status["parties"]] == ["server", "公证处"]
    left = dt.datetime.fromisoformat(status["reveal_by"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=5.9) < left <= dt.timedelta(hours=6)  # the form's 6 hours
    # before the deadline the notary cannot be given up
    await expect(page.locator("#reveal-by")).to_contain_text("揭示截止")
    await expect(page.locator("#giveup-0")).to_be_disabled()
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
    # names, with the codes small beside them
    subject_id = first["subject_id"]
    names = status["subject_names"][subject_id]
    heading = groups.nth(0).locator("h3")
    await expect(heading).to_contain_text(names["name"])
    await expect(heading.locator("small")).to_have_text(subject_id)
    await expect(groups.nth(0)).to_contain_text(names["address"])
    member = groups.nth(0).locator(f".members li[data-inspector='{first['leader']}']")
    await expect(member.locator(".who")).to_contain_text(f"检查员{first['leader']}")
    await expect(member.locator(".who small")).to_have_text(first["leader"])
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
    await expect(page.locator("#swap-list li")).to_contain_text(f"检查员{came_in}（{came_in}）")
    leader = groups.nth(0).locator(f".members li[data-inspector='{came_in}'] .badge.leader")
    await expect(leader).to_be_visible()

    # a group whose visit has begun offers no swap, and says why
    begun = status["groups"][1]["subject_id"]
    await _begin_visit(code, begun)
    await page.reload()
    await expect(groups.nth(1)).to_have_attribute("data-subject", begun)
    await expect(groups.nth(1)).to_have_attribute("data-started", "true")
    await expect(page.locator("#swap-started-1")).to_contain_text("不能再调换")
    await expect(groups.nth(1).locator("details.swap")).to_have_count(0)
    await expect(groups.nth(0).locator("details.swap")).to_have_count(1)
    status = (await page_fetch(page, f"/api/tasks/{code}/draw"))["body"]
    assert status["started"] == [begun]

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
    audit.assert_clean()


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
    row = other.page.locator(f"#task-list li[data-code='{code}']")
    await expect(row.locator(".view-only")).to_have_text("本部门参加，抽取由发起部门进行")
    await other.page.click(f"#task-list li[data-code='{code}'] a")
    await expect(other.page.locator("h1")).to_have_text("参加部门视角")
    # may_draw is false: no draw action at all, one line saying who draws (no auth.forbidden)
    await expect(other.page.locator("#draw-not-mine")).to_contain_text("抽取由发起部门")
    await expect(other.page.locator("#task-status")).to_be_empty()
    await expect(other.page.locator("#commit-form")).to_have_count(0)
    await expect(other.page.locator("#draw-steps li")).to_have_count(0)
    await expect(other.page.locator("#view button:not(#lang-toggle)")).to_have_count(0)


async def _wizard(page, scene: dict, code: str, name: str) -> None:
    """The task form up to the trigger: code, name, lead and the other department's matter,
    "triggered", a complaint with its reference and note."""
    await page.fill("#task-code", code)
    await page.fill("#task-name", name)
    await page.select_option("#task-lead", scene["matters"][scene["lead"]])
    await page.check(f"#task-others input[value='{scene['matters'][scene['other']]}']")
    await expect(page.locator("#trigger-box")).to_be_hidden()
    await page.check("#task-kind-triggered")
    await expect(page.locator("#trigger-box")).to_be_visible()
    await page.select_option("#trigger-kind", "complaint")
    await page.fill("#trigger-reference", "TS-2026-0042")
    await page.fill("#trigger-note", "消费者投诉：过期食品")


async def test_a_triggered_task_draws_among_the_subjects_it_names(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    scene = await _scene()
    audit = Audit()
    await signed_in_coordinator(tab, department=scene["lead"])
    await tab.open("#/tasks")
    code = unique("T-TR-")
    await _wizard(page, scene, code, "投诉触发检查")
    named = scene["subjects"][:2]  # credit classes A and B: one each, both drawn
    await expect(page.locator("#trigger-subjects")).to_be_visible()
    await expect(page.locator("#trigger-scope-box")).to_be_hidden()
    await page.fill("#trigger-subjects", "\n".join([named[0], "", f"  {named[1]} "]))
    await audit.check(page, "tasks: triggered wizard (subjects)")
    await page.check("#trigger-target-scope")
    await expect(page.locator("#scope-region")).to_be_visible()
    await audit.check(page, "tasks: triggered wizard (scope)")
    await page.click("#task-create")  # a scope with no filter is refused here
    await expect(page.locator("#tasks-status")).to_contain_text("至少需要一个条件")
    await page.check("#trigger-target-subjects")
    await page.click("#task-create")
    await expect(page).to_have_url(re.compile(rf"#/task/{code}$"))
    info = (await page_fetch(page, f"/api/tasks/{code}"))["body"]
    assert info["kind"] == "triggered" and info["may_draw"] is True
    assert info["trigger"]["kind"] == "complaint" and info["trigger"]["subjects"] == named
    assert info["trigger"]["reference"] == "TS-2026-0042"
    await expect(page.locator("#task-trigger")).to_contain_text("投诉举报")
    await expect(page.locator("#trigger-target-value")).to_contain_text("2 个指定对象")

    await page.click("#draw-commit")
    await expect(page.locator("#draw-population")).to_have_text("2")
    await page.click("#draw-run")
    await expect(page.locator("#draw-seed")).to_be_visible()
    groups = page.locator("#group-list > li")
    await expect(groups).to_have_count(2)
    status = (await page_fetch(page, f"/api/tasks/{code}/draw"))["body"]
    assert sorted(status["subjects"]) == sorted(named)
    for n, subject in enumerate(status["subjects"]):
        await expect(groups.nth(n).locator("h3")).to_contain_text(
            status["subject_names"][subject]["name"]
        )
    await audit.check(page, "task: triggered, drawn")
    await page.click("#draw-verify")
    await expect(page.locator("#verify-result")).to_contain_text("核验通过")
    listed = page.locator(f"#task-list li[data-code='{code}']")
    await tab.open("#/tasks")
    await expect(listed.locator(".badge.triggered")).to_have_text("触发式检查")
    audit.assert_clean()


async def test_a_triggered_task_without_subjects_is_assigned_directly(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    scene = await _scene()
    audit = Audit()
    await signed_in_coordinator(tab, department=scene["lead"])
    await tab.open("#/tasks")
    code = unique("T-AS-")
    await _wizard(page, scene, code, "转办直接指派")
    await page.select_option("#trigger-kind", "referral")
    await page.check("#trigger-target-direct")
    await expect(page.locator("#trigger-direct-hint")).to_be_visible()
    await expect(page.locator("#trigger-subjects")).to_be_hidden()
    await audit.check(page, "tasks: triggered wizard (direct)")
    await page.click("#task-create")
    await expect(page).to_have_url(re.compile(rf"#/task/{code}$"))
    info = (await page_fetch(page, f"/api/tasks/{code}"))["body"]
    assert info["trigger"]["kind"] == "referral"
    assert "subjects" not in info["trigger"] and "scope" not in info["trigger"]

    # no draw: the direct-assignment form
    await expect(page.locator("#assign-form")).to_be_visible()
    await expect(page.locator("#commit-form")).to_have_count(0)
    await expect(page.locator("#draw-steps li")).to_have_count(0)
    await audit.check(page, "task: direct assignment")
    lead, other = scene["inspectors"][scene["lead"]], scene["inspectors"][scene["other"]]
    subject = scene["subjects"][2]
    await page.fill("#assign-subject", subject)
    await page.fill("#assign-inspector-0", lead[0])
    await page.fill("#assign-inspector-1", lead[0])  # twice: refused by the server
    await page.fill("#assign-reason", "转办函要求立即核查")
    await page.click("#assign-submit")
    await expect(page.locator("#task-status")).to_contain_text("[inspector.invalid]")
    await page.fill("#assign-inspector-1", other[0])
    await page.select_option("#assign-served-1", scene["other"])
    await page.click("#assign-add")
    await expect(page.locator("#assign-inspector-2")).to_be_focused()
    await page.fill("#assign-inspector-2", lead[1])
    await page.click("#assign-submit")
    await expect(page.locator("#task-status")).to_contain_text(f"{subject} 已指派检查组")
    card = page.locator(f"#assign-list li[data-subject='{subject}']")
    await expect(card.locator(".members li")).to_have_count(3)
    await expect(card.locator(f"li[data-inspector='{lead[0]}'] .badge.leader")).to_have_text("组长")
    await expect(card).to_contain_text("转办函要求立即核查")
    # names from the answer: the subject's and the other department's inspector's
    await expect(card.locator(".subject-name")).to_contain_text("抽取测试对象2")
    await expect(card.locator(f"li[data-inspector='{other[0]}'] .who")).to_have_text(
        f"检查员{other[0]} {other[0]}"
    )
    info = (await page_fetch(page, f"/api/tasks/{code}"))["body"]
    assert info["visits"] == 1 and info["draw"] == "none"
    await page.reload()
    await expect(page.locator("#assign-count")).to_contain_text("已有 1 个检查")
    # read back after a reload: the group, with names, its leader and the logged reason
    card = page.locator(f"#assign-list li[data-subject='{subject}']")
    await expect(card.locator(".members li")).to_have_count(3)
    await expect(card.locator(".subject-name")).to_contain_text("抽取测试对象2")
    await expect(card.locator(f"li[data-inspector='{lead[0]}'] .badge.leader")).to_have_text("组长")
    await expect(card.locator(f"li[data-inspector='{other[0]}'] .who")).to_have_text(
        f"检查员{other[0]} {other[0]}"
    )
    await expect(card).to_contain_text("转办函要求立即核查")
    audit.assert_clean()


async def test_a_task_runs_a_plan_line_and_shows_it(page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    scene = await _scene()
    lead, other = scene["matters"][scene["lead"]], scene["matters"][scene["other"]]
    second = await new_matter(scene["lead"])  # leads line 2: not this task's lead
    await signed_in_coordinator(tab, department=scene["lead"])
    plan = unique("P-T-")
    line = {"ratio": "0.05", "schedule": {"start": "2026-03-01", "end": "2026-11-30"}}
    await page.evaluate(
        """async (body) => {
            const { api } = await import('/api.js');
            await api('/api/plans', { method: 'POST', json: body });
        }""",
        {"code": plan, "year": 2026, "name": "任务所属计划", "lines": [
            {**line, "task_name": "计划内联合抽查", "lead": lead, "matters": [other]},
            {**line, "task_name": "计划内价格抽查", "lead": second, "matters": []},
        ]},
    )  # fmt: skip
    await tab.open("#/tasks")
    await expect(page.locator("#task-plan-line")).to_be_disabled()
    await page.select_option("#task-plan", plan)
    # line 1 picked: its lead and X matters and its name fill the form
    await expect(page.locator("#task-plan-line option")).to_have_count(2)
    await expect(page.locator("#task-name")).to_have_value("计划内联合抽查")
    await expect(page.locator("#task-lead")).to_have_value(lead)
    await expect(page.locator(f"#task-others input[value='{other}']")).to_be_checked()
    await Audit().check(page, "tasks: plan line")
    code = unique("T-PL-")
    await page.fill("#task-code", code)
    # line 2 leads with another matter: the server refuses it
    await page.select_option("#task-plan-line", "2")
    await page.select_option("#task-lead", lead)
    await page.click("#task-create")
    await expect(page.locator("#tasks-status")).to_contain_text("[task.invalid]")
    await page.select_option("#task-plan-line", "1")
    await page.click("#task-create")
    await expect(page).to_have_url(re.compile(rf"#/task/{code}$"))
    await expect(page.locator("#task-plan-value")).to_contain_text(f"{plan} · 任务 1")
    await expect(page.locator("#task-plan-value a")).to_have_attribute("href", f"#/plan/{plan}")
    info = (await page_fetch(page, f"/api/tasks/{code}"))["body"]
    assert info["plan"] == {"code": plan, "line": 1}
    assert not tab.page_errors


async def test_the_public_task_page_recomputes_its_draw_in_the_browser(
    make_tab, make_department, as_role
):
    """/public/tasks/<id>: no sign-in; 在本浏览器中复算 fetches draw.json and recomputes it
    with drawcheck.js (not the server's Python); the hash shown is the record's."""
    _, _, task, coordinator = await api_scene(make_department, as_role)
    c = coordinator.client
    assert (await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})).status_code == 201
    assert (await c.post(f"/api/tasks/{task}/draw/run", json={})).status_code == 200
    tab = await make_tab()
    await tab.page.goto(f"{tab.base}/public/tasks/{task}")
    await expect(tab.page.locator("h1")).to_contain_text("联合抽查任务")
    await tab.page.click("#draw-check")
    await expect(tab.page.locator("#draw-check-result")).to_contain_text("复算一致")
    await expect(tab.page.locator("#draw-check-result")).to_contain_text("户抽取对象")
