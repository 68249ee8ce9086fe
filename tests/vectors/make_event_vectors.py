"""Regenerate tests/vectors/events.json: `.venv/bin/python -m tests.vectors.make_event_vectors`.

Keeps the test key already in the file (so device_id stays stable); ECDSA is randomised, so
each run stores new (equally valid) signatures. Not a test: pytest does not collect it.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from onevisit.evidence.events import device_id_of, event_hash, leaf_input, sign_event
from onevisit.evidence.jcs import canonical_evidence
from onevisit.evidence.merkle import leaf_hash

OUT = Path(__file__).resolve().parent / "events.json"


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load_or_make_key() -> ec.EllipticCurvePrivateKey:
    if OUT.exists():
        pem = json.loads(OUT.read_text())["key"]["pkcs8_pem"].encode()
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    return ec.generate_private_key(ec.SECP256R1())


def jwk_of(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    nums = key.private_numbers()
    pub = nums.public_numbers
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64u(pub.x.to_bytes(32, "big")),
        "y": b64u(pub.y.to_bytes(32, "big")),
        "d": b64u(nums.private_value.to_bytes(32, "big")),
    }


def main() -> None:
    key = load_or_make_key()
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    dev = device_id_of(spki)
    anchor_root = base64.b64encode(bytes(range(32))).decode()
    inputs: list[tuple[str, dict[str, Any]]] = [
        (
            "genesis checkin with mono and session",
            {
                "v": 1,
                "id": "01936b2e-8f00-7abc-8def-0123456789ab",
                "device": dev,
                "seq": 1,
                "prev": "0" * 64,
                "actor": "u-inspector-01",
                "visit": "V-2026-000123",
                "type": "checkin",
                "at": 1764000000000,
                "mono": 15234,
                "session": "s-01936b2e",
                "body": {
                    "lat_e6": 39904211,
                    "lon_e6": 116407395,
                    "accuracy_m": 12,
                    "source": "gps",
                },
            },
        ),
        (
            "note with Chinese text that needs NFC, null visit",
            {
                "v": 1,
                "id": "01936b2e-9a10-7def-9abc-0123456789ac",
                "device": dev,
                "seq": 2,
                "prev": None,
                "actor": "u-inspector-01",
                "visit": None,
                "type": "note",
                "at": 1764000060000,
                # U+F9F1 is a CJK compatibility ideograph: NFC maps it to U+96A3 (隣);
                # "e" + U+0301 composes to U+00E9.
                "body": {"text": "现场检查：邻\uf9f1近仓库，Cafe\u0301 招牌完好。"},
            },
        ),
        (
            "item_result with nested body, media, big integers and anchor",
            {
                "v": 1,
                "id": "01936b2e-a420-7123-a456-0123456789ad",
                "device": dev,
                "seq": 3,
                "prev": None,
                "actor": "u-inspector-01",
                "visit": "V-2026-000123",
                "type": "item_result",
                "at": 1764000120000,
                "anchor": {"size": 42, "root": anchor_root},
                "body": {
                    "item": "M-001/03",
                    "result": "不合格",
                    "fine_fen": 9007199254740991,
                    "delta": -9007199254740991,
                    "zero": 0,
                    "flags": [True, False, None],
                    "media": [{"sha256": "ab" * 32, "bytes": 1234567, "mime": "image/jpeg"}],
                    "nested": {"b": {"d": [], "c": {}}, "a": [[1, 2], [3]]},
                },
            },
        ),
        (
            "photo whose strings need JSON escapes",
            {
                "v": 1,
                "id": "01936b2e-ae30-7456-b789-0123456789ae",
                "device": dev,
                "seq": 4,
                "prev": None,
                "actor": "u-inspector-01",
                "visit": "V-2026-000123",
                "type": "photo",
                "at": 1764000180000,
                "body": {
                    "caption": 'line1\nline2\t"quoted" \\ </script> \u007f \u001f 😂 €',
                    "media": {"sha256": "cd" * 32, "bytes": 1, "mime": "image/jpeg"},
                },
            },
        ),
        (
            "server workflow entry (signed here with the same test key)",
            {
                "v": 1,
                "id": "01936b2e-b840-7789-8123-0123456789af",
                "device": "server",
                "seq": 1,
                "prev": "0" * 64,
                "actor": "system",
                "visit": "V-2026-000123",
                "type": "server.draw_reveal",
                "at": 1764000240000,
                "body": {"draw": "D-2026-07", "seed": "9f" * 16},
            },
        ),
    ]
    valid: list[dict[str, Any]] = []
    prev = "0" * 64
    for i, (name, env) in enumerate(inputs):
        if env["prev"] is None:
            env["prev"] = prev
        raw = canonical_evidence(env)
        h = event_hash(raw)
        if env["device"] == dev:
            prev = h
        sig = sign_event(envelope_bytes=raw, private_key=key)
        receipt = 1764000300000 + i
        leaf = leaf_input(event_hash=h, sig=sig, receipt_ms=receipt)
        valid.append(
            {
                "name": name,
                "input": env,
                "canonical": raw.decode("utf-8"),
                "hash": h,
                "signature": sig,
                "leaf": {
                    "receipt_ms": receipt,
                    "input": leaf.decode(),
                    "hash": leaf_hash(leaf).hex(),
                },
            }
        )
    c0, c1 = valid[0]["canonical"], valid[1]["canonical"]
    base = inputs[0][1]

    def env_with(**changes: Any) -> str:
        env = {**base, **changes}
        for k in [k for k, v in changes.items() if v is _DROP]:
            del env[k]
        return canonical_evidence(env).decode()

    bad_utf8 = c0.encode().replace(b"gps", b"g\xffs")
    invalid: list[dict[str, Any]] = [
        {
            "name": "space after a colon",
            "text": c0.replace('"v":1', '"v": 1'),
            "error": "event.not_canonical",
        },
        {"name": "trailing newline", "text": c0 + "\n", "error": "event.not_canonical"},
        {
            "name": "keys not sorted",
            "text": '{"v":1,' + c0[1:].replace(',"v":1', ""),
            "error": "event.not_canonical",
        },
        {
            "name": "escaped non-ASCII where JCS writes it raw",
            "text": c1.replace("现", "\\u73b0"),
            "error": "event.not_canonical",
        },
        {
            "name": "escaped solidus",
            "text": c0.replace("u-inspector-01", "u\\/inspector"),
            "error": "event.not_canonical",
        },
        {
            "name": "integer spelled -0",
            "text": c0.replace('"accuracy_m":12', '"accuracy_m":-0'),
            "error": "event.not_canonical",
        },
        {"name": "float 1.0 for v", "text": c0.replace('"v":1', '"v":1.0'), "error": "json.float"},
        {
            "name": "exponent number",
            "text": c0.replace('"accuracy_m":12', '"accuracy_m":1.2e1'),
            "error": "json.float",
        },
        {
            "name": "duplicate key",
            "text": c0.replace('"v":1', '"v":1,"v":1'),
            "error": "json.duplicate_key",
        },
        {
            "name": "string not NFC (raw U+F9F1)",
            "text": c1.replace("隣", "\uf9f1"),
            "error": "json.not_nfc",
        },
        {
            "name": "integer 2^53",
            "text": env_with(body={"n": 9007199254740991}).replace(
                "9007199254740991", "9007199254740992"
            ),
            "error": "json.int_range",
        },
        {
            "name": "non-ASCII key",
            "text": c0.replace('"source"', '"来源"'),
            "error": "json.key_not_ascii",
        },
        {
            "name": "invalid UTF-8 (base64)",
            "bytes_b64": base64.b64encode(bad_utf8).decode(),
            "error": "json.invalid",
        },
        {"name": "byte order mark", "text": "\ufeff" + c0, "error": "json.invalid"},
        {
            "name": "NaN",
            "text": c0.replace('"accuracy_m":12', '"accuracy_m":NaN'),
            "error": "json.invalid",
        },
        {
            "name": "lone surrogate escape",
            "text": c0.replace("gps", "\\ud800"),
            "error": "json.invalid",
        },
        {"name": "not JSON", "text": c0[:-1], "error": "json.invalid"},
        {
            "name": "array, not an object",
            "text": "[1]",
            "error": "event.malformed",
            "field": "envelope",
        },
        {
            "name": "missing body",
            "text": env_with(body=_DROP),
            "error": "event.malformed",
            "field": "body",
        },
        {
            "name": "unknown top-level key",
            "text": env_with(extra=1),
            "error": "event.malformed",
            "field": "extra",
        },
        {"name": "v is 2", "text": env_with(v=2), "error": "event.malformed", "field": "v"},
        {
            "name": "id is a UUIDv4",
            "text": env_with(id="0f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"),
            "error": "event.malformed",
            "field": "id",
        },
        {
            "name": "device in upper-case hex",
            "text": env_with(device=dev.upper()),
            "error": "event.malformed",
            "field": "device",
        },
        {"name": "seq 0", "text": env_with(seq=0), "error": "event.malformed", "field": "seq"},
        {
            "name": "seq true",
            "text": env_with(seq=True),
            "error": "event.malformed",
            "field": "seq",
        },
        {
            "name": "seq 1 with a non-zero prev",
            "text": env_with(prev="ab" * 32),
            "error": "event.malformed",
            "field": "prev",
        },
        {
            "name": "seq 2 with the genesis prev",
            "text": env_with(seq=2),
            "error": "event.malformed",
            "field": "prev",
        },
        {
            "name": "unknown type",
            "text": env_with(type="inspection"),
            "error": "event.malformed",
            "field": "type",
        },
        {
            "name": "server type from a phone",
            "text": env_with(type="server.draw_reveal"),
            "error": "event.malformed",
            "field": "type",
        },
        {
            "name": "empty visit",
            "text": env_with(visit=""),
            "error": "event.malformed",
            "field": "visit",
        },
        {"name": "negative at", "text": env_with(at=-1), "error": "event.malformed", "field": "at"},
        {
            "name": "body is an array",
            "text": env_with(body=[]),
            "error": "event.malformed",
            "field": "body",
        },
        {
            "name": "anchor root of 31 bytes",
            "text": env_with(anchor={"size": 1, "root": base64.b64encode(b"x" * 31).decode()}),
            "error": "event.malformed",
            "field": "anchor",
        },
    ]
    sig0 = valid[0]["signature"]
    raw0 = base64.urlsafe_b64decode(sig0 + "==")
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = encode_dss_signature(int.from_bytes(raw0[:32]), int.from_bytes(raw0[32:]))
    bad_sigs = [
        {"name": "signature of another event", "event": 0, "signature": valid[1]["signature"]},
        {"name": "DER instead of raw r||s", "event": 0, "signature": b64u(der)},
        {"name": "base64url with padding", "event": 0, "signature": sig0 + "=="},
        {
            "name": "standard base64 alphabet",
            "event": 0,
            "signature": base64.b64encode(raw0).decode().rstrip("=")
            if any(c in sig0 for c in "-_")
            else "+" + sig0[1:],
        },
        {"name": "63 bytes", "event": 0, "signature": b64u(raw0[:63])},
        {"name": "r and s swapped", "event": 0, "signature": b64u(raw0[32:] + raw0[:32])},
        {"name": "all zeros", "event": 0, "signature": b64u(bytes(64))},
    ]
    for b in bad_sigs:
        b["error"] = "sig.invalid"
    doc = {
        "format": "onevisit event vectors v1 — see README.md",
        "key": {
            "WARNING": "TEST-ONLY KEY, published on purpose. Never register it anywhere.",
            "pkcs8_pem": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
            "jwk": jwk_of(key),
            "spki_b64url": b64u(spki),
            "device_id": dev,
        },
        "valid": valid,
        "invalid": invalid,
        "bad_signatures": bad_sigs,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=True, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)


class _Drop:
    pass


_DROP = _Drop()

if __name__ == "__main__":
    main()
