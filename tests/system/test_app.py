"""The app boots on the engine of this run and answers with the error tree."""

import re

from onevisit.auth.roles import Role


async def test_health(client):
    r = await client.get("/api/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


async def test_root_serves_pwa(client):
    r = await client.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_openapi_schema(client):
    for path in ("/schema", "/schema/openapi.json"):
        r = await client.get(path)
        assert r.status_code == 200
        assert r.json()["info"]["title"] == "OneVisit API"
        assert "/api/subjects" in r.json()["paths"]


async def test_unknown_api_path_is_coded_404(client):
    r = await client.get("/api/no-such-thing")
    assert r.status_code == 404
    assert r.json()["code"] == "request.not_found"


async def test_state_change_without_csrf_is_refused(as_role):
    me = await as_role(Role.admin)
    me.client.headers.pop("x-csrf-token")
    r = await me.client.post("/api/auth/logout")
    assert r.status_code == 403
    assert r.json()["code"] == "auth.csrf"


async def test_logout_with_csrf_ends_the_session(as_role):
    me = await as_role(Role.inspector)
    assert (await me.client.get("/api/auth/me")).status_code == 200
    r = await me.client.post("/api/auth/logout")
    assert r.status_code == 204
    r = await me.client.get("/api/auth/me")
    assert (r.status_code, r.json()["code"]) == (401, "auth.required")


async def test_deeply_nested_json_is_a_coded_400(as_role):
    admin = await as_role(Role.admin)
    r = await admin.client.post(
        "/api/subjects", content=b"[" * 100_000, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "request.invalid"


async def test_schema_states_who_may_call_each_operation(client):
    from tests.system.test_route_guards import PUBLIC

    schema = (await client.get("/schema")).json()
    assert "ErrorBody" in schema["components"]["schemas"]
    assert schema["components"]["securitySchemes"]["session"]["in"] == "cookie"
    seen = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in operations.items():
            seen += 1
            public = any(path == p.replace(":str", "") for p in PUBLIC)
            if public:
                assert "Public: no sign-in." in op["description"], (method, path)
            else:
                assert re.search(r"Roles: [a-z]", op["description"]), (method, path)
                assert op["security"] == [{"session": []}], (method, path)
                assert {"401", "403"} <= set(op["responses"]), (method, path)
    assert seen >= 30
