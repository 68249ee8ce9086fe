"""Server challenges for WebAuthn ceremonies and device-key sign-in.

The client gets a random `handle` with the challenge and echoes it; a challenge lives five
minutes, serves one purpose (and one enrolment or device), and is spent by its first use,
successful or not (WebAuthn L3 §13.4.3: challenges must not be reusable).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from onevisit.auth.common import aware, b64url_decode, b64url_encode, utcnow
from onevisit.auth.tables import WebAuthnChallenge
from onevisit.errors import AppError

__all__ = ["Challenge", "Purpose", "new_challenge", "take_challenge"]

TTL = timedelta(minutes=5)
CHALLENGE_BYTES = 32


class Purpose(StrEnum):
    register = "register"
    login = "login"
    device_login = "device_login"


@dataclass(frozen=True, slots=True)
class Challenge:
    handle: str
    challenge: bytes
    user_id: str | None
    enrolment_id: int | None
    device_id: str


async def new_challenge(
    *,
    purpose: Purpose,
    user_id: str | None = None,
    enrolment_id: int | None = None,
    device_id: str = "",
) -> Challenge:
    handle = secrets.token_urlsafe(24)
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    await WebAuthnChallenge.insert(
        WebAuthnChallenge(
            handle=handle,
            challenge=b64url_encode(challenge),
            purpose=purpose.value,
            app_user=user_id,
            enrolment=enrolment_id,
            device_id=device_id,
            expires_at=utcnow() + TTL,
        )
    )
    return Challenge(handle, challenge, user_id, enrolment_id, device_id)


async def take_challenge(*, handle: str, purpose: Purpose) -> Challenge:
    """Spend the challenge: one conditional UPDATE, so of two uses only one gets it."""
    rows = (
        await WebAuthnChallenge.update({WebAuthnChallenge.used_at: utcnow()})
        .where(
            (WebAuthnChallenge.handle == handle[:64])
            & (WebAuthnChallenge.purpose == purpose.value)
            & WebAuthnChallenge.used_at.is_null()
        )
        .returning(
            WebAuthnChallenge.challenge,
            WebAuthnChallenge.app_user,
            WebAuthnChallenge.enrolment,
            WebAuthnChallenge.device_id,
            WebAuthnChallenge.expires_at,
        )
    )
    if not rows or aware(rows[0]["expires_at"]) <= utcnow():
        raise AppError("auth.challenge_unknown")
    row = rows[0]
    return Challenge(
        handle=handle,
        challenge=b64url_decode(row["challenge"]) or b"",
        user_id=None if row["app_user"] is None else str(row["app_user"]),
        enrolment_id=row["enrolment"],
        device_id=row["device_id"],
    )
