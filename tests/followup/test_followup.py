"""Follow-up of results (seed 002 art. 22) through the real API on both engines: rectification
orders and their re-inspection, cases filed and closed, transfers and their feedback; steps in
the wrong order refused; overdue orders flagged; who may do what; bad input changes nothing;
every step a server log entry of hashes, and the log still verifies."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from onevisit.auth.roles import Role
from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from onevisit.followup.rules import is_overdue
from onevisit.followup.tables import FollowUp, FollowUpStep
from onevisit.results.tables import Result
from tests.directory.test_api import assert_error

BEIJING = dt.timezone(dt.timedelta(hours=8))
WHAT = "责令七日内清理过期食品并建立进货查验记录"


def today() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def day(offset: int = 0) -> str:
    return (today() + dt.timedelta(days=offset)).isoformat()


def order(due: int = 7, **more) -> dict:
    return {"kind": "rectification", "on": day(), "due_on": day(due), "text": WHAT, **more}


async def _open(client, result: int, body: dict) -> dict:
    r = await client.post(f"/api/results/{result}/followups", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def _step(client, followup: int, body: dict, status: int = 201) -> dict:
    r = await client.post(f"/api/followups/{followup}/steps", json={"on": day(), **body})
    assert r.status_code == status, r.text
    return r.json()


async def _refused(client, followup: int, body: dict, status: int, code: str) -> None:
    r = await client.post(f"/api/followups/{followup}/steps", json={"on": day(), **body})
    assert_error(r, status, code)


async def _waiting(client) -> list[dict]:
    params = {"kind": "transfer", "state": "awaiting_feedback"}
    return (await client.get("/api/followups", params=params)).json()["followups"]


async def _detail(client, followup: int) -> dict:
    r = await client.get(f"/api/followups/{followup}")
    assert r.status_code == 200, r.text
    return r.json()


async def _logged(followup: int) -> list[dict]:
    """The bodies of the follow-up's server log entries, in order."""
    rows = (
        await Event.select(Event.event_type, Event.envelope)
        .where(Event.event_type.like("server.followup_%"))
        .order_by(Event.log_index)
    )
    out = []
    for r in rows:
        body = json.loads(bytes(r["envelope"]))["body"]
        if body["followup"] == followup:
            out.append({"type": r["event_type"], **body})
    return out


async def test_an_order_is_reinspected_by_a_member_who_served_the_department(following):
    f = following
    opened = await _open(f.coord_b.client, f.result_b, order())
    assert opened["kind"] == "rectification" and opened["state"] == "open"
    oid = opened["id"]
    item = await _detail(f.member_b, oid)  # the member who served B reads it
    assert item["due_on"] == day(7) and item["days_left"] == 7 and item["overdue"] is False
    assert item["may_manage"] is False and item["may_reinspect"] is True
    assert item["subject_name"] == f.closed.subject_name

    done = await _step(
        f.member_b,
        oid,
        {"step": "reinspect", "outcome": "corrected", "text": "已清理，进货查验记录已建立"},
    )
    assert done["state"] == "corrected"
    # once re-inspected, there is nothing left to re-inspect
    await _refused(
        f.member_b, oid, {"step": "reinspect", "outcome": "corrected"}, 409, "followup.state"
    )

    item = await _detail(f.coord_b.client, oid)
    assert [s["action"] for s in item["steps"]] == ["ordered", "reinspected"]
    assert item["steps"][1]["outcome_label"] == "已改正" and item["days_left"] is None
    assert item["state_label"] == "已改正" and item["may_manage"] is True
    # the log carries dates, codes and hashes, never the text
    logged = await _logged(oid)
    assert [e["type"] for e in logged] == ["server.followup_ordered", "server.followup_reinspected"]
    assert logged[0]["due_on"] == day(7) and logged[0]["result"].endswith(
        ":" + f.closed.matters[f.closed.deps[1]]
    )
    assert logged[1]["outcome"] == "corrected" and len(logged[1]["text_hash"]) == 64
    assert WHAT not in str(logged) and "已清理" not in str(logged)
    assert [s["log_index"] for s in item["steps"]] == sorted(s["log_index"] for s in item["steps"])
    # listed under the result, with the code lists of the forms
    mine = (await f.coord_b.client.get(f"/api/results/{f.result_b}/followups")).json()
    assert [x["id"] for x in mine["followups"]] == [oid] and mine["may_manage"] is True
    assert mine["result"]["disposition"] == "order_correction"
    assert (await verify_all()).ok


async def test_an_order_not_corrected_continues_as_a_case_filed_and_closed(following):
    f = following
    oid = (await _open(f.coord_b.client, f.result_b, order()))["id"]
    # a case cannot continue an order still open
    case = {"kind": "case", "on": day(), "case_no": "豫市监立〔2026〕18号", "follows": oid}
    r = await f.coord_b.client.post(f"/api/results/{f.result_b}/followups", json=case)
    assert_error(r, 409, "followup.state")
    # a case takes no re-inspection, an order no closing
    await _refused(
        f.coord_b.client, oid, {"step": "close", "outcome": "penalised"}, 400, "followup.invalid"
    )
    await _step(f.coord_b.client, oid, {"step": "reinspect", "outcome": "not_corrected"})
    assert (await _detail(f.coord_b.client, oid))["state"] == "not_corrected"

    cid = (await _open(f.coord_b.client, f.result_b, case))["id"]
    order_now = await _detail(f.coord_b.client, oid)
    assert order_now["state"] == "escalated" and order_now["continued_by"] == [cid]
    assert [s["action"] for s in order_now["steps"]] == ["ordered", "reinspected", "escalated"]
    # the same order is not continued twice
    r = await f.coord_b.client.post(f"/api/results/{f.result_b}/followups", json=case)
    assert_error(r, 409, "followup.state")

    filed = await _detail(f.coord_b.client, cid)
    assert (filed["state"], filed["case_no"], filed["follows"]) == ("filed", case["case_no"], oid)
    await _refused(
        f.coord_b.client, cid, {"step": "close", "outcome": "fine"}, 400, "followup.invalid"
    )
    closed = await _step(
        f.coord_b.client, cid, {"step": "close", "outcome": "penalised", "text": "警告并罚款"}
    )
    assert closed["state"] == "closed"
    await _refused(
        f.coord_b.client, cid, {"step": "close", "outcome": "penalised"}, 409, "followup.state"
    )
    logged = await _logged(cid)
    assert [e["type"] for e in logged] == ["server.followup_filed", "server.followup_closed"]
    assert logged[0]["follows"] == oid and "case_no_hash" in logged[0]
    assert case["case_no"] not in str(logged)
    assert (await verify_all()).ok


async def test_transfers_wait_for_the_receivers_feedback(following):
    f = following
    dep_a, _ = f.closed.deps
    base = {"kind": "transfer", "on": day(), "text": "涉嫌无证经营，不属本部门管辖"}
    to_dep = await _open(
        f.coord_b.client, f.result_b, {**base, "target": "department", "department": dep_a}
    )
    to_court = await _open(f.coord_b.client, f.result_b, {**base, "target": "judiciary"})
    to_discipline = await _open(f.coord_b.client, f.result_b, {**base, "target": "discipline"})
    for bad in (
        {**base, "target": "department", "department": "nowhere"},
        {**base, "target": "department"},
        {**base, "target": "judiciary", "department": dep_a},
        {**base, "target": "police"},
        {**base, "target": "judiciary", "text": " "},
        {**base, "target": "judiciary", "due_on": day(3)},
    ):
        r = await f.coord_b.client.post(f"/api/results/{f.result_b}/followups", json=bad)
        assert_error(r, 400, "followup.invalid")

    waiting = await _waiting(f.coord_b.client)
    ids = {x["id"] for x in waiting}
    assert {to_dep["id"], to_court["id"], to_discipline["id"]} <= ids
    assert all(x["state"] == "awaiting_feedback" for x in waiting)
    everything = (await f.coord_b.client.get("/api/followups")).json()
    assert everything["awaiting_feedback"] == 3 and everything["counts"] == {"awaiting_feedback": 3}
    court = next(x for x in waiting if x["id"] == to_court["id"])
    assert court["target_label"] == "司法机关" and court["subject_id"] == f.closed.subject_id

    await _refused(
        f.coord_b.client, to_dep["id"], {"step": "feedback", "text": ""}, 400, "followup.invalid"
    )  # feedback without its content
    got = await _step(
        f.coord_b.client, to_dep["id"], {"step": "feedback", "text": "已立案查处，罚款五千元"}
    )
    assert got["state"] == "feedback_received"
    await _refused(
        f.coord_b.client, to_dep["id"], {"step": "feedback", "text": "再次"}, 409, "followup.state"
    )
    assert to_dep["id"] not in {x["id"] for x in await _waiting(f.coord_b.client)}
    logged = await _logged(to_dep["id"])
    assert logged[0]["target"] == "department" and logged[0]["department"] == dep_a
    assert logged[1]["type"] == "server.followup_feedback" and "罚款" not in str(logged)
    assert (await verify_all()).ok


async def test_orders_past_their_due_date_are_flagged_overdue(following):
    f = following
    # the inspection three weeks ago (the row's date; the API refuses dates before it)
    await Result.update({Result.inspected_on: today() - dt.timedelta(days=21)}).where(
        Result.id == f.result_b
    )
    late = await _open(f.coord_b.client, f.result_b, order(due=-1, on=day(-14)))
    due_today = await _open(f.coord_b.client, f.result_b, order(due=0, on=day(-14)))
    listed = (await f.coord_b.client.get("/api/followups", params={"overdue": "true"})).json()
    assert [x["id"] for x in listed["followups"]] == [late["id"]]
    assert listed["overdue"] == 1 and listed["followups"][0]["days_left"] == -1
    everything = (await f.coord_b.client.get("/api/followups")).json()
    assert everything["overdue"] == 1
    on_time = (await f.coord_b.client.get("/api/followups", params={"overdue": "false"})).json()
    assert due_today["id"] in {x["id"] for x in on_time["followups"]}
    assert late["id"] not in {x["id"] for x in on_time["followups"]}
    # a re-inspection (here: not corrected) ends the waiting: no longer overdue
    await _step(f.member_b, late["id"], {"step": "reinspect", "outcome": "not_corrected"})
    listed = (await f.coord_b.client.get("/api/followups", params={"overdue": "true"})).json()
    assert listed["followups"] == []


def test_overdue_is_an_open_order_after_its_due_date():
    d = dt.date(2031, 3, 3)
    assert is_overdue(kind="rectification", state="open", due_on=d, today=d) is False
    assert is_overdue(kind="rectification", state="open", due_on=d, today=d.replace(day=4))
    assert not is_overdue(kind="rectification", state="corrected", due_on=d, today=d.replace(day=4))
    assert not is_overdue(kind="case", state="filed", due_on=None, today=d)


async def test_who_may_follow_up(following, as_role, client, outsider):
    f = following
    dep_a, dep_b = f.closed.deps
    url = f"/api/results/{f.result_b}/followups"
    # opening: B's coordinators (and admins) only
    assert_error(await f.coord_a.client.post(url, json=order()), 403, "auth.department_forbidden")
    assert_error(await f.member_b.post(url, json=order()), 403, "auth.forbidden")
    assert_error(await client.post(url, json=order()), 401, "auth.required")
    admin = await as_role(Role.admin)
    oid = (await _open(admin.client, f.result_b, order()))["id"]
    cid = (
        await _open(f.coord_b.client, f.result_b, {"kind": "case", "on": day(), "case_no": "立-1"})
    )["id"]
    assert await FollowUp.count().where(FollowUp.result == f.result_b) == 2

    reinspect = {"step": "reinspect", "on": day(), "outcome": "corrected"}
    stranger_b = await outsider(dep_b)  # B's inspector, not in this visit
    for caller, code in (
        (f.coord_a.client, "auth.department_forbidden"),
        (f.leader, "auth.department_forbidden"),  # in the visit, but served A
        (stranger_b, "auth.department_forbidden"),
    ):
        assert_error(await caller.post(f"/api/followups/{oid}/steps", json=reinspect), 403, code)
    assert_error(
        await client.post(f"/api/followups/{oid}/steps", json=reinspect), 401, "auth.required"
    )
    # closing a case: the coordinators' step, not the inspectors'
    close = {"step": "close", "on": day(), "outcome": "not_penalised"}
    assert_error(
        await f.member_b.post(f"/api/followups/{cid}/steps", json=close), 403, "auth.forbidden"
    )
    assert_error(
        await f.coord_a.client.post(f"/api/followups/{cid}/steps", json=close),
        403,
        "auth.department_forbidden",
    )
    assert await FollowUpStep.count().where(FollowUpStep.followup.is_in([oid, cid])) == 2

    # reading: A's coordinator and the visit's A member see none of B's
    for caller in (f.coord_a.client, f.leader, stranger_b):
        assert_error(await caller.get(f"/api/followups/{oid}"), 403, "auth.department_forbidden")
        assert_error(await caller.get(url), 403, "auth.department_forbidden")
        listed = (await caller.get("/api/followups")).json()["followups"]
        assert not {oid, cid} & {x["id"] for x in listed}
    for caller in (f.coord_b.client, f.member_b, admin.client):
        listed = (await caller.get("/api/followups")).json()["followups"]
        assert {oid, cid} <= {x["id"] for x in listed}
    assert_error(await client.get("/api/followups"), 401, "auth.required")
    assert_error(await client.get(f"/api/followups/{oid}"), 401, "auth.required")
    # the admin re-inspects, the member reads the result's follow-ups without managing them
    await _step(admin.client, oid, {"step": "reinspect", "outcome": "corrected"})
    mine = (await f.member_b.get(url)).json()
    assert mine["may_manage"] is False and len(mine["followups"]) == 2
    assert dep_a != dep_b


async def test_bad_input_is_refused_and_changes_nothing(following):
    f = following
    c = f.coord_b.client
    url = f"/api/results/{f.result_b}/followups"
    oid = (await _open(c, f.result_b, order()))["id"]
    before = (
        await FollowUp.count(),
        await FollowUpStep.count(),
        await Event.count().where(Event.event_type.like("server.followup_%")),
    )
    inspected = (await Result.select(Result.inspected_on).where(Result.id == f.result_b))[0]
    yesterday = (inspected["inspected_on"] - dt.timedelta(days=1)).isoformat()
    for body in (
        order(due=0),  # due on the inspection day: not after it
        order(due=-3),
        {**order(), "due_on": "x"},
        {**order(), "due_on": "2026-02-30"},
        {**order(), "due_on": None},
        {**order(), "on": day(1)},  # an order dated tomorrow
        {**order(), "on": yesterday},  # before the inspection
        {**order(), "text": "   "},
        {**order(), "case_no": "立-2"},  # an order has no case number
        {**order(), "follows": oid},  # an order continues nothing
        {"kind": "case", "on": day(), "case_no": ""},
        {"kind": "case", "on": day(), "case_no": "立-3", "follows": 999999999},
        {"kind": "inspection", "on": day(), "text": "x"},
    ):
        r = await c.post(url, json=body)
        assert r.status_code in (400, 404) and r.json()["code"].startswith("followup."), (
            body,
            r.text,
        )
    for body in (
        {"kind": "rectification", "on": "2026/12/01", "due_on": day(3), "text": "x"},
        {"kind": "rectification", "on": day(), "due_on": day(3), "text": "x", "extra": 1},
        {"kind": "rectification", "on": day(), "due_on": day(3), "text": "x\x00"},
        {"kind": "rectification", "on": day(), "follows": 10**30, "text": "x"},
        {"on": day()},
    ):
        r = await c.post(url, json=body)
        assert r.status_code == 400, (body, r.text)
    steps = f"/api/followups/{oid}/steps"
    for body in (
        {"step": "reinspect", "on": day(), "outcome": "maybe"},
        {"step": "reinspect", "on": day(), "outcome": ""},
        {"step": "reinspect", "on": day(1), "outcome": "corrected"},
        {"step": "reinspect", "on": yesterday, "outcome": "corrected"},
        {"step": "feedback", "on": day(), "text": "x"},
        {"step": "approve", "on": day()},
    ):
        assert_error(await c.post(steps, json=body), 400, "followup.invalid")
    assert_error(await c.get("/api/followups/999999999"), 404, "followup.unknown")
    assert_error(await c.get("/api/followups/0"), 404, "followup.unknown")
    assert_error(
        await c.post("/api/results/999999999/followups", json=order()), 404, "result.unknown"
    )
    assert_error(await c.get("/api/followups", params={"state": "x"}), 400, "followup.invalid")
    assert_error(await c.get("/api/followups", params={"kind": "x"}), 400, "followup.invalid")
    assert (await c.get("/api/followups", params={"overdue": "maybe"})).status_code == 400
    after = (
        await FollowUp.count(),
        await FollowUpStep.count(),
        await Event.count().where(Event.event_type.like("server.followup_%")),
    )
    assert after == before
    assert (await _detail(c, oid))["state"] == "open"
    assert (await verify_all()).ok


async def test_steps_are_append_only_in_the_database(following):
    f = following
    oid = (await _open(f.coord_b.client, f.result_b, order()))["id"]
    with pytest.raises(Exception, match="append-only"):
        await FollowUpStep.update({FollowUpStep.text: "改写"}).where(FollowUpStep.followup == oid)
    with pytest.raises(Exception, match="append-only"):
        await FollowUpStep.delete().where(FollowUpStep.followup == oid)
    assert (await _detail(f.coord_b.client, oid))["steps"][0]["text"] == WHAT
