"""Device keys (EVIDENCE.md §2): ECDSA P-256 keys made with WebCrypto. Pure, no I/O.

The PWA sends the public key as SPKI DER (exportKey("spki")) in base64url and signs with
ECDSA P-256/SHA-256, which WebCrypto returns as the 64-byte raw r||s form (IEEE P1363);
`cryptography` wants DER, so the signature is re-encoded before verifying.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from onevisit.auth.common import b64url_decode
from onevisit.errors import AppError

__all__ = ["ENROL_PREFIX", "device_id_of", "load_device_key", "verify_device_signature"]

ENROL_PREFIX = "onevisit-enrol:"  # the device signs ENROL_PREFIX + token at enrolment


def load_device_key(spki_b64url: str) -> tuple[bytes, ec.EllipticCurvePublicKey]:
    """The canonical SPKI DER and the key; anything but a P-256 SPKI → auth.device_key_invalid."""
    der = b64url_decode(spki_b64url)
    if not der:
        raise AppError("auth.device_key_invalid", "not base64url")
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise AppError("auth.device_key_invalid", "not an SPKI") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AppError("auth.device_key_invalid", "not P-256")
    canonical = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if canonical != der:  # one key, one device_id: refuse compressed or odd encodings
        raise AppError("auth.device_key_invalid", "SPKI not in canonical uncompressed form")
    return der, key


def device_id_of(spki_der: bytes) -> str:
    """device_id = lowercase hex SHA-256 of the SPKI DER (EVIDENCE.md §2)."""
    return hashlib.sha256(spki_der).hexdigest()


def verify_device_signature(
    key: ec.EllipticCurvePublicKey, signature_b64url: str, message: bytes
) -> bool:
    raw = b64url_decode(signature_b64url)
    if raw is None or len(raw) != 64:
        return False
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
