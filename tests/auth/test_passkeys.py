"""Passkey ceremonies against py_webauthn: what must verify and what must be refused."""

from __future__ import annotations

import uuid

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.tables import Passkey, Session, User
from tests.auth.flows import code, login_passkey, register_passkey
from tests.auth.softauthn import SoftAuthenticator, b64url


async def _registered(new_link, client, **kw) -> tuple[SoftAuthenticator, str]:
    link = await new_link()
    authn = SoftAuthenticator(**kw)
    r = await register_passkey(client, link.token, authn)
    assert r.status_code == 200, r.text
    return authn, link.user_id


async def test_registration_options_follow_the_policy(new_link, client):
    authn, user_id = await _registered(new_link, client)
    again = await issue_enrolment(user_id=user_id, created_by="test")
    r = await client.post(f"/api/auth/enrol/{again.token}/passkey/options")
    options = r.json()["publicKey"]
    assert options["rp"] == {"id": "localhost", "name": "OneVisit 双随机一公开"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(authn.credential_id)]
    assert options["user"]["id"] == b64url(uuid.UUID(user_id).bytes)

    r = await client.post("/api/auth/login/options")
    login = r.json()["publicKey"]
    assert login["rpId"] == "localhost"
    assert login["userVerification"] == "required"
    assert login.get("allowCredentials", []) == []


async def test_packed_self_attestation_registers(new_link, client):
    authn, _ = await _registered(new_link, client)
    link = await new_link()
    r = await register_passkey(client, link.token, SoftAuthenticator(), fmt="packed")
    assert r.status_code == 200, r.text
    assert (await login_passkey(client, authn)).status_code == 200


async def test_wrong_origin_refused(new_link, client):
    link = await new_link()
    r = await register_passkey(
        client, link.token, SoftAuthenticator(), origin="https://evil.example"
    )
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")
    # the link is not spent by a failed attempt
    authn = SoftAuthenticator()
    assert (await register_passkey(client, link.token, authn)).status_code == 200
    r = await login_passkey(client, authn, origin="http://localhost:8001")
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")


async def test_wrong_challenge_refused(new_link, client):
    link = await new_link()
    forged = b64url(b"\x00" * 32)
    r = await register_passkey(client, link.token, SoftAuthenticator(), challenge=forged)
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")
    authn = SoftAuthenticator()
    await register_passkey(client, link.token, authn)
    r = await login_passkey(client, authn, challenge=forged)
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")


async def test_login_challenge_is_single_use(new_link, client, fresh_client):
    authn, _ = await _registered(new_link, client)
    options = (await client.post("/api/auth/login/options")).json()
    body = {"handle": options["handle"], "credential": authn.get(options["publicKey"])}
    assert (await client.post("/api/auth/login", json=body)).status_code == 200
    body["credential"] = authn.get(options["publicKey"])  # fresh counter, same challenge
    r = await fresh_client().post("/api/auth/login", json=body)  # a replay from elsewhere
    assert (r.status_code, code(r)) == (400, "auth.challenge_unknown")


async def test_challenge_of_another_purpose_refused(new_link, client):
    authn, _ = await _registered(new_link, client)
    link = await new_link()
    options = (await client.post(f"/api/auth/enrol/{link.token}/passkey/options")).json()
    login_opts = (await client.post("/api/auth/login/options")).json()
    body = {"handle": options["handle"], "credential": authn.get(login_opts["publicKey"])}
    r = await client.post("/api/auth/login", json=body)
    assert (r.status_code, code(r)) == (400, "auth.challenge_unknown")


async def test_user_verification_required(new_link, client):
    link = await new_link()
    r = await register_passkey(client, link.token, SoftAuthenticator(), uv=False)
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")
    authn = SoftAuthenticator()
    await register_passkey(client, link.token, authn)
    r = await login_passkey(client, authn, uv=False)
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")
    r = await login_passkey(client, authn, up=False)
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")


async def test_sign_count_going_backwards_refused(new_link, client):
    authn, user_id = await _registered(new_link, client)
    assert (await login_passkey(client, authn, counter=7)).status_code == 200
    sessions = await Session.count().where(Session.app_user == user_id)
    for counter in (7, 3, 0):
        r = await login_passkey(client, authn, counter=counter)
        assert (r.status_code, code(r)) == (401, "auth.sign_count")
        assert r.json()["details"] == {"stored": 7, "received": counter}
    row = await Passkey.select(Passkey.sign_count).where(Passkey.app_user == user_id).first()
    assert row["sign_count"] == 7
    assert await Session.count().where(Session.app_user == user_id) == sessions
    assert (await login_passkey(client, authn, counter=8)).status_code == 200


async def test_synced_passkey_with_zero_counter_signs_in_again(new_link, client):
    authn, user_id = await _registered(new_link, client, synced=True)
    for _ in range(2):
        assert (await login_passkey(client, authn)).status_code == 200
    row = await Passkey.select(Passkey.sign_count, Passkey.backed_up).where(
        Passkey.app_user == user_id
    )
    assert row == [{"sign_count": 0, "backed_up": True}]


async def test_unknown_credential_refused(client):
    stranger = SoftAuthenticator()
    stranger.rp_id, stranger.user_handle = "localhost", b"\x01" * 16
    r = await login_passkey(client, stranger)
    assert (r.status_code, code(r)) == (401, "auth.credential_unknown")


async def test_user_handle_of_someone_else_refused(new_link, client):
    authn, _ = await _registered(new_link, client)
    authn.user_handle = b"\x02" * 16
    r = await login_passkey(client, authn)
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")


async def test_signature_by_another_key_refused(new_link, client):
    authn, _ = await _registered(new_link, client)
    impostor = SoftAuthenticator()
    impostor.credential_id, impostor.rp_id = authn.credential_id, authn.rp_id
    impostor.user_handle, impostor.sign_count = authn.user_handle, 100
    r = await login_passkey(client, impostor)
    assert (r.status_code, code(r)) == (400, "auth.webauthn_invalid")


async def test_inactive_user_cannot_sign_in(new_link, client):
    authn, user_id = await _registered(new_link, client)
    await User.update({User.active: False}).where(User.id == user_id)
    r = await login_passkey(client, authn)
    assert (r.status_code, code(r)) == (403, "auth.user_inactive")
    assert (await client.get("/api/auth/me")).status_code == 401  # the old session ended too
