"""PINs of device keys (EVIDENCE.md §5 fallback): pure functions, no I/O.

Stored as "scrypt$n$r$p$salt_b64$hash_b64" (RFC 7914), so the cost can be raised later
without losing the old hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from onevisit.errors import AppError

__all__ = ["check_pin_format", "hash_pin", "verify_pin"]

N, R, P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
_PIN = re.compile(r"[0-9]{6,12}")


def check_pin_format(pin: str) -> None:
    # ASCII digits only: str.isdigit would accept full-width and other scripts' digits.
    if not _PIN.fullmatch(pin):
        raise AppError("auth.pin_weak")


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        pin.encode(), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=256 * 1024 * 1024
    )


def hash_pin(pin: str) -> str:
    check_pin_format(pin)
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(pin, salt, N, R, P)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True if `pin` matches `stored`; constant-time comparison of the derived keys."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        actual = _scrypt(pin, salt, int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
