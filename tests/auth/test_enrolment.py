"""Enrolment links: the full passkey journey, expiry, single use, unknown links."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from onevisit.auth.common import utcnow
from onevisit.auth.enrolment import consume_enrolment, open_enrolment
from onevisit.auth.roles import Role
from onevisit.auth.sessions import token_hash
from onevisit.auth.tables import Enrolment, Session
from onevisit.db import write_transaction
from onevisit.errors import AppError
from tests.auth.flows import code, enrol_device, login_passkey, register_passkey
from tests.auth.softauthn import SoftAuthenticator, SoftDevice


async def test_enrol_register_logout_login(as_role, client):
    admin = await as_role(Role.admin)
    dep = (await as_role(Role.coordinator)).department
    r = await admin.client.post(
        "/api/auth/users", json={"name": "王检查", "role": "inspector", "department": dep}
    )
    assert r.status_code == 201, r.text
    created = r.json()
    token = created["enrolment"]["url"].rsplit("/", 1)[1]
    assert created["enrolment"]["url"] == f"http://localhost:8000/#/enrol/{token}"

    r = await client.get(f"/api/auth/enrol/{token}")
    assert r.status_code == 200
    assert r.json()["user"] == {
        "name": "王检查",
        "role": "inspector",
        "department_name": created["user"]["department_name"],
    }
    assert "expires_at" in r.json()

    authn = SoftAuthenticator()
    r = await register_passkey(client, token, authn)
    assert r.status_code == 200, r.text
    assert r.json()["user"] == created["user"]
    csrf = r.json()["csrf_token"]

    r = await client.get("/api/auth/me")
    assert r.status_code == 200
    assert r.json() == {"user": created["user"], "csrf_token": csrf}

    r = await client.post("/api/auth/logout", headers={"x-csrf-token": csrf})
    assert r.status_code == 204
    assert (await client.get("/api/auth/me")).json()["code"] == "auth.required"

    r = await login_passkey(client, authn)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == created["user"]["id"]
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_session_cookie_attributes(new_link, client):
    link = await new_link()
    r = await register_passkey(client, link.token, SoftAuthenticator())
    cookie = r.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith("ov_session=")
    assert {"httponly", "path", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "path=/" in cookie.lower()
    assert "secure" not in attributes  # the test origin is http://localhost
    # only the hash of the token is stored
    value = cookie.split(";")[0].split("=", 1)[1]
    assert await Session.exists().where(Session.token_hash == token_hash(value))

    r = await client.post("/api/auth/logout", headers={"x-csrf-token": r.json()["csrf_token"]})
    assert r.status_code == 204
    assert "max-age=0" in r.headers["set-cookie"].lower()
    assert await Session.exists().where(
        (Session.token_hash == token_hash(value)) & Session.ended_at.is_not_null()
    )


async def test_unknown_link(client):
    for path in ("", "/passkey/options"):
        method = client.get if not path else client.post
        r = await method(f"/api/auth/enrol/no-such-token{path}")
        assert r.status_code == 404
        assert code(r) == "auth.enrolment_unknown"


async def test_expired_link(new_link, client):
    link = await new_link()
    await Enrolment.update({Enrolment.expires_at: utcnow() - timedelta(seconds=1)}).where(
        Enrolment.token_hash == token_hash(link.token)
    )
    r = await client.get(f"/api/auth/enrol/{link.token}")
    assert (r.status_code, code(r)) == (410, "auth.enrolment_expired")
    r = await enrol_device(client, link.token, SoftDevice())
    assert (r.status_code, code(r)) == (410, "auth.enrolment_expired")


async def test_link_is_used_once(new_link, client, fresh_client):
    link = await new_link()
    r = await register_passkey(client, link.token, SoftAuthenticator())
    assert r.status_code == 200
    other = fresh_client()
    r = await other.get(f"/api/auth/enrol/{link.token}")
    assert (r.status_code, code(r)) == (409, "auth.enrolment_used")
    r = await other.post(f"/api/auth/enrol/{link.token}/passkey/options")
    assert (r.status_code, code(r)) == (409, "auth.enrolment_used")
    r = await enrol_device(other, link.token, SoftDevice())
    assert (r.status_code, code(r)) == (409, "auth.enrolment_used")


async def test_options_issued_before_use_cannot_register_after(new_link, client, fresh_client):
    """Two phones opened the same link; the first to finish wins, the other is refused."""
    link = await new_link()
    first, second = client, fresh_client()
    pending = (await second.post(f"/api/auth/enrol/{link.token}/passkey/options")).json()
    assert (await register_passkey(first, link.token, SoftAuthenticator())).status_code == 200
    credential = SoftAuthenticator().create(pending["publicKey"])
    r = await second.post(
        f"/api/auth/enrol/{link.token}/passkey",
        json={"handle": pending["handle"], "credential": credential},
    )
    assert (r.status_code, code(r)) == (409, "auth.enrolment_used")


async def test_concurrent_use_of_one_link_has_one_winner(new_link, fresh_client):
    link = await new_link()
    clients = [fresh_client() for _ in range(4)]
    answers = await asyncio.gather(*(enrol_device(c, link.token, SoftDevice()) for c in clients))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 409, 409, 409], [r.text for r in answers]
    assert all(code(r) == "auth.enrolment_used" for r in answers if r.status_code == 409)


async def test_new_link_keeps_existing_passkey(new_link, as_role, client, fresh_client):
    link = await new_link(Role.inspector)
    authn = SoftAuthenticator()
    assert (await register_passkey(client, link.token, authn)).status_code == 200
    admin = await as_role(Role.admin)
    r = await admin.client.post(f"/api/auth/users/{link.user_id}/enrolments")
    assert r.status_code == 201
    assert r.json()["qr_png"].startswith("data:image/png;base64,")
    # the old passkey still signs in, and the new link registers a second one
    assert (await login_passkey(fresh_client(), authn)).status_code == 200
    token = r.json()["url"].rsplit("/", 1)[1]
    r = await register_passkey(fresh_client(), token, SoftAuthenticator())
    assert r.status_code == 200, r.text


async def test_consume_is_decided_by_the_database(new_link):
    """Two transactions spend the same link at once: the conditional UPDATE lets one win."""
    link = await new_link()
    opened = await open_enrolment(link.token)

    async def spend() -> str:
        try:
            async with write_transaction():
                await consume_enrolment(enrolment_id=opened.id)
                await asyncio.sleep(0.05)  # hold the row while the other tries
        except AppError as exc:
            return exc.code
        return "won"

    results = sorted(await asyncio.gather(spend(), spend()))
    assert results == ["auth.enrolment_used", "won"]
