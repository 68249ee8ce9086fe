"""Device keys (EVIDENCE.md §2) and the PIN fallback for phones without WebAuthn (§5).

A device key is registered either during a passkey session (no PIN: the passkey signs the
user in) or from an enrolment link together with a PIN — never from a session that a device key
and PIN opened (auth.passkey_session_required). PIN sign-in needs both factors: a
signature of the device key over a fresh server challenge, and the PIN. Five wrong PINs
lock the key for fifteen minutes; revoked keys stay in the table, marked.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from onevisit.auth.challenges import Purpose, new_challenge, take_challenge
from onevisit.auth.common import aware, b64url_encode, utcnow
from onevisit.auth.devicekeys import (
    ENROL_PREFIX,
    device_id_of,
    load_device_key,
    verify_device_signature,
)
from onevisit.auth.enrolment import consume_enrolment, open_enrolment
from onevisit.auth.pins import check_pin_format, hash_pin, verify_pin
from onevisit.auth.roles import Caller, Role
from onevisit.auth.sessions import SignIn, end_device_sessions, start_session
from onevisit.auth.tables import DeviceKey
from onevisit.auth.users import get_user
from onevisit.db import write_transaction
from onevisit.errors import AppError

__all__ = [
    "LOCK_AFTER",
    "LOCK_FOR",
    "REGISTERING_SESSIONS",
    "DeviceChallenge",
    "DeviceOut",
    "device_challenge",
    "device_login",
    "enrol_device",
    "list_devices",
    "register_device",
    "revoke_device",
]

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
LABEL_MAX = 128

# Sessions from which POST /api/auth/devices may add a key: EVIDENCE.md §2 registers device keys
# "during a passkey-authenticated session". A device_pin session was opened by a device key and
# PIN; letting it add keys would turn one phone and its PIN into any number of keys that sign as
# the user. `cli` sessions are opened in-process by the server's own tools (onevisit simulate,
# the tests) with database access, never over HTTP.
REGISTERING_SESSIONS = frozenset({"passkey", "cli"})


class DeviceOut(msgspec.Struct, frozen=True):
    device_id: str
    label: str
    has_pin: bool
    created_at: datetime
    revoked_at: datetime | None


class DeviceChallenge(msgspec.Struct, frozen=True):
    handle: str
    challenge: str  # base64url of the 32 bytes the device signs


_COLUMNS = (
    DeviceKey.id,
    DeviceKey.device_id,
    DeviceKey.app_user,
    DeviceKey.label,
    DeviceKey.pin_hash,
    DeviceKey.created_at,
    DeviceKey.revoked_at,
)


_DEVICE_ID = re.compile(r"[0-9a-f]{64}")


def _out(row: dict) -> DeviceOut:
    revoked = row["revoked_at"]
    return DeviceOut(
        device_id=row["device_id"],
        label=row["label"],
        has_pin=bool(row["pin_hash"]),
        created_at=aware(row["created_at"]),
        revoked_at=None if revoked is None else aware(revoked),
    )


async def _find(device_id: str) -> dict | None:
    """Anything but 64 lowercase hex (what device_id_of makes) names no device; PostgreSQL
    would refuse a NUL in the text parameter."""
    if not _DEVICE_ID.fullmatch(device_id):
        return None
    return await DeviceKey.select(*_COLUMNS).where(DeviceKey.device_id == device_id).first()


async def _usable(device_id: str) -> dict:
    row = await _find(device_id)
    if row is None:
        raise AppError("auth.device_unknown")
    if row["revoked_at"] is not None:
        raise AppError("auth.device_revoked")
    return row


async def _claim(*, device_id: str, spki: bytes, user_id: str, label: str, pin_hash: str) -> None:
    """Insert the key, or keep the same user's unrevoked key (a re-enrolment sets a new PIN);
    a key of another user or a revoked key is refused. Inside write_transaction(); ON CONFLICT
    makes two concurrent registrations of one key meet the same row instead of failing."""
    await DeviceKey.insert(
        DeviceKey(device_id=device_id, app_user=user_id, spki=spki, label=label, pin_hash=pin_hash)
    ).on_conflict(target=DeviceKey.device_id, action="DO NOTHING")
    row = await _find(device_id)
    assert row is not None
    if str(row["app_user"]) != user_id:
        raise AppError("auth.device_taken")
    if row["revoked_at"] is not None:
        raise AppError("auth.device_revoked")
    if pin_hash and row["pin_hash"] != pin_hash:
        await DeviceKey.update(
            {
                DeviceKey.pin_hash: pin_hash,
                DeviceKey.failed_pins: 0,
                DeviceKey.locked_until: None,
                DeviceKey.label: label,
            }
        ).where(DeviceKey.id == row["id"])


async def enrol_device(
    *, token: str, spki: str, pin: str, label: str, signature: str, user_agent: str = ""
) -> SignIn:
    """Enrolment without WebAuthn: the device proves it holds the key by signing
    "onevisit-enrol:" + token, and sets a PIN. The link is spent, a session starts."""
    enrolment = await open_enrolment(token)
    check_pin_format(pin)
    der, key = load_device_key(spki)
    if not verify_device_signature(key, signature, (ENROL_PREFIX + token).encode()):
        raise AppError("auth.device_signature")
    pin_hash = await asyncio.to_thread(hash_pin, pin)  # ~50 ms of scrypt off the event loop
    device_id = device_id_of(der)
    async with write_transaction():
        await consume_enrolment(enrolment_id=enrolment.id)
        await _claim(
            device_id=device_id,
            spki=der,
            user_id=enrolment.user_id,
            label=label[:LABEL_MAX],
            pin_hash=pin_hash,
        )
        session = await start_session(
            user_id=enrolment.user_id,
            method="device_pin",
            user_agent=user_agent,
            device_id=device_id,
        )
    user = await get_user(user_id=enrolment.user_id)
    return SignIn(user=user, session=session, device_id=device_id)


async def register_device(*, caller: Caller, spki: str, label: str) -> str:
    """Register the phone's device key in a passkey session; the same key again is a no-op."""
    if caller.session_method not in REGISTERING_SESSIONS:
        raise AppError("auth.passkey_session_required", method=caller.session_method)
    der, _ = load_device_key(spki)
    device_id = device_id_of(der)
    async with write_transaction():
        await _claim(
            device_id=device_id,
            spki=der,
            user_id=caller.user_id,
            label=label[:LABEL_MAX],
            pin_hash="",
        )
    return device_id


async def list_devices(*, caller: Caller) -> list[DeviceOut]:
    rows = (
        await DeviceKey.select(*_COLUMNS)
        .where(DeviceKey.app_user == caller.user_id)
        .order_by(DeviceKey.created_at)
    )
    return [_out(row) for row in rows]


async def revoke_device(*, caller: Caller, device_id: str) -> DeviceOut:
    """Owner or admin. Idempotent; the key stays (events it signed must still verify), its
    PIN sessions end."""
    row = await _find(device_id)
    if row is None:
        raise AppError("auth.device_unknown")
    if str(row["app_user"]) != caller.user_id and caller.role is not Role.admin:
        raise AppError("auth.forbidden", "not your device")
    async with write_transaction():
        await DeviceKey.update(
            {DeviceKey.revoked_at: utcnow(), DeviceKey.revoked_by: caller.user_id}
        ).where((DeviceKey.id == row["id"]) & DeviceKey.revoked_at.is_null())
        await end_device_sessions(device_id=row["device_id"])
    return _out(await _find(device_id))  # type: ignore[arg-type]


async def device_challenge(*, device_id: str) -> DeviceChallenge:
    row = await _usable(device_id)
    challenge = await new_challenge(
        purpose=Purpose.device_login, user_id=str(row["app_user"]), device_id=row["device_id"]
    )
    return DeviceChallenge(handle=challenge.handle, challenge=b64url_encode(challenge.challenge))


async def _reserve_attempt(key_id: int) -> int:
    """Count the attempt before checking the PIN, so parallel guesses cannot exceed the limit.
    Returns the attempt number; a locked key refuses (and the reservation rolls back)."""
    async with write_transaction():
        rows = (
            await DeviceKey.update({DeviceKey.failed_pins: DeviceKey.failed_pins + 1})
            .where(DeviceKey.id == key_id)
            .returning(DeviceKey.failed_pins, DeviceKey.locked_until)
        )
        locked = rows[0]["locked_until"]
        if locked is not None and aware(locked) > utcnow():
            raise AppError("auth.pin_locked", locked_until=aware(locked).isoformat())
        if rows[0]["failed_pins"] > LOCK_AFTER:  # the attempt that reached the limit locks
            raise AppError("auth.pin_locked")
    return rows[0]["failed_pins"]


async def device_login(
    *, handle: str, device_id: str, pin: str, signature: str, user_agent: str = ""
) -> SignIn:
    challenge = await take_challenge(handle=handle, purpose=Purpose.device_login)
    if challenge.device_id != device_id:
        raise AppError("auth.challenge_unknown", "challenge of another device")
    row = await _usable(device_id)
    extra = (
        await DeviceKey.select(DeviceKey.spki, DeviceKey.app_user.active.as_alias("active"))
        .where(DeviceKey.id == row["id"])
        .first()
    )
    key = load_der_public_key(extra["spki"])
    assert isinstance(key, ec.EllipticCurvePublicKey)  # checked at registration
    if not verify_device_signature(key, signature, challenge.challenge):
        raise AppError("auth.device_signature")
    if not row["pin_hash"]:
        raise AppError("auth.device_no_pin")
    if not extra["active"]:
        raise AppError("auth.user_inactive")
    user = await get_user(user_id=str(row["app_user"]))
    attempt = await _reserve_attempt(row["id"])
    if not await asyncio.to_thread(verify_pin, pin, row["pin_hash"]):
        if attempt >= LOCK_AFTER:
            until = utcnow() + LOCK_FOR
            await DeviceKey.update({DeviceKey.locked_until: until, DeviceKey.failed_pins: 0}).where(
                DeviceKey.id == row["id"]
            )
            raise AppError("auth.pin_locked", locked_until=until.isoformat())
        raise AppError("auth.pin_invalid", attempts_left=LOCK_AFTER - attempt)
    async with write_transaction():
        await DeviceKey.update({DeviceKey.failed_pins: 0, DeviceKey.locked_until: None}).where(
            DeviceKey.id == row["id"]
        )
        session = await start_session(
            user_id=user.id, method="device_pin", user_agent=user_agent, device_id=row["device_id"]
        )
    return SignIn(user=user, session=session, device_id=row["device_id"])
