"""The checks of a submitted event that need neither the database nor a lock: its bytes, size,
canonical form, fields and body, and — given its device's public key — its signature, which a
worker process verifies while the server goes on (Signatures).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from onevisit import workers
from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import SERVER_DEVICE, Event, parse_event, verify_event_signature
from onevisit.field.bodies import check_body

__all__ = [
    "MAX_ENVELOPE_BYTES",
    "Rejected",
    "SignatureJob",
    "Signatures",
    "Submitted",
    "named_devices",
    "parse_submitted",
    "signature_failures",
]

MAX_ENVELOPE_BYTES = 64 * 1024  # bodies reference media by hash; they stay small


class Rejected(EvidenceError):
    """A check of the sync path failed; `code` is set per instance."""

    def __init__(self, code: str, reason: str = "", **details: Any) -> None:
        super().__init__(reason, **details)
        self.code = code


@dataclass(frozen=True, slots=True)
class Submitted:
    envelope: str  # the canonical JSON text; its UTF-8 bytes are what was signed
    sig: str


def parse_submitted(item: Submitted) -> Event:
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


_DEVICE_MEMBER = re.compile(r'"device":"([0-9a-f]{64})"')  # device_id_of: SHA-256 in hex


def named_devices(items: Sequence[Submitted]) -> set[str]:
    """Every device id an envelope holds under a "device" key, found without parsing it: the
    device keys to read before the events are parsed, so that their signatures can be handed
    over while the rest is parsed (an extra one costs nothing; one missed here is read after
    parsing)."""
    return {d for item in items for d in _DEVICE_MEMBER.findall(item.envelope)}


@dataclass(frozen=True, slots=True)
class SignatureJob:
    position: int  # of the item in its batch
    envelope: bytes
    sig: str
    spki: bytes  # of the event's device


def signature_failures(jobs: Sequence[SignatureJob]) -> dict[int, EvidenceError]:
    """The error of each job whose signature does not verify, by position."""
    failed: dict[int, EvidenceError] = {}
    for job in jobs:
        try:
            verify_event_signature(
                envelope_bytes=job.envelope, signature_b64url=job.sig, spki_der=job.spki
            )
        except EvidenceError as exc:
            failed[job.position] = exc
    return failed


class Signatures:
    """A batch's ECDSA signatures, verified by a worker process (onevisit.workers) while this
    process parses the rest of the batch and goes on with its database work (ingest.py).
    Verifying is the largest part of a sync; OpenSSL releases the GIL for part of it only, and
    threads verifying beside the event loop slowed its database work as much as they saved.
    The jobs go over in chunks as the batch is parsed, two at a time so the worker never
    waits; what it has not got when the results are needed is verified here. Without a worker
    (one CPU, or it died) all are verified here; a small batch too, the round trip would cost
    more than it saves."""

    CHUNK = 32
    QUEUED = 2  # chunks in the worker's hands at a time

    def __init__(self, expected: int) -> None:
        self.handed = expected >= self.CHUNK and workers.worker_count() > 0
        self._loop = asyncio.get_running_loop() if self.handed else None
        self._pending: list[SignatureJob] = []  # not in a chunk yet
        self._chunks: deque[list[SignatureJob]] = deque()  # not handed over yet
        self._sent: list[tuple[Future, list[SignatureJob]]] = []
        self._failed: dict[int, EvidenceError] = {}

    def add(self, job: SignatureJob) -> None:
        self._pending.append(job)
        if not self.handed or len(self._pending) >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        """Hand over (or verify) the jobs added since the last chunk."""
        jobs, self._pending = self._pending, []
        if not self.handed:
            self._failed.update(signature_failures(jobs))
            return
        if jobs:
            self._chunks.append(jobs)
        self._hand_over()

    def _hand_over(self) -> None:
        # counted on the futures, not by their callbacks: those wait for the event loop, which
        # does not run while this process parses the batch
        while self._chunks and sum(not f.done() for f, _ in self._sent) < self.QUEUED:
            jobs = self._chunks.popleft()
            future = workers.submit(signature_failures, jobs)
            if future is None:  # the pool is gone: here, then
                self._failed.update(signature_failures(jobs))
                continue
            self._sent.append((future, jobs))
            future.add_done_callback(self._worker_done)

    def _worker_done(self, _: Future) -> None:  # in the pool's thread
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            self._loop.call_soon_threadsafe(self._hand_over)

    async def failures(self) -> dict[int, EvidenceError]:
        """The error of each position whose signature does not verify, in position order."""
        self.flush()
        while self._chunks:  # the worker is busy: take its last chunk meanwhile
            self._failed.update(signature_failures(self._chunks.pop()))
            await asyncio.sleep(0)  # a chunk the worker finished hands it the next
        for future, jobs in self._sent:
            try:
                self._failed.update(await asyncio.wrap_future(future))
            except BrokenProcessPool:  # nothing is lost but the time
                self._failed.update(signature_failures(jobs))
        self._sent = []
        self._failed = dict(sorted(self._failed.items()))
        return self._failed
