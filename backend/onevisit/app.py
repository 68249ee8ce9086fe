"""The litestar application: areas' routes, the one error mapping, security headers, the PWA."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router

from onevisit import __version__
from onevisit.auth.guards import SessionMiddleware
from onevisit.config import get_settings
from onevisit.db import engine, is_sqlite, start_pool
from onevisit.errors import AppError
from onevisit.openapi import COMPONENTS, document_access
from onevisit.pwa_assets import PwaFiles, ShellEncoding

__all__ = ["create_app"]

log = logging.getLogger("onevisit")

PWA_DIR = Path(__file__).resolve().parents[2] / "pwa"

# litestar's own HTTP exceptions, named in our code tree.
_HTTP_CODES = {
    400: "request.invalid",
    401: "auth.required",
    403: "auth.forbidden",
    404: "request.not_found",
    405: "request.method_not_allowed",
    413: "request.too_large",
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def error_response(_: Request, exc: Exception) -> Response[dict[str, Any]]:
    """The one place where failures become HTTP: a stable code and a human message."""
    if isinstance(exc, AppError):
        error = exc
    elif isinstance(exc, ValidationException):
        error = AppError("request.invalid", str(exc.detail), errors=exc.extra or [])
    elif isinstance(exc, HTTPException) and exc.status_code in _HTTP_CODES:
        error = AppError(_HTTP_CODES[exc.status_code])
    elif isinstance(exc, RecursionError):  # a body nested thousands deep: bad input, not ours
        error = AppError("request.invalid", "nested too deeply")
    else:
        log.exception("unhandled error", exc_info=exc)
        error = AppError("server.error")
    return Response(
        content=error.to_body(),
        status_code=error.status,
        headers=SECURITY_HEADERS,
    )


@get("/api/health", sync_to_thread=False, tags=["system"])
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@asynccontextmanager
async def lifespan(_: Litestar):
    from onevisit.evidence.keys import event_key, log_key, log_name

    # the server's keys (0600 files) and the log's name exist from the first start, in var/
    log_key(), event_key(), log_name()
    db = engine()
    # SQLite has no pool (piccolo only warns). The engine is process-wide: an app started
    # inside another (onevisit demo simulates through one) must not close the pool it found.
    owns_pool = not is_sqlite() and getattr(db, "pool", None) is None
    if owns_pool:
        await start_pool()
    try:
        yield
    finally:
        if owns_pool:
            await db.close_connection_pool()


def _area_routes() -> list[Any]:
    from onevisit.auth.api import ROUTES as auth_routes
    from onevisit.dashboard.api import ROUTES as dashboard_routes
    from onevisit.directory.api import ROUTES as directory_routes
    from onevisit.evidence.api import ROUTES as log_routes
    from onevisit.field.api import ROUTES as visit_routes
    from onevisit.field.public_api import ROUTES as record_routes
    from onevisit.followup.api import ROUTES as followup_routes
    from onevisit.media.api import ROUTES as media_routes
    from onevisit.pdf.api import ROUTES as pdf_routes
    from onevisit.planning.api import ROUTES as draw_routes
    from onevisit.results.api import ROUTES as result_routes
    from onevisit.sync.api import ROUTES as sync_routes
    from onevisit.workdays.api import ROUTES as calendar_routes

    return [
        *auth_routes,
        *directory_routes,
        *media_routes,
        *sync_routes,
        *visit_routes,
        *pdf_routes,
        *log_routes,
        *record_routes,
        *draw_routes,
        *result_routes,
        *followup_routes,
        *calendar_routes,
        *dashboard_routes,
    ]


def create_app() -> Litestar:
    settings = get_settings()
    # pwa/ as litestar serves static files, except that .js and .css go out minified (the
    # sources stay as written), text files gzip when the browser takes it, and every load
    # outside the service worker revalidates (ETag → 304): see pwa_assets.py.
    pwa = create_static_files_router(
        path="/",
        directories=[PWA_DIR],
        file_system=PwaFiles(minify=settings.pwa_minify),
        html_mode=True,
        name="pwa",
        include_in_schema=False,
        cache_control=CacheControlHeader(no_cache=True),
        middleware=[ShellEncoding()],
    )
    app = Litestar(
        route_handlers=[health, *_area_routes(), pwa],
        middleware=[SessionMiddleware()],
        exception_handlers={Exception: error_response},
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="OneVisit API",
            version=__version__,
            path="/schema",
            # JSON, not a UI page: the UIs load scripts from CDNs, which the CSP (and offline
            # sites) block. Any OpenAPI viewer can open /schema.
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
            components=COMPONENTS,
        ),
        request_max_body_size=settings.max_import_bytes,
        response_headers=[],
        before_send=[_add_security_headers],
        debug=settings.debug,
    )
    document_access(app)
    return app


async def _add_security_headers(message: Any, _scope: Any) -> None:
    if message["type"] == "http.response.start":
        headers = message.setdefault("headers", [])
        present = {k.lower() for k, _ in headers}
        for name, value in SECURITY_HEADERS.items():
            if name.lower().encode() not in present:
                headers.append((name.lower().encode(), value.encode()))
