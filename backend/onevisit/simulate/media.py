"""Media a phone makes — real JPEG photos, a drawn signature (PNG) with its vector strokes — and
the resumable upload (docs/media.md) over HTTP, in two or more chunks."""

from __future__ import annotations

import hashlib
import io
import json
import random
from dataclasses import dataclass

import httpx
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["MediaBlob", "UploadStats", "photo_jpeg", "signature_png", "upload"]


@dataclass(frozen=True, slots=True)
class MediaBlob:
    data: bytes
    mime: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def ref(self) -> dict[str, object]:
        return {"sha256": self.sha256, "bytes": len(self.data), "mime": self.mime}


@dataclass
class UploadStats:
    uploaded: int = 0  # objects stored by our upload
    already: int = 0  # the server had them (complete: true at creation)
    resumed: int = 0  # uploads continued after a simulated drop
    chunks: int = 0
    bytes: int = 0
    refused: dict[str, int] | None = None  # error code → count

    def refuse(self, code: str) -> None:
        self.refused = self.refused or {}
        self.refused[code] = self.refused.get(code, 0) + 1


def photo_jpeg(rng: random.Random, *, label: str, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A photo-like JPEG: a blurred random scene plus fine noise (so it compresses like a
    photo, a few hundred kB), different for every label. Deterministic for a given rng state."""
    w, h = size
    small = Image.frombytes("RGB", (40, 30), rng.randbytes(40 * 30 * 3))
    img = small.resize((w, h), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(6))
    draw = ImageDraw.Draw(img)
    for _ in range(12):  # "objects" in the scene
        x, y = rng.randrange(w), rng.randrange(h)
        rw, rh = rng.randrange(60, 400), rng.randrange(60, 300)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.rectangle((x, y, x + rw, y + rh), fill=colour)
    noise = Image.frombytes("L", (w // 4, h // 4), rng.randbytes((w // 4) * (h // 4)))
    noise = noise.resize((w, h), Image.Resampling.NEAREST).convert("RGB")
    img = Image.blend(img, noise, 0.12)
    ImageDraw.Draw(img).text((24, h - 40), label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _strokes(rng: random.Random, name_chars: int) -> list[list[dict[str, int]]]:
    """Vector strokes as a signature pad records them: x, y (px), pressure (‰), t (ms)."""
    strokes, t = [], 0
    for c in range(max(2, name_chars) * 3):
        x0 = 60 + c * 720 // (max(2, name_chars) * 3) + rng.randrange(-8, 8)
        y0 = rng.randrange(80, 220)
        points = []
        for k in range(rng.randrange(6, 14)):
            t += rng.randrange(8, 20)
            points.append(
                {
                    "x": max(0, min(799, x0 + k * rng.randrange(2, 9))),
                    "y": max(0, min(299, y0 + rng.randrange(-30, 30))),
                    "p": rng.randrange(300, 900),
                    "t": t,
                }
            )
        strokes.append(points)
        t += rng.randrange(80, 200)
    return strokes


def signature_png(rng: random.Random, *, signer: str) -> tuple[bytes, bytes]:
    """(PNG of the drawn signature on a transparent pad, JCS-like JSON of its strokes)."""
    strokes = _strokes(rng, len(signer))
    img = Image.new("RGBA", (800, 300), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for points in strokes:
        xy = [(p["x"], p["y"]) for p in points]
        draw.line(xy, fill=(10, 10, 40, 255), width=4, joint="curve")
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    data = json.dumps(
        {"width": 800, "height": 300, "strokes": strokes}, separators=(",", ":"), sort_keys=True
    ).encode()
    return out.getvalue(), data


async def upload(
    client: httpx.AsyncClient,
    blob: MediaBlob,
    *,
    purpose: str,
    stats: UploadStats,
    chunks: int = 2,
    drop_after_first: bool = False,
) -> bool:
    """Upload with the resumable protocol; True once the server holds the object. A simulated
    network drop after the first chunk forgets the upload id and resumes by re-declaring."""
    declaration = {"sha256": blob.sha256, "size": len(blob.data), "mime": blob.mime,
                   "purpose": purpose}  # fmt: skip
    r = await client.post("/api/media/uploads", json=declaration)
    if r.status_code >= 400:
        stats.refuse(r.json().get("code", str(r.status_code)))
        return False
    state = r.json()
    if state["complete"]:
        stats.already += 1
        return True
    size, step = len(blob.data), -(-len(blob.data) // max(2, chunks))
    offset, sent = state["offset"], 0
    while offset < size:
        end = min(size, offset + step)
        r = await client.patch(
            f"/api/media/uploads/{state['upload_id']}",
            content=blob.data[offset:end],
            headers={"Upload-Offset": str(offset),
                     "Content-Type": "application/offset+octet-stream"},
        )  # fmt: skip
        stats.chunks += 1
        if r.status_code == 409:  # someone (our own lost request) moved it: ask and go on
            offset = r.json()["details"]["offset"]
            continue
        if r.status_code != 204:
            stats.refuse(r.json().get("code", str(r.status_code)))
            return False
        stats.bytes += end - offset
        offset, sent = int(r.headers["Upload-Offset"]), sent + 1
        if drop_after_first and sent == 1 and offset < size:
            drop_after_first = False  # the id is lost with the network: declare again
            again = await client.post("/api/media/uploads", json=declaration)
            state = again.json()
            offset = state["offset"]
            stats.resumed += 1
        if offset >= size and r.headers.get("Upload-Complete") != "?1":
            stats.refuse("upload.not_completed")
            return False
    stats.uploaded += 1
    return True
