"""Media an event references must be stored before the event is (EVIDENCE.md §3, docs/sync.md).

An event naming `{"sha256","bytes","mime"}` is accepted only if that original is stored
completely — its `media_object` row exists, which the upload writes only after the bytes were
hashed, checked and moved into the store — with the same size and type. Otherwise nothing of
the event is stored:

- `media.not_uploaded` (retryable): the phone uploads the named originals, then resends the same
  event unchanged (its chain waits: the later events answer `chain.gap` until then);
- `media.mismatch` (final): the hash is stored with another size or type, so the reference is
  wrong and never will be right.

Without this, a reference to bytes that never arrive would make `onevisit verify` fail with
`media.missing` for good, and (media read access follows references) an event could point at
an original before its owner uploaded it. media_object rows are never updated or deleted, so the
rows read before the write transaction still hold when the event is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event, media_refs
from onevisit.field.shapes import HEX64, BodyInvalid
from onevisit.media.tables import MediaObject

__all__ = ["MediaMismatch", "MediaNotUploaded", "check_media", "load_media"]

_CHUNK = 1000  # hashes per query: far below PostgreSQL's 32,767 parameters

Stored = dict[str, tuple[int, str]]  # sha256 → (bytes, mime)


class MediaNotUploaded(EvidenceError):
    code = "media.not_uploaded"


class MediaMismatch(EvidenceError):
    code = "media.mismatch"


def _hashes(event: Event) -> list[str]:
    return [r["sha256"] for r in media_refs(event.body) if isinstance(r["sha256"], str)]


async def load_media(events: Iterable[Event]) -> Stored:
    """The stored originals that any of these events references."""
    wanted = sorted({sha for e in events for sha in _hashes(e) if HEX64.fullmatch(sha)})
    stored: Stored = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await MediaObject.select(
            MediaObject.sha256, MediaObject.bytes, MediaObject.mime
        ).where(MediaObject.sha256.is_in(wanted[start : start + _CHUNK]))
        stored.update({r["sha256"]: (r["bytes"], r["mime"]) for r in rows})
    return stored


def check_media(event: Event, stored: Stored) -> None:
    """Raise unless every original the event references is stored with its size and type."""
    missing: list[str] = []
    for ref in media_refs(event.body):
        sha = ref["sha256"]
        if not isinstance(sha, str) or not HEX64.fullmatch(sha):
            # only a correction's inner body is not shape-checked before this point
            raise BodyInvalid("body", f"a media reference names no SHA-256: {sha!r}")
        found = stored.get(sha)
        if found is None:
            if sha not in missing:
                missing.append(sha)
            continue
        differs: dict[str, Any] = {}
        if found[0] != ref["bytes"]:
            differs["bytes"] = found[0]
        if found[1] != ref["mime"]:
            differs["mime"] = found[1]
        if differs:
            raise MediaMismatch(
                f"media {sha} is stored with another size or type", sha256=sha, stored=differs
            )
    if missing:
        raise MediaNotUploaded(
            f"upload media {missing[0]} first, then resend this event",
            sha256=missing[0],
            missing=missing,
        )
