"""Sessions kept in the database; the cookie holds a random token, the table its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from onevisit.auth.common import aware, utcnow
from onevisit.auth.roles import Caller, Role
from onevisit.auth.tables import Session
from onevisit.auth.users import UserOut
from onevisit.config import get_settings

__all__ = [
    "SESSION_COOKIE",
    "NewSession",
    "SignIn",
    "caller_from_token",
    "end_device_sessions",
    "end_session",
    "start_session",
    "token_hash",
]

SESSION_COOKIE = "ov_session"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # goes into the HttpOnly cookie, never stored
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignIn:
    """The outcome of every sign-in path: who, and the session to set as a cookie."""

    user: UserOut
    session: NewSession
    device_id: str | None = None


async def start_session(
    *, user_id: str, method: str, user_agent: str = "", device_id: str = ""
) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(seconds=get_settings().session_ttl_seconds)
    await Session.insert(
        Session(
            token_hash=token_hash(token),
            app_user=user_id,
            csrf_token=csrf,
            method=method,
            expires_at=expires,
            user_agent=user_agent[:500],
            device_id=device_id,
        )
    )
    return NewSession(token=token, csrf_token=csrf, expires_at=expires)


async def caller_from_token(token: str) -> Caller | None:
    """The caller a session cookie stands for, or None if unknown, ended, expired or inactive."""
    if not token:
        return None
    # written out: every request runs it, and built through the ORM's joins it cost more
    # than its round trip
    rows = await Session.raw(
        "SELECT s.id, s.csrf_token, s.method, s.expires_at, s.ended_at, u.id AS user_id, "
        "u.name, u.role, u.active, d.code AS department, i.code AS inspector_code "
        "FROM session s JOIN app_user u ON u.id = s.app_user "
        "LEFT JOIN department d ON d.id = u.department "
        "LEFT JOIN inspector i ON i.id = u.inspector WHERE s.token_hash = {}",
        token_hash(token),
    )
    row = rows[0] if rows else None
    if row is None or row["ended_at"] is not None or not row["active"]:
        return None
    if aware(row["expires_at"]) <= utcnow():
        return None
    return Caller(
        user_id=str(row["user_id"]),
        name=row["name"],
        role=Role(row["role"]),
        department=row["department"],
        inspector_code=row["inspector_code"],
        session_id=row["id"],
        csrf_token=row["csrf_token"],
        session_method=row["method"],
    )


async def end_session(*, session_id: int) -> None:
    await Session.update({Session.ended_at: utcnow()}).where(Session.id == session_id)


async def end_device_sessions(*, device_id: str) -> None:
    """A revoked device key ends the sessions it opened with its PIN."""
    await Session.update({Session.ended_at: utcnow()}).where(
        (Session.device_id == device_id) & Session.ended_at.is_null()
    )
