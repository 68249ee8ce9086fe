"""The shared outside vectors: RFC 8785 (JCS), RFC 6962/9162 proofs, the C2SP note example."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from onevisit.evidence.errors import EvidenceError, ProofInvalid
from onevisit.evidence.jcs import canonical
from onevisit.evidence.merkle import (
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from onevisit.evidence.note import parse_verifier_key, verify_note
from tests.vectors.paths import shared_vectors

SHARED = shared_vectors()
JCS_NAMES = sorted(p.name for p in (SHARED / "jcs" / "input").glob("*.json"))
RFC6962 = SHARED / "rfc6962"
INCLUSION = sorted((RFC6962 / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((RFC6962 / "consistency").rglob("*.json"))


def _id(p: Path) -> str:
    return str(p.relative_to(RFC6962))


def _b64(s: str) -> bytes:
    return base64.b64decode(s)


# --- RFC 8785 --------------------------------------------------------------------------------
def test_all_six_jcs_vectors_present() -> None:
    assert JCS_NAMES == [
        "arrays.json", "french.json", "structures.json", "unicode.json", "values.json",
        "weird.json",
    ]  # fmt: skip


@pytest.mark.parametrize("name", JCS_NAMES)
def test_jcs_vector(name: str) -> None:
    source = (SHARED / "jcs" / "input" / name).read_bytes()
    expected = (SHARED / "jcs" / "output" / name).read_bytes()
    assert canonical(json.loads(source)) == expected


# --- RFC 6962 / RFC 9162 proofs (transparency-dev/merkle testdata) ---------------------------
def test_proof_vector_count() -> None:
    # EVIDENCE.md speaks of 184 vectors: that is the wantErr=true count; 12 more must pass.
    wants = [json.loads(p.read_text())["wantErr"] for p in INCLUSION + CONSISTENCY]
    assert (len(wants), wants.count(True)) == (196, 184)


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    kwargs = {
        "leaf_hash": _b64(v["leafHash"]),
        "index": v["leafIdx"],
        "size": v["treeSize"],
        "path": [_b64(p) for p in v["proof"] or []],
        "root": _b64(v["root"]),
    }
    if v["wantErr"]:
        with pytest.raises(ProofInvalid):
            verify_inclusion(**kwargs)
    else:
        verify_inclusion(**kwargs)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    kwargs = {
        "size1": v["size1"],
        "size2": v["size2"],
        "root1": _b64(v["root1"]),
        "root2": _b64(v["root2"]),
        "path": [_b64(p) for p in v["proof"] or []],
    }
    if v["wantErr"]:
        with pytest.raises(ProofInvalid):
            verify_consistency(**kwargs)
    else:
        verify_consistency(**kwargs)


def test_reference_roots() -> None:
    ref = json.loads((RFC6962 / "reference_roots.json").read_text())
    leaves = [leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]]
    roots = [root_of(leaves[:n]).hex() for n in range(len(leaves) + 1)]
    assert roots == ref["root_by_size_hex"]


# --- C2SP signed-note example ----------------------------------------------------------------
VKEY = (SHARED / "signed-note" / "vkey.txt").read_text().strip()
NOTE = (SHARED / "signed-note" / "note.txt").read_bytes()


def test_signed_note_example_verifies() -> None:
    assert parse_verifier_key(VKEY).name == "example.com/foo"
    assert verify_note(note=NOTE, verifier_key=VKEY) == "This is an example message.\n"
    assert verify_note(note=NOTE.decode(), verifier_key=VKEY) == "This is an example message.\n"


def test_signed_note_example_rejects_every_single_byte_change() -> None:
    """Every position × every other byte value (~40k variants), and every deletion."""
    accepted = []
    for i in range(len(NOTE)):
        variants = [NOTE[:i] + bytes([b]) + NOTE[i + 1 :] for b in range(256) if b != NOTE[i]]
        variants.append(NOTE[:i] + NOTE[i + 1 :])
        for variant in variants:
            try:
                verify_note(note=variant, verifier_key=VKEY)
            except EvidenceError:
                continue
            accepted.append(variant)
    assert accepted == []
