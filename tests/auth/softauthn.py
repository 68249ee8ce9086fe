"""A software WebAuthn authenticator for tests: ES256 keys, "none" or "packed" (self)
attestation, assertions with chosen UP/UV flags, origin and sign counter.

It answers with PublicKeyCredential.toJSON() shapes (WebAuthn L3 §5.1.8), built from the
options JSON the server sends, exactly as a browser would hand them to the PWA.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40  # authenticator data flags (§6.1)
AAGUID = bytes.fromhex("6f6e6576697369742d736f6674617574")  # "onevisit-softaut"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, *, origin: str = "http://localhost:8000", synced: bool = False) -> None:
        self.origin = origin
        self.synced = synced  # synced passkeys report sign count 0 forever
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.rp_id = ""
        self.user_handle = b""
        self.sign_count = 0

    # --- pieces ---------------------------------------------------------------------------
    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _auth_data(self, rp_id: str, flags: int, counter: int, attested: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + counter.to_bytes(4, "big") + attested

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()

    def _sign(self, message: bytes) -> bytes:
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))

    def _flags(self, up: bool, uv: bool) -> int:
        return (UP if up else 0) | (UV if uv else 0) | ((BE | BS) if self.synced else 0)

    # --- ceremonies -----------------------------------------------------------------------
    def create(
        self,
        public_key: dict[str, Any],
        *,
        fmt: str = "none",
        origin: str | None = None,
        challenge: str | None = None,
        uv: bool = True,
        up: bool = True,
    ) -> dict[str, Any]:
        """navigator.credentials.create() given the server's creation options (JSON form)."""
        self.rp_id = public_key["rp"]["id"]
        self.user_handle = unb64url(public_key["user"]["id"])
        client_data = self._client_data(
            "webauthn.create", challenge or public_key["challenge"], origin or self.origin
        )
        attested = AAGUID + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        auth_data = self._auth_data(
            self.rp_id, self._flags(up, uv) | AT, self.sign_count, attested + self._cose_key()
        )
        statement: dict[str, Any] = {}
        if fmt == "packed":  # self attestation (§8.2): signed by the credential key itself
            signed = auth_data + hashlib.sha256(client_data).digest()
            statement = {"alg": -7, "sig": self._sign(signed)}
        attestation = cbor2.dumps({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        public_key: dict[str, Any],
        *,
        origin: str | None = None,
        challenge: str | None = None,
        uv: bool = True,
        up: bool = True,
        counter: int | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get() given the server's request options (JSON form)."""
        assert public_key["rpId"] == self.rp_id
        if counter is None:
            if not self.synced:
                self.sign_count += 1
            counter = self.sign_count
        client_data = self._client_data(
            "webauthn.get", challenge or public_key["challenge"], origin or self.origin
        )
        auth_data = self._auth_data(self.rp_id, self._flags(up, uv), counter)
        signature = self._sign(auth_data + hashlib.sha256(client_data).digest())
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }


class SoftDevice:
    """The PWA's device key (EVIDENCE.md §2): WebCrypto ECDSA P-256, raw r||s signatures."""

    def __init__(self, curve: ec.EllipticCurve | None = None) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self.key = ec.generate_private_key(curve or ec.SECP256R1())
        der = self.key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        self.spki = b64url(der)
        self.device_id = hashlib.sha256(der).hexdigest()

    def sign(self, message: bytes) -> str:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256())))
        size = (self.key.curve.key_size + 7) // 8
        return b64url(r.to_bytes(size, "big") + s.to_bytes(size, "big"))
