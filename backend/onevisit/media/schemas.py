"""API input and output of media: explicit msgspec structs (never PiccoloDTO)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["UploadIn", "UploadOut"]

Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class UploadIn(msgspec.Struct, kw_only=True):
    sha256: Sha256  # of the whole file, lowercase hex
    size: Annotated[int, msgspec.Meta(ge=1)]
    mime: Annotated[str, msgspec.Meta(max_length=64)]
    purpose: Literal["photo", "signature", "video"]


class UploadOut(msgspec.Struct, kw_only=True):
    upload_id: str | None  # None: the caller holds the stored object already (nothing to send)
    sha256: str
    offset: int
    size: int
    complete: bool
