"""Passkey confirmations (EVIDENCE.md §5) are verified on sync with py_webauthn against the
inspector's registered credential: another record's assertion, another origin, no user
verification, another user's or an unknown credential are all refused."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from onevisit.auth.enrolment import issue_enrolment
from onevisit.evidence.confirm import ConfirmationInvalid, verify_record_confirmation
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
