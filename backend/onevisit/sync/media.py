"""Media an event references must be stored before the event is (EVIDENCE.md §3, docs/sync.md),
and the event's actor must have the right to reference it.

An event naming `{"sha256","bytes","mime"}` is accepted only if, for each reference:

1. that original is stored completely — its `media_object` row exists, which the upload writes
   only after the bytes were hashed, checked and moved into the store — and
2. the event may point at it: its actor completed an upload of that hash (sent every byte,
   and the server hashed what they sent: media/uploads.py), or an accepted event of the same
   visit references it already (everyone who may see the visit may read it already, so one
   more reference discloses nothing: one inspector photographs, another names the photo), and
3. it is stored with the size and type the reference names.

Otherwise nothing of the event is stored:

- `media.not_uploaded` (retryable) for 1 or 2: the phone uploads the named originals — every
  byte, even of an object stored already — then resends the same event unchanged (its chain
  waits: the later events answer `chain.gap` until then). An object the actor may not point at
  answers exactly like a missing one: its existence is not disclosed;
- `media.mismatch` (final) for 3: the hash is stored with another size or type, so the
  reference is wrong and never will be right.

Without 1, a reference to bytes that never arrive would make `onevisit verify` fail with
`media.missing` for good, and (media read access follows references) an event could point at an
original before its owner uploaded it. Without 2, anyone who learnt a hash with its size and
type (a published record lists them) could point an event of their own visit at someone
else's original and read it. media_object and media_ref rows are never updated or deleted and a
complete upload stays complete, so what is read before the write transaction still holds when
the event is stored (a right gained meanwhile only shows on the resend).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event, media_hashes, media_refs, names_media
from onevisit.evidence.tables import MediaRef
from onevisit.field.shapes import HEX64, BodyInvalid
from onevisit.media.tables import MediaObject, MediaUpload

__all__ = ["MediaMismatch", "MediaNotUploaded", "Stored", "check_media", "load_media"]

_CHUNK = 1000  # hashes per query: far below PostgreSQL's 32,767 parameters


@dataclass(slots=True)
class Stored:
    """What the batch's references need: the stored originals, who proved possession, and
    which visits reference them already."""

    objects: dict[str, tuple[int, str]] = field(default_factory=dict)  # sha256 → (bytes, mime)
    uploaded: set[tuple[str, str]] = field(default_factory=set)  # (user id, sha256)
    referenced: set[tuple[str, str]] = field(default_factory=set)  # (visit id, sha256)

    def may_reference(self, event: Event, sha256: str) -> bool:
        if (event.actor, sha256) in self.uploaded:
            return True
        return event.visit is not None and (event.visit, sha256) in self.referenced


class MediaNotUploaded(EvidenceError):
    code = "media.not_uploaded"


class MediaMismatch(EvidenceError):
    code = "media.mismatch"


def _user_key(actor: str) -> str | None:
    try:
        return str(uuid.UUID(actor))
    except ValueError:
        return None


async def load_media(events: Iterable[Event]) -> Stored:
    """The stored originals any of these events references, with the complete uploads of them
    by the events' actors and the references to them from the events' visits."""
    events = [e for e in events if names_media(e)]
    wanted = sorted({sha for e in events for sha in media_hashes(e.body) if HEX64.fullmatch(sha)})
    actors = {key: e.actor for e in events if (key := _user_key(e.actor)) is not None}
    visits = {e.visit for e in events if e.visit is not None}
    found = Stored()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = await MediaObject.select(
            MediaObject.sha256, MediaObject.bytes, MediaObject.mime
        ).where(MediaObject.sha256.is_in(chunk))
        found.objects.update({r["sha256"]: (r["bytes"], r["mime"]) for r in rows})
        present = [sha for sha in chunk if sha in found.objects]
        if not present:
            continue
        # a handful of uploads and references per photo: filtered here, not by parameters
        uploads = await MediaUpload.select(MediaUpload.app_user, MediaUpload.sha256).where(
            MediaUpload.sha256.is_in(present) & (MediaUpload.state == "complete")
        )
        for r in uploads:
            actor = actors.get(str(r["app_user"]))
            if actor is not None:
                found.uploaded.add((actor, r["sha256"]))
        if visits:
            refs = await MediaRef.select(MediaRef.visit, MediaRef.sha256).where(
                MediaRef.sha256.is_in(present)
            )
            found.referenced.update((r["visit"], r["sha256"]) for r in refs if r["visit"] in visits)
    return found


def check_media(event: Event, stored: Stored) -> None:
    """Raise unless every original the event references is stored, the event may point at
    it, and it is stored with the reference's size and type."""
    if not names_media(event):
        return
    missing: list[str] = []
    for ref in media_refs(event.body):
        sha = ref["sha256"]
        if not isinstance(sha, str) or not HEX64.fullmatch(sha):
            # only a correction's inner body is not shape-checked before this point
            raise BodyInvalid("body", f"a media reference names no SHA-256: {sha!r}")
        found = stored.objects.get(sha)
        if found is None or not stored.may_reference(event, sha):
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
