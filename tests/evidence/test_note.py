"""C2SP signed notes (Ed25519) and tlog-checkpoints."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onevisit.evidence.errors import (
    CheckpointInvalid,
    KeyInvalid,
    NoteInvalid,
    SignatureInvalid,
    UnknownKey,
)
from onevisit.evidence.merkle import EMPTY_ROOT
from onevisit.evidence.note import (
    Checkpoint,
    checkpoint_text,
    key_id,
    parse_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    signer_key,
    verifier_key,
    verify_note,
)

NAME = "onevisit.example/log"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VKEY = verifier_key(name=NAME, public_key=KEY.public_key())
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
OTHER_VKEY = verifier_key(name="witness.example", public_key=OTHER.public_key())
TEXT = checkpoint_text(origin=NAME, size=5, root=bytes(32))


def sig_line(note: str) -> str:
    return note.split("\n\n")[-1]


def test_key_strings() -> None:
    name, hexid, b64 = VKEY.split("+", 2)
    pub = base64.b64decode(b64)
    assert name == NAME and pub[0] == 1 and len(pub) == 33
    assert bytes.fromhex(hexid) == key_id(name=NAME, public_key=pub[1:])
    skey = signer_key(name=NAME, private_key=KEY)
    assert skey.startswith(f"PRIVATE+KEY+{NAME}+{hexid}+")
    name2, key2 = parse_signer_key(skey)
    assert name2 == NAME and key2.private_bytes_raw() == bytes(range(32))
    assert parse_verifier_key(VKEY).key_id.hex() == hexid


WRONG_ALG = base64.b64encode(b"\x02" + bytes(32)).decode()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "name",
        "name+abcd+AAAA",
        "na me+00000000+AQ==",
        f"{NAME}+00000000+" + VKEY.split("+", 2)[2],  # key ID does not match
        VKEY.replace("+", "+X", 1),
        VKEY + "=",
        VKEY.rsplit("+", 1)[0] + "+" + WRONG_ALG,
    ],
)
def test_bad_verifier_keys(bad: str) -> None:
    with pytest.raises(KeyInvalid):
        parse_verifier_key(bad)


def test_bad_signer_key() -> None:
    skey = signer_key(name=NAME, private_key=KEY)
    for bad in (skey.replace("PRIVATE+KEY+", ""), skey.replace(NAME, "other.example")):
        with pytest.raises(KeyInvalid):
            parse_signer_key(bad)


def test_sign_and_verify() -> None:
    note = sign_note(text=TEXT, name=NAME, private_key=KEY)
    assert note.startswith(TEXT + "\n— " + NAME + " ")
    assert verify_note(note=note, verifier_key=VKEY) == TEXT
    assert verify_note(note=note.encode(), verifier_key=[OTHER_VKEY, VKEY]) == TEXT
    with pytest.raises(UnknownKey):
        verify_note(note=note, verifier_key=OTHER_VKEY)


def test_several_signatures_unknown_ignored() -> None:
    note = sign_note(text=TEXT, name=NAME, private_key=KEY)
    witness = sig_line(sign_note(text=TEXT, name="witness.example", private_key=OTHER))
    # A foreign signature line and an unknown key sharing our name but not our key ID.
    impostor = Ed25519PrivateKey.generate()
    same_name = sig_line(sign_note(text=TEXT, name=NAME, private_key=impostor))
    both = note + witness + same_name
    assert verify_note(note=both, verifier_key=VKEY) == TEXT
    assert verify_note(note=both, verifier_key=OTHER_VKEY) == TEXT
    assert verify_note(note=both, verifier_key=[VKEY, OTHER_VKEY]) == TEXT
    with pytest.raises(UnknownKey):  # only signatures by keys we do not know
        verify_note(note=TEXT + "\n" + witness + same_name, verifier_key=VKEY)


def test_known_key_bad_signature_rejects_whole_note() -> None:
    other_text = checkpoint_text(origin=NAME, size=6, root=bytes(32))
    forged = sig_line(sign_note(text=other_text, name=NAME, private_key=KEY))
    witness = sig_line(sign_note(text=TEXT, name="witness.example", private_key=OTHER))
    with pytest.raises(SignatureInvalid):
        verify_note(note=TEXT + "\n" + witness + forged, verifier_key=[VKEY, OTHER_VKEY])


@pytest.mark.parametrize(
    "mutate",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("— ", "-- "),
        lambda n: n.replace("— ", "—  "),
        lambda n: n.replace(f"— {NAME} ", "— a+b "),
        lambda n: n.replace("5\n", "5\r\n", 1),
        lambda n: n.replace("5\n", "5\t\n", 1),
        lambda n: n + "\n",  # a trailing blank line
        lambda n: n.rstrip("\n").rsplit(" ", 1)[0] + " AAAA\n",  # fewer than 5 bytes
        lambda n: n.rstrip("\n") + "!\n",  # not base64
        lambda n: n + sig_line(n) * 100,  # too many signatures
    ],
)
def test_malformed_notes(mutate) -> None:  # type: ignore[no-untyped-def]
    note = sign_note(text=TEXT, name=NAME, private_key=KEY)
    with pytest.raises(NoteInvalid):
        verify_note(note=mutate(note), verifier_key=VKEY)


def test_note_bytes_must_be_utf8() -> None:
    note = sign_note(text=TEXT, name=NAME, private_key=KEY).encode()
    with pytest.raises(NoteInvalid):
        verify_note(note=note.replace(b"5\n", b"\xff\n", 1), verifier_key=VKEY)


def test_sign_note_checks() -> None:
    with pytest.raises(NoteInvalid):
        sign_note(text="no newline", name=NAME, private_key=KEY)
    with pytest.raises(KeyInvalid):
        sign_note(text="x\n", name="has space", private_key=KEY)


def test_text_with_blank_lines_and_repeat_signatures() -> None:
    text = "line one\n\nline three\n"
    note = sign_note(text=text, name=NAME, private_key=KEY)
    assert verify_note(note=note + sig_line(note), verifier_key=VKEY) == text


def test_checkpoint_roundtrip() -> None:
    root = bytes(range(32))
    text = checkpoint_text(origin=NAME, size=20852163, root=root, extensions=["ext one"])
    assert text == f"{NAME}\n20852163\n{base64.b64encode(root).decode()}\next one\n"
    assert parse_checkpoint(text) == Checkpoint(NAME, 20852163, root, ("ext one",))
    assert parse_checkpoint(checkpoint_text(origin=NAME, size=0, root=EMPTY_ROOT)).size == 0


@pytest.mark.parametrize(
    "text",
    [
        "o\n1\n", "o\n1\nAAAA", "\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n+1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n١\n" + base64.b64encode(bytes(32)).decode() + "\n",  # Arabic-Indic digit
        "o\n18446744073709551616\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode().rstrip("=") + "\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",
    ],
)  # fmt: skip
def test_checkpoint_refusals(text: str) -> None:
    with pytest.raises(CheckpointInvalid):
        parse_checkpoint(text)


def test_checkpoint_text_checks() -> None:
    for kwargs in (
        {"origin": ""}, {"origin": "a\nb"}, {"size": -1}, {"size": True}, {"root": b"x"},
        {"extensions": [""]},
    ):  # fmt: skip
        args = {"origin": NAME, "size": 1, "root": bytes(32), **kwargs}
        with pytest.raises(CheckpointInvalid):
            checkpoint_text(**args)  # type: ignore[arg-type]
