"""`onevisit demo` loads the whole data set into the real database, and a second run changes
nothing (it is run by every `make run`). It recognises its own joint visits by their task's
code, so other tasks — e.g. of `onevisit simulate` run before it — neither stop it nor count
as its own. Tests share the database, so the demo may be loaded before this test runs (the
simulation loads it when the directory is missing); the assertions hold either way."""

import dataclasses

from onevisit.auth.tables import User
from onevisit.auth.users import create_user
from onevisit.demo.dataset import DemoUser, build_demo_dataset
from onevisit.demo.load import (
    DEMO_DRAW_TASK_CODE,
    DEMO_FIELD_GROUP,
    DEMO_FIELD_TASK_CODE,
    DEMO_PLAN_CODE,
    DEMO_TASK_CODE,
    load_demo,
)
from onevisit.directory.seed import load_directory
from onevisit.directory.tables import Inspector, Matter, Subject
from onevisit.planning import draw as spec
from onevisit.planning.draws import public_record
from onevisit.planning.plans import plan_detail
from onevisit.planning.tables import Task, Visit, VisitMember
from onevisit.planning.visits import create_task
from onevisit.results.reading import open_data, search_public
from onevisit.results.tables import Result
from onevisit.simulate.setup import ACTOR, INITIATOR, TASK_NAME
from tests.fixtures import unique


async def test_demo_loads_then_changes_nothing():
    dataset = build_demo_dataset()
    demo_task = (Task.code == DEMO_TASK_CODE) & (Task.created_by == "demo")
    loaded_before = await Task.exists().where(demo_task)
    if not loaded_before:
        # as in an installation where the directory is there and `onevisit simulate` has run:
        # a joint task made by the simulation, which is not the demo's
        await load_directory(dataset)
        lead = next(m.code for m in dataset.matters if m.department == INITIATOR)
        await create_task(
            code=unique("SIM"), name=TASK_NAME, initiator=INITIATOR, matters=[lead],
            created_by=ACTOR,
        )  # fmt: skip
    foreign = await Task.select(Task.id).where(Task.created_by == "simulate").order_by(Task.id)
    assert foreign or loaded_before

    first = await load_demo()
    second = await load_demo()

    ids = [s.subject_id for s in dataset.subjects]
    assert await Subject.count().where(Subject.subject_id.is_in(ids)) == 2000
    codes = [m.code for m in dataset.matters]
    assert await Matter.count().where(Matter.code.is_in(codes)) == len(codes) >= 30
    assert (
        await Inspector.count().where(Inspector.code.is_in([i.code for i in dataset.inspectors]))
        == len(dataset.inspectors)
        >= 60
    )
    names = [u.name for u in dataset.users]
    demo_users = (User.created_by == "demo") & User.name.is_in(names)
    assert await User.count().where(demo_users) == len(dataset.users)

    # the first load creates what is missing (a directory test may have loaded the directory
    # part before), the second finds all 2,000 unchanged
    subjects = first.directory["subjects"]
    assert subjects["created"] + subjects["unchanged"] + subjects["updated"] == 2000
    assert second.directory["subjects"]["created"] == second.directory["subjects"]["updated"] == 0
    assert second.directory["subjects"]["unchanged"] == 2000
    assert second.users_created == [] and second.users_existing == len(dataset.users)
    assert "users created: 0" in second.text()
    # three completed joint visits the first time (despite the other tasks), none added the
    # second; none the first time either if the demo was loaded before this test
    assert first.visits_completed == (0 if loaded_before else 3)
    assert second.visits_completed == 0
    tasks = await Task.select(Task.id).where(demo_task)
    assert len(tasks) == 1
    assert await Visit.count().where(Visit.task == tasks[0]["id"]) == 3
    # closed by their leaders: one result per matter each, the first visit's published (the
    # public site shows them), the others awaiting review, none edited
    demo_visits = Visit.select(Visit.id).where(Visit.task == tasks[0]["id"])
    closed = (Visit.task == tasks[0]["id"]) & (Visit.status == "closed")
    assert await Visit.count().where(closed) == 3
    results = await Result.select(Result.state, Result.visit).where(
        Result.visit.is_in([v["id"] for v in await demo_visits])
    )
    states = sorted({r["state"] for r in results})
    assert states == ["pending_review", "published"] and len({r["visit"] for r in results}) == 3
    public = [r for r in await open_data() if r["task"] == DEMO_TASK_CODE]
    assert public and {r["version"] for r in public} == {1}
    found = await search_public(public[0]["subject_name"])
    assert public[0]["subject_id"] in [s["subject_id"] for s in found["subjects"]]
    # two open visits for the demo's own leader and inspectors, once only, each with the
    # group the demo enrols (`onevisit demo --enrol`) so a new user can do one on a phone
    assert first.visits_open == (0 if loaded_before else 2) and second.visits_open == 0
    field_task = await Task.select(Task.id).where(Task.code == DEMO_FIELD_TASK_CODE)
    field_visits = await Visit.select(Visit.id).where(Visit.task == field_task[0]["id"])
    assert len(field_visits) == 2
    members = await VisitMember.select(VisitMember.inspector.code.as_alias("code")).where(
        VisitMember.visit == field_visits[0]["id"]
    )
    assert sorted(m["code"] for m in members) == sorted(c for c, _ in DEMO_FIELD_GROUP)
    assert {c for c, _ in DEMO_FIELD_GROUP} <= {u.inspector_code for u in dataset.users}
    # a joint task of three departments drawn the verifiable way, with a swap, once only
    record = await public_record(DEMO_DRAW_TASK_CODE)
    assert spec.verify(record) == []
    assert [d["id"] for d in record["departments"]] == ["scjg", "wsjk", "yjgl"]
    assert len(record["parties"]) == 2 and record["beacon"] and len(record["swaps"]) == 1
    assert first.visits_drawn == (0 if loaded_before else len(record["subjects"])) >= 0
    assert second.visits_drawn == 0 and len(record["subjects"]) >= 5
    drawn_task = await Task.select(Task.id, Task.plan_code, Task.plan_line).where(
        Task.code == DEMO_DRAW_TASK_CODE
    )
    assert (drawn_task[0]["plan_code"], drawn_task[0]["plan_line"]) == (DEMO_PLAN_CODE, 1)
    plan = await plan_detail(code=DEMO_PLAN_CODE)
    assert [v["version"] for v in plan["versions"]] == [2, 1] and plan["versions"][0]["reason"]
    assert await Visit.count().where(Visit.task == drawn_task[0]["id"]) == len(record["groups"])
    # the other tasks are left as they were, and the demo leaves no task of its own among them
    assert (
        await Task.select(Task.id).where(Task.created_by == "simulate").order_by(Task.id) == foreign
    )


async def test_demo_leaves_an_inspectors_own_account_alone():
    """A demo user for an inspector who already has an account (e.g. one `onevisit simulate`
    made) is not created: the app knows an inspector by one account, a second would make the
    first "not a member" of the inspector's visits."""
    dataset = build_demo_dataset()
    await load_directory(dataset)
    has_account = User.select(User.inspector.code.as_alias("code")).where(
        User.inspector.is_not_null()
    )
    with_account = {r["code"] for r in await has_account}
    inspector = next(i for i in dataset.inspectors if i.active and i.code not in with_account)
    await create_user(
        name=inspector.name, role="inspector", department_code=None,
        inspector_code=inspector.code, created_by="cli",
    )  # fmt: skip
    user = DemoUser(inspector.name, "inspector", inspector.department, inspector.code)
    summary = await load_demo(dataclasses.replace(dataset, users=(user,)))
    assert summary.users_created == [] and summary.users_skipped == [inspector.name]
    assert "the inspector has an account" in summary.text()
    accounts = await User.select(User.created_by).where(User.inspector.code == inspector.code)
    assert accounts == [{"created_by": "cli"}]
