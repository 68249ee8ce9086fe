"""Resumable, content-addressed uploads (tus 1.0 core as the model; docs/media.md).

The client declares the SHA-256, size and type of the whole file first, then sends chunks
with PATCH at an explicit offset. The offset column is the lock: a conditional UPDATE
`WHERE upload_offset = N` picks exactly one writer per offset, and that writer writes its
bytes at position N while its transaction holds the row, so a losing writer never writes.
When the offset reaches the size the bytes are hashed, checked and moved into the store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onevisit.db import write_transaction
from onevisit.errors import AppError
from onevisit.media.rules import CHUNK_MAX, MAX_BYTES, MIMES
from onevisit.media.store import get_store, hash_file
from onevisit.media.tables import MediaObject, MediaUpload
from onevisit.media.validate import Checked, check_content

__all__ = ["UploadState", "append_chunk", "create_upload", "upload_state"]

U = MediaUpload


@dataclass(frozen=True, slots=True)
class UploadState:
    upload_id: str | None  # None: the object existed already, nothing to send
    sha256: str
    offset: int
    size: int
    complete: bool


def _state(row: dict[str, Any]) -> UploadState:
    return UploadState(
        upload_id=str(row["id"]),
        sha256=row["sha256"],
        offset=row["upload_offset"],
        size=row["size"],
        complete=row["state"] == "complete",
    )


async def create_upload(
    *, user_id: str, sha256: str, size: int, mime: str, purpose: str
) -> tuple[bool, UploadState]:
    """(created, state). An existing object answers complete at once (idempotent resends);
    an open upload of the same file by the same user is resumed (the phone lost the id)."""
    if mime not in MIMES[purpose]:
        raise AppError("media.mime_unsupported", mime=mime, allowed=sorted(MIMES[purpose]))
    if size > MAX_BYTES[purpose]:
        raise AppError("media.too_large", size=size, limit=MAX_BYTES[purpose])
    done = await _existing_object(sha256=sha256, size=size, mime=mime)
    if done is not None:
        return False, done
    same = (
        (U.app_user == user_id)
        & (U.sha256 == sha256)
        & (U.size == size)
        & (U.mime == mime)
        & (U.purpose == purpose)
        & (U.state == "open")
    )
    async with write_transaction():
        row = await U.select().where(same).order_by(U.created_at).first()
        if row is not None:
            return False, _state(row)
        upload = U(sha256=sha256, size=size, mime=mime, purpose=purpose, app_user=user_id)
        await U.insert(upload)
    return True, UploadState(str(upload.id), sha256, 0, size, False)


async def _existing_object(*, sha256: str, size: int, mime: str) -> UploadState | None:
    obj = (
        await MediaObject.select(MediaObject.bytes, MediaObject.mime)
        .where(MediaObject.sha256 == sha256)
        .first()
    )
    if obj is None:
        return None
    if obj["bytes"] != size:
        raise AppError("media.size_mismatch", size=obj["bytes"])
    if obj["mime"] != mime:
        raise AppError("media.mime_mismatch", found=obj["mime"], expected=mime)
    return UploadState(None, sha256, size, size, True)


async def _own(user_id: str, upload_id: str) -> dict[str, Any]:
    """The caller's open or complete upload; anything else (another user's, a rejected one,
    a malformed id) is the same 404, so ids of others are not even confirmed to exist."""
    try:
        uid = uuid.UUID(upload_id)
    except ValueError:
        raise AppError("upload.unknown") from None
    row = await U.select().where((U.id == uid) & (U.app_user == user_id)).first()
    if row is None or row["state"] == "rejected":
        raise AppError("upload.unknown")
    return row


async def upload_state(*, user_id: str, upload_id: str) -> UploadState:
    return _state(await _own(user_id, upload_id))


async def append_chunk(
    *,
    user_id: str,
    upload_id: str,
    offset: int,
    body: AsyncIterator[bytes],
    length: int | None,
) -> UploadState:
    row = await _own(user_id, upload_id)
    size = row["size"]
    if offset != row["upload_offset"]:  # before reading the body: don't waste the signal
        raise AppError("upload.offset_mismatch", offset=row["upload_offset"])
    if length is not None and length > CHUNK_MAX:
        raise AppError("upload.chunk_too_large", limit=CHUNK_MAX)
    if length is not None and offset + length > size:
        raise AppError("upload.too_long", offset=offset, size=size)
    data = await _collect(body, cap=CHUNK_MAX)
    if offset + len(data) > size:
        raise AppError("upload.too_long", offset=offset, size=size)
    if data:
        await _claim_and_write(row["id"], offset, data)
    if offset + len(data) == size and row["state"] == "open":
        await _finish(row)  # also retried by an empty PATCH at offset == size
    end = offset + len(data)
    return UploadState(str(row["id"]), row["sha256"], end, size, end == size)


async def _collect(body: AsyncIterator[bytes], *, cap: int) -> bytes:
    parts, total = [], 0
    async for part in body:
        total += len(part)
        if total > cap:
            raise AppError("upload.chunk_too_large", limit=cap)
        parts.append(part)
    return b"".join(parts)


async def _claim_and_write(uid: uuid.UUID, offset: int, data: bytes) -> None:
    store = get_store()
    async with write_transaction():
        won = (
            await U.update({U.upload_offset: offset + len(data), U.updated_at: _now()})
            .where((U.id == uid) & (U.upload_offset == offset) & (U.state == "open"))
            .returning(U.id)
        )
        if won:
            # Inside the transaction: if the write fails the offset is not advanced, and a
            # concurrent PATCH at the same offset waits on the row, then finds it moved.
            await asyncio.to_thread(store.write_at, uid, offset, data)
    if not won:
        current = await U.select(U.upload_offset).where(U.id == uid).first()
        raise AppError("upload.offset_mismatch", offset=current["upload_offset"])


async def _finish(row: dict[str, Any]) -> None:
    """All bytes are in: hash, check, move into the store, record the evidence row."""
    store, uid, sha256 = get_store(), row["id"], row["sha256"]
    src = store.partial_path(uid)
    if src.exists():
        digest = await asyncio.to_thread(hash_file, src, row["size"])
        if digest != sha256:
            await _reset(uid, row["size"])
            raise AppError("media.hash_mismatch", offset=0, received=digest)
        try:
            checked = await asyncio.to_thread(check_content, src, mime=row["mime"])
        except AppError:
            await U.update({U.state: "rejected", U.updated_at: _now()}).where(U.id == uid)
            store.discard_partial(uid)
            raise
        try:
            await asyncio.to_thread(store.put, src, sha256=sha256)
        except FileNotFoundError:  # a concurrent finisher (a retry) moved it first
            if not store.exists(sha256):
                raise
    elif store.exists(sha256):
        # An earlier attempt moved the checked file and stopped before the rows (or another
        # upload stored the same bytes): the stored original is named by its hash.
        path = store.local_path(sha256)
        checked = await asyncio.to_thread(check_content, path, mime=row["mime"]) if path else None
    else:
        await _reset(uid, row["size"])
        raise AppError("media.hash_mismatch", offset=0, received=None)
    await _record(row, checked)


async def _record(row: dict[str, Any], checked: Checked | None) -> None:
    async with write_transaction():
        await MediaObject.insert(
            MediaObject(
                sha256=row["sha256"],
                bytes=row["size"],
                mime=row["mime"],
                purpose=row["purpose"],
                width=getattr(checked, "width", None),
                height=getattr(checked, "height", None),
                uploaded_by=row["app_user"],
            )
        ).on_conflict(target=MediaObject.sha256, action="DO NOTHING")
        await U.update({U.state: "complete", U.updated_at: _now()}).where(U.id == row["id"])


async def _reset(uid: uuid.UUID, size: int) -> None:
    """Discard the bytes, then move the offset back to 0. In this order: while the offset
    still equals the size no PATCH can write, so nothing new is lost by the discard."""
    get_store().discard_partial(uid)
    await U.update({U.upload_offset: 0, U.updated_at: _now()}).where(
        (U.id == uid) & (U.upload_offset == size)
    )


def _now() -> datetime:
    return datetime.now(UTC)
