"""Reading media: originals byte for byte, thumbnails and watermarked display copies."""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageChops

from onevisit.auth.roles import Role
from onevisit.media.store import get_store
from tests.media.util import jpeg, png, sha, upload


async def _stored(me, data: bytes, **kw) -> str:
    assert (await upload(me.client, data, **kw)).status_code == 204
    return sha(data)


async def test_original_is_served_unchanged(as_role):
    me, reader = await as_role(Role.inspector), await as_role(Role.admin)
    data = jpeg(seed=301, orientation=6)
    digest = await _stored(me, data)
    assert (await me.client.get(f"/api/media/{digest}")).status_code == 200  # the uploader
    stranger = await as_role(Role.coordinator)  # no visit of theirs references it
    assert (await stranger.client.get(f"/api/media/{digest}")).status_code == 404
    r = await reader.client.get(f"/api/media/{digest}")
    assert r.status_code == 200
    assert hashlib.sha256(r.content).hexdigest() == digest
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["etag"] == f'"{digest}"'
    assert "immutable" in r.headers["cache-control"]
    again = await reader.client.get(
        f"/api/media/{digest}", headers={"If-None-Match": f'"{digest}"'}
    )
    assert again.status_code == 304 and again.content == b""


async def test_unknown_media_is_404(as_role):
    me = await as_role(Role.inspector)
    for path in (
        f"/api/media/{'0' * 64}",
        "/api/media/not-a-hash",
        f"/api/media/{'0' * 64}/thumb",
    ):
        r = await me.client.get(path)
        assert r.status_code == 404 and r.json()["code"] == "media.unknown", path
    assert (await me.client.get("/api/media/..%2F..%2Fetc%2Fpasswd")).status_code == 404


async def test_thumbnail_is_small_and_upright(as_role):
    """Stored 400x300 with EXIF orientation 6 (rotate 90° clockwise to view): upright it is
    portrait, and the left (red) half of the stored image ends up on top."""
    me = await as_role(Role.inspector)
    data = jpeg(400, 300, orientation=6, seed=302)
    digest = await _stored(me, data)
    r = await me.client.get(f"/api/media/{digest}/thumb")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(r.content))
    assert max(thumb.size) <= 320
    width, height = thumb.size
    assert height > width  # rotated
    top, bottom = thumb.getpixel((width // 2, 5)), thumb.getpixel((width // 2, height - 5))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]
    assert get_store().get_derived("thumb", digest) == r.content  # cached
    assert get_store().read(digest) == data  # the original is untouched


async def test_big_photo_thumbnail_and_display(as_role):
    me = await as_role(Role.inspector)
    data = jpeg(4000, 3000, seed=303)
    digest = await _stored(me, data, chunk=1024 * 1024)
    thumb = Image.open(io.BytesIO((await me.client.get(f"/api/media/{digest}/thumb")).content))
    assert thumb.size == (320, 240)
    r = await me.client.get(f"/api/media/{digest}/display")
    display = Image.open(io.BytesIO(r.content))
    assert max(display.size) <= 2048 and display.size[0] >= 1536


async def test_display_copy_carries_a_watermark(as_role):
    me = await as_role(Role.inspector)
    data = jpeg(1200, 900, seed=304)
    digest = await _stored(me, data)
    r = await me.client.get(f"/api/media/{digest}/display")
    assert r.status_code == 200
    display = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert display.size == (1200, 900)
    plain = Image.open(io.BytesIO(data)).convert("RGB")
    band = (0, 900 - 80, 1200, 900)
    top = (0, 0, 1200, 300)

    def changed(box) -> int:
        r, g, b = ImageChops.difference(display.crop(box), plain.crop(box)).split()
        most = ImageChops.lighter(ImageChops.lighter(r, g), b)  # largest change of any channel
        return sum(1 for v in most.get_flattened_data() if v > 40)

    assert changed(band) > 0.5 * 1200 * 80  # darkened and written on
    assert changed(top) < 0.01 * 1200 * 300  # the rest: only JPEG noise
    assert get_store().read(digest) == data


async def test_signature_png_display_is_flattened(as_role):
    me = await as_role(Role.inspector)
    digest = await _stored(me, png(200, 80), mime="image/png", purpose="signature")
    thumb = Image.open(io.BytesIO((await me.client.get(f"/api/media/{digest}/thumb")).content))
    assert thumb.mode == "RGB" and thumb.getpixel((100, 10)) > (240, 240, 240)


async def test_video_has_no_derivative(as_role):
    me = await as_role(Role.inspector)
    data = b"\0\0\0\x18ftypmp42" + bytes(range(256)) * 8
    digest = await _stored(me, data, mime="video/mp4", purpose="video")
    r = await me.client.get(f"/api/media/{digest}/thumb")
    assert r.status_code == 404 and r.json()["code"] == "media.no_derivative"
    r = await me.client.get(f"/api/media/{digest}")
    assert r.headers["content-type"] == "video/mp4" and r.content == data
