"""The rescue bundle `onevisit.bundle/1` (docs/bundle.md): a phone's signed events and the
media they name, in one JSON file, ingested through exactly the checks of POST /api/sync.

- `parse_bundle(data)` checks the file's structure only (no I/O); anything malformed refuses
  the whole file with a `bundle.*` code, and nothing is stored.
- `import_bundle(bundle)` stores the media first — through the media area's own upload
  functions, so a file is hashed, content-checked and deduplicated as any upload is — and then
  hands the events to `ingest.ingest_batch`, the function behind POST /api/sync, in batches of
  MAX_BATCH. Each event gets its sync acknowledgement (accepted / duplicate / rejected + code),
  each media entry its own outcome. Importing the same file again stores nothing twice.

Whose upload is a media entry? The bundle carries the bytes, so whoever made it held them:
each actor whose *authentic* event of the bundle (registered, unrevoked device key of that
actor, valid signature: `ingest.authenticate`) names the hash is recorded as having uploaded
it (docs/media.md, "Who holds an object"). A forged or unsigned event grants nobody anything,
and an entry no authentic event names is not stored (`bundle.media_unreferenced`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from onevisit.errors import AppError
from onevisit.evidence.events import Event, media_hashes
from onevisit.evidence.log import SignedCheckpoint
from onevisit.media.rules import CHUNK_MAX, MAX_BYTES, PURPOSES
from onevisit.media.store import is_sha256
from onevisit.media.uploads import append_chunk, create_upload
from onevisit.sync.ingest import MAX_BATCH, Ack, Submitted, authenticate, ingest_batch

__all__ = [
    "FORMAT",
    "MAX_EVENTS",
    "MAX_FILE_BYTES",
    "MAX_MEDIA",
    "Bundle",
    "BundleMedia",
    "ImportResult",
    "MediaOutcome",
    "import_bundle",
    "import_file",
    "parse_bundle",
]

FORMAT = "onevisit.bundle/1"
# A file is read whole (JSON with base64 media, ~4/3 of the bytes): bound the memory. A day's
# photos of one phone (50 × 5 MB) fit several times; more goes in several bundles.
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_EVENTS = 50_000  # a phone's events: a few hundred a day
MAX_MEDIA = 5_000
_TOP = {"format", "made_ms", "device", "user", "events", "media"}
_MEDIA_KEYS = {"sha256", "mime", "size", "data", "purpose"}


@dataclass(frozen=True, slots=True)
class BundleMedia:
    sha256: str
    mime: str
    size: int
    purpose: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Bundle:
    made_ms: int
    device: str | None
    user: str | None
    events: list[Submitted]
    media: list[BundleMedia]


@dataclass
class MediaOutcome:
    sha256: str
    status: str  # accepted | duplicate | rejected
    actors: list[str] = field(default_factory=list)  # who now holds it through this bundle
    code: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    acks: list[Ack]
    media: list[MediaOutcome]
    checkpoint: SignedCheckpoint | None  # the last batch's; each inclusion names its own size

    def counts(self) -> dict[str, dict[str, int]]:
        def tally(items: Sequence[Ack | MediaOutcome]) -> dict[str, int]:
            out = {"accepted": 0, "duplicate": 0, "rejected": 0}
            for item in items:
                out[item.status] += 1
            return out

        return {"events": tally(self.acks), "media": tally(self.media)}

    @property
    def ok(self) -> bool:
        return all(a.status != "rejected" for a in [*self.acks, *self.media])

    def lines(self) -> list[str]:
        """One line per media entry, then per event, for the CLI (docs/bundle.md)."""
        out = []
        for m in self.media:
            tail = f"{m.code} {m.reason or ''}".strip() if m.code else " ".join(m.actors)
            out.append(f"media  {m.status:<9} {m.sha256[:16]}… {tail}".rstrip())
        for a in self.acks:
            head = f"event  {a.status:<9} #{a.position} {a.id or '-'}"
            if a.status == "rejected":
                detail = json.dumps(a.details, ensure_ascii=False) if a.details else ""
                out.append(f"{head} {a.code} {a.reason or ''} {detail}".rstrip())
            else:
                out.append(f"{head} log_index={a.log_index}")
        return out

    def summary(self) -> str:
        c = self.counts()
        ev, md = c["events"], c["media"]
        return (
            f"bundle: {len(self.acks)} events ({ev['accepted']} accepted, {ev['duplicate']} "
            f"duplicate, {ev['rejected']} rejected); {len(self.media)} media ({md['accepted']} "
            f"accepted, {md['duplicate']} duplicate, {md['rejected']} rejected)"
            + ("" if self.ok else " — NOT everything was imported / 部分内容未导入")
        )


# --- the file ---------------------------------------------------------------------------------
def _malformed(where: str, reason: str) -> AppError:
    return AppError("bundle.malformed", f"{where}: {reason}", at=where)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # two readers could take different values: refuse the ambiguity
            raise _malformed(key, "duplicate key")
        out[key] = value
    return out


def _int(value: Any) -> bool:
    return type(value) is int and value >= 0


def parse_bundle(data: bytes) -> Bundle:
    """The bundle of these bytes, or AppError bundle.* naming the first problem (`at`)."""
    if len(data) > MAX_FILE_BYTES:
        raise AppError("bundle.too_large", size=len(data), limit=MAX_FILE_BYTES)
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _malformed("file", f"not UTF-8 JSON ({str(exc)[:120]})") from None
    if not isinstance(doc, dict):
        raise _malformed("file", "not a JSON object")
    if doc.get("format") != FORMAT:
        raise AppError("bundle.format_unknown", found=str(doc.get("format"))[:64], expected=FORMAT)
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise _malformed(unknown[0], "unknown field")
    if not _int(doc.get("made_ms")):
        raise _malformed("made_ms", "not an integer of ms >= 0")
    for key in ("device", "user"):
        if key in doc and not (doc[key] is None or isinstance(doc[key], str)):
            raise _malformed(key, "not a string")
    events, media = doc.get("events"), doc.get("media", [])
    if not isinstance(events, list):
        raise _malformed("events", "not a list")
    if not isinstance(media, list):
        raise _malformed("media", "not a list")
    if len(events) > MAX_EVENTS or len(media) > MAX_MEDIA:
        raise AppError(
            "bundle.too_large", events=len(events), media=len(media),
            limit_events=MAX_EVENTS, limit_media=MAX_MEDIA,
        )  # fmt: skip
    return Bundle(
        made_ms=doc["made_ms"],
        device=doc.get("device"),
        user=doc.get("user"),
        events=[_event(i, e) for i, e in enumerate(events)],
        media=_media_list(media),
    )


def _event(i: int, item: Any) -> Submitted:
    where = f"events[{i}]"
    if not isinstance(item, dict) or set(item) != {"envelope", "sig"}:
        raise _malformed(where, 'not exactly {"envelope", "sig"}')
    if not isinstance(item["envelope"], str) or not isinstance(item["sig"], str):
        raise _malformed(where, "envelope and sig must be strings")
    # Everything else (canonical bytes, size, signature) is judged per event by the sync
    # checks, so a bad event is rejected with its own code and the rest still go in.
    return Submitted(item["envelope"], item["sig"])


def _media_list(items: list[Any]) -> list[BundleMedia]:
    out, seen = [], set()
    for i, item in enumerate(items):
        where = f"media[{i}]"
        if not isinstance(item, dict) or not {"sha256", "mime", "size", "data"} <= set(item):
            raise _malformed(where, 'needs "sha256", "mime", "size", "data"')
        if set(item) - _MEDIA_KEYS:
            raise _malformed(f"{where}.{sorted(set(item) - _MEDIA_KEYS)[0]}", "unknown field")
        sha, mime, size = item["sha256"], item["mime"], item["size"]
        if not isinstance(sha, str) or not is_sha256(sha):
            raise _malformed(f"{where}.sha256", "not 64 lowercase hex")
        if sha in seen:
            raise _malformed(f"{where}.sha256", "listed twice")
        seen.add(sha)
        if not isinstance(mime, str) or not 0 < len(mime) <= 64:
            raise _malformed(f"{where}.mime", "not a media type")
        purpose = item.get("purpose", _purpose_of(mime))
        if purpose not in PURPOSES:
            raise _malformed(f"{where}.purpose", f"not one of {', '.join(PURPOSES)}")
        if not _int(size) or size > MAX_BYTES[purpose]:
            raise _malformed(f"{where}.size", f"not an integer 0..{MAX_BYTES[purpose]}")
        try:
            raw = base64.b64decode(item["data"], validate=True)
        except (TypeError, ValueError, binascii.Error):
            raise _malformed(f"{where}.data", "not standard base64") from None
        out.append(BundleMedia(sha, mime, size, purpose, raw))
    return out


def _purpose_of(mime: str) -> str:
    """A bundle may omit `purpose` (older writers): the type tells all the limits need."""
    if mime.startswith("video/"):
        return "video"
    return "signature" if mime == "application/json" else "photo"


async def import_file(path: str) -> ImportResult:
    """`onevisit import-bundle FILE`: the size is checked before the file is read."""
    file = Path(path)
    if file.stat().st_size > MAX_FILE_BYTES:
        raise AppError("bundle.too_large", size=file.stat().st_size, limit=MAX_FILE_BYTES)
    return await import_bundle(parse_bundle(file.read_bytes()))


# --- the import -------------------------------------------------------------------------------
async def import_bundle(bundle: Bundle) -> ImportResult:
    _, authentic, _ = await authenticate(bundle.events)
    outcomes = [await _store(m, authentic.values()) for m in bundle.media]
    acks: list[Ack] = []
    checkpoint = None
    for start in range(0, len(bundle.events), MAX_BATCH):
        result = await ingest_batch(bundle.events[start : start + MAX_BATCH])
        for ack in result.acks:
            ack.position += start
        acks.extend(result.acks)
        checkpoint = result.checkpoint or checkpoint
    return ImportResult(acks=acks, media=outcomes, checkpoint=checkpoint)


def _reject(outcome: MediaOutcome, exc: AppError) -> MediaOutcome:
    outcome.status, outcome.code = "rejected", exc.code
    outcome.reason, outcome.details = exc.detail or exc.problem.en, dict(exc.details)
    return outcome


async def _store(media: BundleMedia, events: Iterable[Event]) -> MediaOutcome:
    outcome = MediaOutcome(media.sha256, "duplicate")
    actors = list(dict.fromkeys(e.actor for e in events if media.sha256 in media_hashes(e.body)))
    if not actors:
        return _reject(outcome, AppError("bundle.media_unreferenced", sha256=media.sha256))
    if len(media.data) != media.size:
        return _reject(outcome, AppError("bundle.media_size", size=len(media.data)))
    received = hashlib.sha256(media.data).hexdigest()
    if received != media.sha256:  # checked before any upload row exists for it
        return _reject(outcome, AppError("media.hash_mismatch", received=received))
    for actor in actors:
        try:
            if await _upload_as(actor, media):
                outcome.status = "accepted"
                outcome.actors.append(actor)
        except AppError as exc:
            return _reject(outcome, exc)
    return outcome


async def _upload_as(actor: str, media: BundleMedia) -> bool:
    """The bytes as an upload of `actor` (the media area's own path: content check, dedupe,
    proof of possession). False if the actor held the object already."""
    _, state = await create_upload(
        user_id=actor, sha256=media.sha256, size=media.size, mime=media.mime,
        purpose=media.purpose,
    )  # fmt: skip
    if state.complete:
        return False
    offset = state.offset  # an open upload of a crashed import resumes where it stopped
    while True:
        chunk = media.data[offset : offset + CHUNK_MAX]
        state = await append_chunk(
            user_id=actor, upload_id=state.upload_id or "", offset=offset,
            body=_once(chunk), length=len(chunk),
        )  # fmt: skip
        offset = state.offset
        if state.complete:
            return True


async def _once(chunk: bytes) -> AsyncIterator[bytes]:
    yield chunk
