"""Credit linkage (002:24, 16): published problems and the directory's lists raise a subject's
risk class for the next draw's strata; inspections here count for the exclusions."""

from __future__ import annotations

import datetime as dt

from onevisit.auth.roles import Role
from onevisit.directory.tables import Subject
from onevisit.results.credit import effective_class, flag_level, latest_inspections, linked
from tests.fixtures import unique
from tests.results.conftest import BEIJING, Closed

ALL = {c: {"count": 1} for c in ("A", "B", "C", "D", "3y+")}


def test_the_higher_risk_wins():
    assert effective_class("A") == "A"
    assert effective_class("B", None, "C") == "C"
    assert effective_class("D", "C") == "D"
    assert effective_class("A", "C", "D", None) == "D"
    assert flag_level(False, False) is None
    assert flag_level(True, False) == "C" and flag_level(True, True) == "D"
    row = {"subject_id": "S", "credit_class": "A", "abnormal": False, "serious_violation": False,
           "last_inspected": dt.date(2020, 5, 1)}  # fmt: skip
    today = dt.date(2026, 12, 1)
    assert linked(row, {}, {}) == ("A", dt.date(2020, 5, 1))
    assert linked(row, {"S": "C"}, {"S": today}) == ("C", today)
    assert linked({**row, "serious_violation": True}, {"S": "C"}, {}) == (
        "D",
        row["last_inspected"],
    )


async def _stratum(closed: Closed, coordinator) -> tuple[str, int]:
    """Commit a draw of a triggered task naming the subject: (its stratum, risk_raised)."""
    code = unique("T")
    trigger = {"kind": "complaint", "reference": unique("TS"), "note": "",
               "subjects": [closed.subject_id]}  # fmt: skip
    matter = closed.matters[closed.leader.department]
    r = await coordinator.client.post(
        "/api/tasks",
        json={"code": code, "name": "投诉核查", "matters": [matter], "trigger": trigger},
    )
    assert r.status_code == 201, r.text
    r = await coordinator.client.post(f"/api/tasks/{code}/draw", json={"strata": ALL})
    assert r.status_code == 201, r.text
    status = (await coordinator.client.get(f"/api/tasks/{code}/draw")).json()
    (stratum,) = [s for s, row in status["strata"].items() if row["eligible"]]
    return stratum, r.json()["risk_raised"]


async def test_a_published_problem_raises_the_class_the_next_draw_uses(closed_visit, as_role):
    c = closed_visit
    dep_a, dep_b = c.deps
    coord_a = await as_role(Role.coordinator, department=dep_a)
    coord_b = await as_role(Role.coordinator, department=dep_b)
    # closed but not published: no signal yet (the subject's imported class is B)
    assert await _stratum(c, coord_a) == ("B", 0)
    today = dt.datetime.now(BEIJING).date()
    assert await latest_inspections([c.subject_id]) == {c.subject_id: today}

    results = (await coord_b.client.get("/api/results")).json()["results"]
    (b,) = [r for r in results if r["visit"] == c.visit]
    for step in ("approve", "publish"):
        assert (await coord_b.client.post(f"/api/results/{b['id']}/{step}")).status_code == 200
    assert await _stratum(c, coord_a) == ("C", 1)  # a problem pending follow-up

    fix = {"result_code": "refused_severe", "reason": "复核：拒不配合情节严重"}
    assert (
        await coord_b.client.post(f"/api/results/{b['id']}/versions", json=fix)
    ).status_code == 201
    assert await _stratum(c, coord_a) == ("C", 1)  # the correction is not published yet
    for step in ("approve", "publish"):
        assert (await coord_b.client.post(f"/api/results/{b['id']}/{step}")).status_code == 200
    assert await _stratum(c, coord_a) == ("D", 1)

    # the correction that finds no problem after all removes the signal
    fix = {"result_code": "no_problem", "reason": "复核：未发现问题"}
    assert (
        await coord_b.client.post(f"/api/results/{b['id']}/versions", json=fix)
    ).status_code == 201
    for step in ("approve", "publish"):
        assert (await coord_b.client.post(f"/api/results/{b['id']}/{step}")).status_code == 200
    assert await _stratum(c, coord_a) == ("B", 0)
    # the directory's serious-violation list raises it too
    await Subject.update({Subject.serious_violation: True}).where(
        Subject.subject_id == c.subject_id
    )
    assert await _stratum(c, coord_a) == ("D", 1)
