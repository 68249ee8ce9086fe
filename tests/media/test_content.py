"""Content checks at completion: the bytes matched their hash, but are they what they claim?"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile

from onevisit.auth.roles import Role
from onevisit.errors import AppError
from onevisit.media.store import get_store
from onevisit.media.tables import MediaObject, MediaUpload
from onevisit.media.validate import check_content
from tests.media.util import BASE, jpeg, png, sha, start, upload


def _bomb(width: int, height: int) -> bytes:
    """A few kB of 1-bit PNG that declares width x height pixels."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()


async def _rejected(me, data: bytes, code: str, **kw) -> None:
    r = await upload(me.client, data, **kw)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert not get_store().exists(sha(data))
    assert await MediaObject.count().where(MediaObject.sha256 == sha(data)) == 0
    row = await MediaUpload.select().where(MediaUpload.sha256 == sha(data)).first()
    assert row["state"] == "rejected"
    assert not get_store().partial_path(row["id"]).exists()
    r = await me.client.get(f"{BASE}/{row['id']}")  # a rejected upload cannot be resumed
    assert r.status_code == 404


async def test_fake_image_is_refused(as_role):
    me = await as_role(Role.inspector)
    await _rejected(me, b"<html>not a photo</html>\n" * 40, "media.not_image")


async def test_truncated_jpeg_is_refused(as_role):
    me = await as_role(Role.inspector)
    await _rejected(me, jpeg(seed=201)[:-400], "media.not_image")


async def test_format_must_match_declared_type(as_role):
    me = await as_role(Role.inspector)
    await _rejected(me, png(), "media.mime_mismatch", mime="image/jpeg")


async def test_decompression_bomb_is_refused_without_decoding(as_role, monkeypatch):
    me = await as_role(Role.inspector)
    data = _bomb(10_000, 10_000)  # 100 MP declared in ~12 kB
    assert len(data) < 50_000
    decoded = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    await _rejected(me, data, "media.decompression_bomb", mime="image/png")
    assert decoded == []  # refused from the header alone


@pytest.mark.parametrize("size", [(10_000, 10_000), (20_000, 20_000)])
def test_bomb_sizes_either_side_of_pillows_own_limit(tmp_path, size):
    path = tmp_path / "bomb.png"
    path.write_bytes(_bomb(*size))
    with pytest.raises(AppError) as caught:
        check_content(path, mime="image/png")
    assert caught.value.code == "media.decompression_bomb"


def test_images_and_videos_that_pass(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(png(30, 20))
    assert (check_content(path, mime="image/png").width, 20) == (30, 20)
    path.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 100)
    assert check_content(path, mime="video/mp4").width is None
    with pytest.raises(AppError, match="not_video"):
        check_content(path, mime="video/webm")


async def test_signature_png_upload(as_role):
    me = await as_role(Role.inspector)
    data = png(300, 120)
    assert (await upload(me.client, data, mime="image/png", purpose="signature")).status_code == 204
    again = await start(me.client, data, mime="image/png", purpose="signature")
    assert again.json()["complete"] is True


async def test_signature_stroke_data_is_json(as_role):
    me = await as_role(Role.inspector)
    strokes = b'[{"x":[1,2],"y":[3,4],"p":[0.5,0.6],"t":[0,16]}]'
    r = await upload(me.client, strokes, mime="application/json", purpose="signature")
    assert r.status_code == 204, r.text
    r = await upload(me.client, b"not json {", mime="application/json", purpose="signature")
    assert r.status_code == 422 and r.json()["code"] == "media.not_json"
    r = await start(me.client, b"[]", mime="application/json", purpose="photo")
    assert r.status_code == 400 and r.json()["code"] == "media.mime_unsupported"
