"""Record confirmations by passkey (EVIDENCE.md §5): a WebAuthn assertion whose challenge is
the 32 raw bytes of record_hash, with user verification, verified with py_webauthn against the
inspector's registered credential — on sync (sync/ingest.py) and again when re-verifying
history (evidence/verify.py), both with sign count 0: assertions may be verified out of order
and synced passkeys always report 0 (§5). PIN confirmations (method "device_pin") are covered
by the device key's signature of the event itself.

Which relying party: on sync, the current one (settings.rp_id and settings.origin), as for any
ceremony. When re-verifying history (`history=True`), the one the passkey was registered for —
its RP ID is in the signed authenticator data, so it never changes for a passkey — because the
origin may have moved since (README: behind HTTPS): a confirmation made under the old origin
stays valid. Its origin must be one that RP ID is used from: the registration origin, the
current origin if the RP ID is still the current one, or any origin the RP ID may be used from
at all (WebAuthn §5.1.4.1: https on the RP ID or a subdomain of it; http only on localhost).
Passkeys registered before their relying party was stored fall back to the current settings.

`verify_record_confirmation` is pure. `load_confirmation_keys` reads the passkeys a batch of
events names (one query) and returns an object that checks each event against them.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from webauthn import verify_authentication_response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event

__all__ = [
    "ConfirmationInvalid",
    "ConfirmationKeys",
    "RegisteredPasskey",
    "UnknownCredential",
    "credential_id_of",
    "is_passkey_confirmation",
    "load_confirmation_keys",
    "origin_fits_rp_id",
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


def origin_fits_rp_id(origin: str, rp_id: str) -> bool:
    """Whether a browser lets `origin` use passkeys of `rp_id` (WebAuthn §5.1.4.1 step 8: the
    RP ID is the origin's host or a registrable suffix of it; a secure context: https, or
    http on localhost)."""
    try:
        parts = urlsplit(origin)
        host, _ = parts.hostname, parts.port  # .port raises on a malformed port
    except ValueError:
        return False
    if not host or not rp_id or origin != f"{parts.scheme}://{parts.netloc}":
        return False  # not a bare scheme://host[:port] (clientData origins never have a path)
    if parts.scheme == "http":
        return host == rp_id == "localhost"
    return parts.scheme == "https" and (host == rp_id or host.endswith("." + rp_id))


def _client_origin(assertion: Any) -> str | None:
    """The origin the browser wrote into the assertion's clientDataJSON, or None."""
    try:
        raw = base64url_to_bytes(assertion["response"]["clientDataJSON"])
        origin = json.loads(raw)["origin"]
    except (TypeError, KeyError, ValueError, binascii.Error):
        return None
    return origin if isinstance(origin, str) else None


def verify_record_confirmation(
    *, body: dict[str, Any], credential_public_key: bytes, rp_id: str, origin: str | Sequence[str]
) -> None:
    """Verify a record_confirmed body's assertion (§5) for the relying party `rp_id`; `origin`
    is the origin, or the origins, accepted. Raises ConfirmationInvalid."""
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
            expected_origin=origin if isinstance(origin, str) else list(origin),
            credential_public_key=bytes(credential_public_key),
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise ConfirmationInvalid(str(exc) or type(exc).__name__) from exc


@dataclass(frozen=True, slots=True)
class RegisteredPasskey:
    owner: str  # user id
    public_key: bytes  # COSE
    rp_id: str | None = None  # the relying party it was registered for (None: not recorded)
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class ConfirmationKeys:
    """Passkeys by credential id; the current relying party (settings); `history`: check
    against the relying party each passkey was registered for (see the module docstring)."""

    passkeys: dict[str, RegisteredPasskey]
    rp_id: str
    origin: str
    history: bool = False

    def relying_party(self, passkey: RegisteredPasskey, body: dict[str, Any]) -> tuple[str, list]:
        """(RP ID, accepted origins) for a confirmation made with `passkey`."""
        if not self.history:
            return self.rp_id, [self.origin]
        rp_id = passkey.rp_id or self.rp_id
        origins = [passkey.origin or self.origin]
        if rp_id == self.rp_id:
            origins.append(self.origin)
        client = _client_origin(body.get("assertion"))
        if client is not None and origin_fits_rp_id(client, rp_id):
            origins.append(client)
        return rp_id, list(dict.fromkeys(origins))

    def check(self, event: Event) -> None:
        """No-op for anything but a passkey confirmation; else the credential must be a
        passkey of the event's actor and the assertion must verify."""
        if not is_passkey_confirmation(event):
            return
        cred = credential_id_of(event.body)
        passkey = self.passkeys.get(cred) if cred else None
        if passkey is None or passkey.owner != event.actor:
            raise UnknownCredential(
                "the assertion's credential is not a passkey of the actor", credential_id=cred
            )
        rp_id, origins = self.relying_party(passkey, event.body)
        verify_record_confirmation(
            body=event.body, credential_public_key=passkey.public_key, rp_id=rp_id, origin=origins
        )


async def load_confirmation_keys(
    events: Iterable[Event], *, history: bool = False
) -> ConfirmationKeys:
    """The passkeys named by the passkey confirmations among `events`: one query. On sync
    (the default) they are checked against the current relying party; `history=True` (for
    `onevisit verify`) against the one each passkey was registered for."""
    from onevisit.auth.tables import Passkey
    from onevisit.config import get_settings

    ids = sorted(
        {c for e in events if is_passkey_confirmation(e) if (c := credential_id_of(e.body))}
    )
    columns = (Passkey.credential_id, Passkey.app_user, Passkey.public_key)
    rows = (
        await Passkey.select(*columns, Passkey.rp_id, Passkey.origin).where(
            Passkey.credential_id.is_in(ids)
        )
        if ids
        else []
    )
    settings = get_settings()
    return ConfirmationKeys(
        passkeys={
            r["credential_id"]: RegisteredPasskey(
                str(r["app_user"]), bytes(r["public_key"]), r["rp_id"], r["origin"]
            )
            for r in rows
        },
        rp_id=settings.rp_id,
        origin=settings.origin,
        history=history,
    )
