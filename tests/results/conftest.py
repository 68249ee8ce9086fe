"""A closed joint visit with a result per matter: department A's matter found no problem,
department B's found one pending follow-up (with a note that holds a phone number, which
must never reach a public page)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest

from onevisit.auth.roles import Role
from onevisit.directory.uscc import make_uscc
from onevisit.planning.tables import Visit
from tests.sync.conftest import Inspecting, JointVisit, joint_visit  # noqa: F401  (the fixture)
from tests.sync.test_sync import checkin, item

BEIJING = dt.timezone(dt.timedelta(hours=8))
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PRIVATE_NOTE = "责令七日内整改，负责人电话13800138000"


@dataclass
class Closed:
    visit: str
    subject_id: str
    subject_name: str
    matters: dict[str, str]  # department → matter code
    leader: Inspecting  # serves A
    second: Inspecting  # serves A
    member_b: Inspecting  # serves B
    record_hash: str

    @property
    def deps(self) -> tuple[str, str]:
        return self.leader.department, self.member_b.department


async def close_joint_visit(jv: JointVisit, as_role) -> Closed:
    leader, second, member_b = jv.members
    visit = jv.visit
    uscc = make_uscc("9", "1", "110105", "".join(random.choices(USCC_CHARS, k=9)))
    name = f"公示测试{uscc[-6:]}有限公司"
    admin = await as_role(Role.admin)
    r = await admin.client.post(
        "/api/subjects", json={"subject_id": uscc, "name": name, "kind": "enterprise"}
    )
    assert r.status_code == 201, r.text
    await Visit.update({Visit.subject_id: uscc}).where(Visit.id == visit)  # before any event
    matter_a, matter_b = jv.matters[leader.department], jv.matters[member_b.department]
    for m, matter in ((leader, matter_a), (second, matter_a), (member_b, matter_b)):
        r = await m.send(
            m.phone.event("checkin", checkin(), visit=visit),
            m.phone.event("item_result", item(matter, 0), visit=visit),
        )
        assert [a["status"] for a in r.json()["acks"]] == ["accepted"] * 2, r.text
    results = (
        (leader, {"matter": matter_a, "result_code": "no_problem"}),
        (member_b, {"matter": matter_b, "result_code": "pending_follow_up",
                    "disposition": "order_correction", "note": PRIVATE_NOTE}),
    )  # fmt: skip
    for m, body in results:
        r = await m.send(m.phone.event("matter_result", body, visit=visit))
        assert r.json()["acks"][0]["status"] == "accepted", r.text
    current = (await leader.client.get(f"/api/visits/{visit}")).json()["record_hash"]
    refusal = {"record_hash": current, "reason_code": "refused", "reason": "拒绝签字",
               "witness": {"name": "赵敏", "phone": "13900139000"}}  # fmt: skip
    await leader.send(leader.phone.event("signature_refused", refusal, visit=visit))
    for m in (leader, second, member_b):
        pin = {"record_hash": current, "method": "device_pin"}
        r = await m.send(m.phone.event("record_confirmed", pin, visit=visit))
        assert r.json()["acks"][0]["status"] == "accepted", r.text
    r = await leader.client.post(f"/api/visits/{visit}/close", json={"record_hash": current})
    assert r.status_code == 200, r.text
    return Closed(visit, uscc, name, dict(jv.matters), leader, second, member_b, current)


@pytest.fixture
async def closed_visit(joint_visit, as_role) -> Closed:  # noqa: F811
    return await close_joint_visit(joint_visit, as_role)
