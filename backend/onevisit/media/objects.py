"""Reading stored media: who may, the evidence row, and derivatives made on first request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from onevisit.auth.roles import Caller
from onevisit.errors import AppError
from onevisit.media.derivatives import render_display, render_thumbnail
from onevisit.media.rules import IMAGE_FORMATS
from onevisit.media.store import get_store, is_sha256
from onevisit.media.tables import MediaObject
from onevisit.media.watermark import watermark_lines

__all__ = ["StoredObject", "derivative", "may_read_media", "readable_object"]

# Decoding is CPU- and memory-bound: a burst of first views must not start 50 decodes at once.
_RENDERING = asyncio.Semaphore(2)


@dataclass(frozen=True, slots=True)
class StoredObject:
    sha256: str
    bytes: int
    mime: str
    uploader: str
    created_at: datetime


async def may_read_media(caller: Caller, sha256: str) -> bool:
    """The one place that decides who may see a media object.

    TODO(sync): limit to members of a visit whose events reference this hash (and the
    uploader, and the visit's department coordinators); until visits sync, every signed-in
    user may read. Change only this function: every read path goes through it.
    """
    del sha256
    return caller is not None


async def readable_object(*, caller: Caller, sha256: str) -> StoredObject:
    """The object, or media.unknown for a malformed hash, a missing object or one the caller
    may not read (not told apart: existence is not disclosed)."""
    if not is_sha256(sha256):
        raise AppError("media.unknown")
    row = (
        await MediaObject.select(
            MediaObject.sha256,
            MediaObject.bytes,
            MediaObject.mime,
            MediaObject.created_at,
            MediaObject.uploaded_by.name.as_alias("uploader"),
        )
        .where(MediaObject.sha256 == sha256)
        .first()
    )
    if row is None or not await may_read_media(caller, sha256):
        raise AppError("media.unknown")
    return StoredObject(**row)


async def derivative(*, caller: Caller, sha256: str, kind: str) -> bytes:
    """A thumbnail or display copy (JPEG), rendered on first request and cached."""
    obj = await readable_object(caller=caller, sha256=sha256)
    if obj.mime not in IMAGE_FORMATS:
        raise AppError("media.no_derivative")
    store = get_store()
    cached = await asyncio.to_thread(store.get_derived, kind, sha256)
    if cached is not None:
        return cached
    async with _RENDERING:
        data = await asyncio.to_thread(_render, kind, obj)
    await asyncio.to_thread(store.put_derived, kind, sha256, data)
    return data


def _render(kind: str, obj: StoredObject) -> bytes:
    with get_store().open(obj.sha256) as src:
        if kind == "thumb":
            return render_thumbnail(src)
        # No visit context yet: the upload time and the uploader stand in for the capture
        # time and the inspector; the sync work fills place and subject from the events.
        lines = watermark_lines(
            taken_ms=int(obj.created_at.timestamp() * 1000),
            place=None,
            inspector=obj.uploader,
            subject=None,
            sha256=obj.sha256,
        )
        return render_display(src, lines=lines)
