"""Canonical JSON: RFC 8785 (JCS), and the stricter form of every hashed evidence object.

`canonical` is plain RFC 8785 (via the `rfc8785` package) and passes the RFC's test data,
including non-ASCII keys sorted by UTF-16 code units. It does not normalise strings: NFC
would change the RFC's own vectors (U+FB33 is a composition exclusion).

`canonical_evidence` adds the rules of EVIDENCE.md §1 for objects we hash or sign: no
floats, ASCII keys, integers within ±(2^53 - 1), strings normalised to NFC first.
`parse_canonical` is the receiving side: it accepts bytes only if they are exactly the
`canonical_evidence` form of what they parse to, so the stored bytes, the hash and the
signature all speak about one and the same text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import msgspec
import rfc8785

from onevisit.evidence.errors import (
    DuplicateKey,
    FloatNotAllowed,
    IntegerOutOfRange,
    InvalidJson,
    NonAsciiKey,
    NotCanonical,
    NotNfc,
)

__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "canonical", "canonical_evidence", "parse_canonical"]

MAX_SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER; RFC 8785 §3.2.2.3
MAX_DEPTH = 64  # nesting of arrays/objects; evidence bodies are shallow


def canonical(obj: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of any JSON value (floats allowed, no normalisation)."""
    try:
        return rfc8785.dumps(obj)
    except rfc8785.IntegerDomainError as exc:
        raise IntegerOutOfRange(str(exc)) from exc
    except rfc8785.CanonicalizationError as exc:
        raise InvalidJson(str(exc)) from exc
    except RecursionError as exc:
        raise InvalidJson("nesting too deep") from exc


def canonical_evidence(obj: Any) -> bytes:
    """JCS bytes of an evidence object: strings NFC-normalised, then the §1 rules enforced."""
    return canonical(_check(obj, normalise=True, depth=0))


def parse_canonical(data: bytes) -> Any:
    """Parse evidence bytes and insist they are the canonical form of themselves.

    Raises InvalidJson (not UTF-8, syntax, NaN/Infinity, lone surrogates), DuplicateKey,
    FloatNotAllowed, IntegerOutOfRange, NonAsciiKey, NotNfc or NotCanonical (whitespace, key
    order, escapes, number spelling) — all subclasses of NotCanonical.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_canonical wants bytes")
    data = bytes(data)
    try:
        text = data.decode("utf-8")  # strict: invalid UTF-8 is refused, not replaced
    except UnicodeDecodeError as exc:
        raise InvalidJson("not valid UTF-8") from exc
    if _plainly_within_rules(text):
        value = _fast_parse(data, text)
        if value is not _NO:
            return value
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_of_pairs,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except NotCanonical:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise InvalidJson(str(exc)) from exc
    _check(value, normalise=False, depth=0)  # names the rule broken, if any
    if _fast_canonical(value) == data:
        return value
    if canonical(value) != data:
        raise NotCanonical("bytes differ from their RFC 8785 canonical form")
    return value


def _plainly_within_rules(text: str) -> bool:
    """Whether a parsed text's values keep the §1 rules, judged on the text alone (a sync batch
    checks every envelope: this replaces a walk over every value). False means "walk them":
    - depth: no more brackets in all than the depth allowed;
    - NFC: the whole text is NFC. Canonical text escapes only controls, '"' and '\\', which
      compose with nothing, so the text is NFC exactly when its strings are (or an escape's
      letter composes with a following mark, and the walk decides);
    - floats, integers out of range, duplicate and non-ASCII keys, lone surrogates:
      _fast_parse."""
    return text.count("[") + text.count("{") <= MAX_DEPTH and (
        text.isascii() or unicodedata.is_normalized("NFC", text)
    )


_NO = object()


def _refuse_float(_literal: str) -> float:
    raise ValueError("a float")  # the decode fails: the slow path names FloatNotAllowed


_DECODER = msgspec.json.Decoder(float_hook=_refuse_float)  # also refuses lone surrogates
_ENCODER = msgspec.json.Encoder(order="sorted")  # compact, keys sorted: JCS for our values


def _fast_parse(data: bytes, text: str) -> Any:
    """The value of canonical bytes whose text keeps the §1 rules, ~10x faster than json.loads
    and a re-serialisation (a sync batch parses every envelope); _NO sends the bytes to the
    slow path, which names what is wrong. msgspec's sorted compact output equals RFC 8785 for
    values without floats (test_jcs checks it on every control character and hard strings):
    bytes that are their own re-encoding are canonical. A duplicate key shrinks the object,
    so its bytes differ."""
    try:
        value = _DECODER.decode(data)
    except msgspec.DecodeError:
        return _NO
    if _ENCODER.encode(value) != data or not (_plain_text(text) or _plain(value)):
        return _NO
    return value


# A number token of 16 digits or more (beyond ±(2^53 - 1) has 16 or more): in compact text a
# number follows ':', ',' or '[' unless it is the whole text. Digits in strings can match too
# (then _plain decides).
_LONG_NUMBER = re.compile(r"[:,\[]-?[0-9]{16}")
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)":')  # a string token followed by ':' — a key
_KEY_NO_ESCAPES = re.compile(r'"([^"\\]*)":')  # the same in a text without backslashes, ~3x faster


def _plain_text(text: str) -> bool:
    """_plain of a value msgspec decoded from `text` (which refuses floats), judged on the text:
    no number of 16 digits and ASCII keys only. A match of _KEY is a key, or — from a start at
    an escaped quote inside a key — a part of it."""
    if text[:1] in "-0123456789" or _LONG_NUMBER.search(text):
        return False
    if text.isascii():
        return True
    keys = (_KEY if "\\" in text else _KEY_NO_ESCAPES).findall(text)
    return all(map(str.isascii, keys))


def _plain(value: Any) -> bool:
    """No float anywhere, integers within ±(2^53 - 1), and every key ASCII."""
    if isinstance(value, dict):
        return all(k.isascii() for k in value) and all(map(_plain, value.values()))
    if isinstance(value, list):
        return all(map(_plain, value))
    if isinstance(value, int):
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    return not isinstance(value, float)


def _fast_canonical(value: Any) -> bytes | None:
    """RFC 8785 bytes for values _check accepted, ~4x faster than the rfc8785 package (a sync
    batch checks every envelope). With ASCII keys, integers only and no lone surrogates,
    Python's compact sorted JSON is exactly JCS: keys sorted by code point equal keys sorted by
    UTF-16 units, and both escape only ", \\, and controls (\\b \\t \\n \\f \\r short, others
    \\u00xx lower-case). Only ever used to confirm a match; any doubt falls back."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return text.encode("utf-8")  # a lone surrogate fails here: the slow path decides
    except (UnicodeEncodeError, TypeError, ValueError):
        return None


def _object_of_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKey(key)
        if not key.isascii():
            raise NonAsciiKey(f"object key {key!r} is not ASCII")
        obj[key] = value
    return obj


def _no_float(literal: str) -> Any:
    raise FloatNotAllowed(f"number {literal} is not an integer")


def _no_constant(literal: str) -> Any:
    raise InvalidJson(f"{literal} is not JSON")


def _check_str(s: str, *, normalise: bool) -> str:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from "\ud800"
        raise InvalidJson("string holds a lone surrogate") from exc
    if unicodedata.is_normalized("NFC", s):
        return s
    if normalise:
        return unicodedata.normalize("NFC", s)
    raise NotNfc(f"string {s[:40]!r} is not NFC")


def _check(obj: Any, *, normalise: bool, depth: int) -> Any:
    """Enforce EVIDENCE.md §1 on a parsed or to-be-serialised value; returns the NFC copy."""
    if depth > MAX_DEPTH:
        raise InvalidJson(f"nesting deeper than {MAX_DEPTH}")
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        if not -MAX_SAFE_INTEGER <= obj <= MAX_SAFE_INTEGER:
            raise IntegerOutOfRange(f"{obj} is beyond ±(2^53-1)")
        return int(obj)
    if isinstance(obj, float):
        raise FloatNotAllowed(f"float {obj!r}: use integers (micro-degrees, ms, fen)")
    if isinstance(obj, str):
        return _check_str(obj, normalise=normalise)
    if isinstance(obj, list | tuple):
        return [_check(v, normalise=normalise, depth=depth + 1) for v in obj]
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise InvalidJson(f"object key {key!r} is not a string")
            if not key.isascii():
                raise NonAsciiKey(f"object key {key!r} is not ASCII")
            out[key] = _check(value, normalise=normalise, depth=depth + 1)
        return out
    raise InvalidJson(f"{type(obj).__name__} is not a JSON value")
