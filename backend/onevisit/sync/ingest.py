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
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from onevisit.auth.tables import DeviceKey
from onevisit.bulk import fetch_by_keys
from onevisit.db import read_transaction, write_transaction
from onevisit.evidence import merkle
from onevisit.evidence.confirm import is_passkey_confirmation, load_confirmation_keys
from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event, check_chain, names_media
from onevisit.evidence.log import LogAppender, SignedCheckpoint, sign_checkpoint
from onevisit.evidence.store import ChainHead, chain_heads, now_ms, store_events
from onevisit.sync.checks import (
    MAX_ENVELOPE_BYTES,
    Rejected,
    SignatureJob,
    Signatures,
    Submitted,
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
# A phone sends its own events (one device); device-like strings in bodies also count. More
# than this and the batch's keys are read after it is parsed.
MAX_NAMED_DEVICES = 16


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


class _SignatureFailed(Exception):
    """A signature verified beside the database work did not verify: the batch's transaction is
    rolled back and its database checks run again without that event (ingest_batch)."""


async def authenticate(
    items: Sequence[Submitted], *, defer_signatures: bool = False
) -> tuple[list[Ack], dict[int, Event], Signatures | None]:
    """The checks that need no lock: bytes, canonical form, body, the device key of the actor,
    the signature and a passkey confirmation's assertion, each item's in that order. Returns
    the acks (rejected ones filled in, the rest pending), the events that passed, by position,
    and — with `defer_signatures` — the signatures still being verified (checks.Signatures):
    the events are then those that passed everything else, and the caller must await
    `failures()` before anything it did with them is seen. Also used by a bundle import
    (bundle.py) to know whose signed events name the media it carries."""
    acks = [Ack(position=i, status="pending") for i in range(len(items))]
    signatures = Signatures(expected=len(items))
    keys: dict[str, dict[str, Any]] = {}
    asked = named_devices(items) if signatures.handed else set()
    if 0 < len(asked) <= MAX_NAMED_DEVICES:  # more: not a phone's batch, no shortcut for it
        async with read_transaction():
            keys = await _device_keys(sorted(asked))
    else:
        asked = set()

    parsed: dict[int, Event] = {}

    def hand_over(i: int) -> None:  # its signature, once its device key passed
        try:
            spki = _device_key(parsed[i], keys)
        except EvidenceError as exc:
            _reject(acks[i], exc)
            del parsed[i]
            return
        signatures.add(SignatureJob(i, parsed[i].raw, items[i].sig, spki))

    later = []  # parsed events whose device key was not read yet
    for i, item in enumerate(items):
        try:
            event = parsed[i] = parse_submitted(item)
        except EvidenceError as exc:
            _reject(acks[i], exc)
            continue
        acks[i].id, acks[i].hash = event.id, event.hash
        if event.device in asked:
            hand_over(i)
        else:
            later.append(i)
    # the rows the checks need (on SQLite a transaction opens a connection: none for nothing)
    reads = later or any(map(is_passkey_confirmation, parsed.values()))
    async with read_transaction() if reads else nullcontext():
        keys.update(await _device_keys([parsed[i].device for i in later]))
        passkeys = await load_confirmation_keys(parsed.values())  # spec §5: verified on sync
    for i in later:
        hand_over(i)
    signatures.flush()
    if not defer_signatures:
        for i, exc in (await signatures.failures()).items():
            _reject(acks[i], exc)
            del parsed[i]
    for i, event in list(parsed.items()):
        try:
            passkeys.check(event)
        except EvidenceError as exc:
            _reject(acks[i], exc)
            del parsed[i]
    return acks, parsed, signatures if defer_signatures else None


async def ingest_batch(items: Sequence[Submitted]) -> SyncResult:
    """The signatures are verified (checks.Signatures) while the batch is checked against and
    written to the database, and all are known before its checkpoint is signed and it commits.
    A failed one (a forged or damaged event: rare) rolls all of that back, and the database
    checks run again without the events whose signature failed, so each item gets the ack the
    checks in their order give and nothing of a rejected event is stored."""
    acks, parsed, signatures = await authenticate(items, defer_signatures=True)
    assert signatures is not None
    checked = [replace(ack) for ack in acks]  # as they stand before the database checks
    try:
        return await _append(items, acks, parsed, signatures)
    except _SignatureFailed:  # rolled back: again without the events whose signature failed
        for i, exc in (await signatures.failures()).items():
            _reject(checked[i], exc)  # the signature is checked before a passkey assertion
            parsed.pop(i, None)
        return await _append(items, checked, parsed, None)


async def _append(
    items: Sequence[Submitted],
    acks: list[Ack],
    parsed: dict[int, Event],
    signatures: Signatures | None,
) -> SyncResult:
    """The checks under the write lock (duplicates, chains, scope, media), then the accepted
    events stored, appended to the log and a checkpoint signed, in one transaction."""
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
        if signatures is not None and await signatures.failures():
            raise _SignatureFailed  # leaves the transaction: nothing of it is kept
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
