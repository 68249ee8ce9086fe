"""Every API endpoint declares who may call it: a guard, or a place on the public list."""

from litestar.handlers import HTTPRouteHandler

# Endpoints anyone may call, with the reason. Anything else under /api must have a guard.
PUBLIC = {
    "/api/health": "liveness probe",
    "/api/auth/login/options": "starts a passkey sign-in",
    "/api/auth/login": "finishes a passkey sign-in (the assertion is the credential)",
    "/api/auth/device/challenge": "starts a device-key sign-in",
    "/api/auth/device/login": "device signature + PIN are the credential",
    "/api/auth/enrol/{token:str}": "the one-time enrolment token is the credential",
    "/api/auth/enrol/{token:str}/passkey/options": "the one-time enrolment token",
    "/api/auth/enrol/{token:str}/passkey": "the one-time enrolment token",
    "/api/auth/enrol/{token:str}/device": "the one-time enrolment token",
}

# Outside /api no session is read at all (auth/guards.py): only the fixed public URLs of
# EVIDENCE.md §7 and DRAW.md and the 亮证 check /c/ (a sealed token is the credential:
# docs/visits.md) live there, besides the PWA's static files and the /schema document.
PUBLIC_OUTSIDE_API = {
    "/log/checkpoint": "the signed checkpoint: public by design (§7)",
    "/log/key": "the note verifier key (§7)",
    "/log/event-key": "the server's event key, to verify its own events",
    "/log/entries": "leaf inputs: hashes, signatures, receipt times (§7)",
    "/log/proof/inclusion": "RFC 6962 proofs (§7)",
    "/log/proof/consistency": "RFC 6962 proofs (§7)",
    "/verify/record/{record_hash:str}": "a record's public verification page (§5, §7)",
    "/c/{token:str}": "an inspector's 亮证 check: the sealed token is the credential",
    "/public/tasks": "the published draws (DRAW.md)",
    "/public/tasks/{task:str}/draw.json": "a draw record, for anyone to recompute (DRAW.md)",
    "/public/tasks/{task:str}": "a drawn task's page: matters, plan line, draw, its check",
    "/public/plans": "the published annual plans (002:12-13)",
    "/public/plans/{plan:str}": "a published plan with every version and its reason",
    "/public/results": "search of published results (一公开, 002:20(三))",
    "/public/subjects/{subject:str}": "a subject's published results and their corrections",
    "/public/results.json": "open data: every published result",
    "/public/results.csv": "open data: every published result",
}
NOT_API = ("/", "/{file_path:path}", "/schema")  # the PWA's files, the OpenAPI document


def api_handlers(app):
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            # litestar answers OPTIONS itself on every path (CORS pre-flight); it does nothing
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                yield route.path, handler


async def test_every_api_route_is_guarded_or_listed_public(app):
    unguarded = []
    seen = 0
    for path, handler in api_handlers(app):
        seen += 1
        if not handler.resolve_guards() and path not in PUBLIC:
            unguarded.append(f"{sorted(handler.http_methods)} {path}")
    assert seen >= 20, "the API should have its routes registered"
    assert unguarded == []


async def test_public_list_has_no_stale_entries(app):
    paths = {path for path, _ in api_handlers(app)}
    assert set(PUBLIC) - paths == set()


async def test_every_route_outside_the_api_is_a_listed_public_url(app):
    found = {}
    for route in app.routes:
        if route.path.startswith("/api/") or route.path.startswith(NOT_API[2]):
            continue
        if route.path in NOT_API:
            continue
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                found[route.path] = handler
    assert set(found) == set(PUBLIC_OUTSIDE_API)
    assert all(h.http_methods <= {"GET", "HEAD"} for h in found.values())  # reads only
    record_page = found["/verify/record/{record_hash:str}"]
    assert record_page.opt.get("public") is True and not record_page.resolve_guards()
