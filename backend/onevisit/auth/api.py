"""HTTP API of the auth area: thin controllers over users, enrolment, passkeys and devices.

Every route either declares a guard (`allow(...)`, `signed_in`) or is marked public with
`opt=PUBLIC` (enrolment and sign-in, which happen before there is a session). See docs/auth.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody

from onevisit.auth import devices, enrolment, passkeys, users
from onevisit.auth.guards import allow, caller_of, signed_in
from onevisit.auth.qr import qr_data_url
from onevisit.auth.roles import Caller, Role
from onevisit.auth.sessions import SESSION_COOKIE, SignIn, end_session
from onevisit.config import get_settings

__all__ = ["PUBLIC", "ROUTES"]

PUBLIC = {"public": True}  # no session needed: the route is how one gets a session
MANAGERS = allow(Role.admin, Role.coordinator)
NO_NUL = r"^[^\x00]*$"  # no name, code, label or handle holds a NUL (nor can PostgreSQL text)
Short = Annotated[str, msgspec.Meta(max_length=128, pattern=NO_NUL)]
Handle = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
DeviceId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
B64 = Annotated[str, msgspec.Meta(max_length=1024)]


# --- bodies ---------------------------------------------------------------------------------
class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    role: Annotated[str, msgspec.Meta(max_length=16)]
    department: Short | None = None
    inspector_code: Short | None = None


class CredentialBody(msgspec.Struct):
    handle: Handle
    credential: dict[str, Any]  # PublicKeyCredential.toJSON(); py_webauthn parses it


class DeviceEnrolBody(msgspec.Struct):
    spki: B64
    pin: Annotated[str, msgspec.Meta(max_length=64)]
    signature: B64
    label: Short = ""


class DeviceChallengeBody(msgspec.Struct):
    device_id: DeviceId


class DeviceLoginBody(msgspec.Struct):
    handle: Handle
    device_id: DeviceId
    pin: Annotated[str, msgspec.Meta(max_length=64)]
    signature: B64


class DeviceRegisterBody(msgspec.Struct):
    spki: B64
    label: Short = ""


# --- answers --------------------------------------------------------------------------------
class SignedInOut(msgspec.Struct, omit_defaults=True):
    user: users.UserOut
    csrf_token: str
    device_id: str | None = None


class EnrolmentLink(msgspec.Struct):
    url: str
    expires_at: datetime
    qr_png: str  # data:image/png;base64,…


class NewUserOut(msgspec.Struct):
    user: users.UserOut
    enrolment: EnrolmentLink


class UsersOut(msgspec.Struct):
    users: list[users.UserRow]


class DeviceIdOut(msgspec.Struct):
    device_id: str


class DevicesOut(msgspec.Struct):
    devices: list[devices.DeviceOut]


class DeviceRevokedOut(msgspec.Struct):
    device: devices.DeviceOut


# --- helpers --------------------------------------------------------------------------------
def _caller(request: Request) -> Caller:
    caller = caller_of(request)
    assert caller is not None  # the route's guard let it through
    return caller


def _agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def _session_cookie(value: str, max_age: int) -> Cookie:
    """HttpOnly (no script reads it), SameSite=Strict (no cross-site sends), Secure on https."""
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=get_settings().secure_cookies,
    )


def _signed_in(result: SignIn) -> Response[SignedInOut]:
    body = SignedInOut(result.user, result.session.csrf_token, result.device_id)
    cookie = _session_cookie(result.session.token, get_settings().session_ttl_seconds)
    return Response(body, status_code=200, cookies=[cookie])


def _link(out: enrolment.EnrolmentOut) -> EnrolmentLink:
    return EnrolmentLink(url=out.url, expires_at=out.expires_at, qr_png=qr_data_url(out.url))


# --- session --------------------------------------------------------------------------------
@get("/api/auth/me", guards=[signed_in])
async def me(request: Request) -> SignedInOut:
    caller = _caller(request)
    return SignedInOut(await users.get_user(user_id=caller.user_id), caller.csrf_token)


@post("/api/auth/logout", guards=[signed_in], status_code=204)
async def logout(request: Request) -> Response[None]:
    await end_session(session_id=_caller(request).session_id)
    return Response(None, status_code=204, cookies=[_session_cookie("", 0)])


# --- users and enrolment links ----------------------------------------------------------------
@post("/api/auth/users", guards=[MANAGERS], status_code=201)
async def create_user(request: Request, data: JSONBody[UserCreate]) -> NewUserOut:
    made = await enrolment.create_user_with_enrolment(
        caller=_caller(request),
        name=data.name,
        role=data.role,
        department_code=data.department,
        inspector_code=data.inspector_code,
    )
    return NewUserOut(made.user, _link(made.enrolment))


@get("/api/auth/users", guards=[MANAGERS])
async def list_users(request: Request) -> UsersOut:
    return UsersOut(await users.list_users(caller=_caller(request)))


@post("/api/auth/users/{user_id:str}/enrolments", guards=[MANAGERS], status_code=201)
async def new_enrolment(request: Request, user_id: FromPath[str]) -> EnrolmentLink:
    return _link(await enrolment.reissue_enrolment(caller=_caller(request), user_id=user_id))


@get("/api/auth/enrol/{token:str}", opt=PUBLIC)
async def enrolment_info(token: FromPath[str]) -> enrolment.EnrolmentInfo:
    return await enrolment.describe_enrolment(token=token)


@post("/api/auth/enrol/{token:str}/passkey/options", opt=PUBLIC, status_code=200)
async def enrol_passkey_options(token: FromPath[str]) -> passkeys.CeremonyOptions:
    return await passkeys.registration_options(token=token)


@post("/api/auth/enrol/{token:str}/passkey", opt=PUBLIC, status_code=200)
async def enrol_passkey(
    request: Request, token: FromPath[str], data: JSONBody[CredentialBody]
) -> Response[SignedInOut]:
    return _signed_in(
        await passkeys.register_passkey(
            token=token, handle=data.handle, credential=data.credential, user_agent=_agent(request)
        )
    )


@post("/api/auth/enrol/{token:str}/device", opt=PUBLIC, status_code=200)
async def enrol_device(
    request: Request, token: FromPath[str], data: JSONBody[DeviceEnrolBody]
) -> Response[SignedInOut]:
    return _signed_in(
        await devices.enrol_device(
            token=token,
            spki=data.spki,
            pin=data.pin,
            label=data.label,
            signature=data.signature,
            user_agent=_agent(request),
        )
    )


# --- sign-in --------------------------------------------------------------------------------
@post("/api/auth/login/options", opt=PUBLIC, status_code=200)
async def login_options() -> passkeys.CeremonyOptions:
    return await passkeys.login_options()


@post("/api/auth/login", opt=PUBLIC, status_code=200)
async def login(request: Request, data: JSONBody[CredentialBody]) -> Response[SignedInOut]:
    return _signed_in(
        await passkeys.login_passkey(
            handle=data.handle, credential=data.credential, user_agent=_agent(request)
        )
    )


@post("/api/auth/device/challenge", opt=PUBLIC, status_code=200)
async def device_challenge(data: JSONBody[DeviceChallengeBody]) -> devices.DeviceChallenge:
    return await devices.device_challenge(device_id=data.device_id)


@post("/api/auth/device/login", opt=PUBLIC, status_code=200)
async def device_login(request: Request, data: JSONBody[DeviceLoginBody]) -> Response[SignedInOut]:
    return _signed_in(
        await devices.device_login(
            handle=data.handle,
            device_id=data.device_id,
            pin=data.pin,
            signature=data.signature,
            user_agent=_agent(request),
        )
    )


# --- device keys ----------------------------------------------------------------------------
@post("/api/auth/devices", guards=[signed_in], status_code=201)
async def register_device(request: Request, data: JSONBody[DeviceRegisterBody]) -> DeviceIdOut:
    caller = _caller(request)
    return DeviceIdOut(
        await devices.register_device(caller=caller, spki=data.spki, label=data.label)
    )


@get("/api/auth/devices", guards=[signed_in])
async def list_devices(request: Request) -> DevicesOut:
    return DevicesOut(await devices.list_devices(caller=_caller(request)))


@post("/api/auth/devices/{device_id:str}/revoke", guards=[signed_in], status_code=200)
async def revoke_device(request: Request, device_id: FromPath[str]) -> DeviceRevokedOut:
    return DeviceRevokedOut(
        await devices.revoke_device(caller=_caller(request), device_id=device_id)
    )


ROUTES = [
    me,
    logout,
    create_user,
    list_users,
    new_enrolment,
    enrolment_info,
    enrol_passkey_options,
    enrol_passkey,
    enrol_device,
    login_options,
    login,
    device_challenge,
    device_login,
    register_device,
    list_devices,
    revoke_device,
]
