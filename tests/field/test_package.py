"""GET /api/visits/{id}/package (docs/visits.md "The package"): everything a member's phone
needs offline, for exactly the people who may see the visit."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from onevisit.auth.common import b64url_decode
from onevisit.auth.roles import Role
from onevisit.directory.schemas import SubjectIn
from onevisit.directory.subjects import create_subject
from onevisit.directory.tables import CheckItem, Matter
from onevisit.field.codes import RESULT_CODES
from onevisit.field.notice import NOTICE_EN, NOTICE_ZH
from onevisit.field.package import FORMAT
from onevisit.planning.tables import Visit
from onevisit.simulate.phone import Phone
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture)
from tests.sync.test_sync import checkin, item


def _package(response) -> dict:
    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    return response.json()


async def test_a_member_gets_everything_the_phone_needs(joint_visit, make_department):  # noqa: F811
    leader, second, member_b = joint_visit.members
    visit = joint_visit.visit
    matter_a = joint_visit.matters[leader.department]
    # the directory's words for one matter and its items reach the phone
    await Matter.update(
        {
            Matter.basis: "《企业信息公示暂行条例》第十条",
            Matter.content: "检查营业执照的悬挂和登记事项",
            Matter.methods: ["on_site", "documentary"],
        }
    ).where(Matter.code == matter_a)
    matter_id = (await Matter.select(Matter.id).where(Matter.code == matter_a).first())["id"]
    await CheckItem.update({CheckItem.basis: "第十条第一款"}).where(
        (CheckItem.matter == matter_id) & (CheckItem.position == 1)
    )
    subject_id = (await Visit.select(Visit.subject_id).where(Visit.id == visit).first())[
        "subject_id"
    ]
    await create_subject(
        data=SubjectIn(
            subject_id=subject_id, name="某某餐饮有限公司", kind="product",
            address="洛阳市西工区某路1号", lat_e6=34_660_000, lon_e6=112_430_000,
            industry_code="H6210", region_code="410303", credit_class="C", abnormal=True,
            last_inspected=date(2024, 5, 6), legal_representative="陈强", tags=["餐饮", "重点"],
        ),
        actor="test",
    )  # fmt: skip
    await leader.send(leader.phone.event("checkin", checkin(), visit=visit))
    await leader.send(leader.phone.event("item_result", item(matter_a, 0), visit=visit))
    # a second phone of the member, and a revoked one: the package lists the live keys only
    spare, gone = Phone(actor=second.user_id), Phone(actor=second.user_id)
    for phone in (spare, gone):
        r = await second.client.post(
            "/api/auth/devices", json={"spki": phone.spki_b64url, "label": "x"}
        )
        assert r.status_code == 201, r.text
    r = await second.client.post(f"/api/auth/devices/{gone.device_id}/revoke")
    assert r.status_code == 200, r.text

    pkg = _package(await member_b.client.get(f"/api/visits/{visit}/package"))
    view = (await member_b.client.get(f"/api/visits/{visit}")).json()
    assert pkg["format"] == FORMAT
    assert pkg["visit"] == view["visit"]  # exactly what GET /api/visits/{id} says
    assert pkg["record_hash"] == view["record_hash"]
    state = {k: v for k, v in pkg["state"].items() if k != "as_of_ms"}
    assert state == {k: v for k, v in view["state"].items() if k != "as_of_ms"}
    assert pkg["state"]["checkins"][0]["actor"] == leader.user_id
    assert pkg["status"] == "assigned" and pkg["batch_order"] == 0
    assert abs(pkg["fetched_ms"] - pkg["state"]["as_of_ms"]) < 60_000

    # the subject as the directory holds it (GET /api/subjects/{id} less its history)
    directory = (await leader.client.get(f"/api/subjects/{subject_id}")).json()
    directory.pop("history")
    assert pkg["subject"] == directory
    assert pkg["subject"]["credit_class"] == "C" and pkg["subject"]["abnormal"] is True
    assert pkg["subject"]["last_inspected"] == "2024-05-06"
    assert pkg["subject"]["tags"] == ["餐饮", "重点"]

    # the matters in task order, with their legal basis and guide
    assert [m["code"] for m in pkg["matters"]] == [m["code"] for m in pkg["visit"]["matters"]]
    first = pkg["matters"][0]
    assert first["code"] == matter_a and first["lead"] is True
    assert first["department"] == leader.department
    assert first["department_name"] == f"测试部门{leader.department}"
    assert first["category"] == "key"
    assert first["legal_basis"] == "《企业信息公示暂行条例》第十条"
    assert first["content"] == "检查营业执照的悬挂和登记事项"
    assert first["methods"] == ["on_site", "documentary"]
    assert first["items"] == [
        {"position": 0, "text": "检查项目1", "legal_basis": ""},
        {"position": 1, "text": "检查项目2", "legal_basis": "第十条第一款"},
        {"position": 2, "text": "检查项目3", "legal_basis": ""},
    ]
    assert pkg["matters"][1]["lead"] is False
    assert pkg["departments"] == sorted(
        ({"code": d, "name": f"测试部门{d}"} for d in {leader.department, member_b.department}),
        key=lambda d: d["code"],
    )

    # every live device key of every member, as stored; each id is the hash of its key
    devices = {d["device_id"]: d for d in pkg["devices"]}
    expected = {m.phone.device_id: m for m in joint_visit.members} | {spare.device_id: second}
    assert set(devices) == set(expected)
    assert gone.device_id not in devices
    for device_id, d in devices.items():
        assert d["actor"] == expected[device_id].user_id
        assert hashlib.sha256(b64url_decode(d["spki"])).hexdigest() == device_id
    assert devices[spare.device_id]["spki"] == spare.spki_b64url
    assert pkg["devices"][0]["actor"] == leader.user_id  # member order

    # the notice, the code lists, and the caller's own credential
    assert pkg["notice"] == {"zh": NOTICE_ZH, "en": NOTICE_EN}
    assert pkg["codes"]["result_codes"] == [list(pair) for pair in RESULT_CODES]
    assert pkg["codes"]["special_outcome_result"]["refused_entry"] == "refused_severe"
    credential = pkg["credential"]
    assert set(credential) == {"token", "url", "expires_ms", "qr_svg"}
    check = await member_b.client.get(
        f"/c/{credential['token']}", headers={"Accept": "application/json"}
    )
    assert check.status_code == 200
    assert check.json()["inspector"]["name"] == f"检查员{member_b.code}"


async def test_the_notice_is_the_real_thing():
    for word in ("出示执法证件", "回避", "陈述", "申辩", "保密", "签字或者盖章", "见证人",
                 "20个工作日", "如实反映情况", "不予配合", "拍照、录像"):  # fmt: skip
        assert word in NOTICE_ZH, word
    for words in ("withdraw", "state your view", "confidential", "witness", "20 working days"):
        assert words in NOTICE_EN, words
    assert NOTICE_ZH.count("\n\n") == NOTICE_EN.count("\n\n")  # paragraph for paragraph


async def test_who_may_fetch_it(joint_visit, as_role, client):  # noqa: F811
    leader, _, member_b = joint_visit.members
    visit = joint_visit.visit
    url = f"/api/visits/{visit}/package"
    # a coordinator of a department whose matters the visit checks, and an admin: the package,
    # but no credential (it is always the caller's own)
    for role, department in ((Role.coordinator, member_b.department), (Role.admin, None)):
        someone = await as_role(role, department=department)
        pkg = _package(await someone.client.get(url))
        assert pkg["credential"] is None
        assert len(pkg["devices"]) == 3
    # anyone else: refused, and told nothing about the visit
    for role in (Role.coordinator, Role.leader, Role.inspector):
        outsider = await as_role(role)
        r = await outsider.client.get(url)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        assert "devices" not in r.text and visit in r.json()["details"]["visit"]
    same_department = await as_role(Role.inspector, department=leader.department)
    r = await same_department.client.get(url)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    assert (await client.get(url)).status_code == 401
    for bad in (str(uuid.uuid4()), "not-a-visit", visit.upper()):
        r = await leader.client.get(f"/api/visits/{bad}/package")
        assert r.status_code == 404 and r.json()["code"] == "request.not_found", bad


async def test_a_subject_the_directory_does_not_hold(joint_visit):  # noqa: F811
    leader = joint_visit.members[0]
    pkg = _package(await leader.client.get(f"/api/visits/{joint_visit.visit}/package"))
    assert pkg["subject"] is None  # the visit's own subject block still names it
    assert pkg["visit"]["subject"]["id"] == pkg["visit"]["subject"]["name"]
