"""The store's guarantees and the evidence table's triggers."""

from __future__ import annotations

import uuid

import pytest

from onevisit.auth.roles import Role
from onevisit.media.store import LocalStore, hash_file
from onevisit.media.tables import MediaObject
from tests.media.util import jpeg, sha, upload


def test_put_never_overwrites(tmp_path):
    store = LocalStore(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_bytes(b"original")
    digest = sha(b"original")
    assert store.put(first, sha256=digest) is True
    path = store.local_path(digest)
    assert path == tmp_path / "originals" / digest[:2] / digest[2:4] / digest
    second.write_bytes(b"intruder")  # a buggy caller with a wrong hash
    assert store.put(second, sha256=digest) is False
    assert path.read_bytes() == b"original" and not second.exists() and not first.exists()
    assert hash_file(path) == digest and hash_file(path, limit=4) == sha(b"orig")


def test_put_can_keep_the_source(tmp_path):
    """An upload keeps its partial file until its rows are recorded."""
    store = LocalStore(tmp_path)
    src, digest = tmp_path / "a", sha(b"original")
    src.write_bytes(b"original")
    assert store.put(src, sha256=digest, keep_src=True) is True
    assert src.read_bytes() == b"original" and store.read(digest) == b"original"
    assert store.put(src, sha256=digest, keep_src=True) is False and src.exists()


def test_names_are_never_from_users(tmp_path):
    store = LocalStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "a" * 63):
        with pytest.raises(ValueError):
            store.local_path(bad)
        with pytest.raises(ValueError):
            store.get_derived("thumb", bad)
    with pytest.raises(ValueError):
        store.partial_path("../x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.get_derived("../originals", "a" * 64)


def test_write_at_is_positional(tmp_path):
    store, uid = LocalStore(tmp_path), uuid.uuid4()
    store.write_at(uid, 0, b"hello world")
    store.write_at(uid, 6, b"WORLD")  # a rewrite at the committed offset replaces, never appends
    assert store.partial_path(uid).read_bytes() == b"hello WORLD"
    store.discard_partial(uid)
    assert not store.partial_path(uid).exists()


@pytest.mark.parametrize(
    "sql", ["UPDATE media_object SET mime = 'text/html'", "DELETE FROM media_object"]
)
async def test_media_object_is_append_only(as_role, sql):
    me = await as_role(Role.inspector)
    data = jpeg(seed=401 if "UPDATE" in sql else 402)
    assert (await upload(me.client, data)).status_code == 204
    before = await MediaObject.count()
    with pytest.raises(Exception, match="append-only"):
        await MediaObject.raw(sql)
    assert await MediaObject.count() == before
    row = await MediaObject.select().where(MediaObject.sha256 == sha(data)).first()
    assert row["mime"] == "image/jpeg"
