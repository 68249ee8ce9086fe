"""亮证: the credential an inspector shows on site (docs/visits.md "The credential").

A member of a visit's group gets a short-lived token that names the visit, the inspector and
an expiry, sealed with HMAC-SHA256 under a server secret. Its URL (ONEVISIT_ORIGIN/c/<token>)
is shown as a QR code; the subject scans it with any phone and the public page
(`credential_api.py`) answers, from the database at that moment, whether the inspector is
still a member of that visit's group and still active — name, department and certificate
number, the task and the subject, and when the token expires. Nothing is read from the token
before its MAC has been checked, and an expired, withdrawn or forged token shows no one's name.

The token, base64url without padding (60 characters for an 8-character inspector code, so the
QR code stays small):

    version (1 byte, 1) ‖ expires (4 bytes, big-endian Unix seconds) ‖ visit (16 bytes, UUID)
    ‖ inspector code (UTF-8, 1..MAX_CODE_BYTES) ‖ MAC (16 bytes)

MAC = the first 16 bytes of HMAC-SHA256(secret, DOMAIN ‖ everything before it); 128 bits is the
truncation RFC 2104 §5 allows (at least half the hash). The secret is the server secret
`credential_hmac` (config.Settings.secret: ONEVISIT_CREDENTIAL_HMAC in hex, else a 0600 file in
the var directory made on first use); replacing it voids every token issued before.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import uuid
from dataclasses import dataclass
from typing import Any

from onevisit.auth.common import b64url_decode, b64url_encode
from onevisit.auth.qr import _qr  # the one QR configuration (error correction M)
from onevisit.auth.roles import Caller
from onevisit.auth.tables import User
from onevisit.config import get_settings
from onevisit.db import read_transaction
from onevisit.directory.tables import Department, Inspector
from onevisit.errors import AppError
from onevisit.evidence.store import now_ms
from onevisit.field.model import MemberInfo, VisitInfo
from onevisit.field.service import visit_info
from onevisit.planning.visits import is_visit_id

__all__ = [
    "LIFETIME_SECONDS",
    "Claims",
    "Verdict",
    "check_credential",
    "credential_for",
    "my_credential",
    "qr_svg",
    "seal",
    "unseal",
]

# 72 hours: a package fetched the day before a visit still carries a working credential on
# site with no signal, and a screenshot of an old QR code stops working within three days.
LIFETIME_SECONDS = 72 * 3600
SECRET_NAME = "credential_hmac"
VERSION = 1
DOMAIN = b"onevisit.credential.v1\x00"  # this MAC is for nothing else made with the secret
MAC_BYTES = 16
MAX_CODE_BYTES = 128  # inspector codes are at most 32 characters
_HEAD = struct.Struct(">BI16s")  # version, expires, visit
_MIN_BYTES = _HEAD.size + 1 + MAC_BYTES
_MAX_CHARS = -(-(_HEAD.size + MAX_CODE_BYTES + MAC_BYTES) * 4 // 3)
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class Claims:
    visit: str  # visit id, lowercase hyphenated UUID
    inspector: str  # inspector code
    expires_s: int  # Unix seconds

    @property
    def expires_ms(self) -> int:
        return self.expires_s * 1000


def _key() -> bytes:
    return get_settings().secret(SECRET_NAME)


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, DOMAIN + body, hashlib.sha256).digest()[:MAC_BYTES]


def seal(claims: Claims, key: bytes) -> str:
    code = claims.inspector.encode("utf-8")
    if not 1 <= len(code) <= MAX_CODE_BYTES:
        raise ValueError("inspector code length")
    body = _HEAD.pack(VERSION, claims.expires_s, uuid.UUID(claims.visit).bytes) + code
    return b64url_encode(body + _mac(key, body))


def unseal(token: str, key: bytes) -> Claims | None:
    """The claims of a token this server sealed, or None for anything else. Expiry is the
    caller's to check: a well-sealed expired token still has claims."""
    if not (0 < len(token) <= _MAX_CHARS) or not _ALPHABET.issuperset(token):
        return None
    raw = b64url_decode(token)
    if raw is None or len(raw) < _MIN_BYTES or b64url_encode(raw) != token:  # one spelling
        return None
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(key, body)):
        return None
    version, expires_s, visit = _HEAD.unpack_from(body)
    try:
        code = body[_HEAD.size :].decode("utf-8")
    except UnicodeDecodeError:  # sealed by us, so never; but never trust a decode either
        return None
    if version != VERSION:
        return None
    return Claims(str(uuid.UUID(bytes=visit)), code, expires_s)


def qr_svg(text: str) -> str:
    """The QR code as a small SVG: one path, one run of dark modules per subpath, in module
    units (it scales to any size), with the quiet zone and a white background."""
    matrix = _qr(text, border=4).get_matrix()
    n = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < n and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" '
        f'shape-rendering="crispEdges" role="img" aria-label="亮证二维码">'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/>'
        "</svg>"
    )


def _issue(visit: str, inspector: str, at_ms: int) -> dict[str, Any]:
    expires_s = at_ms // 1000 + LIFETIME_SECONDS
    token = seal(Claims(visit, inspector, expires_s), _key())
    url = f"{get_settings().origin}/c/{token}"
    return {"token": token, "url": url, "expires_ms": expires_s * 1000, "qr_svg": qr_svg(url)}


async def _in_service(member: MemberInfo) -> bool:
    """The inspector is active in the directory and has an active account."""
    if not member.actor:
        return False
    inspector = (
        await Inspector.select(Inspector.active).where(Inspector.code == member.inspector).first()
    )
    if inspector is None or not inspector["active"]:
        return False
    return await User.exists().where((User.id == member.actor) & User.active.eq(True))


async def credential_for(
    info: VisitInfo, caller: Caller, *, at_ms: int | None = None
) -> dict[str, Any] | None:
    """The caller's credential for this visit, or None unless the caller is a member of its
    group and in service."""
    member = next((m for m in info.members if m.actor == caller.user_id), None)
    if member is None or not await _in_service(member):
        return None
    return _issue(info.visit, member.inspector, now_ms() if at_ms is None else at_ms)


async def my_credential(*, visit_id: str, caller: Caller) -> dict[str, Any]:
    """GET /api/visits/{id}/credential: only a member's own, never anyone else's."""
    info = await visit_info(visit_id)
    credential = await credential_for(info, caller)
    if credential is None:
        raise AppError(
            "auth.forbidden", "only the group's members have a credential", visit=visit_id
        )
    return credential


# --- the public check ------------------------------------------------------------------------
# status → (HTTP status, Chinese, English). The page and the JSON say the same.
VERDICTS = {
    "valid": (
        200,
        "有效：该人员是本次检查任务检查组的成员",
        "Valid: a member of this inspection's group",
    ),
    "invalid": (
        404,
        "无效：该二维码不是本系统签发的有效亮证码，可能被改动或不完整",
        "Invalid: this code was not issued by this system, or it was altered or cut short",
    ),
    "expired": (410, "已过期：该亮证码已超过有效期", "Expired: this code is past its validity"),
    "withdrawn": (
        410,
        "已失效：该人员现已不是本次检查任务的有效检查人员",
        "No longer valid: this person is no longer an inspector of this inspection",
    ),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # a key of VERDICTS
    body: dict[str, Any]  # the JSON answer; the page renders it

    @property
    def http_status(self) -> int:
        return VERDICTS[self.status][0]


def _verdict(status: str, at_ms: int, **extra: Any) -> Verdict:
    _, zh, en = VERDICTS[status]
    head = {"valid": status == "valid", "status": status, "message": zh, "message_en": en}
    return Verdict(status, head | extra | {"checked_ms": at_ms})


async def check_credential(token: str, *, at_ms: int | None = None) -> Verdict:
    """What GET /c/{token} shows: the token's MAC, its expiry, then the group and the
    inspector as they stand now. Only a valid verdict names anyone."""
    at_ms = now_ms() if at_ms is None else at_ms
    claims = unseal(token, _key())
    if claims is None or not is_visit_id(claims.visit):
        return _verdict("invalid", at_ms)
    if at_ms >= claims.expires_ms:
        return _verdict("expired", at_ms, expires_ms=claims.expires_ms)
    # the database is read only for a token this server sealed: junk costs one HMAC
    async with read_transaction():
        try:
            info = await visit_info(claims.visit)
        except AppError:
            return _verdict("withdrawn", at_ms)
        member = next((m for m in info.members if m.inspector == claims.inspector), None)
        if member is None or not await _in_service(member):
            return _verdict("withdrawn", at_ms)
        department = (
            await Department.select(Department.name)
            .where(Department.code == member.department)
            .first()
        )
    return _verdict(
        "valid",
        at_ms,
        inspector={
            "name": member.name,
            "department": member.department,
            "department_name": department["name"] if department else member.department,
            "certificate": member.certificate,
            "leader": member.is_leader,
        },
        task={"code": info.task, "name": info.task_name},
        subject={"name": info.subject.name},
        expires_ms=claims.expires_ms,
    )
