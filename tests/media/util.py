"""Helpers for the media tests: images made with Pillow, and a client-side upload."""

from __future__ import annotations

import hashlib
import io
import random

import httpx
from PIL import Image

BASE = "/api/media/uploads"
OCTETS = {"Content-Type": "application/offset+octet-stream"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg(width: int = 400, height: int = 300, *, orientation: int | None = None, seed: int = 1):
    """A JPEG whose stored pixels are `width` x `height`; left half red, right half blue (so
    rotation is visible), noise so each seed gives different bytes."""
    img = Image.new("RGB", (width, height), (200, 30, 30))
    img.paste((30, 30, 200), (width // 2, 0, width, height))
    rnd = random.Random(seed)
    for _ in range(50):
        img.putpixel((rnd.randrange(width), rnd.randrange(height)), (rnd.randrange(256),) * 3)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png(width: int = 64, height: int = 64, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG")
    return out.getvalue()


async def start(
    client: httpx.AsyncClient, data: bytes, *, mime="image/jpeg", purpose="photo", digest=None
) -> httpx.Response:
    body = {"sha256": digest or sha(data), "size": len(data), "mime": mime, "purpose": purpose}
    return await client.post(f"{BASE}/", json=body)


async def send(client: httpx.AsyncClient, upload_id: str, offset: int, chunk: bytes):
    headers = {**OCTETS, "Upload-Offset": str(offset)}
    return await client.patch(f"{BASE}/{upload_id}", content=chunk, headers=headers)


async def upload(
    client: httpx.AsyncClient, data: bytes, *, chunk: int = 64 * 1024, **kw
) -> httpx.Response:
    """The whole client sequence; returns the last response (204 when stored)."""
    created = await start(client, data, **kw)
    assert created.status_code in (200, 201), created.text
    body = created.json()
    if body["complete"]:
        return created
    offset, last = body["offset"], created
    while offset < len(data):
        last = await send(client, body["upload_id"], offset, data[offset : offset + chunk])
        if last.status_code != 204:
            return last
        offset = int(last.headers["Upload-Offset"])
    return last
