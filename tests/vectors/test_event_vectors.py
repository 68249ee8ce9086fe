"""Our own event vectors (events.json), which the PWA's chain.js will also run in the browser."""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import (
    check_chain,
    device_id_of,
    event_hash,
    leaf_input,
    parse_event,
    sign_event,
    verify_event_signature,
)
from onevisit.evidence.jcs import canonical_evidence
from onevisit.evidence.merkle import leaf_hash
from tests.vectors.paths import HERE

DOC = json.loads((HERE / "events.json").read_text(encoding="utf-8"))
KEY = DOC["key"]
SPKI = base64.urlsafe_b64decode(KEY["spki_b64url"] + "==")
VALID = DOC["valid"]
INVALID = DOC["invalid"]
BAD_SIGS = DOC["bad_signatures"]


def _names(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


def _nfc(obj: Any) -> Any:
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, list):
        return [_nfc(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _nfc(v) for k, v in obj.items()}
    return obj


def _private_key() -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(KEY["pkcs8_pem"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def test_key_material_agrees() -> None:
    key = _private_key()
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert spki == SPKI
    assert device_id_of(SPKI) == KEY["device_id"]
    d = base64.urlsafe_b64decode(KEY["jwk"]["d"] + "=")
    assert int.from_bytes(d, "big") == key.private_numbers().private_value


@pytest.mark.parametrize("case", VALID, ids=_names(VALID))
def test_valid_event(case: dict[str, Any]) -> None:
    expected = case["canonical"].encode("utf-8")
    assert canonical_evidence(case["input"]) == expected
    # An independent spelling: for ASCII keys and integers, JCS is sorted compact JSON
    # without ASCII escaping (Python escapes exactly the characters RFC 8785 §3.2.2.2 does).
    alt = json.dumps(_nfc(case["input"]), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert alt.encode("utf-8") == expected
    event = parse_event(expected)
    assert event.hash == case["hash"] == hashlib.sha256(expected).hexdigest()
    assert event.raw == expected
    verify_event_signature(
        envelope_bytes=expected, signature_b64url=case["signature"], spki_der=SPKI
    )
    fresh = sign_event(envelope_bytes=expected, private_key=_private_key())
    verify_event_signature(envelope_bytes=expected, signature_b64url=fresh, spki_der=SPKI)
    leaf = case["leaf"]
    li = leaf_input(
        event_hash=event_hash(expected), sig=case["signature"], receipt_ms=leaf["receipt_ms"]
    )
    assert li == leaf["input"].encode()
    assert leaf_hash(li).hex() == leaf["hash"]


def test_valid_events_form_one_device_chain() -> None:
    events = [parse_event(c["canonical"].encode()) for c in VALID]
    prev_hash, last_seq = None, None
    for event in (e for e in events if e.device == KEY["device_id"]):
        check_chain(prev_hash=prev_hash, last_seq=last_seq, event=event)
        prev_hash, last_seq = event.hash, event.seq
    assert last_seq == 4
    server = [e for e in events if e.device == "server"]
    assert len(server) == 1
    check_chain(prev_hash=None, last_seq=None, event=server[0])


@pytest.mark.parametrize("case", INVALID, ids=_names(INVALID))
def test_invalid_event(case: dict[str, Any]) -> None:
    data = case["text"].encode("utf-8") if "text" in case else base64.b64decode(case["bytes_b64"])
    with pytest.raises(EvidenceError) as info:
        parse_event(data)
    assert info.value.code == case["error"]
    assert getattr(info.value, "field", None) == case.get("field")


@pytest.mark.parametrize("case", BAD_SIGS, ids=_names(BAD_SIGS))
def test_bad_signature(case: dict[str, Any]) -> None:
    envelope = VALID[case["event"]]["canonical"].encode("utf-8")
    with pytest.raises(EvidenceError) as info:
        verify_event_signature(
            envelope_bytes=envelope, signature_b64url=case["signature"], spki_der=SPKI
        )
    assert info.value.code == case["error"]
