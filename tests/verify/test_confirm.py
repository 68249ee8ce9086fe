"""Passkey confirmations (EVIDENCE.md §5) are verified on sync with py_webauthn against the
inspector's registered credential: another record's assertion, another origin, no user
verification, another user's or an unknown credential are all refused. `onevisit verify`
checks each against the relying party its passkey was registered for, so moving the server to
another origin leaves earlier confirmations valid."""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager

import httpx
import pytest

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.tables import Passkey
from onevisit.config import get_settings
from onevisit.evidence.confirm import (
    ConfirmationInvalid,
    ConfirmationKeys,
    RegisteredPasskey,
    origin_fits_rp_id,
    verify_record_confirmation,
)
from onevisit.evidence.verify import verify_all
from tests.auth.flows import register_passkey
from tests.auth.softauthn import SoftAuthenticator, b64url, unb64url
from tests.verify.scenario import confirmation

HASH_A = hashlib.sha256(b"record A").hexdigest()
HASH_B = hashlib.sha256(b"record B").hexdigest()


async def _enrol(app, user_id: str) -> tuple[SoftAuthenticator, bytes]:
    authn = SoftAuthenticator(origin="http://localhost:8000", synced=True)
    link = await issue_enrolment(user_id=user_id, created_by="test")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as c:
        r = await register_passkey(c, link.token, authn)
        assert r.status_code == 200, r.text
    return authn, authn._cose_key()


def _other_record(body: dict) -> dict:
    """The assertion of record A presented for record B: clientDataJSON rewritten to B's
    challenge (so the body's own shape check passes), the signature still over A's."""
    response = dict(body["assertion"]["response"])
    client = json.loads(unb64url(response["clientDataJSON"]))
    client["challenge"] = b64url(bytes.fromhex(HASH_B))
    response["clientDataJSON"] = b64url(json.dumps(client, separators=(",", ":")).encode())
    return {**body, "record_hash": HASH_B, "assertion": {**body["assertion"], "response": response}}


async def _ack(member, body: dict, visit: str) -> dict:
    seq, prev = member.phone.seq, member.phone.prev
    ack = (await member.send(member.phone.event("record_confirmed", body, visit=visit))).json()
    ack = ack["acks"][0]
    if ack["status"] != "accepted":
        member.phone.rewind(seq=seq, prev=prev)  # nothing of a rejected event is stored
    return ack


async def test_passkey_confirmations_on_sync(joint_visit, app):
    leader, _, member_b = joint_visit.members
    visit = joint_visit.visit
    authn, _ = await _enrol(app, leader.user_id)

    ack = await _ack(leader, confirmation(authn, HASH_A), visit)
    assert ack["status"] == "accepted", ack
    # the same synced passkey (sign count 0) confirms again: counters are not compared (§5)
    assert (await _ack(leader, confirmation(authn, HASH_B), visit))["status"] == "accepted"

    refused = {
        "another record's assertion": _other_record(confirmation(authn, HASH_A)),
        "another origin": confirmation(authn, HASH_A, origin="http://evil.example"),
        "no user verification": confirmation(authn, HASH_A, uv=False),
    }
    for why, body in refused.items():
        ack = await _ack(leader, body, visit)
        assert ack["code"] == "confirmation.invalid", (why, ack)

    # the leader's passkey in another inspector's event; a passkey never registered
    ack = await _ack(member_b, confirmation(authn, HASH_A), visit)
    assert ack["code"] == "confirmation.unknown_credential", ack
    stranger = SoftAuthenticator()
    stranger.rp_id, stranger.user_handle = "localhost", b"someone"
    ack = await _ack(leader, confirmation(stranger, HASH_A), visit)
    assert ack["code"] == "confirmation.unknown_credential", ack

    # a plain challenge mismatch is already refused by the body's shape check
    body = {**confirmation(authn, HASH_A), "record_hash": HASH_B}
    assert (await _ack(leader, body, visit))["code"] == "event.body_invalid"


def test_pure_check_names_the_reason():
    authn = SoftAuthenticator(origin="http://localhost:8000")
    authn.rp_id = "localhost"
    body = confirmation(authn, HASH_A)
    key = authn._cose_key()
    verify_record_confirmation(
        body=body, credential_public_key=key, rp_id="localhost", origin="http://localhost:8000"
    )
    bad = [
        dict(rp_id="onevisit.example", origin="http://localhost:8000"),
        dict(rp_id="localhost", origin="https://localhost:8000"),
    ]
    for where in bad:
        with pytest.raises(ConfirmationInvalid) as exc:
            verify_record_confirmation(body=body, credential_public_key=key, **where)
        assert exc.value.code == "confirmation.invalid"
    with pytest.raises(ConfirmationInvalid):
        other = SoftAuthenticator()._cose_key()
        verify_record_confirmation(
            body=body, credential_public_key=other, rp_id="localhost",
            origin="http://localhost:8000",
        )  # fmt: skip


@contextmanager
def _origin(origin: str):
    """The server's settings with ONEVISIT_ORIGIN = `origin` (README: moving behind HTTPS)."""
    saved = os.environ["ONEVISIT_ORIGIN"]
    os.environ["ONEVISIT_ORIGIN"] = origin
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.environ["ONEVISIT_ORIGIN"] = saved
        get_settings.cache_clear()


async def _verify_failures(event_id: str) -> list[str]:
    """`onevisit verify`'s findings about one event (the rest of the run's data is not ours)."""
    report = await verify_all()
    return [str(f) for f in report.failures if event_id in f.where]


async def test_confirmations_verify_for_the_origin_they_were_made_for(joint_visit, app):
    leader = joint_visit.members[0]
    visit = joint_visit.visit
    authn, _ = await _enrol(app, leader.user_id)  # under origin A = http://localhost:8000
    cred = b64url(authn.credential_id)
    row = await Passkey.select(Passkey.rp_id, Passkey.origin).where(Passkey.credential_id == cred)
    assert row == [{"rp_id": "localhost", "origin": "http://localhost:8000"}]
    event = leader.phone.event("record_confirmed", confirmation(authn, HASH_A), visit=visit)
    ack = (await leader.send(event)).json()["acks"][0]
    assert ack["status"] == "accepted", ack
    assert await _verify_failures(event.id) == []

    # the origin moves: another RP ID (behind HTTPS on a real name), or only another port
    for origin_b in ("https://onevisit.example", "http://localhost:9000"):
        with _origin(origin_b):
            assert get_settings().origin == origin_b
            assert await _verify_failures(event.id) == [], origin_b
    # …while sync checks against the current origin: an assertion made at A is refused at B
    with _origin("https://onevisit.example"):
        assert (await _ack(leader, confirmation(authn, HASH_B), visit))["code"] == (
            "confirmation.invalid"
        )

    # a passkey registered before its relying party was stored: the current settings
    await Passkey.update({Passkey.rp_id: None, Passkey.origin: None}).where(
        Passkey.credential_id == cred
    )
    assert await _verify_failures(event.id) == []
    with _origin("https://onevisit.example"):
        failures = await _verify_failures(event.id)
    assert len(failures) == 1 and "[confirmation.invalid]" in failures[0], failures


def test_history_accepts_only_origins_of_the_passkeys_relying_party():
    authn = SoftAuthenticator(origin="http://localhost:8000")
    authn.rp_id, authn.user_handle = "localhost", b"u"
    key = authn._cose_key()
    passkey = RegisteredPasskey("u", key, "localhost", "http://localhost:8000")
    # now served from https://onevisit.example: history still knows the passkey's own RP
    keys = ConfirmationKeys({}, "onevisit.example", "https://onevisit.example", history=True)
    made_at = {
        "http://localhost:8000": True,  # where it was registered
        "http://localhost:8001": True,  # another port of the same RP ID
        "http://evil.example": False,  # never an origin of RP ID "localhost"
        "https://onevisit.example": False,  # the current origin, but another RP ID
    }
    for origin, ok in made_at.items():
        body = confirmation(authn, HASH_A, origin=origin)
        rp_id, origins = keys.relying_party(passkey, body)
        assert rp_id == "localhost"
        if ok:
            verify_record_confirmation(
                body=body, credential_public_key=key, rp_id=rp_id, origin=origins
            )
        else:
            with pytest.raises(ConfirmationInvalid):
                verify_record_confirmation(
                    body=body, credential_public_key=key, rp_id=rp_id, origin=origins
                )
    # on sync (not history): only the current relying party
    live = ConfirmationKeys({}, "onevisit.example", "https://onevisit.example")
    assert live.relying_party(passkey, confirmation(authn, HASH_A)) == (
        "onevisit.example",
        ["https://onevisit.example"],
    )


@pytest.mark.parametrize(
    ("origin", "rp_id", "fits"),
    [
        ("https://onevisit.example", "onevisit.example", True),
        ("https://a.onevisit.example:8443", "onevisit.example", True),
        ("http://localhost:8000", "localhost", True),
        ("https://evilonevisit.example", "onevisit.example", False),
        ("https://onevisit.example.evil.cn", "onevisit.example", False),
        ("http://onevisit.example", "onevisit.example", False),  # not a secure context
        ("https://onevisit.example/x", "onevisit.example", False),
        ("https://onevisit.example:99999", "onevisit.example", False),
        ("http://localhost:8000", "onevisit.example", False),
        ("", "localhost", False),
    ],
)
def test_origin_fits_rp_id(origin, rp_id, fits):
    assert origin_fits_rp_id(origin, rp_id) is fits
