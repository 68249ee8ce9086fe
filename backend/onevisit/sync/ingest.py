"""One sync batch (EVIDENCE.md §3): every event is checked in order — canonical bytes, hash,
signature, device owned by the actor, a passkey confirmation's assertion (§5), gapless seq and
matching prev, a visit where the type needs one, visit membership and matter ownership, every
referenced media original stored (media.py) — and acknowledged on its own: accepted (with its
log index), duplicate (same id, same bytes: a safe resend) or rejected with a stable code.
Nothing of a rejected event is stored; the device fixes or resends from the code (chain.gap
names the seq expected; media.not_uploaded: upload, then resend the same event).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from onevisit.auth.tables import DeviceKey
from onevisit.bulk import fetch_by_keys
from onevisit.db import read_transaction, write_transaction
from onevisit.evidence import merkle
from onevisit.evidence.confirm import load_confirmation_keys
from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import (
    SERVER_DEVICE,
    Event,
    check_chain,
    parse_event,
    verify_event_signature,
)
from onevisit.evidence.log import LogAppender, SignedCheckpoint, sign_checkpoint
from onevisit.evidence.store import ChainHead, chain_heads, now_ms, store_events
from onevisit.field.bodies import check_body
from onevisit.sync.media import check_media, load_media
from onevisit.sync.scope import check_scope, load_scopes

__all__ = [
    "MAX_BATCH",
    "MAX_ENVELOPE_BYTES",
    "Ack",
    "Submitted",
    "SyncResult",
    "authenticate",
    "ingest_batch",
]

MAX_BATCH = 500  # events per request: a day's work of one phone fits in a few
MAX_ENVELOPE_BYTES = 64 * 1024  # bodies reference media by hash; they stay small


class Rejected(EvidenceError):
    """A check of this module failed; `code` is set per instance."""

    def __init__(self, code: str, reason: str = "", **details: Any) -> None:
        super().__init__(reason, **details)
        self.code = code


@dataclass(frozen=True, slots=True)
class Submitted:
    envelope: str  # the canonical JSON text; its UTF-8 bytes are what was signed
    sig: str


@dataclass
class Ack:
    position: int
    status: str  # accepted | duplicate | rejected
    id: str | None = None
    hash: str | None = None
    log_index: int | None = None
    received_ms: int | None = None
    code: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    inclusion: dict[str, Any] | None = None


@dataclass
class SyncResult:
    acks: list[Ack]
    checkpoint: SignedCheckpoint | None


def _reject(ack: Ack, exc: EvidenceError) -> None:
    ack.status, ack.code, ack.reason = "rejected", exc.code, exc.reason or None
    ack.details = dict(exc.details)


async def _device_keys(devices: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not devices:
        return {}
    rows = await DeviceKey.select(
        DeviceKey.device_id, DeviceKey.spki, DeviceKey.app_user, DeviceKey.revoked_at
    ).where(DeviceKey.device_id.is_in(sorted(set(devices))))
    return {r["device_id"]: dict(r, spki=bytes(r["spki"])) for r in rows}


def _parse(item: Submitted) -> Event:
    """Bytes, size, canonical form and fields: no key and no lock needed."""
    try:
        raw = item.envelope.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected("event.malformed", "the envelope is not valid Unicode text") from None
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise Rejected("event.too_large", f"envelope over {MAX_ENVELOPE_BYTES} bytes")
    event = parse_event(raw)
    if event.device == SERVER_DEVICE:
        raise Rejected("device.reserved", "only the server writes as device 'server'")
    check_body(event.type, event.body)
    return event


def _verify(event: Event, sig: str, keys: dict[str, dict[str, Any]]) -> None:
    """The device key exists, is not revoked, belongs to the actor, and signed these bytes."""
    key = keys.get(event.device)
    if key is None:
        raise Rejected("device.unknown", "register this device key first", device=event.device)
    if key["revoked_at"] is not None:
        raise Rejected("device.revoked", device=event.device)
    if str(key["app_user"]) != event.actor:
        raise Rejected("device.not_actor", "the device key belongs to another user")
    verify_event_signature(envelope_bytes=event.raw, signature_b64url=sig, spki_der=key["spki"])


async def authenticate(items: Sequence[Submitted]) -> tuple[list[Ack], dict[int, Event]]:
    """The checks that need no lock: bytes, canonical form, body, the device key of the actor,
    the signature and a passkey confirmation's assertion. Returns the acks (rejected ones
    filled in, the rest pending) and the events that passed, by position. Also used by a
    bundle import (bundle.py) to know whose signed events name the media it carries."""
    acks = [Ack(position=i, status="pending") for i in range(len(items))]
    parsed: dict[int, Event] = {}
    for i, item in enumerate(items):
        try:
            parsed[i] = _parse(item)
        except EvidenceError as exc:
            _reject(acks[i], exc)
    async with read_transaction():  # the rows checks need, read before the lock
        keys = await _device_keys([e.device for e in parsed.values()])
        passkeys = await load_confirmation_keys(parsed.values())  # spec §5: verified on sync
    for i, event in list(parsed.items()):
        acks[i].id, acks[i].hash = event.id, event.hash
        try:
            _verify(event, items[i].sig, keys)
            passkeys.check(event)
        except EvidenceError as exc:
            _reject(acks[i], exc)
            del parsed[i]
    return acks, parsed


async def ingest_batch(items: Sequence[Submitted]) -> SyncResult:
    acks, parsed = await authenticate(items)
    async with read_transaction():
        media = await load_media(parsed.values())  # append-only rows, read before the lock

    async with write_transaction():
        received = now_ms()
        ids = [e.id for e in parsed.values()]
        stored = await fetch_by_keys("event", ("event_id", "hash", "log_index"), "event_id", ids)
        known = {event_id: (h, index) for event_id, h, index in stored}
        heads = await chain_heads([e.device for e in parsed.values()])
        scopes = await load_scopes([e.visit for e in parsed.values() if e.visit])
        appender = await LogAppender.open()
        to_store: list[tuple[Event, str, Ack]] = []
        for i, event in parsed.items():
            ack = acks[i]
            if event.id in known:
                same, index = known[event.id][0] == event.hash, known[event.id][1]
                if same:
                    ack.status, ack.log_index = "duplicate", index
                else:
                    _reject(ack, Rejected("event.conflict", "this id was stored with other bytes"))
                continue
            try:
                head = heads.get(event.device)
                check_chain(
                    prev_hash=head.hash if head else None,
                    last_seq=head.seq if head else None,
                    event=event,
                )
                check_scope(event, scopes)
                check_media(event, media)
            except EvidenceError as exc:
                _reject(ack, exc)
                continue
            heads[event.device] = ChainHead(event.seq, event.hash)
            known[event.id] = (event.hash, None)
            to_store.append((event, items[i].sig, ack))
        accepted = await store_events(
            [(e, s) for e, s, _ in to_store], appender, received_ms=received
        )
        for (_, _, ack), done in zip(to_store, accepted, strict=True):
            ack.status, ack.log_index, ack.received_ms = "accepted", done.log_index, received
        checkpoint = await sign_checkpoint(appender) if accepted else None
    if checkpoint is not None:
        memo: dict[tuple[int, int], bytes] = {}  # the batch's proofs share right-edge subtrees
        for _, _, ack in to_store:
            path = merkle.inclusion_path(ack.log_index, appender.size, appender.get_node, memo)
            ack.inclusion = {
                "index": ack.log_index,
                "size": appender.size,
                "path": [p.hex() for p in path],
            }
    return SyncResult(acks=acks, checkpoint=checkpoint)
