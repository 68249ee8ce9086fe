"""Results of a closed visit through the real API on both engines: intake from the record,
review by the matter's department, corrections as new versions, publication and withholding,
the public pages and open data — and who may do what."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from onevisit.auth.roles import Role
from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from onevisit.planning.tables import Visit
from onevisit.results.cli import run_due
from onevisit.results.reading import clock
from onevisit.results.review import intake_closed_visits
from onevisit.results.tables import Result, ResultStep, ResultVersion
from onevisit.workdays.calendar import WorkdayCalendar
from onevisit.workdays.service import get_calendar
from tests.directory.test_api import assert_error
from tests.results.conftest import PRIVATE_NOTE, Closed

BEIJING = dt.timezone(dt.timedelta(hours=8))


async def _mine(client, **query) -> list[dict]:
    r = await client.get("/api/results", params=query)
    assert r.status_code == 200, r.text
    return r.json()["results"]


async def _of(closed: Closed, client) -> dict[str, dict]:
    """The caller's results of this visit, by department."""
    return {r["department"]: r for r in await _mine(client) if r["visit"] == closed.visit}


async def test_closing_a_visit_makes_one_result_per_matter_for_review(closed_visit, as_role):
    c = closed_visit
    dep_a, dep_b = c.deps
    coord_a = await as_role(Role.coordinator, department=dep_a)
    coord_b = await as_role(Role.coordinator, department=dep_b)
    mine_a, mine_b = await _of(c, coord_a.client), await _of(c, coord_b.client)
    # each department sees its own matter's result only
    assert list(mine_a) == [dep_a] and list(mine_b) == [dep_b]
    a, b = mine_a[dep_a], mine_b[dep_b]
    assert (a["state"], a["result_code"], a["version"]) == ("pending_review", "no_problem", 1)
    assert (b["result_code"], b["disposition"]) == ("pending_follow_up", "order_correction")
    assert a["state_label"] == "待审核" and b["result_label"] == "发现问题待后续处理"
    assert a["subject_id"] == c.subject_id and a["record_hash"] == c.record_hash
    # the clock: the 20th working day after the inspection (today, Beijing), per our calendar
    today = dt.datetime.now(BEIJING).date()
    due, provisional = (await get_calendar()).due_date(today)
    assert a["inspected_on"] == today.isoformat()
    assert a["clock"]["due"] == due.isoformat() and a["clock"]["provisional"] == provisional
    assert a["clock"]["working_days_left"] == 20 and a["clock"]["alert"] is None
    # members see the matters of the department they serve in their visit
    assert list(await _of(c, c.leader.client)) == [dep_a]
    assert list(await _of(c, c.member_b.client)) == [dep_b]
    # each intake is a server log entry, and the log still verifies
    rows = await Event.select(Event.event_type).where(
        (Event.visit == c.visit) & (Event.event_type == "server.result_submitted")
    )
    assert len(rows) == 2
    assert (await verify_all()).ok
    # reading again takes nothing in twice
    assert len(await _of(c, coord_a.client)) == 1
    assert await Result.count().where(Result.visit == c.visit) == 2


async def test_review_then_publication_reaches_the_public_without_personal_data(
    closed_visit, as_role, client
):
    c = closed_visit
    dep_a, dep_b = c.deps
    coord_a = await as_role(Role.coordinator, department=dep_a)
    coord_b = await as_role(Role.coordinator, department=dep_b)
    a = (await _of(c, coord_a.client))[dep_a]
    b = (await _of(c, coord_b.client))[dep_b]
    url_a, url_b = f"/api/results/{a['id']}", f"/api/results/{b['id']}"

    # publishing without review, another department's review, an inspector's: refused
    assert_error(await coord_a.client.post(f"{url_a}/publish"), 409, "result.not_reviewed")
    assert_error(await coord_b.client.post(f"{url_a}/approve"), 403, "auth.department_forbidden")
    assert_error(await c.leader.client.post(f"{url_a}/approve"), 403, "auth.forbidden")
    assert_error(await client.post(f"{url_a}/approve"), 401, "auth.required")
    # reading another department's unpublished result: refused
    assert_error(await coord_b.client.get(url_a), 403, "auth.department_forbidden")
    assert_error(await c.member_b.client.get(url_a), 403, "auth.department_forbidden")
    assert_error(
        await coord_b.client.get("/api/results", params={"department": dep_a}),
        403,
        "auth.department_forbidden",
    )
    assert (await Result.select(Result.state).where(Result.id == a["id"]))[0]["state"] == (
        "pending_review"
    )

    r = await coord_a.client.post(f"{url_a}/approve")
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    r = await coord_a.client.post(f"{url_a}/publish")
    assert r.status_code == 200 and r.json()["state"] == "published", r.text
    assert_error(await coord_a.client.post(f"{url_a}/publish"), 409, "result.not_reviewed")
    for step in ("approve", "publish"):
        assert (await coord_b.client.post(f"{url_b}/{step}")).status_code == 200

    detail = (await coord_a.client.get(url_a)).json()
    assert [s["action"] for s in detail["steps"]] == ["submitted", "approved", "published"]
    assert detail["clock"]["on_time"] is True and detail["clock"]["published_on"]

    # the public: search by name, by USCC (any case), the subject's page, open data
    found = (await client.get("/public/results", params={"q": c.subject_name[2:8]},
                              headers={"Accept": "application/json"})).json()  # fmt: skip
    assert [s["subject_id"] for s in found["subjects"]] == [c.subject_id]
    assert found["subjects"][0]["results"] == 2
    found = (await client.get("/public/results", params={"q": c.subject_id.lower()},
                              headers={"Accept": "application/json"})).json()  # fmt: skip
    assert [s["subject_id"] for s in found["subjects"]] == [c.subject_id]
    html = await client.get("/public/results", params={"q": c.subject_name})
    assert html.status_code == 200 and c.subject_name in html.text
    page = await client.get(f"/public/subjects/{c.subject_id}")
    assert page.status_code == 200 and "发现问题待后续处理" in page.text
    assert f"/verify/record/{c.record_hash}" in page.text
    data = (
        await client.get(f"/public/subjects/{c.subject_id}", headers={"Accept": "application/json"})
    ).json()
    assert {r["result_code"] for r in data["results"]} == {"no_problem", "pending_follow_up"}
    as_json = (await client.get("/public/results.json")).json()["results"]
    ours = [r for r in as_json if r["subject_id"] == c.subject_id]
    assert len(ours) == 2 and all(r["verify"].endswith(c.record_hash) for r in ours)
    as_csv = await client.get("/public/results.csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert sorted(r["result_code"] for r in rows if r["subject_id"] == c.subject_id) == [
        "no_problem", "pending_follow_up",
    ]  # fmt: skip
    # personal data and free text never reach a public page
    for text in (page.text, str(data), str(as_json), as_csv.text, html.text):
        assert "13800138000" not in text and "13900139000" not in text
        assert PRIVATE_NOTE not in text and "赵敏" not in text
    assert (await verify_all()).ok


async def test_a_correction_is_a_new_version_and_keeps_the_history_public(
    closed_visit, as_role, client
):
    c = closed_visit
    _, dep_b = c.deps
    coord_b = await as_role(Role.coordinator, department=dep_b)
    b = (await _of(c, coord_b.client))[dep_b]
    url = f"/api/results/{b['id']}"
    r = await coord_b.client.post(f"{url}/return", json={"reason": "处置措施应为责令改正并复查"})
    assert r.status_code == 200 and r.json()["state"] == "returned"
    assert_error(await coord_b.client.post(f"{url}/approve"), 409, "result.state")

    fix = {"result_code": "corrected", "disposition": "order_correction",
           "note": "已当场整改", "reason": "复查确认已改正"}  # fmt: skip
    # 谁检查、谁录入: the leader serves department A, not B
    assert_error(await c.leader.client.post(f"{url}/versions", json=fix), 403,
                 "auth.department_forbidden")  # fmt: skip
    r = await c.member_b.client.post(f"{url}/versions", json=fix)
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    for step in ("approve", "publish"):
        assert (await coord_b.client.post(f"{url}/{step}")).status_code == 200

    # corrected again after publication: the public keeps seeing version 2 until 3 is published
    again = {**fix, "result_code": "no_problem", "disposition": "none", "reason": "复核更正"}
    assert (await coord_b.client.post(f"{url}/versions", json=again)).status_code == 201
    subject = f"/public/subjects/{c.subject_id}"
    json_accept = {"Accept": "application/json"}
    shown = (await client.get(subject, headers=json_accept)).json()["results"]
    assert [r["result_code"] for r in shown] == ["corrected"]  # A is not published
    assert shown[0]["version"] == 2 and shown[0]["corrected"] is False
    for step in ("approve", "publish"):
        assert (await coord_b.client.post(f"{url}/{step}")).status_code == 200
    shown = (await client.get(subject, headers=json_accept)).json()["results"]
    assert shown[0]["version"] == 3 and shown[0]["corrected"] is True
    assert [h["result_code"] for h in shown[0]["history"]] == ["corrected", "no_problem"]
    assert "更正记录" in (await client.get(subject)).text

    # nothing was edited: every version and step is still there
    versions = await ResultVersion.select(ResultVersion.version, ResultVersion.result_code).where(
        ResultVersion.result == b["id"]
    )
    assert sorted((v["version"], v["result_code"]) for v in versions) == [
        (1, "pending_follow_up"), (2, "corrected"), (3, "no_problem"),
    ]  # fmt: skip
    steps = await ResultStep.select(ResultStep.action).where(ResultStep.result == b["id"])
    assert [s["action"] for s in steps] == [
        "submitted", "returned", "corrected", "approved", "published", "corrected", "approved",
        "published",
    ]  # fmt: skip
    assert (await verify_all()).ok


async def test_withholding_needs_a_named_approver_and_a_reason(closed_visit, as_role, client):
    c = closed_visit
    dep_a, _ = c.deps
    coord_a = await as_role(Role.coordinator, department=dep_a)
    a = (await _of(c, coord_a.client))[dep_a]
    url = f"/api/results/{a['id']}"
    reason = {"reason": "涉嫌违法已立案调查，公示将影响调查", "approver": "  "}
    early = {**reason, "approver": "张局长"}
    assert_error(await coord_a.client.post(f"{url}/withhold", json=early), 409,
                 "result.not_reviewed")  # fmt: skip
    assert (await coord_a.client.post(f"{url}/approve")).status_code == 200
    assert_error(await coord_a.client.post(f"{url}/withhold", json=reason), 400,
                 "result.withhold_unapproved")  # fmt: skip
    r = await coord_a.client.post(f"{url}/withhold", json={"reason": "x"})
    assert r.status_code == 400  # no approver at all
    r = await coord_a.client.post(f"{url}/withhold", json={**reason, "approver": "张局长"})
    assert r.status_code == 200 and r.json()["state"] == "withheld", r.text
    detail = (await coord_a.client.get(url)).json()
    assert detail["clock"].get("withheld") is True
    assert detail["steps"][-1]["approver"] == "张局长"
    r = await client.get(f"/public/subjects/{c.subject_id}")
    assert_error(r, 404, "result.unknown")  # nothing of it is public
    # released later: published like any reviewed result
    assert (await coord_a.client.post(f"{url}/publish")).status_code == 200
    assert (await client.get(f"/public/subjects/{c.subject_id}")).status_code == 200


async def test_bad_input_is_refused_and_changes_nothing(closed_visit, as_role, client):
    c = closed_visit
    dep_a, _ = c.deps
    coord_a = await as_role(Role.coordinator, department=dep_a)
    a = (await _of(c, coord_a.client))[dep_a]
    url = f"/api/results/{a['id']}"
    assert_error(await coord_a.client.get("/api/results/999999999"), 404, "result.unknown")
    assert_error(await coord_a.client.get("/api/results", params={"state": "x"}), 400,
                 "result.invalid")  # fmt: skip
    bad = [
        {"result_code": "fine", "reason": "r"},
        {"result_code": "no_problem", "reason": "r", "disposition": "nothing"},
        {"result_code": "no_problem", "reason": "   "},
    ]
    for body in bad:
        assert_error(await coord_a.client.post(f"{url}/versions", json=body), 400,
                     "result.invalid")  # fmt: skip
    r = await coord_a.client.post(f"{url}/versions", json={"result_code": "no_problem"})
    assert r.status_code == 400  # no reason
    assert_error(await coord_a.client.post(f"{url}/return", json={"reason": " "}), 400,
                 "result.invalid")  # fmt: skip
    assert await ResultVersion.count().where(ResultVersion.result == a["id"]) == 1
    assert (await coord_a.client.get(url)).json()["state"] == "pending_review"
    assert_error(await client.get("/public/subjects/nobody"), 404, "result.unknown")
    r = await client.get("/public/results", params={"q": "%_\\"},
                         headers={"Accept": "application/json"})  # fmt: skip
    assert r.status_code == 200 and r.json()["subjects"] == []
    assert_error(await client.get("/api/results"), 401, "auth.required")


def test_the_clock_alerts_at_five_and_two_working_days_and_counts_overdue():
    calendar = WorkdayCalendar({})  # no year loaded: Monday–Friday, provisional
    row = {"inspected_on": dt.date(2031, 3, 3), "published_at": None, "state": "pending_review"}
    due = dt.date(2031, 3, 31)  # 20 weekdays after Monday 3 March
    tick = clock(calendar, row, dt.date(2031, 3, 4))
    assert tick["due"] == due.isoformat() and tick["provisional"] is True
    assert tick["working_days_left"] == 19 and tick["alert"] is None
    assert clock(calendar, row, dt.date(2031, 3, 24))["alert"] == "due_in_5"
    assert clock(calendar, row, dt.date(2031, 3, 27))["alert"] == "due_in_2"
    assert clock(calendar, row, due)["alert"] == "due_in_2"
    late = clock(calendar, row, dt.date(2031, 4, 1))
    assert late["alert"] == "overdue" and late["overdue"] is True
    published = {**row, "state": "published",
                 "published_at": dt.datetime(2031, 4, 1, 1, tzinfo=dt.UTC)}  # fmt: skip
    assert clock(calendar, published, dt.date(2031, 4, 2))["on_time"] is False
    published["published_at"] = dt.datetime(2031, 3, 31, 15, 59, tzinfo=dt.UTC)  # 23:59 Beijing
    assert clock(calendar, published, dt.date(2031, 4, 2))["on_time"] is True


async def test_the_clock_uses_the_holiday_calendar(migrated):
    calendar = await get_calendar()
    row = {"inspected_on": dt.date(2026, 9, 25), "published_at": None, "state": "approved"}
    tick = clock(calendar, row, dt.date(2026, 9, 28))
    # the visit day never counts; National Day's week off and its make-up Saturday do
    assert tick["due"] == "2026-10-29" and tick["provisional"] is False


async def test_each_role_reaches_only_what_it_may(
    closed_visit, as_role, client, make_user, sign_in
):
    """A matrix of who may read and review department A's unpublished result."""
    c = closed_visit
    dep_a, dep_b = c.deps
    admin = await as_role(Role.admin)
    coord_a = await as_role(Role.coordinator, department=dep_a)
    coord_b = await as_role(Role.coordinator, department=dep_b)
    outsider = await sign_in(await make_user(role=Role.inspector, department=dep_a))
    a = (await _of(c, coord_a.client))[dep_a]
    url = f"/api/results/{a['id']}"
    read = {
        admin.client: 200, coord_a.client: 200, c.leader.client: 200, c.second.client: 200,
        coord_b.client: 403, c.member_b.client: 403, outsider: 403, client: 401,
    }  # fmt: skip
    for who, status in read.items():
        assert (await who.get(url)).status_code == status
    for who, code in (
        (coord_b.client, "auth.department_forbidden"),
        (c.leader.client, "auth.forbidden"),
        (c.member_b.client, "auth.forbidden"),
        (outsider, "auth.forbidden"),
        (client, "auth.required"),
    ):
        r = await who.post(f"{url}/approve")
        assert r.json()["code"] == code, (code, r.text)
    # nobody edits a result in place: there is no such method, only new versions
    for method in ("PUT", "PATCH", "DELETE"):
        r = await admin.client.request(method, url, json={"result_code": "no_problem"})
        assert r.status_code == 405, (method, r.status_code)
    assert (await admin.client.post(f"{url}/approve")).status_code == 200  # admins review
    assert (await Result.select(Result.state).where(Result.id == a["id"]))[0]["state"] == "approved"


async def test_the_due_command_reminds_at_two_days_and_reports_overdue(closed_visit, capsys):
    c = closed_visit
    dep_a, _ = c.deps
    calendar = await get_calendar()
    due, _ = calendar.due_date(dt.datetime.now(BEIJING).date())
    assert await run_due(department=dep_a, today=due) == 0  # due today: the 2-day reminder
    out = capsys.readouterr().out
    assert "2 个工作日内到期：1 条" in out and c.subject_name in out and "已超期" not in out
    after = due + dt.timedelta(days=1)
    assert await run_due(department=dep_a, today=after) == 1
    out = capsys.readouterr().out
    assert "已超期（计为未完成）：1 条" in out and f"期限 {due.isoformat()}" in out


async def test_versions_and_steps_cannot_be_rewritten_even_by_sql(closed_visit):
    await intake_closed_visits()  # (readers take closed visits in; here nobody read yet)
    row = await Result.select(Result.id).where(Result.visit == closed_visit.visit).first()
    for table, column, value in (
        (ResultVersion, ResultVersion.result_code, "no_problem"),
        (ResultStep, ResultStep.action, "published"),
    ):
        mine = table.result == row["id"]
        with pytest.raises(Exception, match="append-only"):
            await table.update({column: value}).where(mine)
        with pytest.raises(Exception, match="append-only"):
            await table.delete().where(mine)
        assert await table.count().where(mine) == 1


async def test_a_published_result_makes_its_undrawn_task_public(closed_visit, as_role, client):
    """The joint visit here was assigned, not drawn: its task page says so once a result of
    it is published (before that the task is not public at all)."""
    c = closed_visit
    dep_a, _ = c.deps
    task = (await Visit.select(Visit.task.code).where(Visit.id == c.visit).first())["task.code"]
    json_accept = {"Accept": "application/json"}
    r = await client.get(f"/public/tasks/{task}", headers=json_accept)
    assert_error(r, 404, "draw.not_published")
    coord_a = await as_role(Role.coordinator, department=dep_a)
    a = (await _of(c, coord_a.client))[dep_a]
    for step in ("approve", "publish"):
        assert (await coord_a.client.post(f"/api/results/{a['id']}/{step}")).status_code == 200
    page = (await client.get(f"/public/tasks/{task}", headers=json_accept)).json()
    assert page["id"] == task and page["draw"] is None
    assert [m["department"] for m in page["matters"]] == list(c.deps)
    html = await client.get(f"/public/tasks/{task}")
    assert html.status_code == 200 and "id='no-draw'" in html.text
    subject = await client.get(f"/public/subjects/{c.subject_id}")
    assert f"/public/tasks/{task}'" in subject.text
