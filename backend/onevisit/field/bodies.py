"""The `body` of each field event type (docs/events.md is the contract the PWA is written to).

`check_body(event_type, body)` is pure and raises `BodyInvalid` naming the first bad field
as a dotted path (`media[0].sha256`). Bodies are strict: an unknown field is refused, because
a misspelt key ("lat" for "lat_e6") would otherwise be hashed, signed and silently ignored
forever. Only the WebAuthn assertion is open, as browsers may add members to its JSON form.
Integers only: the envelope parser already refuses floats, but bodies are also built in
Python (tests, the simulator), so the check is repeated here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from onevisit.field import shapes as v
from onevisit.field.codes import (
    CHECKIN_SOURCES,
    CONFIRMATION_METHODS,
    DISPOSITIONS,
    ITEM_RESULTS,
    REFUSAL_REASONS,
    RESULT_CODES,
    SPECIAL_OUTCOMES,
    codes,
)
from onevisit.field.shapes import BodyInvalid

__all__ = [
    "BODY_TYPES",
    "CORRECTABLE_TYPES",
    "VISITLESS_TYPES",
    "BodyInvalid",
    "check_body",
    "needs_visit",
]

# --- one checker per type ------------------------------------------------------------------
_ITEM = codes(ITEM_RESULTS)
_POSITION = ("lat_e6", "lon_e6", "accuracy_m")


def _checkin(b: dict) -> None:
    if "position" in b:  # location unavailable: say why instead of inventing coordinates
        v.fields(b, "", ("position", "reason"), ("source",))
        if b["position"] is not None:
            raise BodyInvalid("position", "only null is allowed (give lat_e6/lon_e6 instead)")
        v.text(b, "reason", "", v.MEDIUM)
    else:
        v.fields(b, "", _POSITION, ("source",))
        v.position(b, "")
    if "source" in b:
        v.choice(b, "source", "", codes(CHECKIN_SOURCES))


def _item_result(b: dict) -> None:
    v.fields(b, "", ("matter", "item", "result"), ("note", "media"))
    v.matter(b, "matter", "")
    v.integer(b, "item", "", 0, 1_000_000)
    v.choice(b, "result", "", _ITEM)
    if b["result"] == "non_compliant" and "note" not in b:
        raise BodyInvalid("note", "required when the result is non_compliant")
    if "note" in b:
        v.text(b, "note", "", v.LONG, empty_ok=b["result"] != "non_compliant")
    if "media" in b:
        v.media_list(b, "media", "")


def _matter_result(b: dict) -> None:
    v.fields(b, "", ("matter", "result_code"), ("disposition", "note"))
    v.matter(b, "matter", "")
    v.choice(b, "result_code", "", codes(RESULT_CODES))
    if "disposition" in b:
        v.choice(b, "disposition", "", codes(DISPOSITIONS))
    v.opt_text(b, "note", "", v.LONG)


def _photo(b: dict) -> None:
    v.fields(b, "", ("media",), ("caption", "matter", "item", *_POSITION))
    v.media(b, "media", "", mime="image/*")
    v.opt_text(b, "caption", "", v.MEDIUM)
    if "matter" in b:
        v.matter(b, "matter", "")
    if "item" in b:
        if "matter" not in b:
            raise BodyInvalid("matter", "required when item is given")
        v.integer(b, "item", "", 0, 1_000_000)
    given = [k for k in _POSITION if k in b]
    if given:
        if len(given) != len(_POSITION):
            missing = next(k for k in _POSITION if k not in b)
            raise BodyInvalid(missing, "lat_e6, lon_e6 and accuracy_m go together")
        v.position(b, "")


def _note(b: dict) -> None:
    v.fields(b, "", ("text",), ("matter",))
    v.text(b, "text", "", v.LONG)
    if "matter" in b:
        v.matter(b, "matter", "")


def _transcript(b: dict) -> None:
    v.fields(b, "", ("text",), ("media",))
    v.text(b, "text", "", v.LONG)
    if "media" in b:
        v.media_list(b, "media", "")


def _person(obj: Any, path: str) -> None:
    """A witness: personal data, kept out of the public record (only its event hash is in)."""
    v.fields(obj, path, ("name",), ("id_number", "phone", "role"))
    v.text(obj, "name", path, v.SHORT)
    for key in ("id_number", "phone", "role"):
        v.opt_text(obj, key, path, v.SHORT)


def _signature(b: dict) -> None:
    v.fields(b, "", ("record_hash", "signer_name", "signer_role", "image", "strokes"))
    v.pattern(b, "record_hash", "", v.HEX64, "64 lowercase hex")
    v.text(b, "signer_name", "", v.SHORT)
    v.text(b, "signer_role", "", v.SHORT)
    v.media(b, "image", "", mime="image/png")
    # The vector strokes (x, y, pressure, time) are evidence too, not only the PNG (STYLE.md).
    v.media(b, "strokes", "", mime="application/json")


def _signature_refused(b: dict) -> None:
    # 002:20(三): no signature → the reason is written down; we also insist on a witness.
    v.fields(
        b, "", ("record_hash", "reason_code", "reason", "witness"), ("witness_signature", "photo")
    )
    v.pattern(b, "record_hash", "", v.HEX64, "64 lowercase hex")
    v.choice(b, "reason_code", "", codes(REFUSAL_REASONS))
    v.text(b, "reason", "", v.MEDIUM)
    _person(b["witness"], "witness")
    if "witness_signature" in b:
        v.media(b, "witness_signature", "", mime="image/*")
    if "photo" in b:
        v.media(b, "photo", "", mime="image/*")


def _special_outcome(b: dict) -> None:
    v.fields(b, "", ("code", "text"), ("media",))
    v.choice(b, "code", "", codes(SPECIAL_OUTCOMES))
    v.text(b, "text", "", v.LONG)
    if "media" in b:
        v.media_list(b, "media", "")


def _record_confirmed(b: dict) -> None:
    # The method decides whether an assertion belongs: check it before the field set.
    if "method" not in b:
        raise BodyInvalid("method", "missing")
    v.choice(b, "method", "", codes(CONFIRMATION_METHODS))
    webauthn = b["method"] == "webauthn"
    v.fields(
        b, "", ("record_hash", "method", "assertion") if webauthn else ("record_hash", "method")
    )
    v.pattern(b, "record_hash", "", v.HEX64, "64 lowercase hex")
    if webauthn:
        _assertion(b["assertion"], b["record_hash"])


def _assertion(a: Any, record_hash: str) -> None:
    """PublicKeyCredential.toJSON() of an assertion (WebAuthn L3 §5.1.8). The signature is
    verified on sync with py_webauthn; here only its shape and its challenge, which must be
    the 32 raw bytes of record_hash (EVIDENCE.md §5), so a confirmation of another record
    is refused before it is stored."""
    if not isinstance(a, dict):
        raise BodyInvalid("assertion", "not an object")
    for key in ("id", "rawId", "type", "response"):
        if key not in a:
            raise BodyInvalid(v.at("assertion", key), "missing")
    if a["type"] != "public-key":
        raise BodyInvalid("assertion.type", "not public-key")
    if v.b64url_bytes(a, "id", "assertion") != v.b64url_bytes(a, "rawId", "assertion"):
        raise BodyInvalid("assertion.rawId", "differs from id")
    resp, path = a["response"], "assertion.response"
    if not isinstance(resp, dict):
        raise BodyInvalid(path, "not an object")
    for key in ("clientDataJSON", "authenticatorData", "signature"):
        if key not in resp:
            raise BodyInvalid(v.at(path, key), "missing")
        v.b64url_bytes(resp, key, path)
    if resp.get("userHandle") is not None:
        v.b64url_bytes(resp, "userHandle", path)
    try:
        client = json.loads(v.b64url_bytes(resp, "clientDataJSON", path))
    except ValueError:
        client = None
    if not isinstance(client, dict) or client.get("type") != "webauthn.get":
        raise BodyInvalid(v.at(path, "clientDataJSON"), "not the client data of an assertion")
    want = base64.urlsafe_b64encode(bytes.fromhex(record_hash)).rstrip(b"=").decode()
    if client.get("challenge") != want:
        raise BodyInvalid(v.at(path, "clientDataJSON"), "challenge is not record_hash")


def _correction(b: dict) -> None:
    # The inner body is checked against the superseded event's type by the projection,
    # which knows that type; here only that it is an object.
    v.fields(b, "", ("supersedes", "reason", "body"))
    v.pattern(b, "supersedes", "", v.UUID, "an event id (lowercase v.UUID)")
    v.text(b, "reason", "", v.MEDIUM)
    if not isinstance(b["body"], dict):
        raise BodyInvalid("body", "not an object")


_CHECKERS: dict[str, Callable[[dict], None]] = {
    "checkin": _checkin,
    "item_result": _item_result,
    "matter_result": _matter_result,
    "photo": _photo,
    "note": _note,
    "transcript": _transcript,
    "witness": lambda b: _person(b, ""),
    "signature": _signature,
    "signature_refused": _signature_refused,
    "special_outcome": _special_outcome,
    "record_confirmed": _record_confirmed,
    "correction": _correction,
}
BODY_TYPES = tuple(_CHECKERS)  # the field event types this module knows (matter_result too)
# Acts about a record (its signature, refusal and confirmations) are not corrected: a new act
# is made instead. A correction of a correction corrects the same original event again.
CORRECTABLE_TYPES = tuple(
    t
    for t in BODY_TYPES
    if t not in ("signature", "signature_refused", "record_confirmed", "correction")
)


def check_body(event_type: str, body: Any) -> None:
    """Check `body` against `event_type`'s rules (docs/events.md). Raises BodyInvalid."""
    checker = _CHECKERS.get(event_type)
    if checker is None:
        raise BodyInvalid("type", f"no body rules for event type {event_type!r}")
    if not isinstance(body, dict):
        raise BodyInvalid("body", "not an object")
    v.no_floats(body, "")
    checker(body)


# The only event that may stand outside a visit (`"visit": null`) is a `note` naming no matter:
# the inspector's own memo, in no record. Everything else records the work of one visit — the
# group's membership and the matters' departments are checked against it on sync — and a
# matter exists only within a visit's task, so a note naming one needs the visit too.
VISITLESS_TYPES = ("note",)


def needs_visit(event_type: str, body: Any) -> bool:
    """True if an event of this type and body must name its visit (docs/events.md)."""
    if event_type not in VISITLESS_TYPES:
        return True
    return not isinstance(body, dict) or "matter" in body
