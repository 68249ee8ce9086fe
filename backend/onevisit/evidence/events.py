"""Device events (EVIDENCE.md §3): the envelope, its hash and signature, the device chain.

An event is the exact JCS bytes of its envelope. Its hash is SHA-256 of those bytes; its
signature is ECDSA P-256/SHA-256 over them in the raw 64-byte r||s (IEEE P1363) form that
WebCrypto produces, base64url without padding. `cryptography` wants DER, so we convert.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import load_der_public_key

from onevisit.evidence.errors import (
    ChainFork,
    ChainGap,
    ChainMismatch,
    KeyInvalid,
    MalformedEvent,
    SignatureInvalid,
)
from onevisit.evidence.jcs import parse_canonical

__all__ = [
    "EVENT_TYPES",
    "GENESIS_PREV",
    "RECORD_ACTS",
    "SERVER_DEVICE",
    "SERVER_TYPE_PREFIX",
    "Anchor",
    "Event",
    "Leaf",
    "check_chain",
    "device_id_of",
    "event_hash",
    "leaf_input",
    "media_hashes",
    "media_refs",
    "named_record",
    "names_media",
    "parse_event",
    "parse_leaf_input",
    "sign_event",
    "verify_event_signature",
]

# EVIDENCE.md §3 "Types at least". A correction never edits: it names what it supersedes.
EVENT_TYPES = (
    "checkin",
    "item_result",
    "matter_result",  # beyond the spec's list ("at least"): a matter's national result code
    "photo",
    "note",
    "transcript",
    "signature",
    "signature_refused",
    "witness",
    "special_outcome",
    "record_confirmed",
    "correction",
)
# The acts about an inspection record (§5): each names the record by `body.record_hash`.
RECORD_ACTS = ("signature", "signature_refused", "record_confirmed")
SERVER_DEVICE = "server"  # reserved device of the server's own workflow entries (§4)
SERVER_TYPE_PREFIX = "server."  # their types, e.g. "server.draw_reveal"; only device "server"
GENESIS_PREV = "0" * 64  # `prev` of a device's first event (seq 1)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_SERVER_TYPE = re.compile(r"server\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_REQUIRED = ("v", "id", "device", "seq", "prev", "actor", "visit", "type", "at", "body")
_OPTIONAL = ("mono", "session", "anchor")


@dataclass(frozen=True, slots=True)
class Anchor:
    """The latest checkpoint the device had seen: bounds the event's true time from below."""

    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Event:
    v: int
    id: str
    device: str
    seq: int
    prev: str
    actor: str
    visit: str | None
    type: str
    at: int
    body: dict[str, Any]
    mono: int | None
    session: str | None
    anchor: Anchor | None
    raw: bytes  # the exact bytes received: store these, never a re-serialisation
    hash: str  # lowercase hex SHA-256 of raw


@dataclass(frozen=True, slots=True)
class Leaf:
    h: str
    s: str
    r: int


def event_hash(envelope_bytes: bytes) -> str:
    """hash = SHA-256(JCS(envelope)), lowercase hex (§3)."""
    return hashlib.sha256(envelope_bytes).hexdigest()


def device_id_of(spki_der: bytes) -> str:
    """device_id = lowercase hex SHA-256 of the SPKI DER (§2)."""
    return hashlib.sha256(spki_der).hexdigest()


def parse_event(data: bytes) -> Event:
    """Parse and check an envelope. Raises NotCanonical (or a subclass) or MalformedEvent."""
    obj = parse_canonical(data)
    if not isinstance(obj, dict):
        raise MalformedEvent("envelope", "not a JSON object")
    for key in obj:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise MalformedEvent(key, "unknown field")
    for key in _REQUIRED:
        if key not in obj:
            raise MalformedEvent(key, "missing")
    if obj["v"] != 1 or not _is_int(obj["v"]):
        raise MalformedEvent("v", "must be 1")
    _want(obj, "id", isinstance(obj["id"], str) and _UUID7.fullmatch(obj["id"]), "not a UUIDv7")
    device = obj["device"]
    is_server = device == SERVER_DEVICE
    _want(obj, "device", is_server or _is_hex64(device), "not 64 lowercase hex or 'server'")
    seq = obj["seq"]
    _want(obj, "seq", _is_int(seq) and seq >= 1, "not an integer >= 1")
    prev = obj["prev"]
    _want(obj, "prev", _is_hex64(prev), "not 64 lowercase hex")
    _want(obj, "prev", (prev == GENESIS_PREV) == (seq == 1), "zeros exactly when seq is 1")
    _want(obj, "actor", _is_text(obj["actor"]), "not a non-empty string")
    _want(obj, "visit", obj["visit"] is None or _is_text(obj["visit"]), "not a string or null")
    etype = obj["type"]
    if is_server:
        ok_type = isinstance(etype, str) and bool(_SERVER_TYPE.fullmatch(etype))
        _want(obj, "type", ok_type, "device 'server' records only 'server.*' types")
    else:
        _want(obj, "type", etype in EVENT_TYPES, "unknown event type")
    _want(obj, "at", _is_int(obj["at"]) and obj["at"] >= 0, "not an integer of ms >= 0")
    _want(obj, "body", isinstance(obj["body"], dict), "not an object")
    mono, session, anchor = obj.get("mono"), obj.get("session"), None
    if "mono" in obj:
        _want(obj, "mono", _is_int(mono) and mono >= 0, "not an integer of ms >= 0")
    if "session" in obj:
        _want(obj, "session", _is_text(session), "not a non-empty string")
    if "anchor" in obj:
        anchor = _parse_anchor(obj["anchor"])
    data = bytes(data)
    return Event(
        v=1, id=obj["id"], device=device, seq=seq, prev=prev, actor=obj["actor"],
        visit=obj["visit"], type=etype, at=obj["at"], body=obj["body"], mono=mono,
        session=session, anchor=anchor, raw=data, hash=event_hash(data),
    )  # fmt: skip


def verify_event_signature(
    *, envelope_bytes: bytes, signature_b64url: str, spki_der: bytes
) -> None:
    """Check `sig` (raw r||s, base64url, no padding) over the envelope bytes with a P-256 SPKI.

    Raises KeyInvalid for anything but a P-256 public key, SignatureInvalid otherwise.
    """
    key = _load_p256_spki(spki_der)
    raw = _b64url_decode(signature_b64url)
    if raw is None or len(raw) != 64:
        raise SignatureInvalid("not 64 raw bytes r||s in unpadded base64url")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), envelope_bytes, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise SignatureInvalid("ECDSA P-256 signature does not verify") from exc


def sign_event(*, envelope_bytes: bytes, private_key: ec.EllipticCurvePrivateKey) -> str:
    """Sign as WebCrypto does: raw r||s (32 + 32 bytes), base64url without padding."""
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise KeyInvalid("not a P-256 private key")
    der = private_key.sign(envelope_bytes, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def check_chain(*, prev_hash: str | None, last_seq: int | None, event: Event) -> None:
    """Check `event` extends its device's chain, whose head is (last_seq, prev_hash).

    Pass None for both when the device has no event yet. Raises ChainGap when seq skips
    ahead, ChainFork when the seq is already taken, ChainMismatch when prev is wrong.
    """
    if (prev_hash is None) != (last_seq is None):
        raise ValueError("prev_hash and last_seq are both None or both set")
    expected = 1 if last_seq is None else last_seq + 1
    if event.seq > expected:
        raise ChainGap(expected_seq=expected, got_seq=event.seq)
    if event.seq < expected:
        raise ChainFork(f"seq {event.seq} already used; expected {expected}")
    want = GENESIS_PREV if prev_hash is None else prev_hash
    if event.prev != want:
        raise ChainMismatch(f"prev {event.prev} is not the previous event's hash {want}")


def leaf_input(*, event_hash: str, sig: str, receipt_ms: int) -> bytes:
    """Log leaf input = JCS({"h": event hash, "s": sig, "r": server receipt ms}) (§4)."""
    if not _is_hex64(event_hash):
        raise ValueError("event_hash must be 64 lowercase hex")
    if not _is_text(sig) or not _B64URL.fullmatch(sig):
        raise ValueError("sig must be a non-empty base64url string")
    if not _is_int(receipt_ms) or receipt_ms < 0:
        raise ValueError("receipt_ms must be an integer >= 0")
    # hex, base64url and a decimal integer need no escaping: the JCS bytes directly, keys in
    # JCS order (h < r < s); test_events checks this equals canonical_evidence of the object
    return f'{{"h":"{event_hash}","r":{receipt_ms},"s":"{sig}"}}'.encode()


def parse_leaf_input(data: bytes) -> Leaf:
    """The inverse of leaf_input, for verifiers reading log entries. Raises MalformedEvent."""
    obj = parse_canonical(data)
    if not isinstance(obj, dict) or set(obj) != {"h", "s", "r"}:
        raise MalformedEvent("leaf", 'not exactly {"h","s","r"}')
    _want(obj, "h", _is_hex64(obj["h"]), "not 64 lowercase hex")
    _want(obj, "s", _is_text(obj["s"]) and _B64URL.fullmatch(obj["s"]), "not base64url")
    _want(obj, "r", _is_int(obj["r"]) and obj["r"] >= 0, "not an integer >= 0")
    return Leaf(h=obj["h"], s=obj["s"], r=obj["r"])


# --- helpers ---------------------------------------------------------------------------------
def _want(obj: dict[str, Any], field: str, ok: Any, reason: str) -> None:
    if not ok:
        raise MalformedEvent(field, reason)


def _is_int(x: Any) -> bool:
    return type(x) is int  # bool is an int subclass in Python, not in JSON


def _is_text(x: Any) -> bool:
    return isinstance(x, str) and x != ""


def _is_hex64(x: Any) -> bool:
    return isinstance(x, str) and bool(_HEX64.fullmatch(x))


def _parse_anchor(a: Any) -> Anchor:
    if not isinstance(a, dict) or set(a) != {"size", "root"}:
        raise MalformedEvent("anchor", 'not exactly {"size","root"}')
    if not _is_int(a["size"]) or a["size"] < 0:
        raise MalformedEvent("anchor", "size is not an integer >= 0")
    root = a["root"]
    try:
        raw = base64.b64decode(root, validate=True) if isinstance(root, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or base64.b64encode(raw).decode() != root:
        raise MalformedEvent("anchor", "root is not a 32-byte hash in standard base64")
    return Anchor(size=a["size"], root=raw)


def _b64url_decode(s: Any) -> bytes | None:
    """Strict unpadded base64url (RFC 4648 §5): one spelling per byte string, else None."""
    if not isinstance(s, str) or not _B64URL.fullmatch(s) or len(s) % 4 == 1:
        return None
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != s:
        return None  # non-zero trailing bits
    return raw


def _load_p256_spki(spki_der: bytes) -> ec.EllipticCurvePublicKey:
    return _load_p256_spki_bytes(bytes(spki_der))


@functools.lru_cache(maxsize=4096)
def _load_p256_spki_bytes(spki_der: bytes) -> ec.EllipticCurvePublicKey:
    """Parsing a key costs a fifth of a verify; a batch and a verify run reuse a few keys."""
    try:
        key = load_der_public_key(spki_der)
    except (ValueError, TypeError) as exc:
        raise KeyInvalid("not a DER SubjectPublicKeyInfo") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyInvalid("not an ECDSA P-256 public key")
    return key


def media_refs(value: Any) -> Iterator[dict[str, Any]]:
    """Every media reference {"sha256", "bytes", "mime"} anywhere in a body (§3), in order."""
    if isinstance(value, dict):
        if {"sha256", "bytes", "mime"} <= value.keys():
            yield value
        for v in value.values():
            yield from media_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from media_refs(v)


def names_media(event: Event) -> bool:
    """Whether the event's body may hold a media reference: each has a "sha256" member, which
    the canonical bytes spell out. Most events (item results, notes) have none, and the walk
    of their bodies is skipped."""
    return b'"sha256":' in event.raw


def media_hashes(body: Any) -> list[str]:
    """The distinct hashes a body references, in order (the media_ref index of the store)."""
    found = [r["sha256"] for r in media_refs(body) if isinstance(r["sha256"], str)]
    return list(dict.fromkeys(found))


def named_record(event_type: str, body: Any) -> str | None:
    """The record hash an act about a record names (the record_ref index of the store), or
    None: not such an act, or no 64-hex `record_hash` (the body checks refuse that on sync)."""
    if event_type not in RECORD_ACTS or not isinstance(body, dict):
        return None
    named = body.get("record_hash")
    return named if isinstance(named, str) and _HEX64.fullmatch(named) else None
