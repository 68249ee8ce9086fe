"""Where bytes live: one interface (like piccolo_admin's media/base.py) for a local directory
now and an object store later. Originals are content-addressed, written once, never
overwritten or deleted; derivatives are regenerable caches.

Local layout under settings.media_dir:
    originals/ab/cd/<sha256>          read-only (0o444), written atomically
    partial/<upload_id>               uploads in progress (server-generated uuid)
    derived/<kind>/ab/<sha256>.jpg    thumbnails and display copies
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import BinaryIO

from onevisit.config import get_settings

__all__ = ["LocalStore", "MediaStore", "get_store", "hash_file", "is_sha256"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KINDS = frozenset({"thumb", "display"})
READ_BLOCK = 1024 * 1024


def is_sha256(value: str) -> bool:
    return bool(_SHA256.fullmatch(value))


def hash_file(path: Path, limit: int | None = None) -> str:
    """Hex SHA-256 of a file (of its first `limit` bytes), read in blocks, never whole."""
    digest = hashlib.sha256()
    left = limit
    with open(path, "rb") as fh:
        while left is None or left > 0:
            block = fh.read(READ_BLOCK if left is None else min(READ_BLOCK, left))
            if not block:
                break
            digest.update(block)
            if left is not None:
                left -= len(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MediaStore(ABC):
    """Originals by hash, partial uploads by upload id, derivatives by (kind, hash).
    Every method is blocking I/O: call it through asyncio.to_thread from handlers."""

    @abstractmethod
    def put(self, src: Path, *, sha256: str, keep_src: bool = False) -> bool:
        """Move a finished, already hashed file into the originals. False if the object was
        there already (the existing copy is kept): never an overwrite. `src` is removed,
        unless `keep_src` (an upload keeps its partial file until its rows are recorded)."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO: ...

    def read(self, sha256: str) -> bytes:
        with self.open(sha256) as fh:
            return fh.read()

    @abstractmethod
    def local_path(self, sha256: str) -> Path | None:
        """A file path for zero-copy serving, or None for a remote store."""

    # partial uploads
    @abstractmethod
    def partial_path(self, upload_id: uuid.UUID) -> Path: ...

    @abstractmethod
    def write_at(self, upload_id: uuid.UUID, offset: int, data: bytes) -> None: ...

    @abstractmethod
    def discard_partial(self, upload_id: uuid.UUID) -> None: ...

    # derivatives
    @abstractmethod
    def get_derived(self, kind: str, sha256: str) -> bytes | None: ...

    @abstractmethod
    def put_derived(self, kind: str, sha256: str, data: bytes) -> None: ...


class LocalStore(MediaStore):
    def __init__(self, root: Path) -> None:
        self.root = root

    def original_path(self, sha256: str) -> Path:
        if not is_sha256(sha256):  # the only thing that ever becomes a path: a checked hash
            raise ValueError("not a lowercase hex SHA-256")
        return self.root / "originals" / sha256[:2] / sha256[2:4] / sha256

    def put(self, src: Path, *, sha256: str, keep_src: bool = False) -> bool:
        dest = self.original_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(src, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(src, 0o444)
        try:
            # link() refuses to replace an existing name, atomically (rename() would replace):
            # two finishers of the same object race safely and the first copy stays.
            os.link(src, dest)
            created = True
        except FileExistsError:
            created = False
        except OSError:  # a filesystem without hard links
            created = not dest.exists()
            if created and keep_src:
                _copy_into(src, dest)
            elif created:
                os.rename(src, dest)
        if not keep_src:
            src.unlink(missing_ok=True)
        if created:
            _fsync_dir(dest.parent)
        return created

    def exists(self, sha256: str) -> bool:
        return self.original_path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return open(self.original_path(sha256), "rb")

    def local_path(self, sha256: str) -> Path | None:
        return self.original_path(sha256)

    def partial_path(self, upload_id: uuid.UUID) -> Path:
        return self.root / "partial" / str(uuid.UUID(str(upload_id)))

    def write_at(self, upload_id: uuid.UUID, offset: int, data: bytes) -> None:
        """Write at an absolute position (pwrite, not append): bytes a crashed or losing
        writer left past the committed offset are simply overwritten by the next chunk."""
        path = self.partial_path(upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written
            os.fsync(fd)
        finally:
            os.close(fd)

    def discard_partial(self, upload_id: uuid.UUID) -> None:
        self.partial_path(upload_id).unlink(missing_ok=True)

    def _derived_path(self, kind: str, sha256: str) -> Path:
        if kind not in _KINDS or not is_sha256(sha256):
            raise ValueError("unknown derivative")
        return self.root / "derived" / kind / sha256[:2] / f"{sha256}.jpg"

    def get_derived(self, kind: str, sha256: str) -> bytes | None:
        try:
            return self._derived_path(kind, sha256).read_bytes()
        except FileNotFoundError:
            return None

    def put_derived(self, kind: str, sha256: str, data: bytes) -> None:
        dest = self._derived_path(kind, sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _temp_beside(dest) as (fh, tmp):
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, dest)  # a cache: a concurrent writer's identical copy may win


def _copy_into(src: Path, dest: Path) -> None:
    """Copy through a temporary name beside `dest`, so `dest` never exists half-written."""
    with _temp_beside(dest) as (fh, tmp), open(src, "rb") as source:
        shutil.copyfileobj(source, fh, READ_BLOCK)
        fh.flush()
        os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        os.rename(tmp, dest)


@contextlib.contextmanager
def _temp_beside(dest: Path) -> Iterator[tuple[BinaryIO, Path]]:
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh, tmp
    finally:
        tmp.unlink(missing_ok=True)


@cache
def get_store() -> MediaStore:
    return LocalStore(get_settings().media_dir)
