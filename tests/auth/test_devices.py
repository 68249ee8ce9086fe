"""Device keys (EVIDENCE.md §2) and PIN sign-in for phones without WebAuthn (§5)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from onevisit.auth.common import utcnow
from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.roles import Role
from onevisit.auth.tables import DeviceKey, Session
from tests.auth.flows import code, device_login, enrol_device, login_passkey, register_passkey
from tests.auth.softauthn import SoftAuthenticator, SoftDevice, b64url, unb64url

PIN = "246810"


async def _enrolled(new_link, client, pin: str = PIN) -> tuple[SoftDevice, str]:
    link = await new_link()
    device = SoftDevice()
    r = await enrol_device(client, link.token, device, pin=pin)
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == device.device_id
    return device, link.user_id


async def test_enrol_with_pin_then_sign_in(new_link, client, fresh_client):
    device, user_id = await _enrolled(new_link, client)
    me = (await client.get("/api/auth/me")).json()
    assert me["user"]["id"] == user_id
    row = (
        await DeviceKey.select(DeviceKey.pin_hash)
        .where(DeviceKey.device_id == device.device_id)
        .first()
    )
    assert row["pin_hash"].startswith("scrypt$16384$8$1$") and PIN not in row["pin_hash"]

    phone = fresh_client()
    r = await device_login(phone, device)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == user_id
    assert (await phone.get("/api/auth/me")).status_code == 200
    method = await Session.select(Session.method, Session.device_id).where(
        Session.app_user == user_id
    )
    assert {(m["method"], m["device_id"]) for m in method} == {("device_pin", device.device_id)}


async def test_wrong_pins_lock_the_key(new_link, client, fresh_client):
    device, _ = await _enrolled(new_link, client)
    phone = fresh_client()
    r = await device_login(phone, device, pin="111111")
    assert (r.status_code, code(r)) == (401, "auth.pin_invalid")
    assert r.json()["details"]["attempts_left"] == 4
    # a correct PIN resets the count
    assert (await device_login(fresh_client(), device)).status_code == 200
    for left in (4, 3, 2, 1):
        r = await device_login(phone, device, pin="111111")
        assert (r.status_code, r.json()["details"]["attempts_left"]) == (401, left)
    r = await device_login(phone, device, pin="111111")
    assert (r.status_code, code(r)) == (429, "auth.pin_locked")
    assert "locked_until" in r.json()["details"]
    r = await device_login(phone, device)  # the right PIN, but locked
    assert (r.status_code, code(r)) == (429, "auth.pin_locked")
    # fifteen minutes later
    await DeviceKey.update({DeviceKey.locked_until: utcnow() - timedelta(seconds=1)}).where(
        DeviceKey.device_id == device.device_id
    )
    assert (await device_login(phone, device)).status_code == 200


async def test_bad_signatures_refused(new_link, client):
    link = await new_link()
    device = SoftDevice()
    r = await enrol_device(client, link.token, device, signature=device.sign(b"other"))
    assert (r.status_code, code(r)) == (400, "auth.device_signature")
    r = await enrol_device(client, link.token, device, signature=b64url(b"\x01" * 64))
    assert (r.status_code, code(r)) == (400, "auth.device_signature")
    assert (await enrol_device(client, link.token, device)).status_code == 200
    r = await device_login(client, device, signer=SoftDevice())
    assert (r.status_code, code(r)) == (400, "auth.device_signature")
    failed = await DeviceKey.select(DeviceKey.failed_pins).where(
        DeviceKey.device_id == device.device_id
    )
    assert failed == [{"failed_pins": 0}]  # no PIN attempt without the key


async def test_weak_pins_refused(new_link, client):
    link = await new_link()
    for pin in ("12345", "abcdef", "1234567890123", "１２３４５６", "12 3456"):
        r = await enrol_device(client, link.token, SoftDevice(), pin=pin)
        assert (r.status_code, code(r)) == (400, "auth.pin_weak"), pin


async def test_only_p256_keys(new_link, client):
    link = await new_link()
    r = await enrol_device(client, link.token, SoftDevice(ec.SECP384R1()))
    assert (r.status_code, code(r)) == (400, "auth.device_key_invalid")
    rsa_der = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    for spki in (b64url(rsa_der), "not*base64", b64url(b"\x30\x03garbage")):
        r = await enrol_device(client, link.token, SoftDevice(), spki=spki)
        assert (r.status_code, code(r)) == (400, "auth.device_key_invalid"), spki


async def test_unknown_device(client):
    r = await device_login(client, SoftDevice())
    assert (r.status_code, code(r)) == (401, "auth.device_unknown")


async def test_revoked_device(new_link, client, fresh_client):
    device, _ = await _enrolled(new_link, client)
    phone = fresh_client()
    assert (await device_login(phone, device)).status_code == 200
    challenge = (
        await client.post("/api/auth/device/challenge", json={"device_id": device.device_id})
    ).json()
    r = await client.post(f"/api/auth/devices/{device.device_id}/revoke")
    assert r.status_code == 200
    assert r.json()["device"]["revoked_at"] is not None
    # the sessions the key opened ended, the key stays, marked
    assert (await phone.get("/api/auth/me")).status_code == 401
    assert await DeviceKey.exists().where(DeviceKey.device_id == device.device_id)
    r = await device_login(fresh_client(), device)
    assert (r.status_code, code(r)) == (403, "auth.device_revoked")
    r = await fresh_client().post(
        "/api/auth/device/login",
        json={
            "handle": challenge["handle"],
            "device_id": device.device_id,
            "pin": PIN,
            "signature": device.sign(unb64url(challenge["challenge"])),
        },
    )
    assert (r.status_code, code(r)) == (403, "auth.device_revoked")


async def test_register_device_in_passkey_session(new_link, client, fresh_client, as_role):
    link = await new_link()
    assert (await register_passkey(client, link.token, SoftAuthenticator())).status_code == 200
    device = SoftDevice()
    body = {"spki": device.spki, "label": "Pixel"}
    for _ in range(2):  # idempotent
        r = await client.post("/api/auth/devices", json=body)
        assert (r.status_code, r.json()) == (201, {"device_id": device.device_id})
    listed = (await client.get("/api/auth/devices")).json()["devices"]
    assert [(d["device_id"], d["label"], d["has_pin"]) for d in listed] == [
        (device.device_id, "Pixel", False)
    ]
    # a passkey-registered key has no PIN: no PIN sign-in with it
    r = await device_login(fresh_client(), device)
    assert (r.status_code, code(r)) == (409, "auth.device_no_pin")
    # another user may neither claim nor revoke it; an admin may revoke it
    other = await as_role(Role.inspector)
    r = await other.client.post("/api/auth/devices", json=body)
    assert (r.status_code, code(r)) == (409, "auth.device_taken")
    r = await other.client.post(f"/api/auth/devices/{device.device_id}/revoke")
    assert (r.status_code, code(r)) == (403, "auth.forbidden")
    admin = await as_role(Role.admin)
    r = await admin.client.post(f"/api/auth/devices/{device.device_id}/revoke")
    assert r.status_code == 200
    r = await client.post("/api/auth/devices", json=body)
    assert (r.status_code, code(r)) == (403, "auth.device_revoked")


async def test_devices_need_a_session(client):
    assert (await client.get("/api/auth/devices")).status_code == 401
    r = await client.post("/api/auth/devices", json={"spki": SoftDevice().spki})
    assert (r.status_code, code(r)) == (401, "auth.required")


async def test_re_enrolment_sets_a_new_pin(new_link, client, fresh_client):
    """A forgotten PIN: a new link, the same phone key, a new PIN; the old PIN stops working."""
    device, user_id = await _enrolled(new_link, client)
    link = await issue_enrolment(user_id=user_id, created_by="test")
    r = await enrol_device(fresh_client(), link.token, device, pin="13579246")
    assert r.status_code == 200, r.text
    assert (await device_login(fresh_client(), device, pin=PIN)).status_code == 401
    assert (await device_login(fresh_client(), device, pin="13579246")).status_code == 200


async def test_concurrent_registrations_of_one_key(new_link, client):
    link = await new_link()
    assert (await register_passkey(client, link.token, SoftAuthenticator())).status_code == 200
    body = {"spki": SoftDevice().spki, "label": "double tap"}
    answers = await asyncio.gather(*(client.post("/api/auth/devices", json=body) for _ in range(3)))
    assert [r.status_code for r in answers] == [201, 201, 201]
    assert len((await client.get("/api/auth/devices")).json()["devices"]) == 1


async def test_a_pin_session_cannot_register_device_keys(new_link, client, fresh_client):
    """EVIDENCE.md §2: keys are registered in a passkey session. A session opened by a device
    key and PIN could otherwise mint any number of keys that sign events as the user."""
    device, user_id = await _enrolled(new_link, client)  # the enrolment's session: device_pin
    phone = fresh_client()
    assert (await device_login(phone, device)).status_code == 200  # a PIN sign-in: device_pin
    for session in (client, phone):
        r = await session.post("/api/auth/devices", json={"spki": SoftDevice().spki, "label": "x"})
        assert (r.status_code, code(r)) == (403, "auth.passkey_session_required")
        assert r.json()["details"] == {"method": "device_pin"}
    rows = await DeviceKey.select(DeviceKey.device_id).where(DeviceKey.app_user == user_id)
    assert [r["device_id"] for r in rows] == [device.device_id]
    # the PIN route for another phone stays the enrolment link, which still works
    link = await issue_enrolment(user_id=user_id, created_by="test")
    second = SoftDevice()
    assert (await enrol_device(fresh_client(), link.token, second)).status_code == 200
    assert (await device_login(fresh_client(), second)).status_code == 200


async def test_a_passkey_sign_in_may_register_device_keys(new_link, client, fresh_client):
    link = await new_link()
    authn = SoftAuthenticator()
    assert (await register_passkey(client, link.token, authn)).status_code == 200
    phone = fresh_client()
    assert (await login_passkey(phone, authn)).status_code == 200  # a later sign-in
    device = SoftDevice()
    r = await phone.post("/api/auth/devices", json={"spki": device.spki, "label": "Pixel"})
    assert (r.status_code, r.json()) == (201, {"device_id": device.device_id})
    methods = await Session.select(Session.method).where(Session.app_user == link.user_id)
    assert {m["method"] for m in methods} == {"passkey"}
