"""The calendar over HTTP (both engines): anyone signed in reads, only an admin imports; bad
input is a coded 4xx; an import of 2027 turns December visits' due dates final."""

from __future__ import annotations

from datetime import date

import pytest

from onevisit.auth.roles import Role
from onevisit.workdays.tables import CalendarYear
from tests.directory.test_api import assert_error
from tests.workdays.util import DAYS_2027, csv_file, fresh_year, json_file, whole_year


def _upload(data: bytes, name: str = "calendar.csv") -> dict:
    return {"files": {"file": (name, data, "text/csv")}}


async def test_a_december_visit_is_provisional_until_2027_is_imported(as_role):
    admin = await as_role(Role.admin)
    inspector = await as_role(Role.inspector)
    assert not await CalendarYear.exists().where(CalendarYear.year == 2027)

    r = await inspector.client.get("/api/calendar/due", params={"date": "2026-12-15"})
    assert r.status_code == 200, r.text
    assert r.json() == {"visit": "2026-12-15", "due": "2027-01-12", "provisional": True}
    r = await inspector.client.get("/api/calendar/2027")
    assert r.json()["loaded"] is False and r.json()["days"] == []

    r = await admin.client.post("/api/calendar/import", **_upload(csv_file(DAYS_2027), "2027.csv"))
    assert r.status_code == 200, r.text
    assert r.json()["years"] == [
        {"year": 2027, "version": 1, "days": 18, "holidays": 15, "workdays": 3, "changed": True}
    ]
    assert r.json()["source"] == "import:2027.csv"

    r = await inspector.client.get("/api/calendar/due", params={"date": "2026-12-15"})
    assert r.json() == {"visit": "2026-12-15", "due": "2027-01-13", "provisional": False}
    year = (await inspector.client.get("/api/calendar/2027")).json()
    assert (year["loaded"], year["version"], year["source"]) == (True, 1, "import:2027.csv")
    assert year["days"][0] == {"date": "2027-01-01", "kind": "holiday", "name": "元旦"}


async def test_any_signed_in_role_reads(as_role):
    for role in Role:
        caller = await as_role(role)
        r = await caller.client.get("/api/calendar/2026")
        assert r.status_code == 200, (role, r.text)
        body = r.json()
        assert body["loaded"] and body["source"].startswith("chinese-calendar")
        assert {"date": "2026-10-10", "kind": "workday", "name": "国庆节"} in body["days"]
        r = await caller.client.get("/api/calendar/due", params={"date": "2026-09-25"})
        assert r.json()["due"] == "2026-10-29" and r.json()["provisional"] is False


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/calendar/2026"),
        ("GET", "/api/calendar/due?date=2026-09-25"),
        ("POST", "/api/calendar/import"),
    ],
)
async def test_anonymous_callers_get_401(client, method, path):
    assert_error(await client.request(method, path), 401, "auth.required")


@pytest.mark.parametrize("role", [Role.inspector, Role.coordinator, Role.leader])
async def test_only_an_admin_imports(as_role, role):
    caller = await as_role(role)
    year = fresh_year()
    r = await caller.client.post("/api/calendar/import", **_upload(csv_file(whole_year(year))))
    assert_error(r, 403, "auth.forbidden")
    assert not await CalendarYear.exists().where(CalendarYear.year == year)


async def test_bad_files_are_reported_row_by_row_and_store_nothing(as_role):
    admin = await as_role(Role.admin)
    year = fresh_year()
    rows = [*whole_year(year), (f"{year}-03-04", "workday", "调休"), ("x", "休", "春节")]
    r = await admin.client.post("/api/calendar/import", **_upload(csv_file(rows)))
    assert_error(r, 422, "calendar.rows_invalid")
    errors = r.json()["details"]["errors"]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [
        (15, "kind", "calendar.workday_weekday"),
        (16, "date", "calendar.date_invalid"),
    ]
    assert not await CalendarYear.exists().where(CalendarYear.year == year)

    r = await admin.client.post("/api/calendar/import", **_upload(b"\x00\x01", "x.csv"))
    assert_error(r, 400, "calendar.bad_file")
    r = await admin.client.post("/api/calendar/import", **_upload(b"[{", "x.json"))
    assert_error(r, 400, "calendar.bad_file")
    r = await admin.client.post("/api/calendar/import", data={"nofile": "x"})
    assert 400 <= r.status_code < 500 and "code" in r.json()

    # a weekend holiday: imported, with a warning
    saturday = next(d for d in (date(year, 10, k) for k in range(1, 8)) if d.weekday() == 5)
    rows = [*whole_year(year), (saturday.isoformat(), "holiday", "国庆节")]
    r = await admin.client.post("/api/calendar/import", **_upload(json_file(rows), "y.json"))
    assert r.status_code == 200, r.text
    assert [(w["row"], w["code"]) for w in r.json()["warnings"]] == [
        (len(rows), "calendar.holiday_weekend")  # JSON rows count from 1
    ]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/calendar/due?date=2026-02-30", 400, "calendar.date_invalid"),
        ("/api/calendar/due?date=20260925", 400, "calendar.date_invalid"),
        ("/api/calendar/due?date=1999-01-01", 400, "calendar.year_invalid"),
        ("/api/calendar/due", 400, "request.invalid"),
        ("/api/calendar/1999", 400, "calendar.year_invalid"),
        ("/api/calendar/99999999999999999999", 400, "calendar.year_invalid"),
    ],
)
async def test_bad_queries_are_coded_4xx(as_role, path, status, code):
    caller = await as_role(Role.inspector)
    assert_error(await caller.client.get(path), status, code)


async def test_the_routes_declare_their_roles(app):
    """What /schema shows (openapi.document_access): reads for every role, import for admins."""
    roles = {}
    for route in app.routes:
        if route.path.startswith("/api/calendar"):
            for handler in route.route_handlers:
                if handler.http_methods != {"OPTIONS"}:
                    guards = handler.guards  # mine sit on the handlers, none on the controller
                    roles[route.path] = sorted({r for g in guards for r in g.roles})
    every = sorted(Role)
    assert roles == {
        "/api/calendar/{year:int}": every,
        "/api/calendar/due": every,
        "/api/calendar/import": ["admin"],
    }
