"""The leader's day plan: a date per visit in the leader's order; the members' "my visits"
follow it; only the group's leader plans, and bad plans change nothing."""

from __future__ import annotations

from onevisit.planning.tables import Task, Visit
from onevisit.planning.visits import create_visit
from tests.directory.test_api import assert_error
from tests.fixtures import unique
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture)


async def test_the_leader_orders_the_groups_visits_by_day(joint_visit):  # noqa: F811
    leader, second, other = joint_visit.members
    task = (await Visit.select(Visit.task).where(Visit.id == joint_visit.visit))[0]["task"]
    later = await create_visit(
        task_id=task, subject_id=unique("CP-"), batch_order=1,
        members=[(m.code, m.department) for m in joint_visit.members],
    )  # fmt: skip
    unplanned = await create_visit(
        task_id=task, subject_id=unique("CP-"), batch_order=2,
        members=[(m.code, m.department) for m in joint_visit.members],
    )  # fmt: skip
    plan = {"visits": [{"visit": later, "date": "2026-12-07"},
                       {"visit": joint_visit.visit, "date": "2026-12-07"}]}  # fmt: skip
    r = await leader.client.post("/api/day-plan", json=plan)
    assert r.status_code == 200, r.text
    mine = [v for v in (await other.client.get("/api/visits")).json()["visits"]
            if v["visit"] in {later, joint_visit.visit, unplanned}]  # fmt: skip
    assert [v["visit"] for v in mine] == [later, joint_visit.visit, unplanned]
    assert [v["planned_date"] for v in mine] == ["2026-12-07", "2026-12-07", None]

    # the leader may move one to another day, or take it out of the plan
    r = await leader.client.post("/api/day-plan", json={"visits": [
        {"visit": joint_visit.visit, "date": "2026-12-06"}, {"visit": later, "date": None},
    ]})  # fmt: skip
    assert r.status_code == 200, r.text
    mine = [v["visit"] for v in (await second.client.get("/api/visits")).json()["visits"]
            if v["visit"] in {later, joint_visit.visit, unplanned}]  # fmt: skip
    assert mine[0] == joint_visit.visit

    # only the leader; bad plans are refused whole
    assert_error(await second.client.post("/api/day-plan", json=plan), 403, "auth.forbidden")
    for bad in (
        {"visits": [{"visit": later, "date": "07.12.2026"}]},
        {"visits": [{"visit": later, "date": "2026-12-07"}, {"visit": later}]},
        {"visits": [{"visit": "not-a-visit", "date": None}]},
    ):
        r = await leader.client.post("/api/day-plan", json=bad)
        assert r.status_code == 400, (bad, r.text)
    row = (await Visit.select(Visit.planned_date).where(Visit.id == later))[0]
    assert row["planned_date"] is None
    assert await Task.exists().where(Task.id == task)
