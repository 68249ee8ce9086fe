"""Passkeys (WebAuthn Level 3) with py_webauthn: registration from an enrolment link, and
sign-in with discoverable credentials (the browser offers the user's passkeys itself).

User verification is required in both ceremonies: a passkey stands for "this person", not
"this phone", because records are confirmed with it (EVIDENCE.md §5).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from onevisit.auth.challenges import Purpose, new_challenge, take_challenge
from onevisit.auth.common import b64url_decode, utcnow
from onevisit.auth.enrolment import consume_enrolment, open_enrolment
from onevisit.auth.sessions import SignIn, start_session
from onevisit.auth.tables import Passkey
from onevisit.auth.users import get_user
from onevisit.config import get_settings
from onevisit.db import write_transaction
from onevisit.errors import AppError

__all__ = [
    "RP_NAME",
    "CeremonyOptions",
    "login_options",
    "login_passkey",
    "register_passkey",
    "registration_options",
]

RP_NAME = "OneVisit 双随机一公开"
_TRANSPORTS = {t.value: t for t in AuthenticatorTransport}


class CeremonyOptions(msgspec.Struct, frozen=True):
    handle: str
    # options_to_json as an object: PublicKeyCredential.parse{Creation,Request}OptionsFromJSON
    publicKey: dict[str, Any]  # the WebAuthn JSON name


def _invalid(exc: Exception) -> AppError:
    return AppError("auth.webauthn_invalid", str(exc)[:200])


async def registration_options(*, token: str) -> CeremonyOptions:
    enrolment = await open_enrolment(token)
    user = await get_user(user_id=enrolment.user_id)
    existing = await Passkey.select(Passkey.credential_id, Passkey.transports).where(
        Passkey.app_user == user.id
    )
    challenge = await new_challenge(
        purpose=Purpose.register, user_id=user.id, enrolment_id=enrolment.id
    )
    settings = get_settings()
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name=RP_NAME,
        user_id=uuid.UUID(user.id).bytes,  # user handle: opaque, no personal data (§14.6.1)
        user_name=f"{user.name} · {user.department_name or '管理员'}",
        user_display_name=user.name,
        challenge=challenge.challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,  # discoverable: sign in without a name
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[  # one passkey per authenticator and user (§5.4.3)
            PublicKeyCredentialDescriptor(
                id=b64url_decode(row["credential_id"]) or b"",
                transports=[_TRANSPORTS[t] for t in row["transports"] if t in _TRANSPORTS],
            )
            for row in existing
        ],
    )
    return CeremonyOptions(challenge.handle, msgspec.json.decode(options_to_json(options)))


async def register_passkey(
    *, token: str, handle: str, credential: dict[str, Any], user_agent: str = ""
) -> SignIn:
    """Verify the attestation (WebAuthn §7.1), store the passkey, spend the link, sign in."""
    enrolment = await open_enrolment(token)
    challenge = await take_challenge(handle=handle, purpose=Purpose.register)
    if challenge.enrolment_id != enrolment.id:
        raise AppError("auth.challenge_unknown", "challenge of another enrolment")
    settings = get_settings()
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge.challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise _invalid(exc) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    transports = [t.value for t in (parsed.response.transports or [])]
    async with write_transaction():
        await consume_enrolment(enrolment_id=enrolment.id)
        if await Passkey.exists().where(Passkey.credential_id == credential_id):
            raise AppError("auth.webauthn_invalid", "credential already registered")
        await Passkey.insert(
            Passkey(
                credential_id=credential_id,
                app_user=enrolment.user_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=transports,
                aaguid=str(verified.aaguid),
                backed_up=verified.credential_backed_up,
                rp_id=settings.rp_id,
                origin=settings.origin,
            )
        )
        session = await start_session(
            user_id=enrolment.user_id, method="passkey", user_agent=user_agent
        )
    return SignIn(user=await get_user(user_id=enrolment.user_id), session=session)


async def login_options() -> CeremonyOptions:
    challenge = await new_challenge(purpose=Purpose.login)
    options = generate_authentication_options(
        rp_id=get_settings().rp_id,
        challenge=challenge.challenge,
        allow_credentials=[],  # discoverable credentials: the authenticator knows the user
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return CeremonyOptions(challenge.handle, msgspec.json.decode(options_to_json(options)))


async def login_passkey(*, handle: str, credential: dict[str, Any], user_agent: str = "") -> SignIn:
    """Verify the assertion (WebAuthn §7.2), move the sign counter forward, sign in."""
    challenge = await take_challenge(handle=handle, purpose=Purpose.login)
    try:
        parsed = parse_authentication_credential_json(credential)
    except WebAuthnException as exc:
        raise _invalid(exc) from exc
    row = (
        await Passkey.select(
            Passkey.id,
            Passkey.app_user.as_alias("user_id"),
            Passkey.app_user.active.as_alias("active"),
            Passkey.public_key,
            Passkey.sign_count,
        )
        .where(Passkey.credential_id == bytes_to_base64url(parsed.raw_id))
        .first()
    )
    if row is None:
        raise AppError("auth.credential_unknown")
    user_id = str(row["user_id"])
    handle_bytes = parsed.response.user_handle
    if handle_bytes is not None and handle_bytes != uuid.UUID(user_id).bytes:  # §7.2 step 6
        raise AppError("auth.webauthn_invalid", "userHandle does not match the credential")
    settings = get_settings()
    try:
        # Counter 0 here: py_webauthn checks the counter before the signature and reports it
        # as a generic failure; we apply the same rule (§7.2 step 21) after the signature
        # verified, to answer auth.sign_count only for a genuine, cloned-looking assertion.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge.challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            credential_public_key=row["public_key"],
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise _invalid(exc) from exc
    stored, new = row["sign_count"], verified.new_sign_count
    if (stored > 0 or new > 0) and new <= stored:  # synced passkeys always say 0: 0/0 is fine
        raise AppError("auth.sign_count", stored=stored, received=new)
    if not row["active"]:
        raise AppError("auth.user_inactive")
    async with write_transaction():
        moved = (
            await Passkey.update({Passkey.sign_count: new, Passkey.last_used_at: utcnow()})
            .where((Passkey.id == row["id"]) & (Passkey.sign_count == stored))
            .returning(Passkey.id)
        )
        if not moved:  # a concurrent sign-in moved the counter first
            raise AppError("auth.sign_count", stored=stored, received=new)
        session = await start_session(user_id=user_id, method="passkey", user_agent=user_agent)
    return SignIn(user=await get_user(user_id=user_id), session=session)
