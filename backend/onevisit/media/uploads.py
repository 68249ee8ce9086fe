"""Resumable, content-addressed uploads (tus 1.0 core as the model; docs/media.md).

The client declares the SHA-256, size and type of the whole file first, then sends chunks
with PATCH at an explicit offset. The offset column is the lock: a conditional UPDATE
`WHERE upload_offset = N` picks exactly one writer per offset, and that writer writes its
bytes at position N while its transaction holds the row, so a losing writer never writes.
When the offset reaches the size the bytes are hashed, checked and moved into the store.

Proof of possession: a user's upload of a hash is complete only once the bytes *that user*
sent hash to it, even when the object is stored already (then nothing new is written: dedupe
happens on completion, never on declaration). A complete upload is what lets a user reference
the object in an event (sync/media.py) and read it (objects.py), so knowing a hash, its size
and its type — all printed in published records — is not enough. Only a user who completed
an upload of the hash before gets `complete` at once on declaring it again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onevisit.db import write_transaction
from onevisit.errors import AppError
from onevisit.media.rules import CHUNK_MAX, MAX_BYTES, MIMES
from onevisit.media.store import get_store, hash_file
from onevisit.media.tables import MediaObject, MediaUpload
from onevisit.media.validate import Checked, check_content

__all__ = ["UploadState", "append_chunk", "create_upload", "possesses", "upload_state"]

U = MediaUpload


@dataclass(frozen=True, slots=True)
class UploadState:
    upload_id: str | None  # None: the caller holds the stored object already, nothing to send
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
    """(created, state). A stored object the caller has uploaded before answers complete at
    once (an idempotent resend); anyone else sends every byte, even of a stored object. An
    open upload of the same file by the same user is resumed (the phone lost the id)."""
    if mime not in MIMES[purpose]:
        raise AppError("media.mime_unsupported", mime=mime, allowed=sorted(MIMES[purpose]))
    if size > MAX_BYTES[purpose]:
        raise AppError("media.too_large", size=size, limit=MAX_BYTES[purpose])
    stored = await _stored(sha256)
    if stored is not None:
        _same_as_stored(stored, size=size, mime=mime)
        if await possesses(user_id=user_id, sha256=sha256):
            return False, UploadState(None, sha256, size, size, True)
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


async def possesses(*, user_id: str, sha256: str) -> bool:
    """Has this user proved they hold these bytes: a complete upload of theirs (they sent
    every byte and the server hashed what they sent)."""
    return await U.exists().where(
        (U.app_user == user_id) & (U.sha256 == sha256) & (U.state == "complete")
    )


async def _stored(sha256: str) -> tuple[int, str] | None:
    """(bytes, mime) of the stored object, if any."""
    obj = (
        await MediaObject.select(MediaObject.bytes, MediaObject.mime)
        .where(MediaObject.sha256 == sha256)
        .first()
    )
    return None if obj is None else (obj["bytes"], obj["mime"])


def _same_as_stored(stored: tuple[int, str], *, size: int, mime: str) -> None:
    if stored[0] != size:
        raise AppError("media.size_mismatch", size=stored[0])
    if stored[1] != mime:
        raise AppError("media.mime_mismatch", found=stored[1], expected=mime)


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
    """All bytes are in: hash what this upload received; then, for a new object, check it
    and move it into the store. For a stored one nothing is written: the matching hash is
    this user's proof of possession. The partial file stays until the rows are recorded, so
    a retry after a crash hashes the bytes again — never trusts the store for them."""
    store, uid, sha256, size = get_store(), row["id"], row["sha256"], row["size"]
    src = store.partial_path(uid)
    try:
        digest = await asyncio.to_thread(hash_file, src, size)
        if digest != sha256:
            await _reset(uid, size)
            raise AppError("media.hash_mismatch", offset=0, received=digest)
        stored = await _stored(sha256)
        checked = await _checked(row, src, stored)
        if stored is None:
            await asyncio.to_thread(store.put, src, sha256=sha256, keep_src=True)
    except FileNotFoundError:  # e.g. a concurrent finisher of this upload recorded it first
        await _vanished(uid, size)
        return
    await _record(row, checked, new_object=stored is None)
    store.discard_partial(uid)


async def _checked(
    row: dict[str, Any], src: Path, stored: tuple[int, str] | None
) -> Checked | None:
    """The content check of a new object; a stored one (deduplicated: another upload stored
    these very bytes) was checked then, and only its type must agree. A refusal is final:
    the upload is marked rejected and its bytes discarded."""
    try:
        if stored is not None:
            _same_as_stored(stored, size=row["size"], mime=row["mime"])
            return None
        return await asyncio.to_thread(check_content, src, mime=row["mime"])
    except AppError:
        await U.update({U.state: "rejected", U.updated_at: _now()}).where(
            (U.id == row["id"]) & (U.state == "open")
        )
        get_store().discard_partial(row["id"])
        raise


async def _vanished(uid: uuid.UUID, size: int) -> None:
    """The partial file is gone under us: another request completed this upload (its rows
    are recorded before the file is removed), refused its content, or is resetting it after
    a hash mismatch. Nothing else ever completes an upload: the store is not evidence of
    what this upload sent."""
    row = await U.select(U.state).where(U.id == uid).first()
    if row["state"] == "complete":
        return
    if row["state"] == "rejected":
        raise AppError("upload.unknown")
    await _reset(uid, size)
    raise AppError("media.hash_mismatch", offset=0, received=None)


async def _record(row: dict[str, Any], checked: Checked | None, *, new_object: bool) -> None:
    async with write_transaction():
        if new_object:
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
        await U.update({U.state: "complete", U.updated_at: _now()}).where(
            (U.id == row["id"]) & (U.state == "open")
        )


async def _reset(uid: uuid.UUID, size: int) -> None:
    """Discard the bytes, then move the offset back to 0. In this order: while the offset
    still equals the size no PATCH can write, so nothing new is lost by the discard."""
    get_store().discard_partial(uid)
    await U.update({U.upload_offset: 0, U.updated_at: _now()}).where(
        (U.id == uid) & (U.upload_offset == size) & (U.state == "open")
    )


def _now() -> datetime:
    return datetime.now(UTC)
