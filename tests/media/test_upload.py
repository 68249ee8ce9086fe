"""The resumable upload protocol against the real app, database and files."""

from __future__ import annotations

import asyncio
import os
import stat

from onevisit.auth.roles import Role
from onevisit.config import get_settings
from onevisit.media import uploads
from onevisit.media.rules import MAX_BYTES
from onevisit.media.store import get_store
from onevisit.media.tables import MediaObject
from tests.media.util import BASE, jpeg, send, sha, start, upload


async def test_upload_in_chunks_stores_the_original_unchanged(as_role):
    me = await as_role(Role.inspector)
    data = jpeg(seed=101)
    created = await start(me.client, data)
    assert created.status_code == 201
    body = created.json()
    assert body["offset"] == 0 and body["size"] == len(data) and not body["complete"]
    uid, step, last = body["upload_id"], len(data) // 3 + 1, None
    for offset in range(0, len(data), step):
        last = await send(me.client, uid, offset, data[offset : offset + step])
        assert last.status_code == 204, last.text
        assert int(last.headers["upload-offset"]) == min(offset + step, len(data))
    assert last.headers["upload-complete"] == "?1"
    path = get_store().local_path(sha(data))
    assert path.read_bytes() == data
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert str(path).startswith(str(get_settings().media_dir / "originals" / sha(data)[:2]))
    row = await MediaObject.select().where(MediaObject.sha256 == sha(data)).first()
    assert (row["bytes"], row["mime"], row["purpose"]) == (len(data), "image/jpeg", "photo")
    assert (row["width"], row["height"]) == (400, 300)
    assert str(row["uploaded_by"]) == me.user_id
    status = await me.client.get(f"{BASE}/{uid}")
    assert status.json()["complete"] is True
    assert not get_store().partial_path(uid).exists()


async def test_resume_after_a_cut(as_role):
    me = await as_role(Role.inspector)
    data = jpeg(seed=102)
    first = (await start(me.client, data)).json()
    assert (await send(me.client, first["upload_id"], 0, data[:1000])).status_code == 204
    # the phone lost the id: declaring the same file again finds the open upload
    again = await start(me.client, data)
    assert again.status_code == 200
    assert again.json()["upload_id"] == first["upload_id"] and again.json()["offset"] == 1000
    # or it kept the id and asks where to continue (tus HEAD)
    asked = await me.client.head(f"{BASE}/{first['upload_id']}")
    assert asked.status_code == 200
    assert asked.headers["upload-offset"] == "1000"
    assert asked.headers["upload-length"] == str(len(data))
    assert asked.headers["cache-control"] == "no-store"
    done = await send(me.client, first["upload_id"], 1000, data[1000:])
    assert done.status_code == 204 and done.headers["upload-complete"] == "?1"
    assert get_store().read(sha(data)) == data


async def test_offset_mismatch_behind_and_ahead(as_role):
    me = await as_role(Role.inspector)
    data = jpeg(seed=103)
    uid = (await start(me.client, data)).json()["upload_id"]
    assert (await send(me.client, uid, 0, data[:500])).status_code == 204
    for wrong in (0, 400, 501, 9999):  # a resent first chunk, behind, ahead
        r = await send(me.client, uid, wrong, data[wrong : wrong + 100])
        assert r.status_code == 409
        assert r.json()["code"] == "upload.offset_mismatch"
        assert r.json()["details"] == {"offset": 500}
    assert (await me.client.get(f"{BASE}/{uid}")).json()["offset"] == 500
    assert (await send(me.client, uid, 500, data[500:])).status_code == 204
    assert get_store().read(sha(data)) == data


async def test_missing_or_bad_offset_header(as_role):
    me = await as_role(Role.inspector)
    uid = (await start(me.client, jpeg(seed=104))).json()["upload_id"]
    r = await me.client.patch(f"{BASE}/{uid}", content=b"x")
    assert r.status_code == 400 and r.json()["code"] == "upload.offset_required"
    r = await me.client.patch(f"{BASE}/{uid}", content=b"x", headers={"Upload-Offset": "-1"})
    assert r.status_code == 400 and r.json()["code"] == "upload.offset_required"


async def test_too_long_appends_nothing(as_role):
    me = await as_role(Role.inspector)
    data = jpeg(seed=105)
    uid = (await start(me.client, data)).json()["upload_id"]
    r = await send(me.client, uid, 0, data + b"extra")
    assert r.status_code == 400 and r.json()["code"] == "upload.too_long"
    assert (await me.client.get(f"{BASE}/{uid}")).json()["offset"] == 0
    assert not get_store().partial_path(uid).exists()


async def test_truncated_upload_is_reset(as_role):
    """The client declares the right hash but its bytes differ (a corrupted chunk): at
    completion the hash does not match, the partial is discarded, the offset goes back to 0."""
    me = await as_role(Role.inspector)
    data = jpeg(seed=106)
    uid = (await start(me.client, data)).json()["upload_id"]
    assert (await send(me.client, uid, 0, data[:2000])).status_code == 204
    broken = data[2000:-10] + b"\0" * 10
    r = await send(me.client, uid, 2000, broken)
    assert r.status_code == 422 and r.json()["code"] == "media.hash_mismatch"
    assert r.json()["details"]["offset"] == 0
    assert (await me.client.get(f"{BASE}/{uid}")).json()["offset"] == 0
    assert not get_store().partial_path(uid).exists()
    assert not get_store().exists(sha(data))
    # the phone resends everything, this time intact
    assert (await send(me.client, uid, 0, data)).status_code == 204
    assert get_store().read(sha(data)) == data


async def test_wrong_declared_hash_is_refused(as_role):
    me = await as_role(Role.inspector)
    data = jpeg(seed=107)
    wrong = sha(b"something else")
    r = await upload(me.client, data, digest=wrong)
    assert r.status_code == 422 and r.json()["code"] == "media.hash_mismatch"
    assert not get_store().exists(wrong) and not get_store().exists(sha(data))
    assert await MediaObject.count().where(MediaObject.sha256 == wrong) == 0


async def test_declaration_is_validated(as_role):
    me = await as_role(Role.inspector)
    big = {"sha256": "a" * 64, "size": MAX_BYTES["photo"] + 1, "mime": "image/jpeg"}
    r = await me.client.post(f"{BASE}/", json={**big, "purpose": "photo"})
    assert r.status_code == 413 and r.json()["code"] == "media.too_large"
    video = {**big, "mime": "video/mp4", "purpose": "video"}  # 25 MB + 1 is fine for video
    assert (await me.client.post(f"{BASE}/", json=video)).status_code == 201
    r = await me.client.post(f"{BASE}/", json={**video, "size": MAX_BYTES["video"] + 1})
    assert r.status_code == 413 and r.json()["code"] == "media.too_large"
    r = await me.client.post(
        f"{BASE}/", json={**big, "size": 10, "purpose": "photo", "mime": "text/html"}
    )
    assert r.status_code == 400 and r.json()["code"] == "media.mime_unsupported"
    for bad in ({"sha256": "A" * 64}, {"sha256": "../../etc"}, {"size": 0}, {"purpose": "x"}):
        r = await me.client.post(f"{BASE}/", json={**big, "size": 10, "purpose": "photo", **bad})
        assert r.status_code == 400 and r.json()["code"] == "request.invalid", bad


async def test_existing_object_is_deduplicated(as_role):
    """Only the user who sent these bytes before gets `complete` at once; a colleague with the
    same photo sends it all, is checked, and nothing new is written to the store."""
    me, other = await as_role(Role.inspector), await as_role(Role.leader)
    data = jpeg(seed=108)
    assert (await upload(me.client, data)).status_code == 204
    done = {
        "upload_id": None,
        "sha256": sha(data),
        "offset": len(data),
        "size": len(data),
        "complete": True,
    }
    r = await start(me.client, data)  # an idempotent resend
    assert r.status_code == 200 and r.json() == done
    original = get_store().local_path(sha(data))
    inode = os.stat(original).st_ino
    r = await start(other.client, data)  # the same photo from a colleague: send every byte
    assert r.status_code == 201
    assert (r.json()["offset"], r.json()["complete"]) == (0, False)
    uid = r.json()["upload_id"]
    last = await send(other.client, uid, 0, data)
    assert last.status_code == 204 and last.headers["upload-complete"] == "?1"
    assert (await other.client.get(f"{BASE}/{uid}")).json()["complete"] is True
    assert not get_store().partial_path(uid).exists()
    assert os.stat(original).st_ino == inode and original.read_bytes() == data
    rows = await MediaObject.select().where(MediaObject.sha256 == sha(data))
    assert len(rows) == 1 and str(rows[0]["uploaded_by"]) == me.user_id
    r = await start(other.client, data)  # now theirs too
    assert r.status_code == 200 and r.json() == done
    r = await me.client.post(
        f"{BASE}/", json={"sha256": sha(data), "size": 5, "mime": "image/jpeg", "purpose": "photo"}
    )
    assert r.status_code == 422 and r.json()["code"] == "media.size_mismatch"
    assert await MediaObject.count().where(MediaObject.sha256 == sha(data)) == 1


async def test_declaring_a_stored_hash_proves_nothing(as_role):
    """Hash, size and type are printed in published records: declaring them is no upload."""
    owner, other = await as_role(Role.inspector), await as_role(Role.inspector)
    data = jpeg(seed=113)
    assert (await upload(owner.client, data)).status_code == 204
    created = await start(other.client, data)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["offset"], body["complete"]) == (0, False) and body["upload_id"]
    uid = body["upload_id"]
    asked = await other.client.head(f"{BASE}/{uid}")
    assert asked.headers["upload-offset"] == "0" and "upload-complete" not in asked.headers
    r = await send(other.client, uid, 0, b"")  # nothing sent: nothing proved
    assert r.status_code == 204 and "upload-complete" not in r.headers
    r = await send(other.client, uid, len(data), b"")  # pretending the bytes arrived
    assert r.status_code == 409 and r.json()["details"] == {"offset": 0}
    assert not await uploads.possesses(user_id=other.user_id, sha256=sha(data))
    assert (await other.client.get(f"/api/media/{sha(data)}")).status_code == 404
    again = await start(other.client, data)  # still theirs to send, resumed
    assert (again.status_code, again.json()["upload_id"]) == (200, uid)
    assert again.json()["complete"] is False


async def test_wrong_bytes_for_a_stored_hash_are_refused(as_role):
    owner, other = await as_role(Role.inspector), await as_role(Role.inspector)
    data = jpeg(seed=114)
    assert (await upload(owner.client, data)).status_code == 204
    uid = (await start(other.client, data)).json()["upload_id"]
    r = await send(other.client, uid, 0, b"\0" * len(data))
    assert r.status_code == 422 and r.json()["code"] == "media.hash_mismatch"
    assert r.json()["details"]["offset"] == 0
    status = (await other.client.get(f"{BASE}/{uid}")).json()
    assert (status["offset"], status["complete"]) == (0, False)
    assert not get_store().partial_path(uid).exists()
    assert get_store().read(sha(data)) == data
    assert (await other.client.get(f"/api/media/{sha(data)}")).status_code == 404
    r = await send(other.client, uid, 0, data)  # the real bytes: proved, and readable
    assert r.status_code == 204 and r.headers["upload-complete"] == "?1"
    assert await uploads.possesses(user_id=other.user_id, sha256=sha(data))
    assert (await other.client.get(f"/api/media/{sha(data)}")).content == data


async def test_a_deduplicated_upload_must_agree_on_the_type(as_role):
    """Declared before the object existed, finished after another upload stored it with
    another type: refused like a stored object of another type at declaration."""
    first, second = await as_role(Role.inspector), await as_role(Role.inspector)
    data = jpeg(seed=115)
    uid = (await start(second.client, data, mime="image/png")).json()["upload_id"]
    assert (await upload(first.client, data)).status_code == 204
    r = await send(second.client, uid, 0, data)
    assert r.status_code == 422 and r.json()["code"] == "media.mime_mismatch"
    assert (await second.client.get(f"{BASE}/{uid}")).status_code == 404  # rejected
    assert not await uploads.possesses(user_id=second.user_id, sha256=sha(data))


async def test_another_users_upload_is_unknown(as_role):
    me, other = await as_role(Role.inspector), await as_role(Role.inspector)
    data = jpeg(seed=109)
    uid = (await start(me.client, data)).json()["upload_id"]
    for r in (
        await other.client.get(f"{BASE}/{uid}"),
        await send(other.client, uid, 0, data),
        await other.client.get(f"{BASE}/not-a-uuid"),
    ):
        assert r.status_code == 404 and r.json()["code"] == "upload.unknown"
    assert (await other.client.head(f"{BASE}/{uid}")).status_code == 404
    assert (await me.client.get(f"{BASE}/{uid}")).json()["offset"] == 0


async def test_signed_out_is_401(client):
    r = await client.post(
        f"{BASE}/", json={"sha256": "a" * 64, "size": 1, "mime": "image/jpeg", "purpose": "photo"}
    )
    assert r.status_code == 401 and r.json()["code"] == "auth.required"
    assert (await client.get(f"{BASE}/00000000-0000-0000-0000-000000000000")).status_code == 401
    assert (await client.get(f"/api/media/{'a' * 64}")).status_code == 401
    assert (await client.get(f"/api/media/{'a' * 64}/thumb")).status_code == 401


async def test_concurrent_patches_at_one_offset(as_role, monkeypatch):
    """Two PATCHes at the same offset (a resend racing the original): exactly one wins, the
    other gets 409, and the stored file is intact."""
    me = await as_role(Role.inspector)
    data = jpeg(800, 600, seed=110)
    uid = (await start(me.client, data)).json()["upload_id"]
    half = len(data) // 2
    assert (await send(me.client, uid, 0, data[:half])).status_code == 204
    calls = []
    both = asyncio.Event()
    real_claim = uploads._claim_and_write

    async def counting(*args):
        # hold each until both are past the early offset check: otherwise the second request
        # may start after the first committed and be refused early (the DB would not decide)
        calls.append(args[1])
        if len(calls) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=10)
        await real_claim(*args)

    monkeypatch.setattr(uploads, "_claim_and_write", counting)
    # the racing writer sends different bytes: the loser must not write them
    results = await asyncio.gather(
        send(me.client, uid, half, data[half : half + 1000]),
        send(me.client, uid, half, b"\xff" * 1000),
    )
    assert calls == [half, half]  # both got past the early check: the DB decided
    assert sorted(r.status_code for r in results) == [204, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.json()["details"] == {"offset": half + 1000}
    winner = next(i for i, r in enumerate(results) if r.status_code == 204)
    if winner == 1:  # the garbage won the race: the hash check at the end resets it
        rest = await send(me.client, uid, half + 1000, data[half + 1000 :])
        assert rest.json()["code"] == "media.hash_mismatch"
        assert (await send(me.client, uid, 0, data)).status_code == 204
    else:
        assert get_store().partial_path(uid).read_bytes()[half:] == data[half : half + 1000]
        assert (await send(me.client, uid, half + 1000, data[half + 1000 :])).status_code == 204
    assert get_store().read(sha(data)) == data


async def test_chunk_cap(as_role, monkeypatch):
    me = await as_role(Role.inspector)
    monkeypatch.setattr(uploads, "CHUNK_MAX", 1000)
    data = jpeg(seed=111)
    uid = (await start(me.client, data)).json()["upload_id"]
    r = await send(me.client, uid, 0, data[:1001])  # with Content-Length: refused up front
    assert r.status_code == 413 and r.json()["code"] == "upload.chunk_too_large"

    async def unsized():  # chunked transfer, no Content-Length: refused while streaming
        yield data[:600]
        yield data[600:1200]

    headers = {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    r = await me.client.patch(f"{BASE}/{uid}", content=unsized(), headers=headers)
    assert r.status_code == 413 and r.json()["code"] == "upload.chunk_too_large"
    assert (await me.client.get(f"{BASE}/{uid}")).json()["offset"] == 0
    assert (await send(me.client, uid, 0, data[:1000])).status_code == 204


async def test_interrupted_completion_is_finished_by_an_empty_patch(as_role, monkeypatch):
    """The server stopped after the last byte was committed but before the object was
    stored: the upload sits at offset == size; an empty PATCH at that offset finishes it."""
    me = await as_role(Role.inspector)
    data = jpeg(seed=112)
    uid = (await start(me.client, data)).json()["upload_id"]
    real_finish = uploads._finish

    async def crash(row):
        raise RuntimeError("power cut")

    monkeypatch.setattr(uploads, "_finish", crash)
    assert (await send(me.client, uid, 0, data)).status_code == 500
    monkeypatch.setattr(uploads, "_finish", real_finish)
    status = (await me.client.get(f"{BASE}/{uid}")).json()
    assert (status["offset"], status["complete"]) == (len(data), False)
    assert (await start(me.client, data)).json()["offset"] == len(data)  # resumable as well
    r = await send(me.client, uid, len(data), b"")
    assert r.status_code == 204 and r.headers["upload-complete"] == "?1"
    assert get_store().read(sha(data)) == data
    r = await send(me.client, uid, len(data), b"")  # again: still complete, nothing changes
    assert r.status_code == 204 and r.headers["upload-complete"] == "?1"
    assert (await send(me.client, uid, len(data), b"x")).json()["code"] == "upload.too_long"


async def test_a_lost_partial_is_never_completed_from_the_store(as_role, monkeypatch):
    """At offset == size with the partial file gone, the stored object says nothing about
    what this upload sent: the upload is reset, never completed (a race with a hash-mismatch
    reset must not hand out someone else's object)."""
    owner, other = await as_role(Role.inspector), await as_role(Role.inspector)
    data = jpeg(seed=116)
    assert (await upload(owner.client, data)).status_code == 204
    uid = (await start(other.client, data)).json()["upload_id"]
    real_finish = uploads._finish

    async def crash(row):
        raise RuntimeError("power cut")

    monkeypatch.setattr(uploads, "_finish", crash)
    assert (await send(other.client, uid, 0, b"\0" * len(data))).status_code == 500
    monkeypatch.setattr(uploads, "_finish", real_finish)
    get_store().discard_partial(uid)  # what a concurrent reset does first
    r = await send(other.client, uid, len(data), b"")
    assert r.status_code == 422 and r.json()["code"] == "media.hash_mismatch"
    status = (await other.client.get(f"{BASE}/{uid}")).json()
    assert (status["offset"], status["complete"]) == (0, False)
    assert not await uploads.possesses(user_id=other.user_id, sha256=sha(data))


async def test_a_crash_after_storing_is_finished_from_the_kept_partial(as_role, monkeypatch):
    """The original is in the store but the rows are not: the partial file is still there,
    so the retry hashes this upload's bytes again and records them."""
    me = await as_role(Role.inspector)
    data = jpeg(seed=117)
    uid = (await start(me.client, data)).json()["upload_id"]
    real_record = uploads._record

    async def crash(*args, **kw):
        raise RuntimeError("power cut")

    monkeypatch.setattr(uploads, "_record", crash)
    assert (await send(me.client, uid, 0, data)).status_code == 500
    monkeypatch.setattr(uploads, "_record", real_record)
    assert get_store().exists(sha(data)) and get_store().partial_path(uid).exists()
    assert await MediaObject.count().where(MediaObject.sha256 == sha(data)) == 0
    r = await send(me.client, uid, len(data), b"")
    assert r.status_code == 204 and r.headers["upload-complete"] == "?1"
    assert not get_store().partial_path(uid).exists()
    assert get_store().read(sha(data)) == data
    row = await MediaObject.select().where(MediaObject.sha256 == sha(data)).first()
    assert (row["width"], row["height"], str(row["uploaded_by"])) == (400, 300, me.user_id)
