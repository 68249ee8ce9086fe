"""亮证 (docs/visits.md "The credential"): a member's own short-lived token, its QR code, and
the public page that checks it — sealed by this server, unexpired, and the inspector still in
the group and active at the moment of the check. Nothing unverified is ever shown."""

from __future__ import annotations

import re
import struct
import uuid

import zxingcpp
from PIL import Image, ImageDraw

from onevisit.auth.common import b64url_decode, b64url_encode
from onevisit.auth.roles import Role
from onevisit.auth.tables import User
from onevisit.config import get_settings
from onevisit.directory.tables import Inspector
from onevisit.evidence.store import now_ms
from onevisit.field.credential import (
    LIFETIME_SECONDS,
    MAC_BYTES,
    SECRET_NAME,
    Claims,
    _mac,
    check_credential,
    qr_svg,
    seal,
    unseal,
)
from onevisit.planning.tables import Task, Visit, VisitMember
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture)

KEY = bytes(range(32))
VISIT = "5d0a8f1e-3c2b-4a6d-9e7f-112233445566"
JSON = {"Accept": "application/json"}


def server_key() -> bytes:
    return get_settings().secret(SECRET_NAME)


# --- the token -------------------------------------------------------------------------------
def test_a_token_is_small_and_round_trips():
    claims = Claims(VISIT, "SC000123", 1_800_000_000)
    token = seal(claims, KEY)
    assert len(token) == 60 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # URL-safe, no padding
    assert unseal(token, KEY) == claims
    assert claims.expires_ms == 1_800_000_000_000
    assert LIFETIME_SECONDS == 72 * 3600


def test_a_tampered_or_foreign_token_is_nothing():
    token = seal(Claims(VISIT, "SC000123", 1_800_000_000), KEY)
    assert unseal(token, bytes(32)) is None  # another server's secret
    for i in range(len(token)):  # any one character changed
        for c in "AQgw-_":
            changed = token[:i] + c + token[i + 1 :]
            if changed != token:
                assert unseal(changed, KEY) is None, (i, c)
    raw = b64url_decode(token)
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    # the claims changed and the old MAC kept: a later expiry, another visit, another inspector
    later = body[:1] + struct.pack(">I", 1_900_000_000) + body[5:]
    other = body[:5] + uuid.uuid4().bytes + body[21:]
    for forged in (later + mac, other + mac, body[:-1] + b"4" + mac, body + mac[:-1]):
        assert unseal(b64url_encode(forged), KEY) is None
    # a MAC over another version of the format is not this version
    v2 = b"\x02" + body[1:]
    assert unseal(b64url_encode(v2 + _mac(KEY, v2)), KEY) is None
    for junk in ("", "=", token + "=", token + "A", token[:-1], "A" * 400, "é" * 60, token + "\n"):
        assert unseal(junk, KEY) is None, junk


def test_an_expired_token_still_has_its_claims_for_the_checker_to_refuse():
    claims = Claims(VISIT, "SC1", 1)
    assert unseal(seal(claims, KEY), KEY) == claims


def _raster(svg: str) -> Image.Image:
    """Draw the SVG's runs of dark modules (the only shapes qr_svg makes), 8 px a module."""
    n = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    image = Image.new("L", (n * 8, n * 8), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle([x * 8, y * 8, (x + w) * 8 - 1, y * 8 + 7], fill=0)
    return image


def test_the_qr_code_decodes_to_the_url():
    url = "https://onevisit.example/c/" + seal(Claims(VISIT, "SC000123", 1_800_000_000), KEY)
    svg = qr_svg(url)
    assert svg.startswith("<svg ") and "<script" not in svg and len(svg) < 8_000
    assert [r.text for r in zxingcpp.read_barcodes(_raster(svg))] == [url]


# --- issuing: members only, their own --------------------------------------------------------
async def test_a_member_gets_their_own_credential(joint_visit):  # noqa: F811
    leader = joint_visit.members[0]
    before = now_ms()
    r = await leader.client.get(f"/api/visits/{joint_visit.visit}/credential")
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers["cache-control"]
    out = r.json()
    assert set(out) == {"token", "url", "expires_ms", "qr_svg"}
    assert out["url"] == f"{get_settings().origin}/c/{out['token']}"
    claims = unseal(out["token"], server_key())
    assert claims == Claims(joint_visit.visit, leader.code, out["expires_ms"] // 1000)
    assert before // 1000 * 1000 + LIFETIME_SECONDS * 1000 <= out["expires_ms"]
    assert out["expires_ms"] <= now_ms() + LIFETIME_SECONDS * 1000
    assert [r.text for r in zxingcpp.read_barcodes(_raster(out["qr_svg"]))] == [out["url"]]


async def test_no_one_else_gets_a_credential(joint_visit, as_role, client):  # noqa: F811
    leader, _, member_b = joint_visit.members
    url = f"/api/visits/{joint_visit.visit}/credential"
    # may see the visit, but is not in its group: no credential to show
    for role, department in ((Role.coordinator, member_b.department), (Role.admin, None)):
        someone = await as_role(role, department=department)
        r = await someone.client.get(url)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    for role in (Role.inspector, Role.leader, Role.coordinator):
        r = await (await as_role(role, department=leader.department)).client.get(url)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    assert (await client.get(url)).status_code == 401
    for bad in (str(uuid.uuid4()), "x"):
        r = await leader.client.get(f"/api/visits/{bad}/credential")
        assert r.status_code == 404 and r.json()["code"] == "request.not_found"
    # an inspector no longer active in the directory is given none either
    await Inspector.update({Inspector.active: False}).where(Inspector.code == leader.code)
    r = await leader.client.get(url)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    pkg = (await leader.client.get(f"/api/visits/{joint_visit.visit}/package")).json()
    assert pkg["credential"] is None


# --- the public page -------------------------------------------------------------------------
async def _token(member, visit: str) -> str:
    return (await member.client.get(f"/api/visits/{visit}/credential")).json()["token"]


async def test_the_page_confirms_a_real_inspector_without_sign_in(joint_visit, client):  # noqa: F811
    leader, _, member_b = joint_visit.members
    token = await _token(member_b, joint_visit.visit)
    task = await Visit.select(Visit.task.code, Visit.task.name).where(Visit.id == joint_visit.visit)
    code, name = task[0]["task.code"], task[0]["task.name"]

    page = await client.get(f"/c/{token}")  # no cookie, no session: anyone's phone
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for shown in ("有效", "Valid", f"检查员{member_b.code}", f"测试部门{member_b.department}",
                  member_b.code, code, name, "组员", "有效期至", "北京时间"):  # fmt: skip
        assert shown in html, shown
    assert "<script" not in html.lower() and token not in html
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
    assert "form-action 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"

    data = (await client.get(f"/c/{token}", headers=JSON)).json()
    assert data["valid"] is True and data["status"] == "valid"
    assert data["inspector"] == {
        "name": f"检查员{member_b.code}",
        "department": member_b.department,
        "department_name": f"测试部门{member_b.department}",
        "certificate": member_b.code,  # the fixture's certificate numbers are the codes
        "leader": False,
    }
    assert data["task"] == {"code": code, "name": name}
    assert data["expires_ms"] == unseal(token, server_key()).expires_ms
    assert set(data) == {"valid", "status", "message", "message_en", "inspector", "task",
                         "subject", "expires_ms", "checked_ms"}  # fmt: skip
    leader_token = await _token(leader, joint_visit.visit)
    assert "组长" in (await client.get(f"/c/{leader_token}")).text


def _names_nothing(text: str, member, visit: str) -> None:
    for secret in (f"检查员{member.code}", member.code, visit, "Task", "任务编号"):
        assert secret not in text, secret


async def test_a_forged_or_mangled_token_shows_nothing(joint_visit, client):  # noqa: F811
    member = joint_visit.members[0]
    token = await _token(member, joint_visit.visit)
    # well-formed claims of a real member, sealed with another key: the claims are never read
    forged = seal(Claims(joint_visit.visit, member.code, now_ms() // 1000 + 3600), bytes(32))
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (forged, flipped, token[:-2], "x", "A" * 5000, token + "AA"):
        page = await client.get(f"/c/{bad}")
        assert page.status_code == 404, bad
        assert "无效" in page.text and "Invalid" in page.text
        _names_nothing(page.text, member, joint_visit.visit)
        assert "<script" not in page.text.lower()
        data = (await client.get(f"/c/{bad}", headers=JSON)).json()
        assert data["valid"] is False and data["status"] == "invalid"
        assert set(data) == {"valid", "status", "message", "message_en", "checked_ms"}


async def test_an_expired_token_is_gone(joint_visit, client):  # noqa: F811
    member = joint_visit.members[0]
    past = now_ms() // 1000 - 1
    token = seal(Claims(joint_visit.visit, member.code, past), server_key())
    page = await client.get(f"/c/{token}")
    assert page.status_code == 410 and "已过期" in page.text and "Expired" in page.text
    _names_nothing(page.text, member, joint_visit.visit)
    data = (await client.get(f"/c/{token}", headers=JSON)).json()
    assert data["status"] == "expired" and data["expires_ms"] == past * 1000
    assert "inspector" not in data and "task" not in data

    # the boundary: valid up to the last millisecond before expiry
    token = await _token(member, joint_visit.visit)
    expires_ms = unseal(token, server_key()).expires_ms
    assert (await check_credential(token, at_ms=expires_ms - 1)).status == "valid"
    assert (await check_credential(token, at_ms=expires_ms)).status == "expired"


async def test_the_group_and_the_inspector_are_checked_at_each_scan(joint_visit, client):  # noqa: F811
    leader, second, _ = joint_visit.members
    visit = joint_visit.visit
    token = await _token(second, visit)
    url = f"/c/{token}"
    assert (await client.get(url)).status_code == 200

    # deactivated in the directory
    await Inspector.update({Inspector.active: False}).where(Inspector.code == second.code)
    page = await client.get(url)
    assert page.status_code == 410 and "已失效" in page.text
    _names_nothing(page.text, second, visit)
    await Inspector.update({Inspector.active: True}).where(Inspector.code == second.code)
    assert (await client.get(url)).status_code == 200

    # the account deactivated
    await User.update({User.active: False}).where(User.id == second.user_id)
    assert (await client.get(url, headers=JSON)).json()["status"] == "withdrawn"
    await User.update({User.active: True}).where(User.id == second.user_id)
    assert (await client.get(url)).status_code == 200

    # taken out of the group
    inspector_id = (await Inspector.select(Inspector.id).where(Inspector.code == second.code))[0]
    await VisitMember.delete().where(
        (VisitMember.visit == visit) & (VisitMember.inspector == inspector_id["id"])
    )
    page = await client.get(url)
    assert page.status_code == 410
    _names_nothing(page.text, second, visit)

    # a token for someone who was never in the group, sealed by this server, is refused too
    stranger = seal(Claims(visit, "nobody", now_ms() // 1000 + 60), server_key())
    assert (await client.get(f"/c/{stranger}", headers=JSON)).json()["status"] == "withdrawn"
    unknown = seal(Claims(str(uuid.uuid4()), leader.code, now_ms() // 1000 + 60), server_key())
    assert (await client.get(f"/c/{unknown}", headers=JSON)).json()["status"] == "withdrawn"


async def test_every_value_on_the_page_is_escaped(joint_visit, client):  # noqa: F811
    member = joint_visit.members[0]
    await Inspector.update({Inspector.name: '<img src=x onerror="alert(1)">'}).where(
        Inspector.code == member.code
    )
    task = (await Visit.select(Visit.task).where(Visit.id == joint_visit.visit))[0]["task"]
    await Task.update({Task.name: "</dd><script>alert(2)</script>"}).where(Task.id == task)
    page = await client.get(f"/c/{await _token(member, joint_visit.visit)}")
    assert page.status_code == 200
    assert "<img" not in page.text and "<script" not in page.text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page.text
    assert "&lt;/dd&gt;&lt;script&gt;" in page.text
