"""pwa/outbox.js in real Chromium against the real server (EVIDENCE.md §3, §4; docs/sync.md).

An inspector of a joint visit (made in-process through the planning functions, so the live
server sees it) enrols with a passkey in the page, which registers the device key; the page
then records events through the outbox, offline and online, and syncs. Python checks what
the server stored and that `verify_all` still passes. The log verifier in pwa/logproof.js
runs the shared RFC 6962 proof vectors and the C2SP note example.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from tests.browser.field import (
    Field,
    field_fixture,  # noqa: F401 (the `field` fixture)
    record,
    run,
    status,
    sync,
    until,
)
from tests.browser.helpers import page_fetch
from tests.vectors.paths import shared_vectors

pytestmark = pytest.mark.browser


def _events(f: Field, n: int, start: int = 0) -> list[dict]:
    """n events of the visit: a check-in, then item results and notes in turn."""
    out = []
    for i in range(start, start + n):
        if i == 0:
            body = {"lat_e6": 30274384, "lon_e6": 120155070, "accuracy_m": 12, "source": "gps"}
            out.append({"type": "checkin", "body": body})
        elif i % 2:
            body = {"matter": f.matter, "item": i % 2, "result": "compliant"}
            out.append({"type": "item_result", "body": body})
        else:
            out.append({"type": "note", "body": {"text": f"现场笔记 {i}"}})
    return [{**e, "visit": f.visit} for e in out]


async def stored(ids: list[str]) -> list[dict]:
    return await Event.select(Event.event_id, Event.seq).where(Event.event_id.is_in(ids))


async def test_offline_reload_then_sync_verifies_everything_once(field, page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    events = _events(field, 5)
    ids = await record(page, field, events[:3])
    await page.evaluate("navigator.serviceWorker.ready")  # the shell is cached for offline

    await tab.context.set_offline(True)
    ids += await record(page, field, events[3:])
    got = await sync(page)
    assert got["error"] == "network.unreachable" and got["verified"] == 0, got
    await page.reload()  # nothing lost: the shell opens offline and the rows are still queued
    st = await status(page)
    assert (st["queued"], st["uploading"], st["verified"]) == (5, 0, 0), st
    assert st["last_error"] == "network.unreachable"

    # start(): a sync now (fails, offline: a retry in ≥ 30 s), then at once on `online`.
    await run(page, "o.BACKOFF.baseMs = 60_000; o.start();")
    await until(page, lambda st: st["next_retry_ms"] is not None and st["failures"] >= 1)
    await tab.context.set_offline(False)
    # Playwright's offline emulation flips navigator.onLine but fires no `online` event in this
    # Chromium: send the one a phone's browser sends when the network comes back.
    await page.evaluate("dispatchEvent(new Event('online'))")
    await until(page, lambda st: st["verified"] == 5)
    st = await status(page)
    assert (st["queued"], st["rejected"], st["last_error"], st["failures"]) == (0, 0, None, 0), st
    assert st["checkpoint"]["signature"] == "ed25519" and st["checkpoint"]["size"] >= 5, st
    receipts = await run(page, "return db.outbox.inState('verified');")
    assert sorted(r["id"] for r in receipts) == sorted(ids)
    assert all(r["inclusion"]["path"] is not None and r["log_index"] >= 0 for r in receipts)

    rows = await stored(ids)
    assert sorted(r["seq"] for r in rows) == [1, 2, 3, 4, 5]
    visit = await page_fetch(page, f"/api/visits/{field.visit}")
    assert visit["status"] == 200, visit
    report = await verify_all()
    assert report.ok, report.summary()

    # A lost answer: the same rows go again and are acknowledged as duplicates, stored once.
    again = await run(
        page,
        """o.stop();
        const rows = await db.outbox.inState('verified');
        await db.outbox.putAll(rows.map((r) => ({...r, state: 'queued', inclusion: null})));
        return o.sync();""",
    )
    assert (again["duplicate"], again["verified"], again["error"]) == (5, 5, None), again
    assert len(await stored(ids)) == 5
    assert (await verify_all()).ok


async def test_final_rejection_is_kept_and_blocks_nothing(field, page_with_authenticator):
    page = page_with_authenticator.page
    # A second registered device key on this phone (another device chain to send).
    await run(
        page,
        """const second = await dk.createDeviceKey({user: me});
        await api('/api/auth/devices', {method: 'POST', json: {spki: second.spki, label: 't2'}});
        await dk.markRegistered(second, me);""",
    )
    keys = await run(page, "return (await db.keys.all()).map((k) => k.device_id);")
    assert len(keys) == 2
    stray = {"type": "checkin", "visit": field.other_visit,
             "body": {"position": None, "reason": "无信号", "source": "manual"}}  # fmt: skip
    first = await record(page, field, _events(field, 1))
    bad = await record(page, field, [stray])
    after = await record(page, field, _events(field, 2, start=1))
    other = await run(
        page,
        """const second = (await db.keys.all()).find((k) => k.device_id !== key.device_id);
        const s = await o.record(second, {actor: arg.user, visit: arg.visit, type: 'note',
                                          body: {text: '另一台设备'}});
        return [s.id];""",
        {"user": field.user, "visit": field.visit},
    )

    got = await sync(page)
    assert (got["rejected"], got["error"], got["waiting"]) == (1, None, []), got
    assert got["verified"] == 4, got  # the other device, and this one's later events re-signed
    gone = await run(page, "return o.rejected();")
    assert [(r["id"], r["code"], r["seq"]) for r in gone] == [(bad[0], "visit.not_member", 2)]
    rows = {r["event_id"]: r["seq"] for r in await stored(first + bad + after + other)}
    assert rows == {first[0]: 1, after[0]: 2, after[1]: 3, other[0]: 1}
    st = await status(page)
    assert (st["verified"], st["rejected"], st["queued"]) == (4, 1, 0), st
    # The chain goes on from the re-signed head: the next event is seq 4.
    nxt = await record(page, field, _events(field, 1, start=2))
    assert (await sync(page))["verified"] == 1
    assert [r["seq"] for r in await stored(nxt)] == [4]
    assert (await verify_all()).ok


async def test_checkpoints_must_be_consistent_between_syncs(field, page_with_authenticator):
    page = page_with_authenticator.page
    await record(page, field, _events(field, 2))
    assert (await sync(page))["verified"] == 2
    first = (await status(page))["checkpoint"]
    await record(page, field, _events(field, 1, start=2))
    assert (await sync(page))["verified"] == 1
    second = await run(page, "return db.meta.get('checkpoint');")
    assert second["size"] > first["size"] and second["checked_from"] == first["size"]

    # A held checkpoint the log does not extend (another root): refused, nothing verified.
    await run(
        page,
        """const cp = await db.meta.get('checkpoint');
        await db.meta.set('checkpoint', {...cp, root: btoa('x'.repeat(32))});""",
    )
    ids = await record(page, field, _events(field, 1, start=3))
    got = await sync(page)
    assert (got["error"], got["verified"]) == ("log.inconsistent", 0), got
    assert (await status(page))["queued"] == 1
    assert len(await stored(ids)) == 1  # the server stored it; the phone did not take the receipt
    # With the true checkpoint back, the resend is a duplicate whose leaf is proven from the log.
    await run(page, "await db.meta.set('checkpoint', arg);", second)
    got = await sync(page)
    assert (got["duplicate"], got["verified"], got["error"]) == (1, 1, None), got


def _vectors(kind: str) -> list[dict]:
    base = shared_vectors() / "rfc6962" / kind
    return [
        {"name": str(p.relative_to(base)), **json.loads(p.read_text())}
        for p in sorted(base.rglob("*.json"))
    ]


async def test_log_verifier_passes_the_shared_vectors(make_tab):
    tab = await make_tab()
    await tab.open()
    inclusion, consistency = _vectors("inclusion"), _vectors("consistency")
    assert len(inclusion) + len(consistency) == 196
    note_dir: Path = shared_vectors() / "signed-note"
    got = await tab.page.evaluate(
        """async (arg) => {
          const p = await import('/logproof.js');
          const b = (s) => p.fromBase64(s);
          const outcome = async (f) => { try { await f(); return null; }
                                         catch (e) { return e.code ?? String(e); } };
          const wrong = [];
          for (const v of arg.inclusion) {
            const code = await outcome(() => p.verifyInclusion({leafHash: b(v.leafHash),
              index: v.leafIdx, size: v.treeSize, path: (v.proof ?? []).map(b), root: b(v.root)}));
            if ((code !== null) !== v.wantErr) wrong.push(['inclusion', v.name, code]);
          }
          for (const v of arg.consistency) {
            const code = await outcome(() => p.verifyConsistency({size1: v.size1, size2: v.size2,
              root1: b(v.root1), root2: b(v.root2), path: (v.proof ?? []).map(b)}));
            if ((code !== null) !== v.wantErr) wrong.push(['consistency', v.name, code]);
          }
          const good = await p.verifyNote(arg.note, arg.vkey);
          const forged = arg.note.replace('example', 'exempel');
          const tampered = await outcome(() => p.verifyNote(forged, arg.vkey));
          return {wrong, good, tampered, ed25519: await p.ed25519Supported()};
        }""",
        {
            "inclusion": inclusion,
            "consistency": consistency,
            "note": (note_dir / "note.txt").read_text(),
            "vkey": (note_dir / "vkey.txt").read_text().strip(),
        },
    )
    assert got["wrong"] == []
    assert got["ed25519"] is True  # Chromium's WebCrypto verifies the note signature itself
    assert got["good"] == {"text": "This is an example message.\n", "signature": "ed25519"}
    assert got["tampered"] == "note.signature_invalid"
