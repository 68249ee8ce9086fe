"""pwa/media.js in real Chromium against the real server (docs/media.md, docs/sync.md).

Real JPEGs made with Pillow (≥ 2.5 MiB, so 1 MiB chunks make several PATCHes) are chosen
through a real `<input type=file>`, captured (hashed and kept in IndexedDB), named by a photo
event and synced through the outbox. Python checks what the server stored: the original's
bytes on disk, one `media_object` row, the uploads, and the verified event.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
from pathlib import Path

import pytest
from PIL import Image

from onevisit.evidence.tables import Event, MediaRef
from onevisit.evidence.verify import verify_all
from onevisit.media.store import get_store
from onevisit.media.tables import MediaObject, MediaUpload
from tests.browser.field import (
    Field,
    field_fixture,  # noqa: F401 (the `field` fixture)
    record,
    run,
    status,
    sync,
)

pytestmark = pytest.mark.browser

MiB = 1024 * 1024
UPLOADS = "**/api/media/uploads/*"  # PATCH/HEAD/GET of one upload, not the declaration

# Snippets run with `m` = media.js besides the outbox prelude's `o`, `db`, `key`, `arg`.
MEDIA = "const m = await import('/media.js');"


def jpeg(path: Path, *, seed: int, min_bytes: int = 5 * MiB // 2) -> bytes:
    """A real JPEG of noise (it barely compresses) of at least `min_bytes`, written to path."""
    rng = random.Random(seed)
    side = 1100
    while True:
        pixels = rng.randbytes(side * side * 3)
        buf = io.BytesIO()
        Image.frombytes("RGB", (side, side), pixels).save(buf, "JPEG", quality=95)
        if buf.tell() >= min_bytes:
            path.write_bytes(buf.getvalue())
            return buf.getvalue()
        side += 200


async def choose(page, path: Path) -> None:
    """Put the file in a real file input of the page, as the camera picker would."""
    await page.evaluate(
        """() => { if (document.querySelector('#pick')) return;
        const input = document.createElement('input');
        input.type = 'file'; input.id = 'pick'; document.body.append(input); }"""
    )
    await page.set_input_files("#pick", str(path))


async def capture(page, f: Field, path: Path) -> dict:
    await choose(page, path)
    return await run(
        page,
        MEDIA + "return m.capture(document.querySelector('#pick').files[0],"
        " {purpose: 'photo', visit: arg.visit});",
        {"visit": f.visit},
    )


async def media_status(page) -> dict:
    return await run(page, MEDIA + "return m.status();")


async def upload(page, chunk: int = MiB) -> dict:
    return await run(page, MEDIA + "return m.uploadPending({chunkBytes: arg});", chunk)


def photo_event(f: Field, ref: dict) -> dict:
    return {"type": "photo", "visit": f.visit, "body": {"media": ref, "caption": "经营场所门头"}}


def count_patches(page) -> list[int]:
    """Upload-Offset of every PATCH the page sends from now on."""
    offsets: list[int] = []

    def seen(request) -> None:
        if request.method == "PATCH" and "/api/media/uploads/" in request.url:
            offsets.append(int(request.headers["upload-offset"]))

    page.on("request", seen)
    return offsets


async def uploads_of(sha256: str) -> list[dict]:
    return await MediaUpload.select(
        MediaUpload.state, MediaUpload.upload_offset, MediaUpload.size
    ).where(MediaUpload.sha256 == sha256)


def stored_bytes(sha256: str) -> bytes:
    return get_store().read(sha256)


async def test_photo_uploads_in_chunks_before_its_event(field, page_with_authenticator, tmp_path):
    page = page_with_authenticator.page
    original = jpeg(tmp_path / "door.jpg", seed=1)
    sha = hashlib.sha256(original).hexdigest()
    ref = await capture(page, field, tmp_path / "door.jpg")
    assert ref == {"sha256": sha, "bytes": len(original), "mime": "image/jpeg"}
    # The same picture again is the same object: one row, the earliest kept.
    first = await run(page, "return (await db.media.get(arg)).created_at;", sha)
    assert await capture(page, field, tmp_path / "door.jpg") == ref
    st = await media_status(page)
    assert (st["pending"], st["uploaded"], st["failed"]) == (1, 0, 0), st
    assert await run(page, "return (await db.media.get(arg)).created_at;", sha) == first

    ids = await record(page, field, [photo_event(field, ref)])
    patches = count_patches(page)
    got = await sync(page)
    assert got["media"]["uploaded"] == 1 and got["media"]["error"] is None, got
    assert got["media"]["bytes_sent"] == len(original), got
    assert (got["verified"], got["error"], got["waiting"]) == (1, None, []), got
    chunks = -(-len(original) // MiB)
    assert chunks >= 3 and patches == [i * MiB for i in range(chunks)]

    assert stored_bytes(sha) == original
    obj = await MediaObject.select().where(MediaObject.sha256 == sha)
    assert [(o["bytes"], o["mime"], o["purpose"]) for o in obj] == [
        (len(original), "image/jpeg", "photo")
    ]
    assert [u["state"] for u in await uploads_of(sha)] == ["complete"]
    event = await Event.select(Event.event_type, Event.hash).where(Event.event_id.is_in(ids))
    assert [e["event_type"] for e in event] == ["photo"]
    refs = await MediaRef.select(MediaRef.event_hash, MediaRef.visit).where(MediaRef.sha256 == sha)
    assert refs == [{"event_hash": event[0]["hash"], "visit": field.visit}]
    assert (await status(page))["verified"] == 1
    assert (await verify_all()).ok

    row = await run(
        page,
        MEDIA
        + """const r = await db.media.get(arg);
        const blob = await m.blobOf(arg);
        return {state: r.state, uploaded_at: r.uploaded_at, size: blob.size, type: blob.type,
                none: await m.blobOf('0'.repeat(64))};""",
        sha,
    )
    assert row["state"] == "uploaded" and row["uploaded_at"] > 0, row
    assert (row["size"], row["type"], row["none"]) == (len(original), "image/jpeg", None)

    # Sent again (a lost answer): the server says complete at once and no byte goes.
    patches.clear()
    again_pending = "return db.media.put({...(await db.media.get(arg)), state: 'pending'});"
    await run(page, again_pending, sha)
    again = await upload(page)
    assert (again["already"], again["uploaded"], again["bytes_sent"]) == (1, 0, 0), again
    assert patches == []
    assert (await media_status(page))["uploaded"] == 1
    assert await MediaObject.count().where(MediaObject.sha256 == sha) == 1


async def test_cut_upload_resumes_from_the_servers_offset(field, page_with_authenticator, tmp_path):
    tab = page_with_authenticator
    page = tab.page
    original = jpeg(tmp_path / "shelf.jpg", seed=2)
    sha = hashlib.sha256(original).hexdigest()
    ref = await capture(page, field, tmp_path / "shelf.jpg")
    ids = await record(page, field, [photo_event(field, ref)])

    # The 2nd PATCH reaches the server but its answer is lost on the way back.
    seen = {"patch": 0}

    async def lose_second_answer(route) -> None:
        if route.request.method != "PATCH":
            await route.continue_()
            return
        seen["patch"] += 1
        if seen["patch"] == 2:
            await route.fetch()  # the server takes the chunk
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route(UPLOADS, lose_second_answer)
    cut = await sync(page)
    assert cut["media"]["error"] == "network.unreachable" and cut["media"]["pending"] == 1, cut
    # The event went without its photo: answered media.not_uploaded, it stays queued.
    assert (cut["verified"], cut["rejected"], len(cut["waiting"])) == (0, 0, 1), cut
    row = await run(page, "return db.outbox.get(arg);", ids[0])
    assert (row["state"], row["code"]) == ("queued", "media.not_uploaded"), row
    assert [(u["state"], u["upload_offset"]) for u in await uploads_of(sha)] == [("open", 2 * MiB)]
    assert await MediaObject.count().where(MediaObject.sha256 == sha) == 0
    st = await media_status(page)
    assert (st["pending"], st["last_error"]) == (1, "network.unreachable"), st

    # Later, after a restart of the app: the upload goes on from where the server is.
    await page.unroute(UPLOADS)
    await page.reload()
    patches = count_patches(page)
    done = await sync(page)
    assert done["media"]["uploaded"] == 1 and done["media"]["error"] is None, done
    assert done["media"]["bytes_sent"] == len(original) - 2 * MiB, done
    assert patches and patches[0] == 2 * MiB
    assert (done["verified"], done["error"]) == (1, None), done

    assert stored_bytes(sha) == original
    assert await MediaObject.count().where(MediaObject.sha256 == sha) == 1
    assert [u["state"] for u in await uploads_of(sha)] == ["complete"]
    assert await Event.count().where(Event.event_id.is_in(ids)) == 1
    assert (await verify_all()).ok


async def test_offline_mid_upload_then_back(field, page_with_authenticator, tmp_path):
    """The network goes away between two chunks (the request never leaves the phone)."""
    tab = page_with_authenticator
    page = tab.page
    original = jpeg(tmp_path / "sign.jpg", seed=3)
    sha = hashlib.sha256(original).hexdigest()
    await capture(page, field, tmp_path / "sign.jpg")

    async def offline_after_first(route) -> None:
        if route.request.method == "PATCH" and route.request.headers["upload-offset"] != "0":
            await tab.context.set_offline(True)
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await page.route(UPLOADS, offline_after_first)
    cut = await upload(page)
    assert (cut["error"], cut["pending"], cut["uploaded"]) == ("network.unreachable", 1, 0), cut
    assert [u["upload_offset"] for u in await uploads_of(sha)] == [MiB]
    await page.unroute(UPLOADS)
    # Still offline: answered, not thrown; nothing changes.
    assert (await upload(page))["error"] == "network.unreachable"
    await tab.context.set_offline(False)
    back = await upload(page)
    assert (back["uploaded"], back["error"], back["bytes_sent"]) == (1, None, len(original) - MiB)
    assert stored_bytes(sha) == original
    assert [u["state"] for u in await uploads_of(sha)] == ["complete"]


async def test_tampered_copy_fails_with_hash_mismatch(field, page_with_authenticator, tmp_path):
    page = page_with_authenticator.page
    original = jpeg(tmp_path / "desk.jpg", seed=4)
    sha = hashlib.sha256(original).hexdigest()
    await capture(page, field, tmp_path / "desk.jpg")
    # The phone's copy changes after capture (one byte in the 2nd MiB): it no longer hashes to
    # the reference the events carry.
    await run(
        page,
        """const r = await db.media.get(arg);
        const bytes = new Uint8Array(await r.blob.arrayBuffer());
        bytes[MiB + 7] ^= 0xff;
        await db.media.put({...r, blob: new Blob([bytes], {type: r.mime})});""".replace(
            "MiB", str(MiB)
        ),
        sha,
    )
    patches = count_patches(page)
    got = await upload(page)
    assert (got["failed"], got["uploaded"], got["pending"]) == (1, 0, 0), got
    chunks = -(-len(original) // MiB)
    assert patches == [i * MiB for i in range(chunks)] * 2  # restarted once, then given up
    row = await run(page, "return db.media.get(arg);", sha)
    assert (row["state"], row["code"]) == ("failed", "media.hash_mismatch"), row
    assert "uploaded_at" not in row
    failed = await run(page, MEDIA + "return (await m.failed()).map((r) => r.sha256);")
    assert failed == [sha]
    st = await media_status(page)
    assert (st["failed"], st["uploaded"], st["pending"]) == (1, 0, 0), st
    assert await MediaObject.count().where(MediaObject.sha256 == sha) == 0
    assert not get_store().exists(sha)
    # A failed object is kept but not sent again.
    patches.clear()
    assert (await upload(page))["failed"] == 0 and patches == []


async def test_capture_refuses_what_no_event_could_name(page_with_authenticator):
    page = page_with_authenticator.page
    await page.goto(page_with_authenticator.base + "/")
    codes = await page.evaluate(
        """async () => {
        const m = await import('/media.js');
        const code = (p) => p.then(() => null, (e) => e.code);
        return [
          await code(m.capture(new Blob([]), {purpose: 'photo', mime: 'image/jpeg'})),
          await code(m.capture(new Blob(['x']), {purpose: 'photo'})),
          await code(m.capture(new Blob(['x'], {type: 'image/jpeg'}), {purpose: 'selfie'})),
          (await m.capture(new Blob(['{}'], {type: 'Application/JSON; charset=utf-8'}),
                           {purpose: 'signature'})).mime,
        ];
        }"""
    )
    refused = ["media.empty", "media.mime_unknown", "media.purpose_unknown"]
    assert codes == [*refused, "application/json"]


async def test_409_and_a_lost_upload_id_resume(field, page_with_authenticator, tmp_path):
    page = page_with_authenticator.page
    original = jpeg(tmp_path / "gate.jpg", seed=5)
    sha = hashlib.sha256(original).hexdigest()
    await capture(page, field, tmp_path / "gate.jpg")
    seen = {"patch": 0}

    async def meddle(route) -> None:
        if route.request.method != "PATCH":
            await route.continue_()
            return
        seen["patch"] += 1
        if seen["patch"] == 1:  # the server forgot the upload (pruned): 404 upload.unknown
            body = '{"code": "upload.unknown", "message": "", "details": {}}'
            await route.fulfill(status=404, content_type="application/json", body=body)
        elif seen["patch"] == 3:  # a stale offset: 409 names the server's
            await route.continue_(headers={**route.request.headers, "upload-offset": "0"})
        else:
            await route.continue_()

    await page.route(UPLOADS, meddle)
    patches = count_patches(page)
    got = await upload(page)
    assert (got["uploaded"], got["failed"], got["error"]) == (1, 0, None), got
    # 0 (404: declared again, offset 0), 0, 1 MiB sent as 0 (409 → 1 MiB), 1 MiB, 2 MiB, …
    chunks = -(-len(original) // MiB)
    assert patches == [0, 0, MiB, *[i * MiB for i in range(1, chunks)]], patches
    assert stored_bytes(sha) == original
    assert [u["state"] for u in await uploads_of(sha)] == ["complete"]


async def test_two_tabs_upload_each_object_once(field, page_with_authenticator, tmp_path):
    tab = page_with_authenticator
    original = jpeg(tmp_path / "two.jpg", seed=6)
    sha = hashlib.sha256(original).hexdigest()
    await capture(tab.page, field, tmp_path / "two.jpg")
    other = await tab.context.new_page()
    await other.goto(tab.base + "/")
    patches = count_patches(tab.page)
    patches_other = count_patches(other)
    both = await asyncio.gather(upload(tab.page), upload(other))
    assert sorted(r["uploaded"] for r in both) == [0, 1], both
    chunks = -(-len(original) // MiB)
    assert len(patches) + len(patches_other) == chunks  # the Web Lock: one run sends, once
    assert stored_bytes(sha) == original
    assert (await media_status(other))["uploaded"] == 1
