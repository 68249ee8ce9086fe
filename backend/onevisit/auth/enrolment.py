"""Enrolment links: one-time, expiring tokens that let a user register a passkey or a device
key. Only the SHA-256 of a token is stored; a link is used exactly once (a conditional UPDATE
decides between two concurrent uses), and issuing a new link revokes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from onevisit.auth.common import aware, utcnow
from onevisit.auth.roles import Caller, Role
from onevisit.auth.sessions import token_hash
from onevisit.auth.tables import Enrolment, User
from onevisit.auth.users import UserOut, check_may_manage, create_user, get_user, parse_role
from onevisit.config import get_settings
from onevisit.db import write_transaction
from onevisit.errors import AppError

__all__ = [
    "EnrolmentInfo",
    "EnrolmentOut",
    "NewUser",
    "OpenEnrolment",
    "consume_enrolment",
    "create_user_with_enrolment",
    "describe_enrolment",
    "enrolment_url",
    "issue_enrolment",
    "open_enrolment",
    "reissue_enrolment",
]

TOKEN_MAX = 128  # token_urlsafe(32) is 43 characters; anything far longer is not ours


class EnrolmentOut(msgspec.Struct, frozen=True):
    url: str
    token: str  # shown once, never stored
    expires_at: datetime


class EnrolmentUser(msgspec.Struct, frozen=True):
    name: str
    role: str
    department_name: str | None


class EnrolmentInfo(msgspec.Struct, frozen=True):
    user: EnrolmentUser
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewUser:
    user: UserOut
    enrolment: EnrolmentOut


@dataclass(frozen=True, slots=True)
class OpenEnrolment:
    id: int
    user_id: str
    expires_at: datetime


def enrolment_url(token: str) -> str:
    # The token sits in the fragment: browsers never send it to servers or in Referer.
    return f"{get_settings().origin}/#/enrol/{token}"


async def issue_enrolment(*, user_id: str, created_by: str) -> EnrolmentOut:
    """A fresh link for `user_id`, valid for settings.enrolment_ttl_seconds.

    Public (the CLI and the demo loader use it); authorisation is the caller's business.
    """
    user = await get_user(user_id=user_id)
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(seconds=get_settings().enrolment_ttl_seconds)
    await Enrolment.insert(
        Enrolment(
            token_hash=token_hash(token),
            app_user=user.id,
            created_by=created_by[:64],
            expires_at=expires,
        )
    )
    return EnrolmentOut(url=enrolment_url(token), token=token, expires_at=expires)


async def open_enrolment(token: str) -> OpenEnrolment:
    """The enrolment a token opens; unknown (404), used (409) or expired (410) refused."""
    row = None
    if 0 < len(token) <= TOKEN_MAX:
        row = (
            await Enrolment.select(
                Enrolment.id,
                Enrolment.app_user.as_alias("user_id"),
                Enrolment.expires_at,
                Enrolment.used_at,
                Enrolment.app_user.active.as_alias("active"),
            )
            .where(Enrolment.token_hash == token_hash(token))
            .first()
        )
    if row is None:
        raise AppError("auth.enrolment_unknown")
    if row["used_at"] is not None:
        raise AppError("auth.enrolment_used")
    expires = aware(row["expires_at"])
    if expires <= utcnow():
        raise AppError("auth.enrolment_expired", expired_at=expires.isoformat())
    if not row["active"]:
        raise AppError("auth.user_inactive")
    return OpenEnrolment(id=row["id"], user_id=str(row["user_id"]), expires_at=expires)


async def describe_enrolment(*, token: str) -> EnrolmentInfo:
    enrolment = await open_enrolment(token)
    user = await get_user(user_id=enrolment.user_id)
    return EnrolmentInfo(
        user=EnrolmentUser(name=user.name, role=user.role, department_name=user.department_name),
        expires_at=enrolment.expires_at,
    )


async def consume_enrolment(*, enrolment_id: int) -> None:
    """Mark the link used. Call inside write_transaction() with the credential's insert, so
    both happen or neither. Of two concurrent uses only one UPDATE finds used_at still NULL
    (PostgreSQL re-checks the WHERE after the row lock; SQLite serialises IMMEDIATE writers)."""
    won = (
        await Enrolment.update({Enrolment.used_at: utcnow()})
        .where((Enrolment.id == enrolment_id) & Enrolment.used_at.is_null())
        .returning(Enrolment.id)
    )
    if not won:
        raise AppError("auth.enrolment_used")


async def create_user_with_enrolment(
    *,
    caller: Caller,
    name: str,
    role: str,
    department_code: str | None,
    inspector_code: str | None,
) -> NewUser:
    """POST /api/auth/users: a coordinator's users land in their own department by default."""
    target = parse_role(role)
    if caller.role is Role.coordinator and department_code is None:
        department_code = caller.department
    check_may_manage(caller, role=target, department_code=department_code)
    async with write_transaction():
        user = await create_user(
            name=name,
            role=target,
            department_code=department_code,
            inspector_code=inspector_code,
            created_by=caller.user_id,
        )
        link = await issue_enrolment(user_id=user.id, created_by=caller.user_id)
    return NewUser(user=user, enrolment=link)


async def reissue_enrolment(*, caller: Caller, user_id: str) -> EnrolmentOut:
    """A new link for an existing user (a lost phone, a new device). Existing passkeys and
    device keys stay valid: revoke those separately."""
    user = await get_user(user_id=user_id)
    check_may_manage(caller, role=parse_role(user.role), department_code=user.department)
    if not await User.exists().where((User.id == user.id) & User.active.eq(True)):
        raise AppError("auth.user_inactive")
    return await issue_enrolment(user_id=user.id, created_by=caller.user_id)
