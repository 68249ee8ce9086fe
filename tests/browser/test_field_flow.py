"""The whole joint visit through the PWA's screens, offline, in real Chromium.

Two departments, three inspectors, one browser context each with its own virtual passkey
authenticator and an emulated position. They download the visit, lose the network, check in,
answer their own departments' items (one with a real JPEG photo), reload a page mid-visit
(nothing lost), hand their events to each other by file, the subject signs on the pad, each
inspector confirms with a passkey — all offline — and then the network returns: everything
syncs, the server's record hash equals the one every phone showed, and verification passes.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from onevisit.evidence.verify import verify_all
from onevisit.field.service import visit_view
from tests.browser.visitflow import (
    ADMIN,
    answer,
    check_in,
    confirm,
    download,
    export,
    import_files,
    jpeg,
    short_code,
    sign,
    synced,
    team,
)

pytestmark = pytest.mark.browser


async def test_joint_visit_offline_from_check_in_to_confirmation(make_tab, tmp_path):
    visit, people = await team(make_tab)
    leader, mate, other = people
    dep_a, dep_b = list(visit.matters)
    for i in people:
        await download(i, visit)
    for i in people:  # no signal on site, from here to the last confirmation
        await i.tab.context.set_offline(True)
        await check_in(i)

    photo = jpeg(tmp_path / "shopfront.jpg")
    page = leader.tab.page
    await leader.tab.open(f"#/visit/{visit.id}/matter/{visit.matters[dep_a]}")
    await page.set_input_files("#item-1-photo", str(photo))
    await expect(page.locator("li[data-item='1'] .thumb img")).to_be_visible()
    await answer(
        leader, visit, visit.matters[dep_a],
        [(0, "compliant", ""), (1, "non_compliant", "经营场所与登记住所不一致")],
        outcome="pending_follow_up",
    )  # fmt: skip
    await answer(mate, visit, visit.matters[dep_a], [(0, "compliant", "")])
    await answer(
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
    files = {i.code: await export(i, visit, tmp_path) for i in (mate, other)}
    await import_files(leader, visit, list(files.values()))
    await sign(leader, visit)
    lead_file = await export(leader, visit, tmp_path)
    await import_files(mate, visit, [lead_file, files[other.code]])
    await import_files(other, visit, [lead_file, files[mate.code]])
    hashes = {i.code: await short_code(i, visit) for i in people}
    assert len(set(hashes.values())) == 1, hashes
    for i in people:
        await confirm(i, visit)

    for i in people:  # the network returns
        await i.tab.context.set_offline(False)
    for i in people:
        await synced(i)

    view = await visit_view(visit_id=visit.id, caller=ADMIN)
    assert view.record_hash == next(iter(hashes.values()))
    state = view.state
    assert state.two_present
    assert state.signature is not None and not state.signature.stale
    assert sorted(c.actor for c in state.confirmations if not c.stale) == sorted(
        i.user for i in people
    )
    assert not [p for p in state.problems if not p.code.startswith("checkin.clock")], state.problems
    report = await verify_all()
    assert report.ok, report

    # the leader's view shows what the server holds from each member (items and matter results),
    # that no phone reports anything unsynced, that all confirmed — and the leader closes the visit
    await leader.tab.open(f"#/visit/{visit.id}/team")
    for i, n in ((leader, 3), (mate, 1), (other, 3)):
        cells = page.locator(f"#team-members tr[data-actor='{i.user}'] td")
        await expect(cells.nth(2)).to_have_text(str(n))
        await expect(cells.nth(4)).to_have_attribute("data-pending", "0")
        await expect(cells.nth(5)).to_have_text("已确认")
    await expect(page.locator("#team-reasons")).to_have_count(0)
    await page.click("#team-close-button")
    await expect(page.locator("#team-closed")).to_contain_text(leader.code)  # directory name
    closed = await visit_view(visit_id=visit.id, caller=ADMIN)
    assert closed.record_hash == view.record_hash  # closing changes neither state nor record
    assert (await verify_all()).ok
