"""Triggered inspections (seed 003): a complaint, referral, monitoring or risk alert names the
subjects concerned or a directional population to draw among — without the once-a-year
exclusions — or the department assigns inspectors directly, recorded as such in the log."""

from __future__ import annotations

import datetime as dt

from onevisit.auth.roles import Role
from onevisit.evidence.tables import Event
from onevisit.planning import draw as spec
from onevisit.planning.tables import Task, Visit, VisitMember
from tests.directory.test_api import assert_error
from tests.fixtures import unique
from tests.planning.test_draws import ALL_STRATA, _scene


async def _subjects(coordinator, n: int, **fields) -> list[str]:
    ids = []
    for i in range(n):
        sid = unique("P-")
        body = {"subject_id": sid, "name": f"被投诉对象{i}", "kind": "product", **fields}
        r = await coordinator.client.post("/api/subjects", json=body)
        assert r.status_code == 201, r.text
        ids.append(sid)
    return ids


async def _triggered(coordinator, deps, matters, trigger) -> tuple[int, str]:
    code = unique("TR")
    r = await coordinator.client.post("/api/tasks", json={
        "code": code, "name": "投诉举报核查", "matters": matters, "trigger": trigger,
    })  # fmt: skip
    return r.status_code, (code if r.status_code == 201 else r.text)


async def _matters_of(task_code: str) -> list[str]:
    from onevisit.planning.tasks import _matters_of

    task_id = (await Task.select(Task.id).where(Task.code == task_code))[0]["id"]
    return [m["code"] for m in (await _matters_of([task_id]))[task_id]]


async def test_a_trigger_draws_among_the_subjects_it_names_even_if_inspected_this_year(
    make_department, as_role, client
):
    deps, _, base, coordinator = await _scene(make_department, as_role)
    matters = await _matters_of(base)
    today = dt.date.today().isoformat()
    named = await _subjects(coordinator, 3, credit_class="A", last_inspected=today)
    status, code = await _triggered(coordinator, deps, matters, {
        "kind": "complaint", "reference": "12315-2026-0001", "subjects": named,
    })  # fmt: skip
    assert status == 201, code
    detail = (await coordinator.client.get(f"/api/tasks/{code}")).json()
    assert detail["kind"] == "triggered" and detail["trigger"]["subjects"] == named
    c = coordinator.client
    # a trigger that names its subjects is drawn: no one picks the groups by hand
    hand = {"subject_id": named[0], "members": [["a", deps[0]], ["b", deps[0]]], "reason": "r"}
    assert_error(await c.post(f"/api/tasks/{code}/assignments", json=hand), 400, "task.invalid")
    r = await c.post(f"/api/tasks/{code}/draw", json={"strata": {"A": {"count": 2}}})
    assert r.status_code == 201, r.text
    assert r.json()["population"] == 3 and r.json()["excluded"] == 0
    assert (await c.post(f"/api/tasks/{code}/draw/run", json={})).status_code == 200
    record = (await client.get(f"/public/tasks/{code}/draw.json")).json()
    assert sorted(s for s, _ in record["population"]) == sorted(named)
    assert len(record["subjects"]) == 2 and set(record["subjects"]) <= set(named)
    assert spec.verify(record) == []


async def test_a_directional_scope_draws_among_the_subjects_it_describes(
    make_department, as_role, client
):
    deps, _, base, coordinator = await _scene(make_department, as_role)
    tag = unique("预警")
    tagged = await _subjects(coordinator, 2, credit_class="D", tags=[tag])
    status, code = await _triggered(coordinator, deps, await _matters_of(base), {
        "kind": "risk_alert", "reference": "风险预警-77", "scope": {"tags": [tag]},
    })  # fmt: skip
    assert status == 201, code
    c = coordinator.client
    r = await c.post(f"/api/tasks/{code}/draw", json={"strata": {"D": {"ratio": "1"}}})
    assert r.status_code == 201, r.text
    assert (await c.post(f"/api/tasks/{code}/draw/run", json={})).status_code == 200
    record = (await client.get(f"/public/tasks/{code}/draw.json")).json()
    assert sorted(record["subjects"]) == sorted(tagged)


async def test_inspectors_assigned_directly_are_recorded_as_such(make_department, as_role):
    deps, pool, base, coordinator = await _scene(make_department, as_role, inspectors=(2, 1))
    (subject,) = await _subjects(coordinator, 1)
    status, code = await _triggered(coordinator, deps, await _matters_of(base), {
        "kind": "referral", "reference": "移送函〔2026〕8号",
    })  # fmt: skip
    assert status == 201, code
    c = coordinator.client
    members = [[pool[deps[1]][0], deps[1]], [pool[deps[0]][0], deps[0]]]
    body = {"subject_id": subject, "members": members, "reason": "移送案件由原承办人员核查"}
    r = await c.post(f"/api/tasks/{code}/assignments", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["leader"] == pool[deps[0]][0]  # the first serving the initiator leads
    assert r.json()["log"]["type"] == "server.task_assigned"
    assert set(r.json()["inspector_names"]) == {m[0] for m in members}
    # the task reads its assigned groups back, with names
    (assigned,) = (await c.get(f"/api/tasks/{code}")).json()["assignments"]
    assert assigned["subject_id"] == subject and assigned["leader"] == pool[deps[0]][0]
    assert [m[0] for m in assigned["members"]] == [m[0] for m in members]
    assert assigned["subject_name"] and assigned["note"].startswith("直接指派")
    task_id = (await Task.select(Task.id).where(Task.code == code))[0]["id"]
    visits = await Visit.select(Visit.id, Visit.note).where(Visit.task == task_id)
    assert len(visits) == 1 and visits[0]["note"].startswith("直接指派")
    leaders = await VisitMember.select(VisitMember.inspector.code).where(
        (VisitMember.visit == visits[0]["id"]) & (VisitMember.is_leader == True)  # noqa: E712
    )
    assert [m["inspector.code"] for m in leaders] == [pool[deps[0]][0]]
    logged = await Event.select(Event.event_type).where(Event.event_type == "server.task_assigned")
    assert logged
    assert_error(await c.post(f"/api/tasks/{code}/assignments", json=body), 400, "task.invalid")
    # the rules still hold
    (other,) = await _subjects(coordinator, 1)
    bad = [
        {**body, "subject_id": other, "members": [members[0]]},  # one inspector
        {**body, "subject_id": other, "members": [members[0], [pool[deps[0]][1], deps[1]]]},
        {**body, "subject_id": other, "members": [[pool[deps[1]][0], deps[1]], members[0]]},
    ]
    for b in bad:
        r = await c.post(f"/api/tasks/{code}/assignments", json=b)
        assert r.status_code == 400, (b, r.text)
    # a task with no population cannot be drawn; an ordinary task is never assigned directly
    r = await c.post(f"/api/tasks/{code}/draw", json={"strata": ALL_STRATA})
    assert_error(r, 400, "draw.invalid")
    r = await c.post(f"/api/tasks/{base}/assignments", json={**body, "subject_id": other})
    assert_error(r, 400, "task.invalid")


async def test_bad_triggers_are_refused(make_department, as_role):
    deps, _, base, coordinator = await _scene(make_department, as_role)
    matters = await _matters_of(base)
    cases = [
        ({"kind": "rumour", "reference": "x"}, "task.invalid"),
        ({"kind": "complaint", "reference": " "}, "task.invalid"),
        ({"kind": "complaint", "reference": "x", "subjects": ["NOPE-1"]}, "subject.unknown"),
        ({"kind": "complaint", "reference": "x", "subjects": []}, "task.invalid"),
        ({"kind": "complaint", "reference": "x", "scope": {}}, "task.invalid"),
        ({"kind": "complaint", "reference": "x", "scope": {"colour": ["red"]}}, "request.invalid"),
    ]
    for trigger, code in cases:
        status, text = await _triggered(coordinator, deps, matters, trigger)
        assert status in (400, 404) and f'"{code}"' in text, (trigger, text)
    inspector = await as_role(Role.inspector, department=deps[0])
    r = await inspector.client.post(f"/api/tasks/{base}/assignments", json={
        "subject_id": "x", "members": [["a", deps[0]], ["b", deps[0]]], "reason": "r",
    })  # fmt: skip
    assert r.status_code == 403
