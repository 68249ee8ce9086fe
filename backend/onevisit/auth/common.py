"""Small helpers shared by the auth modules: time, base64url, UUIDs from outside."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime

__all__ = ["aware", "b64url_decode", "b64url_encode", "parse_uuid", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes for Timestamptz: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5), as WebAuthn and WebCrypto users expect."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes | None:
    """The bytes of a base64url string (padding optional), or None if it is not one."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def parse_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        return None
