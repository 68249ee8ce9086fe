"""Is the content what it claims to be? Run on a complete upload whose hash already matched,
before it becomes an original. Blocking (Pillow): call through asyncio.to_thread."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from onevisit.errors import AppError
from onevisit.media.rules import IMAGE_FORMATS, MAX_PIXELS

__all__ = ["Checked", "check_content"]

# Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; we set the line at our
# limit and turn the warning into an error below, so no code path decodes a bomb.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True, slots=True)
class Checked:
    width: int | None = None
    height: int | None = None


def check_content(path: Path, *, mime: str) -> Checked:
    if mime in IMAGE_FORMATS:
        return _check_image(path, expected=IMAGE_FORMATS[mime])
    if mime == "application/json":
        _check_json(path)
        return Checked()
    _check_video(path, mime=mime)
    return Checked()


def _check_json(path: Path) -> None:
    """Signature stroke data: UTF-8 JSON whose top level is an object or an array."""
    try:
        value = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AppError("media.not_json", str(exc)[:200]) from exc
    if not isinstance(value, dict | list):
        raise AppError("media.not_json", "the top level must be an object or an array")


def _check_image(path: Path, *, expected: str) -> Checked:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # open() reads the header only: the size is known before any pixel is decoded.
            with Image.open(path, formats=list(set(IMAGE_FORMATS.values()))) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise AppError("media.decompression_bomb", pixels=width * height)
                if img.format != expected:
                    raise AppError("media.mime_mismatch", found=img.format, expected=expected)
                img.verify()  # PNG: chunk CRCs; others: structure
            if expected == "JPEG":
                # verify() does little for JPEG: a reduced (draft) decode catches a truncated
                # or garbled entropy stream at ~1/8 of a full decode's cost.
                with Image.open(path) as img:
                    img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                    img.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise AppError("media.decompression_bomb") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise AppError("media.not_image", str(exc)[:200]) from exc
    return Checked(width=width, height=height)


def _check_video(path: Path, *, mime: str) -> None:
    """A light signature check only (the server never decodes video): MP4/QuickTime files
    start with an ISO BMFF box whose type is 'ftyp'; WebM with the EBML magic number."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    ok = head[:4] == b"\x1a\x45\xdf\xa3" if mime == "video/webm" else head[4:8] == b"ftyp"
    if not ok:
        raise AppError("media.not_video")
