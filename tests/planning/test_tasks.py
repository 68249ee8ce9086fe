"""Tasks through the API ("1+X", who may make and see them), and the draw's exclusion rules
and general matters' ratio caps, on both engines."""

from __future__ import annotations

import datetime as dt

from onevisit.auth.roles import Role
from onevisit.directory.tables import Department, Matter
from onevisit.planning.draws import eligible
from tests.directory.test_api import assert_error
from tests.fixtures import unique
from tests.planning.test_draws import ALL_STRATA, _inspectors
from tests.sync.conftest import _matter


def test_exclusions_this_year():
    today = dt.date(2026, 12, 3)
    this_year, last_year = dt.date(2026, 3, 1), dt.date(2025, 12, 31)
    assert eligible("A", None, today, has_key_matter=False)
    assert eligible("A", last_year, today, has_key_matter=False)
    assert not eligible("A", this_year, today, has_key_matter=True)  # low risk: once a year
    assert not eligible("C", this_year, today, has_key_matter=False)
    assert eligible("C", this_year, today, has_key_matter=True)  # key matters may come back


async def _department_with(make_department, category="key", ratio_cap=None):
    code = await make_department()
    dep_id = (await Department.select(Department.id).where(Department.code == code))[0]["id"]
    if category == "key":
        return code, await _matter(dep_id, 2)
    matter = unique("g")
    await Matter.insert(
        Matter(
            code=matter, department=dep_id, name="一般事项", category="general", ratio_cap=ratio_cap
        )
    )
    return code, matter


async def test_a_coordinator_makes_a_task_of_their_department(make_department, as_role):
    dep, lead = await _department_with(make_department)
    other, x = await _department_with(make_department)
    me = await as_role(Role.coordinator, department=dep)
    code = unique("T")
    r = await me.client.post("/api/tasks", json={"code": code, "name": "食品联合抽查",
                                                 "matters": [lead, x]})  # fmt: skip
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["initiator"] == dep and task["draw"] == "none"
    assert [(m["code"], m["lead"]) for m in task["matters"]] == [(lead, True), (x, False)]
    listed = (await me.client.get("/api/tasks")).json()["tasks"]
    assert code in [t["code"] for t in listed]
    # the participating department sees it too; a third does not
    joined = await as_role(Role.coordinator, department=other)
    assert code in [t["code"] for t in (await joined.client.get("/api/tasks")).json()["tasks"]]
    stranger = await as_role(Role.coordinator)
    assert code not in [
        t["code"] for t in (await stranger.client.get("/api/tasks")).json()["tasks"]
    ]
    r = await stranger.client.get(f"/api/tasks/{code}")
    assert_error(r, 403, "auth.department_forbidden")

    again = {"code": code, "name": "重复", "matters": [lead]}
    assert_error(await me.client.post("/api/tasks", json=again), 409, "task.exists")
    cases = [
        ({"code": unique("T"), "name": "x", "matters": [x]}, 400, "task.invalid"),  # lead not ours
        ({"code": unique("T"), "name": "x", "matters": [lead, lead]}, 400, "task.invalid"),
        ({"code": unique("T"), "name": "x", "matters": ["nope"]}, 404, "matter.unknown"),
        ({"code": "bad code!", "name": "x", "matters": [lead]}, 400, "task.invalid"),
        ({"code": unique("T"), "name": "x", "matters": [lead], "initiator": other}, 403,
         "auth.department_forbidden"),
        ({"code": unique("T"), "name": "x", "matters": []}, 400, "request.invalid"),
    ]  # fmt: skip
    for body, status, code_ in cases:
        assert_error(await me.client.post("/api/tasks", json=body), status, code_)
    for role in (Role.inspector, Role.leader):
        someone = await as_role(role, department=dep)
        r = await someone.client.post("/api/tasks", json={**again, "code": unique("T")})
        assert r.status_code == 403, r.text
        assert (await someone.client.get("/api/tasks")).status_code == 403


async def test_a_general_matters_cap_limits_the_draw_with_a_clear_error(make_department, as_role):
    dep, general = await _department_with(make_department, "general", ratio_cap="0.05")
    await _inspectors(dep, 2)
    me = await as_role(Role.coordinator, department=dep)
    code = unique("T")
    r = await me.client.post("/api/tasks", json={"code": code, "name": "一般事项抽查",
                                                 "matters": [general]})  # fmt: skip
    assert r.status_code == 201, r.text
    for n in range(2):  # a directory of at least two: drawing all of it is over 5 %
        body = {"subject_id": unique("P-"), "name": f"对象{n}", "kind": "product"}
        assert (await me.client.post("/api/subjects", json=body)).status_code == 201
    everything = {k: {"ratio": "1"} for k in ALL_STRATA}
    r = await me.client.post(f"/api/tasks/{code}/draw", json={"strata": everything})
    assert_error(r, 400, "draw.ratio_cap")
    assert r.json()["details"]["matter"] == general
    assert (await me.client.get(f"/api/tasks/{code}/draw")).json()["status"] == "none"
    # within the cap it is accepted (here: none drawn, whatever the directory's size)
    none = {k: {"count": 0} for k in ALL_STRATA}
    r = await me.client.post(f"/api/tasks/{code}/draw", json={"strata": none})
    assert r.status_code == 201, r.text


async def test_only_subjects_the_lead_matter_applies_to_are_drawn(make_department, as_role, client):
    from onevisit.directory.tables import Subject
    from tests.directory.util import new_uscc
    from tests.planning.test_draws import _inspectors

    dep = await make_department()
    dep_id = (await Department.select(Department.id).where(Department.code == dep))[0]["id"]
    lead = unique("m")
    await Matter.insert(Matter(code=lead, department=dep_id, name="企业年报事项", category="key",
                               subject_kinds=["enterprise"]))  # fmt: skip
    await _inspectors(dep, 2)
    me = await as_role(Role.coordinator, department=dep)
    firm = new_uscc()
    for body in ({"subject_id": firm, "name": "某商贸有限公司", "kind": "enterprise"},
                 {"subject_id": unique("P-"), "name": "某产品", "kind": "product"}):  # fmt: skip
        assert (await me.client.post("/api/subjects", json=body)).status_code == 201
    code = unique("T")
    body = {"code": code, "name": "企业抽查", "matters": [lead]}
    assert (await me.client.post("/api/tasks", json=body)).status_code == 201
    rules = {k: {"count": 0} for k in ALL_STRATA}
    assert (
        await me.client.post(f"/api/tasks/{code}/draw", json={"strata": rules})
    ).status_code == 201
    assert (await me.client.post(f"/api/tasks/{code}/draw/run", json={})).status_code == 200
    record = (await client.get(f"/public/tasks/{code}/draw.json")).json()
    ids = [s for s, _ in record["population"]]
    assert firm in ids
    kinds = {
        r["kind"] for r in await Subject.select(Subject.kind).where(Subject.subject_id.is_in(ids))
    }
    assert kinds == {"enterprise"}
