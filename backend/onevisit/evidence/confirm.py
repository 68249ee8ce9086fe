"""Record confirmations by passkey (EVIDENCE.md §5): a WebAuthn assertion whose challenge is
the 32 raw bytes of record_hash, with user verification, verified with py_webauthn against the
inspector's registered credential — on sync (sync/ingest.py) and again when re-verifying
history (evidence/verify.py), both with sign count 0: assertions may be verified out of order
and synced passkeys always report 0 (§5). PIN confirmations (method "device_pin") are covered
by the device key's signature of the event itself.

`verify_record_confirmation` is pure. `load_confirmation_keys` reads the passkeys a batch of
events names (one query) and returns an object that checks each event against them.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from webauthn import verify_authentication_response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event

__all__ = [
    "ConfirmationInvalid",
    "ConfirmationKeys",
    "UnknownCredential",
    "credential_id_of",
    "is_passkey_confirmation",
    "load_confirmation_keys",
    "verify_record_confirmation",
]


class ConfirmationInvalid(EvidenceError):
    """The assertion does not verify: wrong challenge (another record), origin, rp id, user
    verification missing, or a signature that is not the credential's."""

    code = "confirmation.invalid"


class UnknownCredential(ConfirmationInvalid):
    """The assertion names no registered passkey of the event's actor."""

    code = "confirmation.unknown_credential"


def is_passkey_confirmation(event: Event) -> bool:
    return event.type == "record_confirmed" and event.body.get("method") == "webauthn"


def credential_id_of(body: dict[str, Any]) -> str | None:
    """The assertion's credential id in the spelling Passkey.credential_id stores (unpadded
    base64url of the raw id), or None when it has none."""
    assertion = body.get("assertion")
    raw = assertion.get("id") if isinstance(assertion, dict) else None
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return bytes_to_base64url(base64url_to_bytes(raw))
    except (binascii.Error, ValueError):
        return None


def verify_record_confirmation(
    *, body: dict[str, Any], credential_public_key: bytes, rp_id: str, origin: str
) -> None:
    """Verify a record_confirmed body's assertion (§5). Raises ConfirmationInvalid."""
    record_hash, assertion = body.get("record_hash"), body.get("assertion")
    try:
        challenge = bytes.fromhex(record_hash) if isinstance(record_hash, str) else b""
    except ValueError:
        challenge = b""
    if len(challenge) != 32:
        raise ConfirmationInvalid("record_hash is not 64 hex digits")
    if not isinstance(assertion, dict):
        raise ConfirmationInvalid("no assertion")
    try:
        verify_authentication_response(
            credential=json.dumps(assertion),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(credential_public_key),
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise ConfirmationInvalid(str(exc) or type(exc).__name__) from exc


@dataclass(frozen=True, slots=True)
class ConfirmationKeys:
    """Passkeys by credential id: (owner user id, COSE public key); and the relying party."""

    passkeys: dict[str, tuple[str, bytes]]
    rp_id: str
    origin: str

    def check(self, event: Event) -> None:
        """No-op for anything but a passkey confirmation; else the credential must be a
        passkey of the event's actor and the assertion must verify."""
        if not is_passkey_confirmation(event):
            return
        cred = credential_id_of(event.body)
        owner_key = self.passkeys.get(cred) if cred else None
        if owner_key is None or owner_key[0] != event.actor:
            raise UnknownCredential(
                "the assertion's credential is not a passkey of the actor", credential_id=cred
            )
        verify_record_confirmation(
            body=event.body,
            credential_public_key=owner_key[1],
            rp_id=self.rp_id,
            origin=self.origin,
        )


async def load_confirmation_keys(events: Iterable[Event]) -> ConfirmationKeys:
    """The passkeys named by the passkey confirmations among `events`: one query."""
    from onevisit.auth.tables import Passkey
    from onevisit.config import get_settings

    ids = sorted(
        {c for e in events if is_passkey_confirmation(e) if (c := credential_id_of(e.body))}
    )
    rows = (
        await Passkey.select(Passkey.credential_id, Passkey.app_user, Passkey.public_key).where(
            Passkey.credential_id.is_in(ids)
        )
        if ids
        else []
    )
    settings = get_settings()
    return ConfirmationKeys(
        passkeys={r["credential_id"]: (str(r["app_user"]), bytes(r["public_key"])) for r in rows},
        rp_id=settings.rp_id,
        origin=settings.origin,
    )
