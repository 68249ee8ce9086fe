"""Every auth route declares a guard or is marked public (opt=PUBLIC) on purpose."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

from onevisit.auth.api import ROUTES

PUBLIC_PATHS = {
    "/api/auth/enrol/{token:str}",
    "/api/auth/enrol/{token:str}/passkey/options",
    "/api/auth/enrol/{token:str}/passkey",
    "/api/auth/enrol/{token:str}/device",
    "/api/auth/login/options",
    "/api/auth/login",
    "/api/auth/device/challenge",
    "/api/auth/device/login",
}


def test_each_route_is_guarded_xor_public():
    seen = set()
    for handler in ROUTES:
        assert isinstance(handler, HTTPRouteHandler)
        (path,) = handler.paths
        public = handler.opt.get("public", False)
        assert bool(handler.guards) != public, path
        if public:
            seen.add(path)
    assert seen == PUBLIC_PATHS
