"""A known scene for the dashboard, built through the real API on both engines.

Departments A (initiator) and B, one task T1 outside any plan with four visits — V1 closed
today, V2 closed with its signature refused 60 days ago (its clock ran out), V3 begun (a
check-in), V4 untouched — and a plan whose line 1 (ratio 0.5) runs a triggered task T2 drawn
among four named subjects at 0.75 (three visits, none begun). Results: A's of V1 published on
time, A's of V2 published late, B's of V1 waiting for review, B's of V2 returned and overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pytest

from onevisit.auth.roles import Role
from onevisit.planning.tables import Task, Visit
from onevisit.planning.visits import create_visit
from tests.fixtures import SignedIn, unique
from tests.results.conftest import close_joint_visit
from tests.sync.conftest import Inspecting, JointVisit, joint_visit  # noqa: F401  (the fixture)
from tests.sync.test_sync import checkin

DAY_MS = 86_400_000
BEIJING = dt.timezone(dt.timedelta(hours=8))


class DatedPhone:
    """A member's phone whose events carry a fixed time: the inspection of an earlier day
    (the clock starts from the day the phone dated the signature or refusal)."""

    def __init__(self, phone, at_ms: int) -> None:
        self.phone, self.at_ms = phone, at_ms

    def event(self, event_type: str, body: dict, *, visit: str | None, at: int | None = None):
        return self.phone.event(event_type, body, visit=visit, at=self.at_ms)


def back_then(members: list[Inspecting], days: int) -> list[Inspecting]:
    now_ms = int(dt.datetime.now(BEIJING).timestamp() * 1000)
    return [replace(m, phone=DatedPhone(m.phone, now_ms - days * DAY_MS)) for m in members]


@dataclass
class Scene:
    year: int
    dep_a: str
    dep_b: str
    t1: str
    t2: str
    plan: str
    coord_a: SignedIn
    coord_b: SignedIn
    leader: Inspecting


async def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
async def scene(joint_visit, as_role) -> Scene:  # noqa: F811
    jv = joint_visit
    leader, _, member_b = jv.members
    dep_a, dep_b = leader.department, member_b.department
    coord_a = await as_role(Role.coordinator, department=dep_a)
    coord_b = await as_role(Role.coordinator, department=dep_b)
    task_id = (await Visit.select(Visit.task).where(Visit.id == jv.visit))[0]["task"]
    t1 = (await Task.select(Task.code).where(Task.id == task_id))[0]["code"]
    group = [(m.code, m.department) for m in jv.members]

    async def visit() -> str:
        return await create_visit(task_id=task_id, subject_id=unique("CP-"), members=group)

    v1 = await close_joint_visit(jv, as_role)
    v2 = await close_joint_visit(JointVisit(await visit(), jv.matters, back_then(jv.members, 60)),
                                 as_role)  # fmt: skip
    v3 = await visit()
    r = await leader.send(leader.phone.event("checkin", checkin(), visit=v3))
    assert r.json()["acks"][0]["status"] == "accepted", r.text
    await visit()  # V4: assigned, never begun

    async def result_of(coord: SignedIn, visit_id: str) -> int:
        listed = await _ok(await coord.client.get("/api/results", params={"task": t1}))
        (one,) = [x for x in listed["results"] if x["visit"] == visit_id]
        return one["id"]

    for visit_id in (v1.visit, v2.visit):
        rid = await result_of(coord_a, visit_id)
        await _ok(await coord_a.client.post(f"/api/results/{rid}/approve"))
        await _ok(await coord_a.client.post(f"/api/results/{rid}/publish"))
    rid = await result_of(coord_b, v2.visit)
    await _ok(await coord_b.client.post(f"/api/results/{rid}/return", json={"reason": "补充证据"}))

    year = dt.datetime.now(BEIJING).year
    plan = unique("PLAN")
    line = {"task_name": "食品安全联合抽查", "lead": jv.matters[dep_a],
            "matters": [jv.matters[dep_b]], "ratio": "0.5",
            "schedule": {"start": f"{year}-01-01", "end": f"{year}-12-31"}}  # fmt: skip
    body = {"code": plan, "year": year, "name": f"{year}年度联合抽查计划", "lines": [line]}
    await _ok(await coord_a.client.post("/api/plans", json=body), 201)
    named = []
    for n in range(4):
        sid = unique("P-")
        subject = {"subject_id": sid, "name": f"被投诉对象{n}", "kind": "product",
                   "credit_class": "B"}  # fmt: skip
        await _ok(await coord_a.client.post("/api/subjects", json=subject), 201)
        named.append(sid)
    t2 = unique("TR")
    task = {"code": t2, "name": "投诉举报核查", "matters": [jv.matters[dep_a], jv.matters[dep_b]],
            "trigger": {"kind": "complaint", "reference": "12315-0001", "subjects": named},
            "plan": {"code": plan, "line": 1}}  # fmt: skip
    await _ok(await coord_a.client.post("/api/tasks", json=task), 201)
    strata = {"strata": {"B": {"ratio": "0.75"}}}
    await _ok(await coord_a.client.post(f"/api/tasks/{t2}/draw", json=strata), 201)
    await _ok(await coord_a.client.post(f"/api/tasks/{t2}/draw/run", json={}))
    return Scene(year, dep_a, dep_b, t1, t2, plan, coord_a, coord_b, leader)
