"""GET /api/dashboard through the real API on both engines: exact figures on a known scene
(tests/dashboard/conftest.py), scoped by role, and bad filters refused."""

from __future__ import annotations

import datetime as dt
import time

from onevisit.auth.roles import Role
from onevisit.auth.users import create_user
from onevisit.directory.tables import Department, Inspector
from onevisit.planning.visits import create_task, create_visit
from onevisit.results.tables import Result, ResultVersion
from tests.dashboard.conftest import BEIJING, Scene
from tests.directory.test_api import assert_error
from tests.fixtures import unique
from tests.planning.test_tasks import _department_with
from tests.sync.conftest import _matter

ZERO_STATES = {"pending_entry": 0, "pending_review": 0, "returned": 0, "approved": 0,
               "published": 0, "withheld": 0}  # fmt: skip


async def figures(client, **query) -> dict:
    r = await client.get("/api/dashboard", params=query)
    assert r.status_code == 200, r.text
    return r.json()


def by_task(data: dict) -> dict[str, dict]:
    return {t["task"]: t for t in data["coverage"]["tasks"]}


def coverage(task: dict) -> tuple:
    return task["population"], task["planned"], task["drawn"], task["visited"], task["closed"]


async def test_the_initiators_figures_on_a_known_scene(scene: Scene):
    data = await figures(scene.coord_a.client)
    assert data["year"] == scene.year and data["scope"] == "department"
    assert data["department"] == scene.dep_a
    tasks = by_task(data)
    assert set(tasks) == {scene.t1, scene.t2}
    # T1 (no plan, no draw): 4 visits, 3 begun, 2 closed; T2: 4 named, 0.75 drawn → 3 visits,
    # and the plan line's 0.5 of the same population → 2 planned
    assert coverage(tasks[scene.t1]) == (None, None, 4, 3, 2)
    assert tasks[scene.t1]["draw"] == "none" and tasks[scene.t1]["plan"] is None
    assert coverage(tasks[scene.t2]) == (4, 2, 3, 0, 0)
    assert tasks[scene.t2]["draw"] == "drawn" and tasks[scene.t2]["kind"] == "triggered"
    assert (tasks[scene.t2]["plan"], tasks[scene.t2]["line"]) == (scene.plan, 1)
    (plan,) = [p for p in data["coverage"]["plans"] if p["code"] == scene.plan]
    (line,) = plan["lines"]
    assert line["tasks"] == [scene.t2] and line["ratio"] == "0.5"
    assert (line["population"], line["planned"], line["drawn"], line["visited"],
            line["closed"]) == (4, 2, 3, 0, 0)  # fmt: skip
    assert data["completion"] == {"assigned": 7, "visited": 3, "closed": 2, "rate": 0.2857}
    # A's results: V1's published on time, V2's (inspected 60 days ago) published late
    results = data["results"]
    assert results["by_state"] == ZERO_STATES | {"published": 2}
    assert (results["total"], results["overdue"]) == (2, 0)
    assert (results["published_on_time"], results["published_late"]) == (1, 1)
    assert [d["department"] for d in data["departments"]] == [scene.dep_a]
    assert data["departments"][0]["published_late"] == 1
    assert [s["label"] for s in data["states"]][:2] == ["待录入", "待审核"]


async def test_the_participants_figures_count_its_own_results_only(scene: Scene):
    data = await figures(scene.coord_b.client, year=scene.year)
    assert data["department"] == scene.dep_b
    # B joins both tasks and the plan line (as a participant)
    assert set(by_task(data)) == {scene.t1, scene.t2}
    assert data["completion"]["assigned"] == 7
    (plan,) = [p for p in data["coverage"]["plans"] if p["code"] == scene.plan]
    assert plan["lines"][0]["planned"] == 2
    results = data["results"]
    assert results["by_state"] == ZERO_STATES | {"pending_review": 1, "returned": 1}
    # V2's B result: past its 20th working day and not published → overdue (002:20)
    assert (results["total"], results["overdue"]) == (2, 1)
    assert (results["published_on_time"], results["published_late"]) == (0, 0)


async def test_admins_see_one_department_or_all(scene: Scene, as_role):
    admin = await as_role(Role.admin)
    one = await figures(admin.client, department=scene.dep_a)
    mine = await figures(scene.coord_a.client)
    assert one["scope"] == "department"
    for key in ("coverage", "completion", "results", "departments"):
        assert one[key] == mine[key], key
    every = await figures(admin.client)
    assert every["scope"] == "all" and every["department"] is None
    deps = {d["department"]: d for d in every["departments"]}
    assert deps[scene.dep_a]["total"] == 2 and deps[scene.dep_a]["published_on_time"] == 1
    assert deps[scene.dep_b]["overdue"] == 1
    assert {scene.t1, scene.t2} <= set(by_task(every))
    assert every["completion"]["assigned"] >= 7
    # another year: nothing of this scene
    other = await figures(admin.client, department=scene.dep_a, year=scene.year - 1)
    assert other["coverage"] == {"plans": [], "tasks": []} and other["results"]["total"] == 0


async def test_who_may_see_what(scene: Scene, as_role, client):
    stranger = await as_role(Role.coordinator)
    r = await stranger.client.get("/api/dashboard", params={"department": scene.dep_a})
    assert_error(r, 403, "auth.department_forbidden")
    own = await figures(stranger.client)  # its own department: none of the scene
    assert own["results"]["total"] == 0 and own["coverage"]["tasks"] == []
    inspector = await as_role(Role.inspector, department=scene.dep_a)
    assert_error(await inspector.client.get("/api/dashboard"), 403, "auth.forbidden")
    # the inspector who leads the scene's visits holds the inspector role: still no dashboard
    assert_error(await scene.leader.client.get("/api/dashboard"), 403, "auth.forbidden")
    assert_error(await client.get("/api/dashboard"), 401, "auth.required")
    admin = await as_role(Role.admin)
    r = await admin.client.get("/api/dashboard", params={"department": unique("nodep")})
    assert_error(r, 404, "department.unknown")


async def test_bad_filters_are_refused(as_role):
    admin = await as_role(Role.admin)
    coordinator = await as_role(Role.coordinator)
    for who, query, status, code in (
        (admin, {"year": "1999"}, 400, "dashboard.invalid"),
        (admin, {"year": "2100"}, 400, "dashboard.invalid"),
        (admin, {"year": "-1"}, 400, "dashboard.invalid"),
        (admin, {"year": "abc"}, 400, "request.invalid"),
        (admin, {"year": "99999999999999999999"}, 400, "dashboard.invalid"),
        (admin, {"department": ""}, 400, "dashboard.invalid"),
        (admin, {"department": "x" * 33}, 400, "dashboard.invalid"),
        (admin, {"department": "a\x00b"}, 400, "dashboard.invalid"),
        (coordinator, {"year": "0"}, 400, "dashboard.invalid"),
    ):
        assert_error(await who.client.get("/api/dashboard", params=query), status, code)


async def test_a_leader_sees_the_visits_he_leads(make_department, sign_in):
    dep = await make_department()
    dep_id = (await Department.select(Department.id).where(Department.code == dep))[0]["id"]
    codes = [unique("i") for _ in range(3)]
    await Inspector.insert(*[Inspector(code=c, name=f"检查员{c}", department=dep_id,
                                       certificate_no=c) for c in codes])  # fmt: skip
    user = await create_user(name="组长甲", role="leader", department_code=dep,
                             inspector_code=codes[0], created_by="test")  # fmt: skip
    matter = await _matter(dep_id, 1)
    task = await create_task(code=unique("T"), name="组长任务", initiator=dep,
                             matters=[matter], created_by="test")  # fmt: skip
    for first, second in ((0, 1), (0, 2), (1, 2)):  # he leads two of the three
        await create_visit(task_id=task, subject_id=unique("CP-"),
                           members=[(codes[first], dep), (codes[second], dep)])  # fmt: skip
    me = await sign_in(user.id)
    data = (await me.get("/api/dashboard")).json()
    assert data["scope"] == "led_visits" and data["coverage"]["plans"] == []
    assert data["completion"] == {"assigned": 2, "visited": 0, "closed": 0, "rate": 0.0}
    assert [t["drawn"] for t in data["coverage"]["tasks"]] == [2]
    r = await me.get("/api/dashboard", params={"department": unique("dep")})
    assert_error(r, 403, "auth.department_forbidden")


async def test_ten_thousand_results_are_counted_within_two_seconds(as_role, make_department):
    """Figures are a few queries whatever the size: 10,000 results of one department."""
    dep = await make_department()
    dep_id = (await Department.select(Department.id).where(Department.code == dep))[0]["id"]
    task_code = unique("T")
    task = await create_task(code=task_code, name="大量结果", initiator=dep,
                             matters=[await _matter(dep_id, 1)], created_by="test")  # fmt: skip
    codes = [unique("i") for _ in range(2)]
    await Inspector.insert(*[Inspector(code=c, name=c, department=dep_id, certificate_no=c)
                             for c in codes])  # fmt: skip
    visit = await create_visit(task_id=task, subject_id=unique("CP-"),
                               members=[(c, dep) for c in codes])  # fmt: skip
    # inspected years ago: older than any other test's results, so the result lists (newest
    # first, 500 at most) of tests sharing this database still find their own
    first = dt.date(2020, 1, 6)
    rows = [
        Result(key=f"{visit}:{n}", visit=visit, task=task_code, matter=f"m{n}", department=dep,
               subject_id=f"S{n}", inspected_on=first + dt.timedelta(days=n % 300),
               record_hash="0" * 64, state="pending_review" if n % 2 else "withheld")
        for n in range(10_000)
    ]  # fmt: skip
    for start in range(0, len(rows), 1000):
        made = await Result.insert(*rows[start : start + 1000])
        # each with its version 1, as intake makes them: the result lists read it
        await ResultVersion.insert(*[
            ResultVersion(result=r["id"], version=1, result_code="no_problem", source="record")
            for r in made
        ])  # fmt: skip
    admin = await as_role(Role.admin)
    started = time.perf_counter()
    data = await figures(admin.client, department=dep)
    took = time.perf_counter() - started
    assert data["results"]["total"] == 10_000 and data["results"]["overdue"] == 5000
    assert data["results"]["by_state"]["withheld"] == 5000  # the clock stopped: not overdue
    assert took < 2.0, f"{took:.2f} s"


async def test_a_task_counts_in_its_plans_year(make_department, as_role):
    """A task made today that runs last year's plan line counts in last year (its plan's)."""
    dep, lead = await _department_with(make_department)
    me = await as_role(Role.coordinator, department=dep)
    last = dt.datetime.now(BEIJING).year - 1
    line = {"task_name": "上年度计划任务", "lead": lead, "matters": [], "ratio": "0.1",
            "schedule": {"start": f"{last}-03-01", "end": f"{last}-11-30"}}  # fmt: skip
    plan = {"code": unique("PLAN"), "year": last, "name": "上年度计划", "lines": [line]}
    assert (await me.client.post("/api/plans", json=plan)).status_code == 201
    task = {"code": unique("T"), "name": "补做任务", "matters": [lead],
            "plan": {"code": plan["code"], "line": 1}}  # fmt: skip
    assert (await me.client.post("/api/tasks", json=task)).status_code == 201
    then = await figures(me.client, year=last)
    assert list(by_task(then)) == [task["code"]]
    (line_figures,) = then["coverage"]["plans"][0]["lines"]
    assert line_figures["tasks"] == [task["code"]] and line_figures["planned"] is None  # no draw
    assert by_task(await figures(me.client)) == {}
