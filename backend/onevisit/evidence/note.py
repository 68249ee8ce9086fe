"""Signed checkpoints: C2SP signed-note with Ed25519, and C2SP tlog-checkpoint texts.

signed-note (c2sp.org/signed-note, as golang.org/x/mod/sumdb/note): a text ending in a
newline, a blank line, then signature lines "— <key name> <base64(key ID || signature)>".
For Ed25519 the key ID is SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4].
Key strings: verifier "<name>+<hex8 key ID>+<base64(0x01 || public key)>", signer
"PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 || 32-byte seed)>".

We are a little stricter than the Go package in one place: base64 must be the one canonical
spelling of its bytes (no non-zero trailing bits), so no two notes verify for one signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from onevisit.evidence.errors import (
    CheckpointInvalid,
    KeyInvalid,
    NoteInvalid,
    SignatureInvalid,
    UnknownKey,
)

__all__ = [
    "ALG_ED25519",
    "Checkpoint",
    "NoteVerifier",
    "checkpoint_text",
    "key_id",
    "parse_checkpoint",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
    "signer_key",
    "verifier_key",
    "verify_note",
]

ALG_ED25519 = 0x01  # signed-note signature type byte for Ed25519
MAX_SIGNATURES = 100  # the spec: accept at least 16; the Go package stops at 100
_SIG_PREFIX = "— "  # U+2014 EM DASH, U+0020
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # ASCII controls other than newline
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    name: str
    key_id: bytes  # 4 bytes
    public_key: Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def key_id(*, name: str, public_key: bytes) -> bytes:
    """SHA-256(name || "\\n" || 0x01 || 32-byte Ed25519 public key)[:4] (signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def verifier_key(*, name: str, public_key: Ed25519PublicKey) -> str:
    _check_name(name, KeyInvalid)
    pub = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = key_id(name=name, public_key=pub).hex()
    return f"{name}+{kid}+{_b64(bytes([ALG_ED25519]) + pub)}"


def signer_key(*, name: str, private_key: Ed25519PrivateKey) -> str:
    pub = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    seed = private_key.private_bytes_raw()
    _check_name(name, KeyInvalid)
    kid = key_id(name=name, public_key=pub).hex()
    return f"PRIVATE+KEY+{name}+{kid}+{_b64(bytes([ALG_ED25519]) + seed)}"


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """Parse "<name>+<hex8>+<base64(0x01 || key)>"; the key ID must match. Raises KeyInvalid."""
    name, kid, key = _split_key(vkey)
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise KeyInvalid("not an Ed25519 (0x01) verifier key")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(key[1:])
    except ValueError as exc:
        raise KeyInvalid("not an Ed25519 public key") from exc
    if key_id(name=name, public_key=key[1:]) != kid:
        raise KeyInvalid("key ID does not match name and key")
    return NoteVerifier(name=name, key_id=kid, public_key=public_key)


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse "PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>" → (name, key)."""
    if not isinstance(skey, str) or not skey.startswith("PRIVATE+KEY+"):
        raise KeyInvalid("not a signer key")
    name, kid, key = _split_key(skey.removeprefix("PRIVATE+KEY+"))
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise KeyInvalid("not an Ed25519 (0x01) signer key")
    private_key = Ed25519PrivateKey.from_private_bytes(key[1:])
    pub = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    if key_id(name=name, public_key=pub) != kid:
        raise KeyInvalid("key ID does not match name and key")
    return name, private_key


def sign_note(*, text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """text + "\\n" + "— <name> <base64(key ID || Ed25519(text))>\\n"."""
    _check_text(text)
    _check_name(name, KeyInvalid)
    pub = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = key_id(name=name, public_key=pub) + private_key.sign(text.encode())
    return f"{text}\n{_SIG_PREFIX}{name} {_b64(sig)}\n"


def verify_note(*, note: str | bytes, verifier_key: str | Iterable[str]) -> str:
    """Verify a signed note against one or more trusted verifier keys; return its text.

    Signatures by unknown keys (name and key ID not both matching) are ignored, as the spec
    requires. Raises NoteInvalid (malformed), SignatureInvalid (a known key's signature
    fails), UnknownKey (no signature by a known key).
    """
    keys = [verifier_key] if isinstance(verifier_key, str) else list(verifier_key)
    known = {(v.name, v.key_id): v for v in map(parse_verifier_key, keys)}
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteInvalid("not valid UTF-8") from exc
    if _CONTROL.search(note) or not _is_utf8(note):
        raise NoteInvalid("control characters or invalid UTF-8")
    split = note.rfind("\n\n")  # the text ends at the last blank line
    if split < 0:
        raise NoteInvalid("no blank line before the signatures")
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs.endswith("\n"):
        raise NoteInvalid("signature block does not end in a newline")
    verified = 0
    seen: set[tuple[str, bytes]] = set()
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteInvalid(f"more than {MAX_SIGNATURES} signatures")
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise NoteInvalid("signature line does not start with '— '")
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        sig = _unb64(b64)
        if sig is None or len(sig) < 5 or not _valid_name(name):
            raise NoteInvalid("malformed signature line")
        verifier = known.get((name, sig[:4]))
        if verifier is None or (name, sig[:4]) in seen:
            continue  # unknown key (or a repeat): ignore, per signed-note
        seen.add((name, sig[:4]))
        try:
            verifier.public_key.verify(sig[4:], text.encode())
        except InvalidSignature as exc:
            raise SignatureInvalid(f"signature by {name} does not verify") from exc
        verified += 1
    if not verified:
        raise UnknownKey("no signature by a trusted key")
    return text


def checkpoint_text(*, origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """The tlog-checkpoint note text: origin, tree size, base64 root, extension lines."""
    exts = tuple(extensions)
    if not origin or "\n" in origin or _CONTROL.search(origin):
        raise CheckpointInvalid("origin must be one non-empty line")
    if type(size) is not int or size < 0:
        raise CheckpointInvalid("size must be an integer >= 0")
    if len(root) != 32:
        raise CheckpointInvalid("root must be 32 bytes")
    if any(not e or "\n" in e or _CONTROL.search(e) for e in exts):
        raise CheckpointInvalid("extension lines must be non-empty single lines")
    return "".join(f"{line}\n" for line in (origin, str(size), _b64(bytes(root)), *exts))


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (as verify_note returns it). Raises CheckpointInvalid."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointInvalid("text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointInvalid("fewer than three lines")
    origin, size, root_b64, *exts = lines
    if not origin:
        raise CheckpointInvalid("empty origin")
    if not _DECIMAL.fullmatch(size) or int(size) >= 1 << 64:
        raise CheckpointInvalid("tree size is not a decimal without leading zeros")
    root = _unb64(root_b64)
    if root is None or len(root) != 32:
        raise CheckpointInvalid("root is not a 32-byte hash in standard base64")
    if any(not e for e in exts):
        raise CheckpointInvalid("empty extension line")
    return Checkpoint(origin=origin, size=int(size), root=root, extensions=tuple(exts))


# --- helpers ---------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(s: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4) with padding, canonical spelling only."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return raw if s and _b64(raw) == s else None


def _is_utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_name(name: str) -> bool:
    """Non-empty, no Unicode spaces, no '+' (signed-note "Key names")."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _check_name(name: str, exc: type[Exception]) -> None:
    if not _valid_name(name) or _CONTROL.search(name) or "\n" in name:
        raise exc(f"invalid key name {name!r}")


def _check_text(text: str) -> None:
    if not text.endswith("\n") or _CONTROL.search(text) or not _is_utf8(text):
        raise NoteInvalid("note text must end in a newline and hold no control characters")


def _split_key(s: str) -> tuple[str, bytes, bytes]:
    # Split at the first two '+' only: the base64 key may itself contain '+'.
    name, _, rest = s.partition("+") if isinstance(s, str) else ("", "", "")
    kid, sep, key_b64 = rest.partition("+")
    if not sep:
        raise KeyInvalid("not <name>+<hex8>+<base64>")
    if not _valid_name(name) or not re.fullmatch(r"[0-9a-fA-F]{8}", kid):
        raise KeyInvalid("bad name or key ID")
    key = _unb64(key_b64)
    if key is None:
        raise KeyInvalid("key is not standard base64")
    return name, bytes.fromhex(kid), key
