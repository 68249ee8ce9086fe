"""The checks of a submitted event that need neither the database nor a lock: its bytes, size,
canonical form, fields and body, and — given its device's public key — its signature. Plain
values in and out and no database import, so that a worker process (onevisit.workers) can take
a share of a large sync batch while the server checks the rest (ingest.authenticate).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import SERVER_DEVICE, Event, parse_event, verify_event_signature
from onevisit.field.bodies import check_body

__all__ = ["MAX_ENVELOPE_BYTES", "Rejected", "Submitted", "check_share", "named_devices"]

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
    device keys to read before the events are parsed (an extra one costs nothing; one missed
    here is read after parsing)."""
    return {d for item in items for d in _DEVICE_MEMBER.findall(item.envelope)}


def check_share(items: Sequence[Submitted], spki: Mapping[str, bytes]) -> list[Event | None]:
    """Each item parsed (parse_submitted) and its signature verified with the SPKI of its
    device in `spki`; None where a check fails or the device is not in `spki` — the caller
    checks that item again itself, in order, for its exact error."""
    events: list[Event | None] = []
    for item in items:
        try:
            event = parse_submitted(item)
            key = spki.get(event.device)
            if key is not None:
                verify_event_signature(
                    envelope_bytes=event.raw, signature_b64url=item.sig, spki_der=key
                )
        except EvidenceError:
            event = key = None
        events.append(event if key is not None else None)
    return events
