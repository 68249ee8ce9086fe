"""A simulated phone: a real P-256 device key (as WebCrypto makes it) and the device's hash
chain. It builds envelopes exactly as the PWA does (EVIDENCE.md §3) and signs them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from onevisit.evidence.events import GENESIS_PREV, device_id_of, event_hash, sign_event
from onevisit.evidence.jcs import canonical_evidence
from onevisit.evidence.store import new_event_id, now_ms

__all__ = ["Phone", "SignedEvent"]


@dataclass(frozen=True, slots=True)
class SignedEvent:
    envelope: str  # canonical JSON text
    sig: str
    id: str
    hash: str
    seq: int

    def wire(self) -> dict[str, str]:
        return {"envelope": self.envelope, "sig": self.sig}


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Phone:
    actor: str  # user id
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: _new_key())
    seq: int = 0
    prev: str = GENESIS_PREV

    @property
    def spki(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def spki_b64url(self) -> str:
        return base64.urlsafe_b64encode(self.spki).rstrip(b"=").decode()

    @property
    def device_id(self) -> str:
        return device_id_of(self.spki)

    def envelope(
        self, event_type: str, body: dict[str, Any], *, visit: str | None, at: int | None = None
    ) -> dict[str, Any]:
        """The next envelope of this device's chain (not yet signed or advanced)."""
        at = now_ms() if at is None else at
        return {
            "v": 1,
            "id": new_event_id(at),
            "device": self.device_id,
            "seq": self.seq + 1,
            "prev": self.prev,
            "actor": self.actor,
            "visit": visit,
            "type": event_type,
            "at": at,
            "body": body,
        }

    def sign(self, envelope: dict[str, Any]) -> SignedEvent:
        """Sign an envelope and advance the chain to it."""
        raw = canonical_evidence(envelope)
        signed = SignedEvent(
            envelope=raw.decode("utf-8"),
            sig=sign_event(envelope_bytes=raw, private_key=self.key),
            id=envelope["id"],
            hash=event_hash(raw),
            seq=envelope["seq"],
        )
        self.seq, self.prev = envelope["seq"], signed.hash
        return signed

    def rewind(self, *, seq: int, prev: str) -> None:
        """Continue the chain after (seq, prev): what a device does when the server rejected
        an event (nothing of it is stored, so the next event must follow the last accepted
        one). Unacknowledged later events are re-signed on the new chain with their ids kept."""
        self.seq, self.prev = seq, prev

    def resign(self, event: SignedEvent) -> SignedEvent:
        """The same event (id, type, time, body) re-signed at the chain's current end: after
        a rewind, for events the server has not acknowledged."""
        import json

        envelope = json.loads(event.envelope)
        envelope["seq"], envelope["prev"] = self.seq + 1, self.prev
        return self.sign(envelope)

    def event(
        self, event_type: str, body: dict[str, Any], *, visit: str | None, at: int | None = None
    ) -> SignedEvent:
        return self.sign(self.envelope(event_type, body, visit=visit, at=at))
