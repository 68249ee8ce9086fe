"""What /schema says beyond the types: who may call each operation, how the session is sent,
and the one error body every failure has (errors.py). Outside clients read it from there."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme

__all__ = ["COMPONENTS", "document_access"]

COMPONENTS = Components(
    security_schemes={
        "session": SecurityScheme(
            type="apiKey",
            name="ov_session",
            security_scheme_in="cookie",
            description="Session cookie from a passkey or device-key sign-in. State-changing "
            "requests must also send the session's X-CSRF-Token header.",
        )
    }
)


class ErrorBody(msgspec.Struct):
    """Every error: `code` is stable (the catalogue in errors.py), `message` is Chinese."""

    code: str
    message: str
    message_en: str
    details: dict[str, Any]


_ERRORS = {
    400: "request.invalid or a domain check (code says which)",
    401: "auth.required — not signed in, or the session ended",
    403: "auth.forbidden / auth.department_forbidden / auth.csrf",
    404: "not found (or not yours to see)",
    409: "conflict with stored data",
    413: "request.too_large",
    422: "a file or content check failed (details list each problem)",
}


def document_access(app: Litestar) -> None:
    """Annotate every /api operation with its roles, security and error responses."""
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or handler.http_methods == {"OPTIONS"}:
                continue
            guards = handler.resolve_guards()  # the handler's and its controller's
            # litestar wraps each guard (AsyncCallable): the roles sit on the wrapped function
            roles = sorted({r for g in guards for r in getattr(getattr(g, "func", g), "roles", ())})
            public = not guards
            who = "Public: no sign-in." if public else f"Roles: {', '.join(roles)}."
            handler.description = f"{handler.description or ''}\n\n{who}".strip()
            if not public:
                handler.security = [{"session": []}]
            codes = [c for c in _ERRORS if not (public and c in (401, 403))]
            handler.responses = {
                **{
                    c: ResponseSpec(data_container=ErrorBody, description=_ERRORS[c]) for c in codes
                },
                **(handler.responses or {}),
            }
