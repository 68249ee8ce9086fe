"""GET /api/visits/{visit_id}/record.pdf on real visits synced through the real API.

Two visits of the joint group at a subject with a real USCC: one refused (a witness with phone
and id number, the witness's signature image, a passkey and a PIN confirmation, a photo
uploaded as JPEG), one signed (the signer's PNG). Each PDF is read back as text (pypdf) and
its QR code decoded (zxing-cpp) to the record's public verification URL, which then answers
for that record. Then who may have it (401/403), a visit nobody confirmed (409), and a server
without a usable CJK font (503)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from onevisit.auth.roles import Role
from onevisit.config import get_settings
from onevisit.directory.tables import Matter
from onevisit.pdf.font import ENV
from onevisit.planning.tables import Visit
from onevisit.planning.visits import create_visit
from tests.directory.util import new_uscc
from tests.media.util import jpeg, png, sha, upload
from tests.pdf.util import image_count, page_count, pdf_text, qr_texts, squeezed
from tests.verify.scenario import accepted, confirmation, item, leader_passkey

SUBJECT_NAME = "洛阳市某某餐饮管理有限公司"
ADDRESS = "河南省洛阳市西工区中州中路 8 号"
WITNESS = {"name": "赵见证", "id_number": "110101199003071234", "phone": "13912345678"}
WITNESS_ROLE = "社区网格员甲"
PROBLEM_NOTE = "消防通道堆放杂物，已责令当场清理"
REFUSAL = "负责人称须请示总部，拒绝在记录上签字"


@dataclass
class World:
    visit: str
    uscc: str
    record_hash: str
    matter_names: list[str]
    photo_sha: str
    witness_image_sha: str
    pdf: bytes
    headers: dict[str, str]
    members: list[tuple[str, str]]  # (user id, department): later tests sign them in anew


_cache: dict[str, World] = {}


async def _media(member, data: bytes, mime: str) -> dict:
    purpose = "photo" if mime == "image/jpeg" else "signature"
    r = await upload(member.client, data, mime=mime, purpose=purpose)
    assert r.status_code in (200, 201, 204), r.text
    return {"sha256": sha(data), "bytes": len(data), "mime": mime}


async def _visit_at_a_real_subject(joint_visit, as_role) -> tuple[str, str]:
    """A visit of the same task and group at a subject with a USCC, name and address."""
    admin = await as_role(Role.admin)
    uscc = new_uscc()
    subject = {"subject_id": uscc, "name": SUBJECT_NAME, "kind": "enterprise", "address": ADDRESS}
    r = await admin.client.post("/api/subjects", json=subject)
    assert r.status_code in (200, 201), r.text
    task = (await Visit.select(Visit.task).where(Visit.id == joint_visit.visit).first())["task"]
    members = [(m.code, m.department) for m in joint_visit.members]
    return await create_visit(task_id=task, subject_id=uscc, members=members), uscc


async def _field_work(joint_visit, visit: str) -> str:
    """Check-ins and every item of both matters (one non-compliant with a note), matter
    results, a note and a photo; returns the photo's hash."""
    leader = joint_visit.members[0]
    checkin = {"lat_e6": 34_669_900, "lon_e6": 112_442_100, "accuracy_m": 12}
    for m in joint_visit.members:
        matter = joint_visit.matters[m.department]
        events = [m.phone.event("checkin", checkin, visit=visit)]
        if m is not joint_visit.members[1]:  # the second of A only checks in
            answers = [item(matter, i) for i in range(3)]
            answers[2] |= {"result": "non_compliant", "note": PROBLEM_NOTE}
            events += [m.phone.event("item_result", a, visit=visit) for a in answers]
            result = {"matter": matter, "result_code": "corrected", "disposition": "none"}
            events.append(m.phone.event("matter_result", result, visit=visit))
        await accepted(m, *events)
    photo = await _media(leader, jpeg(1200, 900, seed=21), "image/jpeg")
    await accepted(
        leader,
        leader.phone.event("note", {"text": "现场负责人王某陪同检查"}, visit=visit),
        leader.phone.event("photo", {"media": photo, "caption": "消防通道"}, visit=visit),
    )
    return photo["sha256"]


async def _current_hash(member, visit: str) -> str:
    r = await member.client.get(f"/api/visits/{visit}")
    assert r.status_code == 200, r.text
    return r.json()["record_hash"]


async def _get_pdf(member, visit: str):
    r = await member.client.get(f"/api/visits/{visit}/record.pdf")
    assert r.status_code == 200, r.text
    return r


@pytest.fixture
async def refused(joint_visit, as_role, app) -> World:
    if "refused" not in _cache:
        leader, _, member_b = joint_visit.members
        authn = await leader_passkey(joint_visit, app)
        visit, uscc = await _visit_at_a_real_subject(joint_visit, as_role)
        photo = await _field_work(joint_visit, visit)
        witness = WITNESS | {"role": WITNESS_ROLE}
        await accepted(leader, leader.phone.event("witness", witness, visit=visit))
        hash_ = await _current_hash(leader, visit)
        witness_image = await _media(leader, png(90, 40), "image/png")
        body = {
            "record_hash": hash_, "reason_code": "refused", "reason": REFUSAL,
            "witness": witness, "witness_signature": witness_image,
        }  # fmt: skip
        await accepted(
            leader,
            leader.phone.event("signature_refused", body, visit=visit),
            leader.phone.event("record_confirmed", confirmation(authn, hash_), visit=visit),
        )
        pin = {"record_hash": hash_, "method": "device_pin"}
        await accepted(member_b, member_b.phone.event("record_confirmed", pin, visit=visit))
        r = await _get_pdf(leader, visit)
        _cache["refused"] = World(
            visit, uscc, hash_, await _matter_names(joint_visit), photo,
            witness_image["sha256"], r.content, dict(r.headers), _members(joint_visit),
        )  # fmt: skip
    return _cache["refused"]


@pytest.fixture
async def signed(joint_visit, as_role) -> World:
    if "signed" not in _cache:
        leader, second, _ = joint_visit.members
        visit, uscc = await _visit_at_a_real_subject(joint_visit, as_role)
        photo = await _field_work(joint_visit, visit)
        hash_ = await _current_hash(leader, visit)
        image = await _media(second, png(120, 50, mode="RGB"), "image/png")
        strokes = await _media(second, json.dumps([[1, 2, 3, 4]]).encode(), "application/json")
        body = {
            "record_hash": hash_, "signer_name": "钱经理", "signer_role": "负责人",
            "image": image, "strokes": strokes,
        }  # fmt: skip
        pin = {"record_hash": hash_, "method": "device_pin"}
        await accepted(
            second,
            second.phone.event("signature", body, visit=visit),
            second.phone.event("record_confirmed", pin, visit=visit),
        )
        r = await _get_pdf(second, visit)
        _cache["signed"] = World(
            visit, uscc, hash_, await _matter_names(joint_visit), photo, image["sha256"],
            r.content, dict(r.headers), _members(joint_visit),
        )  # fmt: skip
    return _cache["signed"]


def _members(joint_visit) -> list[tuple[str, str]]:
    return [(m.user_id, m.department) for m in joint_visit.members]


async def _matter_names(joint_visit) -> list[str]:
    codes = list(joint_visit.matters.values())
    rows = await Matter.select(Matter.name).where(Matter.code.is_in(codes))
    return [r["name"] for r in rows]


def _verify_url(record_hash: str) -> str:
    return f"{get_settings().origin}/verify/record/{record_hash}"


async def test_refused_record_pdf_carries_the_record_and_no_witness_numbers(refused):
    assert refused.headers["content-type"] == "application/pdf"
    short = refused.record_hash[:8]
    disposition = refused.headers["content-disposition"]
    assert disposition.startswith("inline;") and f'filename="record-{short}.pdf"' in disposition
    assert f"filename*=UTF-8''{quote(f'检查记录表-{short}.pdf')}" in disposition
    assert refused.headers["cache-control"] == "no-store"
    assert refused.pdf.startswith(b"%PDF-")

    text = pdf_text(refused.pdf)
    flat = squeezed(text)
    assert "检查记录表" in text
    for expected in (SUBJECT_NAME, refused.uscc, *refused.matter_names, PROBLEM_NOTE, REFUSAL):
        assert squeezed(expected) in flat, expected
    assert "符合" in text and "不符合" in text  # item results by their Chinese labels
    assert "发现问题已责令改正" in text  # the matter result code's label
    assert f"记录短码：{short}" in text
    assert refused.record_hash in flat
    assert refused.photo_sha in flat  # beside its thumbnail
    assert refused.witness_image_sha in flat
    assert "拒绝签字" in text and f"见证人：{WITNESS['name']}" in text
    assert "通行密钥确认" in text and "设备密钥与PIN确认" in text  # both confirmations
    assert "未确认" in text  # the second inspector of A did not confirm
    assert "保存期限不少于2年" in text and "第 1 页 / 共" in text
    for secret in (WITNESS["phone"], WITNESS["id_number"], WITNESS_ROLE):
        assert secret not in flat


async def test_refused_record_qr_decodes_to_its_verification_page(refused, client):
    assert qr_texts(refused.pdf) == [_verify_url(refused.record_hash)]
    # the page the QR names verifies this very record, for anyone
    path = _verify_url(refused.record_hash).removeprefix(get_settings().origin)
    r = await client.get(path, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["record_hash"] == refused.record_hash
    assert r.json()["refusal"]["witness"] == {"name": WITNESS["name"]}


async def test_signed_record_pdf_shows_the_signature(signed):
    text = pdf_text(signed.pdf)
    flat = squeezed(text)
    assert "签字人：钱经理（负责人）" in text
    assert f"签字图像SHA-256：{signed.witness_image_sha}" in flat
    assert "拒绝签字" not in text and "见证人" not in text
    assert signed.uscc in flat and signed.record_hash in flat
    assert qr_texts(signed.pdf) == [_verify_url(signed.record_hash)]
    # the photo's thumbnail, the signature's and the QR code are embedded images
    assert image_count(signed.pdf) == 3


async def test_who_may_have_the_pdf(refused, as_role, sign_in, client):
    url = f"/api/visits/{refused.visit}/record.pdf"
    member_b, department_b = refused.members[2]
    assert (await (await sign_in(member_b)).get(url)).status_code == 200
    admin = await as_role(Role.admin)
    assert (await admin.client.get(url)).status_code == 200
    # a coordinator of a department whose matter the visit checks
    coordinator = await as_role(Role.coordinator, department=department_b)
    assert (await coordinator.client.get(url)).status_code == 200

    # an inspector of other visits, a coordinator of another department: 403
    for outsider in (await as_role(Role.inspector), await as_role(Role.coordinator)):
        r = await outsider.client.get(url)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden", r.text
    r = await client.get(url)  # not signed in
    assert r.status_code == 401 and r.json()["code"] == "auth.required"
    r = await admin.client.get("/api/visits/not-a-visit/record.pdf")
    assert r.status_code == 404 and r.json()["code"] == "request.not_found"


async def test_no_pdf_before_an_inspector_confirmed_the_current_record(joint_visit):
    leader, second, _ = joint_visit.members
    visit = joint_visit.visit
    url = f"/api/visits/{visit}/record.pdf"
    r = await leader.client.get(url)
    assert r.status_code == 409 and r.json()["code"] == "pdf.no_record", r.text

    checkin = {"lat_e6": 34_669_900, "lon_e6": 112_442_100, "accuracy_m": 12}
    await accepted(leader, leader.phone.event("checkin", checkin, visit=visit))
    old = await _current_hash(leader, visit)
    pin = {"record_hash": old, "method": "device_pin"}
    await accepted(leader, leader.phone.event("record_confirmed", pin, visit=visit))
    assert (await leader.client.get(url)).status_code == 200
    # a later event changes the record: the confirmation is stale, the PDF waits again
    await accepted(second, second.phone.event("checkin", checkin, visit=visit))
    r = await leader.client.get(url)
    assert r.status_code == 409 and r.json()["code"] == "pdf.no_record", r.text


async def test_without_a_cjk_font_the_answer_is_503(refused, sign_in, monkeypatch, tmp_path):
    leader = await sign_in(refused.members[0][0])
    url = f"/api/visits/{refused.visit}/record.pdf"
    monkeypatch.setenv(ENV, str(tmp_path / "no-such-font.ttc"))
    r = await leader.get(url)
    assert r.status_code == 503 and r.json()["code"] == "pdf.font_missing", r.text

    not_a_font = tmp_path / "broken.ttf"
    not_a_font.write_bytes(b"this is no TrueType font" * 100)
    monkeypatch.setenv(ENV, str(not_a_font))
    r = await leader.get(url)
    assert r.status_code == 503 and r.json()["code"] == "pdf.font_missing", r.text

    monkeypatch.delenv(ENV)
    r = await leader.get(url)
    assert r.status_code == 200 and page_count(r.content) >= 1


async def test_the_route_is_registered_behind_a_sign_in_guard(app):
    path = "/api/visits/{visit_id:str}/record.pdf"
    handlers = [h for r in app.routes if r.path == path for h in r.route_handlers]
    (get,) = [h for h in handlers if h.http_methods == {"GET"}]
    roles = {r for g in get.guards or [] for r in getattr(g, "roles", ())}
    assert roles == {Role.admin, Role.coordinator, Role.leader, Role.inspector}
