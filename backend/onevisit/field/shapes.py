"""Small checkers the body rules are built from (bodies.py). Each takes the parent object,
the key and the parent's dotted path, and raises BodyInvalid naming the culprit."""

from __future__ import annotations

import base64
import re
from typing import Any

from onevisit.evidence.errors import EvidenceError

__all__ = ["BodyInvalid"]  # the checkers are used as `shapes.text(...)` by bodies.py

SHORT = 128  # names, roles, phone and id numbers
MEDIUM = 2_000  # captions, reasons
LONG = 20_000  # notes and transcripts; the ingest caps a whole envelope at 64 KiB
MAX_MEDIA = 50  # references in one body
MAX_BYTES = 2**53 - 1

HEX64 = re.compile(r"[0-9a-f]{64}")
MATTER = re.compile(r"[A-Za-z0-9_.-]{1,32}")  # directory matter codes (directory/fields.py)
MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
B64URL = re.compile(r"[A-Za-z0-9_-]+")


class BodyInvalid(EvidenceError):
    """An event body breaks its type's rules; `field` is the dotted path of the culprit."""

    code = "event.body_invalid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.field = field


def at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def fields(obj: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()):
    if not isinstance(obj, dict):
        raise BodyInvalid(path or "body", "not an object")
    for key in obj:
        if key not in required and key not in optional:
            raise BodyInvalid(at(path, key), "unknown field")
    for key in required:
        if key not in obj:
            raise BodyInvalid(at(path, key), "missing")


def text(obj: dict, key: str, path: str, max_len: int, *, empty_ok: bool = False) -> None:
    value = obj[key]
    if not isinstance(value, str):
        raise BodyInvalid(at(path, key), "not a string")
    if not empty_ok and not value.strip():
        raise BodyInvalid(at(path, key), "empty")
    if len(value) > max_len:
        raise BodyInvalid(at(path, key), f"longer than {max_len} characters")


def opt_text(obj: dict, key: str, path: str, max_len: int) -> None:
    if key in obj:
        text(obj, key, path, max_len, empty_ok=True)


def integer(obj: dict, key: str, path: str, lo: int, hi: int) -> None:
    value = obj[key]
    if type(value) is not int:  # bool is an int in Python, not in JSON
        raise BodyInvalid(at(path, key), "not an integer")
    if not lo <= value <= hi:
        raise BodyInvalid(at(path, key), f"not within {lo}..{hi}")


def choice(obj: dict, key: str, path: str, allowed: frozenset[str]) -> None:
    value = obj[key]
    if not isinstance(value, str) or value not in allowed:  # a list or object is unhashable
        raise BodyInvalid(at(path, key), f"not one of {', '.join(sorted(allowed))}")


def pattern(obj: dict, key: str, path: str, regex: re.Pattern[str], what: str) -> None:
    value = obj[key]
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise BodyInvalid(at(path, key), f"not {what}")


def matter(obj: dict, key: str, path: str) -> None:
    pattern(obj, key, path, MATTER, "a matter code")


def media(obj: dict, key: str, path: str, *, mime: str | None = None) -> None:
    """{"sha256","bytes","mime"}; `mime` "image/*" checks the type, "image/png" the whole."""
    here = at(path, key)
    ref = obj[key]
    fields(ref, here, ("sha256", "bytes", "mime"))
    pattern(ref, "sha256", here, HEX64, "64 lowercase hex")
    integer(ref, "bytes", here, 1, MAX_BYTES)
    pattern(ref, "mime", here, MIME, "a lowercase media type")
    if mime is not None:
        ok = ref["mime"].startswith(mime[:-1]) if mime.endswith("/*") else ref["mime"] == mime
        if not ok:
            raise BodyInvalid(at(here, "mime"), f"not {mime}")


def media_list(obj: dict, key: str, path: str) -> None:
    refs = obj[key]
    if not isinstance(refs, list):
        raise BodyInvalid(at(path, key), "not a list")
    if len(refs) > MAX_MEDIA:
        raise BodyInvalid(at(path, key), f"more than {MAX_MEDIA} references")
    for i in range(len(refs)):
        media(refs, i, at(path, key))  # type: ignore[arg-type]


def no_floats(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise BodyInvalid(path or "body", "floating-point number: use integers (EVIDENCE.md §1)")
    if isinstance(value, dict):
        members: Any = value.items()
    elif isinstance(value, list):
        members = enumerate(value)
    else:
        return
    for k, v in members:
        if isinstance(v, dict | list | float):  # the path is built only where it may be needed
            no_floats(v, at(path, k))


def position(obj: dict, path: str) -> None:
    # Integer micro-degrees (EVIDENCE.md §1) and integer metres.
    integer(obj, "lat_e6", path, -90_000_000, 90_000_000)
    integer(obj, "lon_e6", path, -180_000_000, 180_000_000)
    integer(obj, "accuracy_m", path, 0, 20_000_000)


def b64url_bytes(obj: dict, key: str, path: str) -> bytes:
    value = obj[key]
    if not isinstance(value, str) or not B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise BodyInvalid(at(path, key), "not unpadded base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
