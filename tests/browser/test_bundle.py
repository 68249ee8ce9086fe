"""pwa/bundle.js in real Chromium (docs/bundle.md): an inspector records events offline, saves
the rescue bundle as a downloaded file, and `onevisit import-bundle` (the real command, on the
live server's database) takes everything in; `verify` passes and the phone's own later sync
answers duplicates. A colleague's phone (another browser context) reads the visit hand-over with
readBundle against the visit's device keys, keeps it in `peer`, and refuses tampered content.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onevisit.auth.tables import DeviceKey
from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from onevisit.media.tables import MediaObject
from tests.browser.field import (
    Field,
    field_fixture,  # noqa: F401 (the `field` fixture)
    record,
    run,
    status,
    sync,
)
from tests.media.util import jpeg, sha

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
B = "const b = await import('/bundle.js');"

# A photo captured on the phone: the media row the capture writes (db.js `media`).
PUT_PHOTO = """const bytes = Uint8Array.from(atob(arg.b64), (c) => c.charCodeAt(0));
await db.media.put({sha256: arg.sha, mime: 'image/jpeg', size: bytes.length, purpose: 'photo',
  blob: new Blob([bytes], {type: 'image/jpeg'}), visit: arg.visit, state: 'pending',
  created_at: Date.now()});"""

# The UI's part, done here: the Blob saved as a download.
DOWNLOAD = (
    B
    + """const blob = await b[arg.fn](...arg.args);
const a = document.createElement('a');
a.href = URL.createObjectURL(blob);
a.download = b.fileName(arg.kind, '', 1760000000000);
document.body.append(a); a.click(); a.remove();
return {size: blob.size, type: blob.type, name: a.download};"""
)


def cli(path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ}
    paths = (str(ROOT / "backend"), env.get("PYTHONPATH"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return subprocess.run(
        [sys.executable, "-m", "onevisit.cli", "import-bundle", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _events(f: Field, photo: bytes) -> list[dict]:
    ref = {"sha256": sha(photo), "bytes": len(photo), "mime": "image/jpeg"}
    return [
        {"type": "checkin", "body": {"lat_e6": 30274384, "lon_e6": 120155070, "accuracy_m": 12}},
        {"type": "photo", "body": {"media": ref, "caption": "门头照片"}},
        {"type": "item_result", "body": {"matter": f.matter, "item": 0, "result": "compliant"}},
        {"type": "note", "body": {"text": "现场笔记：无异常"}},
    ]


async def _record_with_photo(page, f: Field, photo: bytes) -> list[str]:
    await run(page, PUT_PHOTO, {"b64": base64.b64encode(photo).decode(), "sha": sha(photo),
                                "visit": f.visit})  # fmt: skip
    return await record(page, f, [{**e, "visit": f.visit} for e in _events(f, photo)])


async def _download(page, tmp_path: Path, fn: str, args: list, kind: str) -> Path:
    async with page.expect_download() as info:
        made = await run(page, DOWNLOAD, {"fn": fn, "args": args, "kind": kind})
    download = await info.value
    assert download.suggested_filename == made["name"] == f"onevisit-{kind}-20251009T085320Z.json"
    path = tmp_path / download.suggested_filename
    await download.save_as(path)
    assert path.stat().st_size == made["size"] and made["type"] == "application/json"
    return path


async def test_rescue_export_is_imported_by_the_cli(field, page_with_authenticator, tmp_path):
    page = page_with_authenticator.page
    # loaded while online: bundle.js is not in the worker's shell list yet (see the report)
    await run(page, B + "return Object.keys(b).length;")
    await page.context.set_offline(True)  # the network is gone: nothing can sync
    photo = jpeg(seed=951)
    ids = await _record_with_photo(page, field, photo)
    assert (await sync(page))["error"] is not None
    assert (await status(page))["queued"] == len(ids)

    path = await _download(page, tmp_path, "exportUnsynced", [], "rescue")
    doc = json.loads(path.read_bytes())
    assert doc["format"] == "onevisit.bundle/1" and doc["user"] == field.user
    assert [json.loads(e["envelope"])["id"] for e in doc["events"]] == ids
    assert base64.b64decode(doc["media"][0]["data"]) == photo

    done = cli(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 events (4 accepted, 0 duplicate, 0 rejected)" in done.stdout
    assert "1 media (1 accepted" in done.stdout
    rows = await Event.select(Event.event_id, Event.envelope).where(Event.event_id.is_in(ids))
    by_id = {r["event_id"]: bytes(r["envelope"]).decode() for r in rows}
    assert by_id == {json.loads(e["envelope"])["id"]: e["envelope"] for e in doc["events"]}
    obj = await MediaObject.select(MediaObject.uploaded_by).where(MediaObject.sha256 == sha(photo))
    assert str(obj[0]["uploaded_by"]) == field.user
    report = await verify_all()
    assert report.ok, report.failures

    # back online, the phone's own resend is acknowledged as duplicates and verified
    await page.context.set_offline(False)
    result = await sync(page)
    assert (result["duplicate"], result["rejected"], result["error"]) == (4, 0, None)
    assert (await status(page))["verified"] == 4
    # nothing unsynced is left: the rescue is empty now
    again = await run(page, B + "return JSON.parse(await (await b.exportUnsynced()).text());")
    assert again["events"] == [] and again["media"] == []


READ = (
    B
    + """const file = new File([arg.text], 'handover.json', {type: 'application/json'});
let result;
try {
  result = await b.readBundle(file, {visitPackage: arg.pkg});
} catch (err) {
  return {thrown: err.code ?? String(err)};
}
const stored = arg.keep ? await b.importToPeer(result) : null;
return {ids: result.events.map((e) => e.id), media: result.media.map((m) => [m.sha256, m.size]),
  problems: result.problems.map((p) => [p.at, p.code]), stored,
  peer: (await db.peer.ofVisit(arg.pkg.visit.visit)).map((r) => r.id).sort(),
  peerMedia: await Promise.all(result.media.map(
    async (m) => (await db.media.get(m.sha256))?.state))};"""
)


async def _package(visit: str, user: str) -> dict:
    """What the visit package lists of the group's device keys (GET /api/visits/{id}/package)."""
    rows = await DeviceKey.select(DeviceKey.device_id, DeviceKey.spki).where(
        DeviceKey.app_user == user
    )
    devices = [
        {"device_id": r["device_id"], "actor": user,
         "spki": base64.urlsafe_b64encode(bytes(r["spki"])).rstrip(b"=").decode()}
        for r in rows
    ]  # fmt: skip
    return {"visit": {"visit": visit}, "devices": devices}


def _tamper(doc: dict, index: int, old: str, new: str) -> dict:
    """Edit an envelope's text and keep it canonical: only the signature can tell."""
    out = json.loads(json.dumps(doc))
    envelope = out["events"][index]["envelope"]
    assert old in envelope
    out["events"][index]["envelope"] = envelope.replace(old, new)
    return out


async def test_hand_over_is_verified_on_a_colleagues_phone(
    field, page_with_authenticator, make_tab, tmp_path
):
    page = page_with_authenticator.page
    photo = jpeg(seed=952)
    ids = await _record_with_photo(page, field, photo)
    # an event of another visit stays out of this visit's hand-over
    await record(page, field, [{"type": "note", "body": {"text": "别处"}, "visit": None}])
    path = await _download(page, tmp_path, "exportVisit", [field.visit], "visit")
    text = path.read_text()
    doc = json.loads(text)
    assert [json.loads(e["envelope"])["id"] for e in doc["events"]] == ids
    pkg = await _package(field.visit, field.user)

    colleague = await make_tab()
    await colleague.open()
    cpage = colleague.page
    got = await run(cpage, READ, {"text": text, "pkg": pkg, "keep": True})
    assert got["ids"] == ids and got["problems"] == []
    assert got["media"] == [[sha(photo), len(photo)]]
    assert got["stored"] == {"events": 4, "own": 0, "media": 1}
    assert got["peer"] == sorted(ids) and got["peerMedia"] == ["peer"]

    # a changed note, still canonical: its signature fails, the rest is still good
    bad = _tamper(doc, 3, "无异常", "有异常")
    got = await run(cpage, READ, {"text": json.dumps(bad), "pkg": pkg})
    assert got["problems"] == [["events[3]", "sig.invalid"]] and got["ids"] == ids[:3]
    # photo bytes swapped: refused by their hash
    swapped = json.loads(text)
    swapped["media"][0]["data"] = base64.b64encode(jpeg(seed=953)[: len(photo)]).decode()
    got = await run(cpage, READ, {"text": json.dumps(swapped), "pkg": pkg})
    assert got["problems"] == [["media[0]", "media.hash_mismatch"]] and got["media"] == []
    # the key listed for another actor, and another visit's package
    other = {**pkg, "devices": [{**d, "actor": "someone-else"} for d in pkg["devices"]]}
    got = await run(cpage, READ, {"text": text, "pkg": other})
    assert {c for _, c in got["problems"]} == {"device.not_actor", "bundle.media_unreferenced"}
    got = await run(
        cpage, READ, {"text": text, "pkg": {**pkg, "visit": {"visit": field.other_visit}}}
    )
    assert [c for _, c in got["problems"]][:4] == ["bundle.other_visit"] * 4
    # a file that is not a bundle is refused whole
    got = await run(cpage, READ, {"text": '{"format": "onevisit.bundle/1"}', "pkg": pkg})
    assert got == {"thrown": "bundle.malformed"}

    # on the exporting phone itself its own events are not copied into `peer`
    own = await run(page, READ, {"text": text, "pkg": pkg, "keep": True})
    assert own["stored"] == {"events": 0, "own": 4, "media": 0} and own["peer"] == []
