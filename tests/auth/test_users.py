"""Who may create users and issue links, and who sees whom."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from onevisit.auth.roles import Role
from onevisit.directory.tables import Department, Inspector
from tests.auth.flows import code
from tests.fixtures import unique


def _body(role: str, department: str | None = None, **extra) -> dict:
    body = {"name": unique("新用户"), "role": role, **extra}
    if department is not None:
        body["department"] = department
    return body


async def test_admin_creates_any_role(as_role):
    admin = await as_role(Role.admin)
    dep = (await as_role(Role.inspector)).department
    for role in ("admin", "coordinator", "leader", "inspector"):
        r = await admin.client.post(
            "/api/auth/users", json=_body(role, None if role == "admin" else dep)
        )
        assert r.status_code == 201, r.text
        user = r.json()["user"]
        assert set(user) == {
            "id",
            "name",
            "role",
            "department",
            "department_name",
            "inspector_code",
        }
        assert user["role"] == role
        link = r.json()["enrolment"]
        assert set(link) == {"url", "expires_at", "qr_png"}
        png = base64.b64decode(link["qr_png"].removeprefix("data:image/png;base64,"))
        assert Image.open(io.BytesIO(png)).format == "PNG"


@pytest.mark.parametrize("role", [Role.inspector, Role.leader])
async def test_inspectors_and_leaders_cannot_create_users(as_role, role):
    me = await as_role(role)
    r = await me.client.post("/api/auth/users", json=_body("inspector", me.department))
    assert (r.status_code, code(r)) == (403, "auth.forbidden")
    assert (await me.client.get("/api/auth/users")).status_code == 403


async def test_coordinator_limits(as_role):
    me = await as_role(Role.coordinator)
    other = (await as_role(Role.coordinator)).department
    r = await me.client.post("/api/auth/users", json=_body("admin"))
    assert (r.status_code, code(r)) == (403, "auth.forbidden")
    r = await me.client.post("/api/auth/users", json=_body("inspector", other))
    assert (r.status_code, code(r)) == (403, "auth.department_forbidden")
    for role in ("coordinator", "leader", "inspector"):
        r = await me.client.post("/api/auth/users", json=_body(role, me.department))
        assert r.status_code == 201, r.text
        assert r.json()["user"]["department"] == me.department
    r = await me.client.post("/api/auth/users", json=_body("leader"))  # own department implied
    assert (r.status_code, r.json()["user"]["department"]) == (201, me.department)


async def test_unauthenticated_refused(client):
    r = await client.post("/api/auth/users", json=_body("inspector"))
    assert (r.status_code, code(r)) == (401, "auth.required")
    assert (await client.get("/api/auth/users")).status_code == 401
    assert code(await client.get("/api/auth/me")) == "auth.required"


async def test_invalid_bodies(as_role):
    admin = await as_role(Role.admin)
    dep = (await as_role(Role.coordinator)).department
    cases = [
        (_body("boss", dep), 400, "auth.role_invalid"),
        (_body("inspector"), 400, "auth.department_required"),
        (_body("inspector", "no-such-dep"), 404, "department.unknown"),
        (_body("inspector", dep, inspector_code="no-such"), 404, "inspector.unknown"),
        ({"name": "", "role": "inspector", "department": dep}, 400, "request.invalid"),
        ({"role": "inspector"}, 400, "request.invalid"),
    ]
    for body, status, expected in cases:
        r = await admin.client.post("/api/auth/users", json=body)
        assert (r.status_code, code(r)) == (status, expected), body


async def test_inspector_account_linked_to_directory(as_role):
    coordinator = await as_role(Role.coordinator)
    dep_id = (
        await Department.select(Department.id)
        .where(Department.code == coordinator.department)
        .first()
    )["id"]
    inspector_code = unique("INS")
    await Inspector.insert(
        Inspector(code=inspector_code, name="李四", department=dep_id, certificate_no="C1")
    )
    r = await coordinator.client.post(
        "/api/auth/users", json=_body("inspector", inspector_code=inspector_code)
    )
    assert r.status_code == 201, r.text
    assert r.json()["user"]["inspector_code"] == inspector_code
    # an inspector of this department cannot be attached to another department's account
    admin = await as_role(Role.admin)
    other = (await as_role(Role.coordinator)).department
    r = await admin.client.post(
        "/api/auth/users", json=_body("inspector", other, inspector_code=inspector_code)
    )
    assert (r.status_code, code(r)) == (400, "inspector.invalid")
    # one account per inspector: events name the account, the group names the inspector
    r = await coordinator.client.post(
        "/api/auth/users", json=_body("inspector", inspector_code=inspector_code)
    )
    assert (r.status_code, code(r)) == (409, "inspector.account_exists")


async def test_coordinator_sees_own_department_only(as_role):
    me = await as_role(Role.coordinator)
    other = await as_role(Role.coordinator)
    mine = (await me.client.post("/api/auth/users", json=_body("inspector"))).json()["user"]
    r = await me.client.get("/api/auth/users")
    assert r.status_code == 200
    listed = r.json()["users"]
    assert {u["department"] for u in listed} == {me.department}
    assert all(u["active"] is True for u in listed)
    assert {me.user_id, mine["id"]} <= {u["id"] for u in listed}
    assert other.user_id not in {u["id"] for u in listed}
    admin = await as_role(Role.admin)
    everyone = {u["id"] for u in (await admin.client.get("/api/auth/users")).json()["users"]}
    assert {me.user_id, other.user_id, mine["id"], admin.user_id} <= everyone


async def test_new_links_follow_the_same_rules(as_role, make_user):
    me = await as_role(Role.coordinator)
    other = await as_role(Role.coordinator)
    admin_id = await make_user(role=Role.admin, department=None)
    r = await me.client.post(f"/api/auth/users/{other.user_id}/enrolments")
    assert (r.status_code, code(r)) == (403, "auth.department_forbidden")
    r = await me.client.post(f"/api/auth/users/{admin_id}/enrolments")
    assert (r.status_code, code(r)) == (403, "auth.forbidden")
    colleague = await make_user(role=Role.inspector, department=me.department)
    r = await me.client.post(f"/api/auth/users/{colleague}/enrolments")
    assert r.status_code == 201
    assert set(r.json()) == {"url", "expires_at", "qr_png"}
    for unknown in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        r = await me.client.post(f"/api/auth/users/{unknown}/enrolments")
        assert (r.status_code, code(r)) == (404, "user.unknown")


async def test_an_admin_has_no_department(as_role, make_department):
    admin = await as_role(Role.admin)
    dep = await make_department()
    r = await admin.client.post(
        "/api/auth/users", json={"name": "带部门的管理员", "role": "admin", "department": dep}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "auth.role_invalid"
