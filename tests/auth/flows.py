"""The HTTP ceremonies as the PWA performs them, driven by the software authenticator."""

from __future__ import annotations

import httpx

from tests.auth.softauthn import SoftAuthenticator, SoftDevice, unb64url

CSRF = "x-csrf-token"


def _keep_csrf(client: httpx.AsyncClient, r: httpx.Response) -> httpx.Response:
    """Like the PWA: after a sign-in, send the session's CSRF token on unsafe requests."""
    if r.status_code == 200 and "csrf_token" in r.json():
        client.headers[CSRF] = r.json()["csrf_token"]
    return r


async def register_passkey(
    client: httpx.AsyncClient, token: str, authn: SoftAuthenticator, **create_kw
) -> httpx.Response:
    r = await client.post(f"/api/auth/enrol/{token}/passkey/options")
    assert r.status_code == 200, r.text
    options = r.json()
    credential = authn.create(options["publicKey"], **create_kw)
    r = await client.post(
        f"/api/auth/enrol/{token}/passkey",
        json={"handle": options["handle"], "credential": credential},
    )
    return _keep_csrf(client, r)


async def login_passkey(
    client: httpx.AsyncClient, authn: SoftAuthenticator, **get_kw
) -> httpx.Response:
    r = await client.post("/api/auth/login/options")
    assert r.status_code == 200, r.text
    options = r.json()
    credential = authn.get(options["publicKey"], **get_kw)
    r = await client.post(
        "/api/auth/login", json={"handle": options["handle"], "credential": credential}
    )
    return _keep_csrf(client, r)


async def enrol_device(
    client: httpx.AsyncClient, token: str, device: SoftDevice, pin: str = "246810", **override
) -> httpx.Response:
    body = {
        "spki": device.spki,
        "pin": pin,
        "label": "测试手机",
        "signature": device.sign(f"onevisit-enrol:{token}".encode()),
        **override,
    }
    return _keep_csrf(client, await client.post(f"/api/auth/enrol/{token}/device", json=body))


async def device_login(
    client: httpx.AsyncClient, device: SoftDevice, pin: str = "246810", *, signer=None
) -> httpx.Response:
    r = await client.post("/api/auth/device/challenge", json={"device_id": device.device_id})
    if r.status_code != 200:
        return r
    answer = r.json()
    signature = (signer or device).sign(unb64url(answer["challenge"]))
    r = await client.post(
        "/api/auth/device/login",
        json={
            "handle": answer["handle"],
            "device_id": device.device_id,
            "pin": pin,
            "signature": signature,
        },
    )
    return _keep_csrf(client, r)


def code(r: httpx.Response) -> str:
    return r.json().get("code", "")
