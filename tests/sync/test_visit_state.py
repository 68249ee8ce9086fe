"""A visit's state and record come from its events alone: rebuilding them from the log gives
the same answer, conflicts are visible, and only the people involved may see them."""

from __future__ import annotations

from onevisit.auth.roles import Role
from onevisit.evidence.events import parse_event
from onevisit.evidence.tables import Event
from onevisit.field.projection import project_visit
from onevisit.field.record import build_record, record_hash
from onevisit.field.service import visit_info
from onevisit.planning.tables import Visit
from tests.sync.test_sync import checkin, item


async def test_state_conflicts_record_and_rebuild(joint_visit, as_role):
    leader, second, member_b = joint_visit.members
    visit = joint_visit.visit
    matter_a = joint_visit.matters[leader.department]
    await leader.send(leader.phone.event("checkin", checkin(), visit=visit))
    await second.send(second.phone.event("checkin", checkin(), visit=visit))
    await leader.send(leader.phone.event("item_result", item(matter_a, 0), visit=visit))
    r = await second.send(
        second.phone.event("item_result", item(matter_a, 0, "non_compliant"), visit=visit)
    )
    assert r.json()["acks"][0]["status"] == "accepted"

    view = (await leader.client.get(f"/api/visits/{visit}")).json()
    state = view["state"]
    assert state["two_present"] is True
    # two inspectors disagree on item 0: both answers are shown and no result is chosen
    first = next(m for m in state["matters"] if m["code"] == matter_a)["items"][0]
    assert first["result"] is None
    assert sorted(a["result"] for a in first["conflict"]) == ["compliant", "non_compliant"]
    assert {a["actor"] for a in first["conflict"]} == {leader.user_id, second.user_id}
    assert view["record_hash"] == record_hash(view["record"])
    assert view["short_code"] == view["record_hash"][:8]
    # the record names the task by its code (not the database id) and its name
    task = await Visit.select(Visit.task.code, Visit.task.name).where(Visit.id == visit).first()
    assert view["record"]["task"] == {"code": task["task.code"], "name": task["task.name"]}

    # rebuild from the stored log bytes alone: the same state and record
    rows = (
        await Event.select(Event.envelope, Event.received_ms)
        .where(Event.visit == visit)
        .order_by(Event.log_index)
    )
    info = await visit_info(visit)
    rebuilt = project_visit(
        visit=info,
        events=[(parse_event(bytes(r["envelope"])), r["received_ms"]) for r in rows],
        now_ms=state["as_of_ms"],
    )
    assert rebuilt.to_json() == state
    assert record_hash(build_record(rebuilt, info)) == view["record_hash"]

    # who may see it: members, a coordinator of a department involved, admins — not others
    assert (await member_b.client.get(f"/api/visits/{visit}")).status_code == 200
    outsider = await as_role(Role.coordinator)
    r = await outsider.client.get(f"/api/visits/{visit}")
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    insider = await as_role(Role.coordinator, department=member_b.department)
    assert (await insider.client.get(f"/api/visits/{visit}")).status_code == 200
    mine = (await member_b.client.get("/api/visits")).json()["visits"]
    assert [v["visit"] for v in mine] == [visit]
    assert mine[0]["leader"] is False
    assert mine[0]["subject_name"]  # the list names the business, not only its code
