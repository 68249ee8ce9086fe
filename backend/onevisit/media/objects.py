"""Reading stored media: who may, the evidence row, and derivatives made on first request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from onevisit.auth.roles import Caller, Role
from onevisit.errors import AppError
from onevisit.evidence.tables import MediaRef
from onevisit.media.derivatives import render_display, render_thumbnail
from onevisit.media.rules import IMAGE_FORMATS
from onevisit.media.store import get_store, is_sha256
from onevisit.media.tables import MediaObject
from onevisit.media.uploads import possesses
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


async def may_read_media(caller: Caller, sha256: str, *, uploader_id: str) -> bool:
    """The one place that decides who may see a media object: admins, whoever completed an
    upload of it (its first uploader among them: they sent these very bytes, so reading them
    back discloses nothing), and whoever may see a visit whose accepted events reference it
    (the group's members and coordinators of the departments whose matters the visit checks).
    Declaring a hash without sending the bytes grants nothing (uploads.py)."""
    if caller is None:
        return False
    if caller.role is Role.admin or caller.user_id == uploader_id:
        return True
    if await possesses(user_id=caller.user_id, sha256=sha256):
        return True
    from onevisit.field.service import may_see_visit, visit_info

    refs = await MediaRef.select(MediaRef.visit).where(MediaRef.sha256 == sha256).distinct()
    for ref in refs:
        if ref["visit"] and may_see_visit(caller, await visit_info(ref["visit"])):
            return True
    return False


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
            MediaObject.uploaded_by.as_alias("uploader_id"),
        )
        .where(MediaObject.sha256 == sha256)
        .first()
    )
    if row is None:
        raise AppError("media.unknown")
    uploader_id = str(row.pop("uploader_id"))
    if not await may_read_media(caller, sha256, uploader_id=uploader_id):
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
