"""The directories over HTTP: the contract the PWA is written against, and who may do what."""

import pytest

from onevisit.auth.roles import Role
from onevisit.config import get_settings
from tests.directory.util import SUBJECT_HEADER, csv_bytes, new_uscc, subject_row
from tests.fixtures import unique

ALL_ROLES = [Role.admin, Role.coordinator, Role.leader, Role.inspector]


def matter_body(department: str, **over) -> dict:
    body = {
        "code": unique("m"),
        "department": department,
        "name": "企业公示信息的抽查",
        "category": "general",
        "ratio_cap": "0.05",
        "basis": "《企业信息公示暂行条例》",
        "content": "年度报告公示信息",
        "methods": ["on_site", "documentary"],
        "subject_kinds": ["enterprise"],
        "items": [{"text": "是否按时公示年报", "basis": "第八条"}, {"text": "信息是否真实"}],
    }
    body.update(over)
    return body


def inspector_body(department: str, **over) -> dict:
    body = {
        "code": unique("i"),
        "name": "张三",
        "department": department,
        "certificate_no": unique("豫执"),
        "post": "科员",
        "expertise": ["食品"],
    }
    body.update(over)
    return body


def assert_error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/departments",
        "/api/matters",
        "/api/subjects",
        "/api/inspectors",
        "/api/exports/subjects.csv",
    ],
)
async def test_unauthenticated_gets_401(client, path):
    assert_error(await client.get(path), 401, "auth.required")


async def test_departments(as_role):
    admin = await as_role(Role.admin)
    a, b = unique("dA"), unique("dB")
    r = await admin.client.post("/api/departments", json={"code": a, "name": "甲局"})
    assert r.status_code == 201, r.text
    r = await admin.client.post(
        "/api/departments",
        json={"code": b, "name": "乙局", "region_code": "410300", "partners": [a]},
    )
    assert r.json() == {
        "code": b,
        "name": "乙局",
        "region_code": "410300",
        "partners": [a],
        "active": True,
    }
    assert_error(
        await admin.client.post("/api/departments", json={"code": a, "name": "x"}),
        409,
        "department.exists",
    )
    assert_error(
        await admin.client.post(
            "/api/departments", json={"code": unique("d"), "name": "x", "partners": ["nope"]}
        ),
        404,
        "department.unknown",
    )
    for role in ALL_ROLES:
        me = await as_role(role)
        r = await me.client.get("/api/departments")
        assert r.status_code == 200
        assert {
            "code": b,
            "name": "乙局",
            "region_code": "410300",
            "partners": [a],
            "active": True,
        } in r.json()["departments"]
        if role is not Role.admin:
            r = await me.client.post("/api/departments", json={"code": unique("d"), "name": "x"})
            assert_error(r, 403, "auth.forbidden")


async def test_matters(as_role, make_department):
    coordinator = await as_role(Role.coordinator)
    body = matter_body(coordinator.department)
    r = await coordinator.client.post("/api/matters", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["items"] == [
        {"position": 0, "text": "是否按时公示年报", "basis": "第八条"},
        {"position": 1, "text": "信息是否真实", "basis": ""},
    ]
    assert (out["ratio_cap"], out["active"], out["methods"]) == (
        "0.05",
        True,
        ["on_site", "documentary"],
    )
    # PUT replaces the items, in order
    body["items"] = [{"text": "新检查项", "basis": ""}]
    body["category"], body["ratio_cap"] = "key", None
    r = await coordinator.client.put(f"/api/matters/{body['code']}", json=body)
    assert r.status_code == 200, r.text
    assert [i["text"] for i in r.json()["items"]] == ["新检查项"]
    for role in ALL_ROLES:
        me = await as_role(role)
        r = await me.client.get("/api/matters", params={"department": coordinator.department})
        assert [m["code"] for m in r.json()["matters"]] == [body["code"]]
    # the rules of the list
    other = await make_department()
    assert_error(
        await coordinator.client.post("/api/matters", json=matter_body(other)),
        403,
        "auth.department_forbidden",
    )
    bad = [
        matter_body(coordinator.department, ratio_cap=None),
        matter_body(coordinator.department, category="key"),
        matter_body(coordinator.department, ratio_cap="1.5"),
        matter_body(coordinator.department, ratio_cap="0"),
        matter_body(coordinator.department, methods=["telepathy"]),
        matter_body(coordinator.department, category="urgent"),
    ]
    for b in bad:
        assert_error(await coordinator.client.post("/api/matters", json=b), 400, "matter.invalid")
    leader = await as_role(Role.leader, department=coordinator.department)
    assert_error(
        await leader.client.post("/api/matters", json=matter_body(leader.department)),
        403,
        "auth.forbidden",
    )
    admin = await as_role(Role.admin)
    r = await admin.client.post("/api/matters", json=matter_body(other))
    assert r.status_code == 201
    code = r.json()["code"]
    r = await coordinator.client.put(
        f"/api/matters/{code}", json=matter_body(coordinator.department, code=code)
    )
    assert_error(r, 403, "auth.department_forbidden")
    assert_error(
        await admin.client.put("/api/matters/nope", json=matter_body(other, code="nope")),
        404,
        "matter.unknown",
    )


async def test_subjects(as_role):
    coordinator = await as_role(Role.coordinator)
    sid = new_uscc()
    body = {
        "subject_id": sid.lower(),
        "name": "洛阳某餐饮店",
        "kind": "enterprise",
        "lat_e6": 34_669_900,
        "lon_e6": 112_442_100,
        "tags": ["餐饮"],
    }
    r = await coordinator.client.post("/api/subjects", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["subject_id"], created["version"], created["history"]) == (sid, 1, [])
    assert_error(await coordinator.client.post("/api/subjects", json=body), 409, "subject.exists")
    r = await coordinator.client.put(
        f"/api/subjects/{sid}", json={**created, "name": "洛阳某餐饮店（新）", "credit_class": "C"}
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert (updated["version"], updated["credit_class"]) == (2, "C")
    assert [h["name"] for h in updated["history"]] == ["洛阳某餐饮店"]
    # an edit naming an old version is refused
    r = await coordinator.client.put(f"/api/subjects/{sid}", json={**created, "name": "x"})
    assert_error(r, 409, "subject.stale")
    for role in ALL_ROLES:
        me = await as_role(role)
        r = await me.client.get("/api/subjects", params={"q": sid[:12].lower()})
        assert r.status_code == 200
        assert sid in [s["subject_id"] for s in r.json()["subjects"]]
        r = await me.client.get(f"/api/subjects/{sid}")
        assert r.json()["version"] == 2 and len(r.json()["history"]) == 1
    r = await coordinator.client.get("/api/subjects", params={"q": "某餐饮店（新", "limit": 5})
    page = r.json()
    assert set(page) == {"subjects", "total"} and page["total"] >= 1
    assert set(page["subjects"][0]) == {
        "subject_id",
        "id_kind",
        "name",
        "kind",
        "address",
        "lat_e6",
        "lon_e6",
        "industry_code",
        "region_code",
        "credit_class",
        "abnormal",
        "serious_violation",
        "last_inspected",
        "legal_representative",
        "tags",
        "version",
        "revision",
    }
    r = await coordinator.client.get("/api/subjects", params={"credit_class": "c", "q": sid})
    assert [s["subject_id"] for s in r.json()["subjects"]] == [sid]
    bad = {**body, "subject_id": sid[:-1] + ("0" if sid[-1] != "0" else "1")}
    assert_error(
        await coordinator.client.post("/api/subjects", json=bad), 400, "subject.uscc_invalid"
    )
    assert_error(
        await coordinator.client.post("/api/subjects", json={**body, "lat_e6": "x"}),
        400,
        "request.invalid",
    )
    assert_error(
        await coordinator.client.post(
            "/api/subjects", json={**body, "subject_id": new_uscc(), "lat_e6": 91_000_000}
        ),
        400,
        "subject.coordinates_invalid",
    )
    assert_error(await coordinator.client.get("/api/subjects/NOPE"), 404, "subject.unknown")
    for role in (Role.leader, Role.inspector):
        me = await as_role(role)
        assert_error(await me.client.post("/api/subjects", json=body), 403, "auth.forbidden")
        assert_error(await me.client.put(f"/api/subjects/{sid}", json=body), 403, "auth.forbidden")


async def test_inspectors_by_department(as_role, make_department):
    dep_a, dep_b = await make_department(), await make_department()
    admin = await as_role(Role.admin)
    coord_a = await as_role(Role.coordinator, department=dep_a)
    coord_b = await as_role(Role.coordinator, department=dep_b)
    leader_b = await as_role(Role.leader, department=dep_b)
    inspector_a = await as_role(Role.inspector, department=dep_a)

    r = await coord_a.client.post("/api/inspectors", json=inspector_body(dep_a))
    assert r.status_code == 201, r.text
    code_a = r.json()["code"]
    r = await admin.client.post("/api/inspectors", json=inspector_body(dep_b, active=False))
    code_b = r.json()["code"]
    assert r.json()["active"] is False and r.json()["conflicts"] == []

    # coordinator of B cannot see, create or change A's inspectors
    assert_error(
        await coord_b.client.get("/api/inspectors", params={"department": dep_a}),
        403,
        "auth.department_forbidden",
    )
    assert_error(
        await coord_b.client.post("/api/inspectors", json=inspector_body(dep_a)),
        403,
        "auth.department_forbidden",
    )
    assert_error(
        await coord_b.client.put(
            f"/api/inspectors/{code_a}", json=inspector_body(dep_b, code=code_a)
        ),
        403,
        "auth.department_forbidden",
    )
    assert_error(
        await coord_b.client.post(
            f"/api/inspectors/{code_a}/conflicts", json={"subject_id": new_uscc()}
        ),
        403,
        "auth.department_forbidden",
    )
    # without a filter a coordinator or leader sees their own department only
    for me, code in ((coord_a, code_a), (coord_b, code_b), (leader_b, code_b)):
        r = await me.client.get("/api/inspectors")
        assert [i["code"] for i in r.json()["inspectors"]] == [code]
    assert_error(
        await leader_b.client.get("/api/inspectors", params={"department": dep_a}),
        403,
        "auth.department_forbidden",
    )
    assert_error(
        await leader_b.client.post("/api/inspectors", json=inspector_body(dep_b)),
        403,
        "auth.forbidden",
    )
    assert_error(await inspector_a.client.get("/api/inspectors"), 403, "auth.forbidden")
    # admin sees all
    r = await admin.client.get("/api/inspectors")
    assert {code_a, code_b} <= {i["code"] for i in r.json()["inspectors"]}

    # update and conflicts of interest
    r = await coord_a.client.put(
        f"/api/inspectors/{code_a}", json=inspector_body(dep_a, code=code_a, post="科长")
    )
    assert r.status_code == 200 and r.json()["post"] == "科长"
    sid = new_uscc()
    await coord_a.client.post(
        "/api/subjects", json={"subject_id": sid, "name": "甲", "kind": "enterprise"}
    )
    r = await coord_a.client.post(
        f"/api/inspectors/{code_a}/conflicts", json={"subject_id": sid, "reason": "亲属经营"}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["subject_id"], r.json()["reason"]) == (sid, "亲属经营")
    r = await coord_a.client.post(f"/api/inspectors/{code_a}/conflicts", json={"subject_id": sid})
    assert r.status_code == 201 and r.json()["reason"] == "亲属经营"  # declared once
    assert_error(
        await coord_a.client.post(
            f"/api/inspectors/{code_a}/conflicts", json={"subject_id": new_uscc()}
        ),
        404,
        "subject.unknown",
    )
    r = await coord_a.client.get("/api/inspectors", params={"department": dep_a})
    assert r.json()["inspectors"][0]["conflicts"] == [sid]
    assert_error(
        await admin.client.post("/api/inspectors", json=inspector_body(unique("x"))),
        404,
        "department.unknown",
    )
    assert_error(
        await admin.client.post("/api/inspectors", json=inspector_body(dep_a, code=code_a)),
        409,
        "inspector.exists",
    )


async def _upload(client, kind: str, data: bytes, name: str = "f.csv"):
    return await client.post(f"/api/imports/{kind}", files={"file": (name, data, "text/csv")})


async def test_import_over_http(as_role):
    coordinator = await as_role(Role.coordinator)
    rows = [subject_row(), subject_row()]
    r = await _upload(coordinator.client, "subjects", csv_bytes(SUBJECT_HEADER, rows))
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"revision", "created", "updated", "unchanged"}
    assert r.json()["created"] == 2
    rows.append(subject_row(credit_class="Z"))
    r = await _upload(coordinator.client, "subjects", csv_bytes(SUBJECT_HEADER, rows))
    assert_error(r, 422, "import.rows_invalid")
    assert r.json()["details"]["errors"] == [
        {
            "row": 4,
            "column": "credit_class",
            "code": "subject.credit_class_invalid",
            "message": "信用风险分类须为 A、B、C、D 之一：“Z”",
        }
    ]
    assert_error(await _upload(coordinator.client, "spaceships", b"a\n1\n"), 404, "import.kind")
    for role in (Role.leader, Role.inspector):
        me = await as_role(role)
        assert_error(await _upload(me.client, "subjects", b"x"), 403, "auth.forbidden")


async def test_coordinator_imports_only_own_department(as_role, make_department):
    coordinator = await as_role(Role.coordinator)
    other = await make_department()
    header = ["code", "name", "department", "certificate_no"]
    mine = [unique("i"), "李四", coordinator.department, unique("证")]
    theirs = [unique("i"), "王五", other, unique("证")]
    nowhere = [unique("i"), "赵六", unique("nodep"), unique("证")]
    r = await _upload(coordinator.client, "inspectors", csv_bytes(header, [mine, theirs, nowhere]))
    assert_error(r, 422, "import.rows_invalid")
    assert [(e["row"], e["code"]) for e in r.json()["details"]["errors"]] == [
        (3, "auth.department_forbidden"),
        (4, "department.unknown"),
        (4, "auth.department_forbidden"),
    ]
    r = await coordinator.client.get("/api/inspectors")
    assert r.json()["inspectors"] == []  # nothing stored
    r = await _upload(coordinator.client, "inspectors", csv_bytes(header, [mine]))
    assert r.json()["created"] == 1


async def test_oversized_upload(as_role):
    admin = await as_role(Role.admin)
    limit = get_settings().max_import_bytes
    r = await _upload(admin.client, "subjects", b"a" * (limit + 1))
    assert_error(r, 413, "request.too_large")


async def test_exports(as_role, make_department):
    dep_b = await make_department()
    coordinator = await as_role(Role.coordinator)
    admin = await as_role(Role.admin)
    mine = inspector_body(coordinator.department)
    theirs = inspector_body(dep_b)
    for body in (mine, theirs):
        assert (await admin.client.post("/api/inspectors", json=body)).status_code == 201
    r = await coordinator.client.get("/api/exports/inspectors.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert (
        text.splitlines()[0]
        == "code,name,department,certificate_no,post,expertise,active,conflicts"
    )
    assert mine["code"] in text and theirs["code"] not in text
    r = await admin.client.get("/api/exports/inspectors.xlsx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    r = await _upload(admin.client, "inspectors", r.content, "inspectors.xlsx")
    assert (r.json()["created"], r.json()["updated"]) == (0, 0)
    for name in ("subjects.csv", "matters.xlsx"):
        assert (await coordinator.client.get(f"/api/exports/{name}")).status_code == 200
    assert_error(await admin.client.get("/api/exports/subjects.pdf"), 404, "import.kind")
    for role in (Role.leader, Role.inspector):
        me = await as_role(role)
        assert_error(await me.client.get("/api/exports/subjects.csv"), 403, "auth.forbidden")
