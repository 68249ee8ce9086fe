"""Exceptions of the evidence cores: one class per failed check, each with a stable `code`.

Pure: nothing here knows about HTTP. The API layer maps `code` to its problem catalogue; the
CLI verifier prints it. Related checks share a base class so callers can catch a family
(e.g. every reason bytes are "not the canonical form of themselves" is a `NotCanonical`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChainFork",
    "ChainGap",
    "ChainMismatch",
    "CheckpointInvalid",
    "ConsistencyProofInvalid",
    "DuplicateKey",
    "EvidenceError",
    "FloatNotAllowed",
    "InclusionProofInvalid",
    "IntegerOutOfRange",
    "InvalidJson",
    "KeyInvalid",
    "MalformedEvent",
    "NonAsciiKey",
    "NotCanonical",
    "NotNfc",
    "NoteInvalid",
    "ProofInvalid",
    "SignatureInvalid",
    "UnknownKey",
]


class EvidenceError(Exception):
    """Base of every evidence failure. `code` is stable; `reason` is for people."""

    code = "evidence.error"

    def __init__(self, reason: str = "", **details: Any) -> None:
        self.reason = reason
        self.details = details
        super().__init__(f"{self.code}: {reason}" if reason else self.code)


# --- canonical JSON (EVIDENCE.md §1) --------------------------------------------------------
class NotCanonical(EvidenceError):
    """The bytes are valid JSON but not the canonical (RFC 8785 + our rules) form of themselves."""

    code = "event.not_canonical"


class InvalidJson(NotCanonical):
    """Not JSON at all: syntax, invalid UTF-8, a BOM, NaN/Infinity, lone surrogates."""

    code = "json.invalid"


class DuplicateKey(NotCanonical):
    code = "json.duplicate_key"

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate object key {key!r}", key=key)
        self.key = key


class FloatNotAllowed(NotCanonical):
    """Evidence objects hold no floating-point numbers (EVIDENCE.md §1)."""

    code = "json.float"


class IntegerOutOfRange(NotCanonical):
    """Integers must stay within ±(2^53 - 1), the range JavaScript numbers hold exactly."""

    code = "json.int_range"


class NonAsciiKey(NotCanonical):
    code = "json.key_not_ascii"


class NotNfc(NotCanonical):
    """A string is not in Unicode Normalization Form C (EVIDENCE.md §1)."""

    code = "json.not_nfc"


# --- events (EVIDENCE.md §3) -----------------------------------------------------------------
class MalformedEvent(EvidenceError):
    """The envelope is canonical JSON but breaks the envelope rules; `field` names the culprit."""

    code = "event.malformed"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.field = field


class KeyInvalid(EvidenceError):
    """A public or private key that is not of the expected kind or encoding."""

    code = "key.invalid"


class SignatureInvalid(EvidenceError):
    """A signature that is malformed or does not verify (events and notes alike)."""

    code = "sig.invalid"


class ChainGap(EvidenceError):
    """The device's `seq` skipped ahead: events between are missing."""

    code = "chain.gap"

    def __init__(self, *, expected_seq: int, got_seq: int) -> None:
        super().__init__(
            f"expected seq {expected_seq}, got {got_seq}",
            expected_seq=expected_seq,
            got_seq=got_seq,
        )
        self.expected_seq = expected_seq
        self.got_seq = got_seq


class ChainMismatch(EvidenceError):
    """`prev` does not name the hash of the device's previous event."""

    code = "chain.mismatch"


class ChainFork(ChainMismatch):
    """A `seq` already taken by another event of the device: a fork or a replay."""

    code = "chain.fork"


# --- Merkle proofs (RFC 6962 / RFC 9162) -----------------------------------------------------
class ProofInvalid(EvidenceError):
    code = "proof.invalid"


class InclusionProofInvalid(ProofInvalid):
    code = "proof.inclusion_invalid"


class ConsistencyProofInvalid(ProofInvalid):
    code = "proof.consistency_invalid"


# --- signed notes and checkpoints (C2SP) -----------------------------------------------------
class NoteInvalid(EvidenceError):
    """The note is not a well-formed C2SP signed note."""

    code = "note.invalid"


class UnknownKey(EvidenceError):
    """No signature of the note comes from a key the verifier trusts."""

    code = "note.unknown_key"


class CheckpointInvalid(EvidenceError):
    """The note text is not a well-formed C2SP tlog-checkpoint."""

    code = "checkpoint.invalid"
