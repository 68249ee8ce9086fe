"""Events: envelope rules, signatures in WebCrypto's raw r||s form, the device chain, leaves."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from onevisit.evidence.errors import (
    ChainFork,
    ChainGap,
    ChainMismatch,
    KeyInvalid,
    MalformedEvent,
    NotCanonical,
    SignatureInvalid,
)
from onevisit.evidence.events import (
    EVENT_TYPES,
    GENESIS_PREV,
    Anchor,
    check_chain,
    device_id_of,
    leaf_input,
    parse_event,
    parse_leaf_input,
    sign_event,
    verify_event_signature,
)
from onevisit.evidence.jcs import canonical_evidence

KEY = ec.generate_private_key(ec.SECP256R1())
SPKI = KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
DEVICE = device_id_of(SPKI)


def envelope(**changes: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "v": 1, "id": "01936b2e-8f00-7abc-8def-0123456789ab", "device": DEVICE, "seq": 1,
        "prev": GENESIS_PREV, "actor": "u1", "visit": "V1", "type": "checkin",
        "at": 1764000000000, "body": {},
    }  # fmt: skip
    env.update(changes)
    return {k: v for k, v in env.items() if v is not ...}


def raw(**changes: Any) -> bytes:
    return canonical_evidence(envelope(**changes))


def test_event_types_registry() -> None:
    assert len(EVENT_TYPES) == 12 and {"correction", "matter_result"} <= set(EVENT_TYPES)


def test_parse_event_fields() -> None:
    root = bytes(range(32))
    data = raw(mono=5, session="s1", anchor={"size": 3, "root": base64.b64encode(root).decode()})
    e = parse_event(data)
    assert (e.seq, e.type, e.mono, e.session, e.anchor) == (1, "checkin", 5, "s1", Anchor(3, root))
    assert e.raw == data and len(e.hash) == 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.seq = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"visit": ...}, "visit"),
        ({"v": True}, "v"),
        ({"id": "01936B2E-8F00-7ABC-8DEF-0123456789AB"}, "id"),  # upper case
        ({"id": "01936b2e-8f00-7abc-cdef-0123456789ab"}, "id"),  # variant 110x
        ({"id": "01936b2e8f007abc8def0123456789ab"}, "id"),
        ({"device": "ab" * 31}, "device"),
        ({"seq": 2**40, "prev": "zz" * 32}, "prev"),
        ({"actor": ""}, "actor"),
        ({"actor": 5}, "actor"),
        ({"type": "server.draw"}, "type"),
        ({"at": "1764000000000"}, "at"),
        ({"mono": -1}, "mono"),
        ({"session": ""}, "session"),
        ({"anchor": {"size": 1}}, "anchor"),
        ({"anchor": {"size": -1, "root": "AAAA"}}, "anchor"),
        (
            {"anchor": {"size": 1, "root": base64.urlsafe_b64encode(b"\xff" * 32).decode()}},
            "anchor",
        ),
    ],
)
def test_malformed(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_event(raw(**changes))
    assert info.value.field == field and info.value.code == "event.malformed"


def test_server_device_takes_only_server_types() -> None:
    assert parse_event(raw(device="server", type="server.publication")).device == "server"
    with pytest.raises(MalformedEvent):
        parse_event(raw(device="server", type="checkin"))
    with pytest.raises(MalformedEvent):
        parse_event(raw(device="server", type="server.Bad"))


def test_non_canonical_bytes_refused() -> None:
    with pytest.raises(NotCanonical):
        parse_event(raw() + b" ")


def test_sign_and_verify_roundtrip() -> None:
    data = raw()
    sig = sign_event(envelope_bytes=data, private_key=KEY)
    assert len(sig) == 86 and "=" not in sig
    verify_event_signature(envelope_bytes=data, signature_b64url=sig, spki_der=SPKI)
    with pytest.raises(SignatureInvalid):
        verify_event_signature(envelope_bytes=raw(at=1), signature_b64url=sig, spki_der=SPKI)


def test_verify_accepts_webcrypto_style_high_s() -> None:
    # WebCrypto does not normalise s; (r, n - s) is as valid as (r, s) and must verify.
    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    data = raw()
    r, s = decode_dss_signature(KEY.sign(data, ec.ECDSA(hashes.SHA256())))
    other = r.to_bytes(32, "big") + (n - s).to_bytes(32, "big")
    sig = base64.urlsafe_b64encode(other).rstrip(b"=").decode()
    verify_event_signature(envelope_bytes=data, signature_b64url=sig, spki_der=SPKI)


@pytest.mark.parametrize("sig", ["", "A" * 85, "A" * 87, "!" * 86, "A" * 85 + "B", None])
def test_signature_encoding_refused(sig: Any) -> None:
    with pytest.raises(SignatureInvalid):
        verify_event_signature(envelope_bytes=raw(), signature_b64url=sig, spki_der=SPKI)


def test_non_p256_keys_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    for key in (p384, ed):
        spki = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with pytest.raises(KeyInvalid):
            verify_event_signature(envelope_bytes=b"{}", signature_b64url="A" * 86, spki_der=spki)
        with pytest.raises(KeyInvalid):
            sign_event(envelope_bytes=b"{}", private_key=key)  # type: ignore[arg-type]
    with pytest.raises(KeyInvalid):
        verify_event_signature(envelope_bytes=b"{}", signature_b64url="A" * 86, spki_der=b"junk")


def test_check_chain() -> None:
    first = parse_event(raw())
    second = parse_event(raw(seq=2, prev=first.hash, id="01936b2e-8f01-7abc-8def-0123456789ab"))
    check_chain(prev_hash=None, last_seq=None, event=first)
    check_chain(prev_hash=first.hash, last_seq=1, event=second)
    with pytest.raises(ChainGap) as gap:
        check_chain(prev_hash=None, last_seq=None, event=second)
    assert (gap.value.expected_seq, gap.value.got_seq, gap.value.code) == (1, 2, "chain.gap")
    with pytest.raises(ChainFork):
        check_chain(prev_hash=second.hash, last_seq=2, event=second)
    with pytest.raises(ChainMismatch) as mismatch:
        check_chain(prev_hash="ab" * 32, last_seq=1, event=second)
    assert mismatch.value.code == "chain.mismatch"
    with pytest.raises(ValueError):
        check_chain(prev_hash=None, last_seq=1, event=second)


def test_leaf_input_roundtrip() -> None:
    data = leaf_input(event_hash="ab" * 32, sig="x-_Y", receipt_ms=7)
    assert data == b'{"h":"' + b"ab" * 32 + b'","r":7,"s":"x-_Y"}'
    assert parse_leaf_input(data).r == 7
    for bad in ({"event_hash": "AB" * 32}, {"sig": ""}, {"receipt_ms": True}):
        with pytest.raises(ValueError):
            leaf_input(**{"event_hash": "ab" * 32, "sig": "x", "receipt_ms": 1, **bad})
    with pytest.raises(MalformedEvent):
        parse_leaf_input(b'{"h":"ab","r":1,"s":"x"}')
