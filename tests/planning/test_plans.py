"""Annual joint plans (002:12-13): published at once, adjusted only by new versions with a
reason, each version a log entry; public at /public/plans; who may keep them."""

from __future__ import annotations

import hashlib

import rfc8785

from onevisit.auth.roles import Role
from onevisit.directory.tables import Department
from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from tests.directory.test_api import assert_error
from tests.fixtures import unique
from tests.planning.test_tasks import _department_with
from tests.sync.conftest import _matter


def _line(lead: str, *xs: str, ratio: str = "0.05", **extra) -> dict:
    return {
        "task_name": "食品经营者联合抽查", "lead": lead, "matters": list(xs), "ratio": ratio,
        "schedule": {"start": "2026-04-01", "end": "2026-06-30"}, **extra,
    }  # fmt: skip


async def test_a_plan_is_published_adjusted_by_versions_and_public(
    make_department, as_role, client
):
    dep, lead = await _department_with(make_department)
    other, x = await _department_with(make_department)
    me = await as_role(Role.coordinator, department=dep)
    code = unique("PLAN")
    body = {"code": code, "year": 2026, "name": "2026年度部门联合双随机抽查计划",
            "lines": [_line(lead, x, scope={"kinds": ["enterprise"]})]}  # fmt: skip
    r = await me.client.post("/api/plans", json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["initiator"] == dep and [v["version"] for v in plan["versions"]] == [1]
    line = plan["versions"][0]["lines"][0]
    assert line["initiator"] == dep and line["participants"] == [other]
    assert plan["versions"][0]["reason"] == "首次发布"

    adjusted = [_line(lead, x, ratio="0.08"), _line(lead, task_name="第二季度专项")]
    why = {"reason": "根据投诉举报情况提高比例", "lines": adjusted}
    r = await me.client.post(f"/api/plans/{code}/versions", json=why)
    assert r.status_code == 201, r.text
    versions = r.json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]  # newest first; version 1 kept as it was
    assert versions[1]["lines"][0]["ratio"] == "0.05" and versions[0]["lines"][0]["ratio"] == "0.08"
    # the content hash is SHA-256 of the version's JCS, and is in the log
    v2 = versions[0]
    content = {"plan": code, "year": 2026, "name": body["name"], "version": 2,
               "reason": v2["reason"], "lines": v2["lines"]}  # fmt: skip
    assert v2["content_hash"] == hashlib.sha256(rfc8785.dumps(content)).hexdigest()
    logged = await Event.select(Event.envelope).where(Event.event_type == "server.plan_published")
    assert any(v2["content_hash"].encode() in bytes(e["envelope"]) for e in logged)
    assert (await verify_all()).ok

    # public, without a session
    r = await client.get("/public/plans", headers={"Accept": "application/json"})
    listed = {p["code"]: p for p in r.json()["plans"]}
    assert listed[code]["version"] == 2 and listed[code]["lines"] == 2
    r = await client.get(f"/public/plans/{code}", headers={"Accept": "application/json"})
    assert [v["version"] for v in r.json()["versions"]] == [2, 1]
    page = await client.get(f"/public/plans/{code}")
    assert page.headers["content-type"].startswith("text/html")
    assert "根据投诉举报情况提高比例" in page.text and "第二季度专项" in page.text
    assert_error(await client.get("/public/plans/nope"), 404, "plan.unknown")
    assert (await me.client.get(f"/api/plans/{code}")).json()["may_adjust"] is True

    # another department neither adjusts it nor makes plans in this one's name
    stranger = await as_role(Role.coordinator, department=other)
    r = await stranger.client.post(f"/api/plans/{code}/versions",
                                   json={"reason": "x", "lines": adjusted})  # fmt: skip
    assert_error(r, 403, "auth.forbidden")
    assert (await stranger.client.get(f"/api/plans/{code}")).json()["may_adjust"] is False
    inspector = await as_role(Role.inspector, department=dep)
    assert (await inspector.client.post("/api/plans", json=body)).status_code == 403
    assert (await inspector.client.get("/api/plans")).status_code == 403
    assert_error(await me.client.post("/api/plans", json=body), 409, "plan.exists")


async def test_bad_plan_lines_are_refused_with_what_is_wrong(make_department, as_role):
    dep, lead = await _department_with(make_department)
    _, foreign = await _department_with(make_department)
    general_dep, general = await _department_with(make_department, "general", ratio_cap="0.03")
    me = await as_role(Role.coordinator, department=dep)
    keeper = await as_role(Role.coordinator, department=general_dep)

    def plan(*lines):
        return {"code": unique("PLAN"), "year": 2026, "name": "计划", "lines": list(lines)}

    cases = [
        # a line's lead matter belongs to its initiating department (by default: the lead's)
        (me, plan(_line(foreign, initiator=dep)), 400, "plan.invalid"),
        (me, plan(_line(lead, lead)), 400, "plan.invalid"),  # a matter twice
        (me, plan(_line("NOPE")), 404, "matter.unknown"),
        (me, plan(_line(lead, ratio="1.5")), 400, "plan.invalid"),
        (me, plan(_line(lead, ratio="5%")), 400, "plan.invalid"),
        (me, plan(_line(lead, schedule={"start": "2027-01-01", "end": "2027-02-01"})), 400,
         "plan.invalid"),
        (me, plan(_line(lead, schedule={"start": "2026-06-01", "end": "2026-02-01"})), 400,
         "plan.invalid"),
        (me, plan(), 400, "request.invalid"),
        (keeper, plan(_line(general, ratio="0.05")), 400, "draw.ratio_cap"),
    ]  # fmt: skip
    for who, body, status, code in cases:
        r = await who.client.post("/api/plans", json=body)
        assert_error(r, status, code)
    r = await keeper.client.post("/api/plans", json=plan(_line(general, ratio="0.03")))
    assert r.status_code == 201, r.text


async def test_a_task_names_the_plan_line_it_runs(make_department, as_role):
    dep, lead = await _department_with(make_department)
    me = await as_role(Role.coordinator, department=dep)
    code = unique("PLAN")
    body = {"code": code, "year": 2026, "name": "计划", "lines": [_line(lead)]}
    assert (await me.client.post("/api/plans", json=body)).status_code == 201
    task = {"code": unique("T"), "name": "计划内任务", "matters": [lead],
            "plan": {"code": code, "line": 1}}  # fmt: skip
    r = await me.client.post("/api/tasks", json=task)
    assert r.status_code == 201, r.text
    assert r.json()["plan"] == {"code": code, "line": 1}
    for plan, status, error in (
        ({"code": code, "line": 2}, 400, "task.invalid"),  # no such line
        ({"code": "NOPE", "line": 1}, 404, "plan.unknown"),
    ):
        r = await me.client.post("/api/tasks", json={**task, "code": unique("T"), "plan": plan})
        assert_error(r, status, error)
    # a line leads with its own matter: a task with another lead does not run it
    dep_id = (await Department.select(Department.id).where(Department.code == dep))[0]["id"]
    second = await _matter(dep_id, 1)
    r = await me.client.post("/api/tasks", json={**task, "code": unique("T"), "matters": [second]})
    assert_error(r, 400, "task.invalid")
