"""Who may call what: a middleware resolves the session cookie to a Caller, checks CSRF on
state-changing requests, and each route declares its roles with `allow(...)`."""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from onevisit.auth.roles import Caller, Role
from onevisit.auth.sessions import SESSION_COOKIE, caller_from_token
from onevisit.errors import AppError

__all__ = ["CSRF_HEADER", "SessionMiddleware", "allow", "caller_of", "signed_in"]

CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionMiddleware(ASGIMiddleware):
    """Sets scope["state"]["caller"]. A request that carries a session and changes state must
    echo the session's CSRF token in the X-CSRF-Token header (SameSite=Strict is the first
    line; the token is the second, for browsers and proxies that get SameSite wrong)."""

    scopes = ("http",)

    def should_bypass_for_scope(self, scope: Scope) -> bool:
        return not scope["path"].startswith("/api/")  # static PWA files need no session

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        conn: ASGIConnection = ASGIConnection(scope)
        caller = await caller_from_token(conn.cookies.get(SESSION_COOKIE, ""))
        scope.setdefault("state", {})["caller"] = caller
        if caller is not None and scope["method"] not in SAFE_METHODS:
            sent = conn.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), caller.csrf_token.encode()):
                raise AppError("auth.csrf")
        await next_app(scope, receive, send)


def caller_of(connection: ASGIConnection) -> Caller | None:
    return connection.scope.get("state", {}).get("caller")


def allow(*roles: Role):
    """A litestar guard: the caller must be signed in and hold one of `roles`."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        caller = caller_of(connection)
        if caller is None:
            raise AppError("auth.required")
        if caller.role not in allowed:
            raise AppError("auth.forbidden", required=sorted(allowed), role=caller.role.value)

    guard.__name__ = "allow_" + "_".join(sorted(allowed))
    guard.roles = tuple(sorted(allowed))  # type: ignore[attr-defined]  # shown in /schema
    return guard


def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if caller_of(connection) is None:
        raise AppError("auth.required")


signed_in.roles = tuple(sorted(Role))  # type: ignore[attr-defined]
