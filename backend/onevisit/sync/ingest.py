"""One sync batch (EVIDENCE.md §3): every event is checked in order — canonical bytes, hash,
signature, device owned by the actor, a passkey confirmation's assertion (§5), gapless seq and
matching prev, a visit where the type needs one, visit membership and matter ownership, every
referenced media original stored (media.py) — and acknowledged on its own: accepted (with its
log index), duplicate (same id, same bytes: a safe resend) or rejected with a stable code.
Nothing of a rejected event is stored; the device fixes or resends from the code (chain.gap
names the seq expected; media.not_uploaded: upload, then resend the same event).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from onevisit import workers
from onevisit.auth.tables import DeviceKey
from onevisit.bulk import fetch_by_keys
from onevisit.db import read_transaction, write_transaction
from onevisit.evidence import merkle
from onevisit.evidence.confirm import is_passkey_confirmation, load_confirmation_keys
from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event, check_chain, names_media, verify_event_signature
from onevisit.evidence.log import LogAppender, SignedCheckpoint, sign_checkpoint
from onevisit.evidence.store import ChainHead, chain_heads, now_ms, store_events
from onevisit.sync.checks import (
    MAX_ENVELOPE_BYTES,
    Rejected,
    Submitted,
    check_share,
    named_devices,
    parse_submitted,
)
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
# Parsing and ECDSA verification are two thirds of an ingest and keep the GIL: from this many
# events a batch hands its first WORKER_SHARE to a worker process (onevisit.workers) and checks
# the rest itself meanwhile. Smaller ones: the round trip would cost more than it saves.
PARALLEL_MIN_EVENTS = 64
# A phone sends its own events (one device); device-like strings in bodies also count. More
# than this and the batch is checked in process, reading only the keys its events name.
MAX_NAMED_DEVICES = 16
WORKER_SHARE = 0.45  # the worker's share also pays for pickling both ways


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


def _device_key(event: Event, keys: dict[str, dict[str, Any]]) -> bytes:
    """The SPKI of the event's device key, which exists, is not revoked and is the actor's."""
    key = keys.get(event.device)
    if key is None:
        raise Rejected("device.unknown", "register this device key first", device=event.device)
    if key["revoked_at"] is not None:
        raise Rejected("device.revoked", device=event.device)
    if str(key["app_user"]) != event.actor:
        raise Rejected("device.not_actor", "the device key belongs to another user")
    return key["spki"]


def _worker_share(items: Sequence[Submitted]) -> int:
    """How many of the first items a worker process checks (0: none)."""
    if len(items) < PARALLEL_MIN_EVENTS or workers.worker_count() < 1:
        return 0
    return max(1, int(len(items) * WORKER_SHARE))


async def _worker_result(future: Future | None, count: int) -> list[Event | None]:
    """What the worker found; all None (to be checked here) if there was none or it died."""
    if future is not None:
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:  # nothing is lost but the time
            pass
    return [None] * count


async def authenticate(items: Sequence[Submitted]) -> tuple[list[Ack], dict[int, Event]]:
    """The checks that need no lock: bytes, canonical form, body, the device key of the actor,
    the signature and a passkey confirmation's assertion. Returns the acks (rejected ones
    filled in, the rest pending) and the events that passed, by position. Also used by a
    bundle import (bundle.py) to know whose signed events name the media it carries.

    A large batch is parsed and its signatures verified by checks.check_share, its first share
    in a worker process while this one does the rest; an item check_share could not pass is
    checked again here, so every item gets the error the checks below give, in their order."""
    acks = [Ack(position=i, status="pending") for i in range(len(items))]
    split = _worker_share(items)
    named = named_devices(items) if split else set()
    if len(named) > MAX_NAMED_DEVICES:  # not a phone's batch: no shortcut for it
        split = 0
    keys: dict[str, dict[str, Any]] = {}
    found: list[Event | None] = [None] * len(items)  # parsed, and signature verified
    if split:  # the keys both shares need, before anything is parsed
        async with read_transaction():
            keys = await _device_keys(sorted(named))
        spki = {device: key["spki"] for device, key in keys.items()}
        theirs = workers.submit(check_share, items[:split], spki)  # it starts at once
        found[split:] = check_share(items[split:], spki)
        found[:split] = await _worker_result(theirs, split)
    parsed: dict[int, Event] = {}
    for i, event in enumerate(found):
        try:
            parsed[i] = event if event is not None else parse_submitted(items[i])
        except EvidenceError as exc:
            _reject(acks[i], exc)
    missing = {e.device for e in parsed.values()} - keys.keys()
    # the rows checks need, read before the lock (on SQLite a transaction opens a connection:
    # none when there is nothing to read)
    reads = missing or any(map(is_passkey_confirmation, parsed.values()))
    async with read_transaction() if reads else nullcontext():
        keys.update(await _device_keys(sorted(missing)))
        passkeys = await load_confirmation_keys(parsed.values())  # spec §5: verified on sync
    for i, event in list(parsed.items()):
        acks[i].id, acks[i].hash = event.id, event.hash
        try:
            spki_der = _device_key(event, keys)
            if found[i] is None:  # not verified by check_share
                verify_event_signature(
                    envelope_bytes=event.raw, signature_b64url=items[i].sig, spki_der=spki_der
                )
            passkeys.check(event)
        except EvidenceError as exc:
            _reject(acks[i], exc)
            del parsed[i]
    return acks, parsed


async def ingest_batch(items: Sequence[Submitted]) -> SyncResult:
    acks, parsed = await authenticate(items)
    async with read_transaction() if any(map(names_media, parsed.values())) else nullcontext():
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
    if checkpoint is not None:  # the accepted events are the last leaves, in order
        first = accepted[0].log_index
        paths = merkle.inclusion_paths(first, appender.size, appender.get_node)
        for _, _, ack in to_store:
            path = paths[ack.log_index - first]
            ack.inclusion = {
                "index": ack.log_index,
                "size": appender.size,
                "path": [p.hex() for p in path],
            }
    return SyncResult(acks=acks, checkpoint=checkpoint)
