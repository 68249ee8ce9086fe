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
