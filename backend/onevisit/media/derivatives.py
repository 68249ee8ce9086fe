"""Thumbnails and watermarked display copies: JPEG, EXIF orientation applied, regenerable.

Speed comes from JPEG draft mode: `draft()` before loading asks libjpeg to decode at 1/2,
1/4 or 1/8 scale (DCT scaling), so a 12 MP photo is never fully decoded for a 320 px
thumbnail. draft() keeps the EXIF, so exif_transpose() runs after it, on the small image.
Blocking (Pillow): call through asyncio.to_thread. See benchmarks/photo_derivatives.py.
"""

from __future__ import annotations

import io
import logging
from functools import cache
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFont, ImageOps

from onevisit.media import validate  # noqa: F401  (sets Image.MAX_IMAGE_PIXELS)
from onevisit.media.rules import DISPLAY_MAX, THUMB_MAX
from onevisit.media.watermark import Font, draw_band, font_size_for

__all__ = ["CJK_FONT", "load_font", "oriented", "render_display", "render_thumbnail"]

log = logging.getLogger("onevisit.media")

# Debian fonts-wqy-microhei (installed by the Makefile); 5 MB, covers GB 2312 and more.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

# A display copy may come from a draft as small as this (longest side), e.g. 2000 px from a
# 4000 px photo at 1/2 scale: a quarter of the decoding for a copy nobody can tell apart.
DISPLAY_MIN = 1536

THUMB_QUALITY = 80
DISPLAY_QUALITY = 85


@cache
def load_font(size: int, path: Path = CJK_FONT) -> Font:
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        log.warning("CJK font %s missing: watermark text falls back to Pillow's font", path)
        return ImageFont.load_default(size=size)


def oriented(src: Path | BinaryIO, *, longest: int, at_least: int | None = None) -> Image.Image:
    """Decode (reduced when the format allows) and turn upright per EXIF; the result's
    longest side is ≤ `longest`. `at_least` lets a draft stop a little below `longest`."""
    with Image.open(src) as img:
        width, height = img.size
        floor = at_least or longest
        scale = floor / max(width, height)
        if scale < 1:  # JPEG only; a no-op for other formats
            img.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
        img.load()
        upright = ImageOps.exif_transpose(img)
    upright = _rgb(upright)
    upright.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return upright


def _rgb(img: Image.Image) -> Image.Image:
    """Flatten transparency onto white (signatures are transparent PNGs); JPEG has no alpha."""
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)  # no EXIF: the pixels are upright already
    return out.getvalue()


def render_thumbnail(src: Path | BinaryIO) -> bytes:
    return _jpeg(oriented(src, longest=THUMB_MAX), THUMB_QUALITY)


def render_display(src: Path | BinaryIO, *, lines: list[str]) -> bytes:
    img = oriented(src, longest=DISPLAY_MAX, at_least=DISPLAY_MIN)
    size = font_size_for(*img.size)
    return _jpeg(draw_band(img, lines, load_font(size), size), DISPLAY_QUALITY)
