"""Field paths beyond the happy joint visit, through the PWA's real screens in Chromium: the
subject refuses to sign (witnessed refusal), a special outcome (查无下落) whose national result
code is proposed for every matter, two inspectors of one department disagreeing and settling
it, the same events sent twice, and the rescue file from the home screen taken in by
`onevisit import-bundle`. Each ends with the server's state and `verify_all()`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import expect

from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from onevisit.field.service import visit_view
from tests.browser.visitflow import (
    ADMIN,
    Inspector,
    Visit,
    answer,
    check_in,
    confirm,
    download,
    draw,
    export,
    import_files,
    jpeg,
    reopen,
    synced,
    team,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]

# The visit's events in this phone's outbox: [type, state] in the order they were signed.
OWN_EVENTS = """async (visit) => {
  const db = await import('/db.js');
  return (await db.outbox.ofVisit(visit)).sort((a, b) => a.seq - b.seq)
    .map((r) => [JSON.parse(r.envelope).type, r.state, JSON.parse(r.envelope).id, r.code ?? '']);
}"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_bundle(path: Path) -> subprocess.CompletedProcess:
    """`onevisit import-bundle FILE`, the real command, on the live server's database."""
    env = {**os.environ}
    paths = (str(ROOT / "backend"), env.get("PYTHONPATH"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return subprocess.run(
        [sys.executable, "-m", "onevisit.cli", "import-bundle", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def own_events(i: Inspector, visit: Visit) -> list[list[str]]:
    return await i.tab.page.evaluate(OWN_EVENTS, visit.id)


async def log_states(i: Inspector, visit: Visit) -> list[str]:
    """The per-visit event log's states as the visit screen shows them."""
    page = i.tab.page
    await reopen(i, f"#/visit/{visit.id}")
    await expect(page.locator("#event-log li").first).to_be_visible()
    return await page.locator("#event-log li[data-state]").evaluate_all(
        "(lis) => lis.map((li) => li.dataset.state)"
    )


async def _all_verified(i: Inspector, visit: Visit, n: int) -> None:
    await synced(i)
    # the sync button's count can lag a write just made: wait until the phone's own rows are
    # verified (pressing sync again meanwhile), then check that the screen shows them so
    deadline = asyncio.get_running_loop().time() + 30
    while [r[1] for r in await own_events(i, visit)] != ["verified"] * n:
        assert asyncio.get_running_loop().time() < deadline, await own_events(i, visit)
        await asyncio.sleep(0.5)
        await synced(i)
    await reopen(i, f"#/visit/{visit.id}")
    own = i.tab.page.locator("#event-log li[data-state]:not([data-state=peer])")
    await expect(own).to_have_count(n)
    try:
        await expect(i.tab.page.locator("#event-log li[data-state=verified]")).to_have_count(n)
    except AssertionError as err:
        rows = await own_events(i, visit)
        raise AssertionError(f"{err}\nthe phone's rows: {rows}") from None


async def _member_names(visit: Visit) -> dict[str, str]:
    return {
        m.actor: m.name for m in (await visit_view(visit_id=visit.id, caller=ADMIN)).info.members
    }


async def test_refusal_needs_reason_and_witness_then_allows_confirmation(make_tab, tmp_path):
    visit, (leader, mate) = await team(make_tab, size=2)
    for i in (leader, mate):
        await download(i, visit)
        await check_in(i)
    await import_files(leader, visit, [await export(mate, visit, tmp_path)])
    page = leader.tab.page
    await leader.tab.open(f"#/visit/{visit.id}/record")
    # nothing to confirm before the subject has signed or refused
    await expect(page.locator("#confirm-wait")).to_be_visible()
    await expect(page.locator("#confirm-passkey")).to_have_count(0)

    await page.click("#refusal summary")
    attempts = [
        {"#refusal-reason": "负责人称无权签字", "#witness-name": "王五"},  # no reason code
        {"code": "refused", "#witness-name": "王五"},  # no reason text
        {"code": "refused", "#refusal-reason": "负责人称无权签字"},  # no witness
        {"code": "refused", "#refusal-reason": "   ", "#witness-name": "王五"},  # blank text
    ]
    for fields in attempts:
        await page.select_option("#refusal-code", value=fields.get("code", ""))
        for sel in ("#refusal-reason", "#witness-name"):
            await page.fill(sel, fields.get(sel, ""))
        await page.click("#refusal-save")
        await expect(page.locator("#record-status")).to_have_text(
            "拒签须有原因类别、原因说明和见证人姓名"
        )
        await expect(page.locator("#record-status")).to_have_attribute("role", "alert")
        assert "signature_refused" not in [e[0] for e in await own_events(leader, visit)]
        await expect(page.locator("#confirm-passkey")).to_have_count(0)

    await page.select_option("#refusal-code", value="refused")
    await page.fill("#refusal-reason", "负责人称无权签字")
    await page.fill("#witness-name", "王五")
    await page.fill("#witness-phone", "13800000000")
    await draw(page, "#witness-pad")
    await expect(page.locator("#witness-pad-state")).to_contain_text("已签名")
    photo = jpeg(tmp_path / "refusal.jpg")
    async with page.expect_file_chooser() as chooser:
        await page.click("#refusal-photo")
    await (await chooser.value).set_files(str(photo))
    await expect(page.locator(f"#refusal .thumb[data-sha256='{_sha(photo)}'] img")).to_be_visible()
    await page.click("#refusal-save")
    await expect(page.locator("#refused")).to_contain_text("王五")
    await expect(page.locator("#refused")).to_contain_text("负责人称无权签字")
    await expect(page.locator("#confirm-wait")).to_have_count(0)
    shown_hash = (await page.locator("#record-hash").text_content()).strip()
    await confirm(leader, visit)

    await synced(mate)
    await _all_verified(leader, visit, len(await own_events(leader, visit)))
    view = await visit_view(visit_id=visit.id, caller=ADMIN)
    refusal = view.state.refusal
    assert refusal is not None and not refusal.stale
    assert view.record_hash == shown_hash == refusal.record_hash
    assert (refusal.reason_code, refusal.reason) == ("refused", "负责人称无权签字")
    assert (refusal.witness.name, refusal.witness.phone) == ("王五", "13800000000")
    assert refusal.witness_signature is not None and refusal.witness_signature.mime == "image/png"
    assert refusal.photo is not None and refusal.photo.sha256 == _sha(photo)
    assert [c.actor for c in view.state.confirmations if not c.stale] == [leader.user]
    report = await verify_all()
    assert report.ok, report


async def test_special_outcome_proposes_the_result_code_for_every_matter(make_tab, tmp_path):
    visit, (leader, _mate, other) = await team(make_tab, size=3)
    dep_a, dep_b = list(visit.matters)
    for i in (leader, other):
        await download(i, visit)
        await check_in(i)
    page = leader.tab.page
    # no special outcome yet: nothing is proposed
    await leader.tab.open(f"#/visit/{visit.id}/matter/{visit.matters[dep_a]}")
    await expect(page.locator("#result-code")).to_have_value("")

    await leader.tab.open(f"#/visit/{visit.id}")
    await page.click("#special summary")
    await page.select_option("#special-code", value="unreachable")
    await page.click("#special-save")  # no description yet
    await expect(page.locator("#visit-status")).to_have_text("请选择情形并填写说明")
    await page.fill("#special-text", "登记住所已改作他用，电话无人接听，邻居称已搬离半年")
    photo = jpeg(tmp_path / "door.jpg")
    await page.set_input_files("#special-photo", str(photo))
    await expect(
        page.locator(f"#special-photos .thumb[data-sha256='{_sha(photo)}']")
    ).to_be_visible()
    await page.click("#special-save")
    await expect(page.locator("#special li[data-code=unreachable]")).to_contain_text("电话无人接听")

    async def take_proposal(i: Inspector, matter: str) -> None:
        await i.tab.open(f"#/visit/{visit.id}/matter/{matter}")
        await expect(i.tab.page.locator("#result-code")).to_have_value("unreachable")
        await expect(i.tab.page.locator("#matter-result")).to_contain_text("建议的结果")
        await i.tab.page.click("#result-save")
        await expect(i.tab.page.locator("#result-current")).to_contain_text("查无下落")

    await take_proposal(leader, visit.matters[dep_a])
    # the other department's inspector gets the outcome by hand-over, and the same proposal
    await import_files(other, visit, [await export(leader, visit, tmp_path)])
    await take_proposal(other, visit.matters[dep_b])

    for i in (leader, other):
        await _all_verified(i, visit, len(await own_events(i, visit)))
    state = (await visit_view(visit_id=visit.id, caller=ADMIN)).state
    [outcome] = state.special_outcomes
    assert (outcome.code, outcome.actor) == ("unreachable", leader.user)
    assert [m.sha256 for m in outcome.media] == [_sha(photo)]
    results = {m.code: (m.result_code, m.result_by) for m in state.matters}
    assert results == {
        visit.matters[dep_a]: ("unreachable", (leader.user,)),
        visit.matters[dep_b]: ("unreachable", (other.user,)),
    }
    report = await verify_all()
    assert report.ok, report


async def test_conflict_between_two_inspectors_is_shown_and_settled(make_tab, tmp_path):
    visit, (leader, mate) = await team(make_tab, size=2)
    matter = next(iter(visit.matters.values()))
    for i in (leader, mate):
        await download(i, visit)
        await i.tab.context.set_offline(True)
        await check_in(i)
    await answer(leader, visit, matter, [(0, "compliant", "")])
    await answer(mate, visit, matter, [(0, "non_compliant", "未在显著位置公示许可证")])
    await import_files(leader, visit, [await export(mate, visit, tmp_path)])

    names = await _member_names(visit)
    page = leader.tab.page
    await leader.tab.open(f"#/visit/{visit.id}/matter/{matter}")
    conflict = page.locator("li[data-item='0'] [data-conflict=yes]")
    await expect(conflict).to_contain_text(f"{names[leader.user]}：符合")
    await expect(conflict).to_contain_text(f"{names[mate.user]}：不符合")
    await expect(page.locator("#item-0-state")).to_have_text("结果不一致")
    await leader.tab.open(f"#/visit/{visit.id}/team")
    await expect(page.locator("#team-conflicts li")).to_have_count(1)
    await expect(page.locator("#team-conflicts li")).to_contain_text("1. 检查项0")

    # the leader looks again and agrees with the colleague: the conflict is gone
    await answer(leader, visit, matter, [(0, "non_compliant", "未在显著位置公示许可证")])
    await leader.tab.open(f"#/visit/{visit.id}/matter/{matter}")
    await expect(page.locator("#item-0-state")).to_contain_text("不符合")
    await expect(page.locator("[data-conflict=yes]")).to_have_count(0)
    await leader.tab.open(f"#/visit/{visit.id}/team")
    await expect(page.locator("#team-conflicts li")).to_have_count(0)

    for i in (leader, mate):
        await i.tab.context.set_offline(False)
    for i in (leader, mate):
        await synced(i)
    state = (await visit_view(visit_id=visit.id, caller=ADMIN)).state
    assert "item.conflict" not in [p.code for p in state.problems], state.problems
    item = next(m for m in state.matters if m.code == matter).items[0]
    assert item.result == "non_compliant" and not item.conflict
    assert sorted(item.by) == sorted([leader.user, mate.user])
    report = await verify_all()
    assert report.ok, report


async def test_a_conflict_settled_by_a_correction_with_its_reason(make_tab, tmp_path):
    visit, (leader, mate) = await team(make_tab, size=2)
    matter = next(iter(visit.matters.values()))
    for i in (leader, mate):
        await download(i, visit)
        await i.tab.context.set_offline(True)
        await check_in(i)
    await answer(leader, visit, matter, [(0, "compliant", "")])
    await answer(mate, visit, matter, [(0, "non_compliant", "未公示许可证")])
    await import_files(mate, visit, [await export(leader, visit, tmp_path)])

    # the colleague looks again (the licence hangs behind the counter) and corrects, saying why
    page = mate.tab.page
    await mate.tab.open(f"#/visit/{visit.id}/matter/{matter}")
    await expect(page.locator("li[data-item='0'] [data-conflict=yes]")).to_be_visible()
    await page.click("#item-0-correct summary")
    await page.select_option("#item-0-correct-result", "compliant")
    await page.fill("#item-0-correct-note", "")
    await page.click("#item-0-correct-save")  # no reason: refused on the phone
    await expect(page.locator("#matter-status")).to_contain_text("更正理由")
    await page.fill("#item-0-correct-reason", "复核发现许可证悬挂于柜台后方")
    await page.click("#item-0-correct-save")
    await expect(page.locator("#matter-status")).to_contain_text("第 1 项已更正")
    await expect(page.locator("[data-conflict=yes]")).to_have_count(0)
    await expect(page.locator("#item-0-state")).to_contain_text("符合")

    for i in (leader, mate):
        await i.tab.context.set_offline(False)
    for i in (leader, mate):
        await synced(i)
    state = (await visit_view(visit_id=visit.id, caller=ADMIN)).state
    item = next(m for m in state.matters if m.code == matter).items[0]
    assert item.result == "compliant" and not item.conflict
    (fix,) = [c for c in state.corrections if c.applied]
    assert fix.actor == mate.user and fix.reason == "复核发现许可证悬挂于柜台后方"
    assert (await verify_all()).ok


async def _offline_work(i: Inspector, visit: Visit, tmp_path: Path) -> Path:
    """Download, lose the network, check in, answer with a photo: the phone holds it all."""
    await download(i, visit)
    await i.tab.context.set_offline(True)
    await check_in(i)
    matter = next(iter(visit.matters.values()))
    page = i.tab.page
    await i.tab.open(f"#/visit/{visit.id}/matter/{matter}")
    photo = jpeg(tmp_path / "shelf.jpg")
    await page.set_input_files("#item-1-photo", str(photo))
    await expect(page.locator("li[data-item='1'] .thumb img")).to_be_visible()
    await answer(i, visit, matter, [(0, "compliant", ""), (1, "non_compliant", "过期食品未下架")])
    return photo


async def _rescue(i: Inspector, tmp_path: Path) -> tuple[Path, dict]:
    page = i.tab.page
    await i.tab.open("#/")
    async with page.expect_download() as info:
        await page.click("#rescue-export")
    got = await info.value
    path = tmp_path / got.suggested_filename
    await got.save_as(path)
    await expect(page.locator("#home-status")).to_contain_text("救援文件已生成")
    return path, json.loads(path.read_bytes())


async def test_rescue_export_from_home_is_taken_in_by_import_bundle(make_tab, tmp_path):
    visit, (leader, _mate) = await team(make_tab, size=2)
    photo = await _offline_work(leader, visit, tmp_path)
    own = await own_events(leader, visit)
    assert {e[1] for e in own} == {"queued"}

    path, doc = await _rescue(leader, tmp_path)
    device = doc["device"]
    assert path.name.startswith(f"onevisit-rescue-{device[:8]}-") and path.suffix == ".json"
    assert doc["format"] == "onevisit.bundle/1" and doc["user"] == leader.user
    assert [json.loads(e["envelope"])["id"] for e in doc["events"]] == [e[2] for e in own]
    assert _sha(photo) in [m["sha256"] for m in doc["media"]]

    done = import_bundle(path)
    assert done.returncode == 0, done.stdout + done.stderr
    n = len(own)
    assert f"{n} events ({n} accepted, 0 duplicate, 0 rejected)" in done.stdout, done.stdout
    stored = await Event.select(Event.event_id).where(Event.event_id.is_in([e[2] for e in own]))
    assert len(stored) == n
    report = await verify_all()
    assert report.ok, report
    state = (await visit_view(visit_id=visit.id, caller=ADMIN)).state
    assert [c.actor for c in state.checkins] == [leader.user]

    # the phone, online again, sends the same events: answered as duplicates, verified
    await leader.tab.context.set_offline(False)
    await _all_verified(leader, visit, n)
    assert await log_states(leader, visit) == ["verified"] * n


async def test_duplicate_resend_ends_with_one_copy_each_and_verified_rows(make_tab, tmp_path):
    visit, (leader, _mate) = await team(make_tab, size=2)
    await _offline_work(leader, visit, tmp_path)
    own = await own_events(leader, visit)
    ids = [e[2] for e in own]
    path, _ = await _rescue(leader, tmp_path)
    # the bundle arrives at the server twice (an admin re-runs the import)
    first, second = import_bundle(path), import_bundle(path)
    assert first.returncode == second.returncode == 0, first.stdout + second.stdout
    n = len(ids)
    assert f"{n} events (0 accepted, {n} duplicate, 0 rejected)" in second.stdout, second.stdout

    # and the phone sends them again, reloading while its sync may still be under way
    page = leader.tab.page
    await leader.tab.context.set_offline(False)
    await leader.tab.open(f"#/visit/{visit.id}")
    await page.click("#sync-button")
    await page.reload()
    await _all_verified(leader, visit, n)
    assert await log_states(leader, visit) == ["verified"] * n
    rows = await Event.select(Event.event_id).where(Event.event_id.is_in(ids))
    assert sorted(r["event_id"] for r in rows) == sorted(ids)  # one stored copy each
    report = await verify_all()
    assert report.ok, report
