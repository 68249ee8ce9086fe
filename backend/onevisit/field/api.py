"""Visits as the field and the office see them: state and record rebuilt from the evidence;
a member's offline package and 亮证 credential (docs/visits.md)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Role
from onevisit.field.credential import my_credential
from onevisit.field.credential_api import ROUTES as CREDENTIAL_PAGE
from onevisit.field.package import visit_package
from onevisit.field.service import my_visits, visit_view

__all__ = ["ROUTES"]

ANYONE_SIGNED_IN = allow(Role.admin, Role.coordinator, Role.leader, Role.inspector)
NO_STORE = CacheControlHeader(no_store=True)  # a live credential: kept by the PWA, not caches


@get("/api/visits", guards=[ANYONE_SIGNED_IN], tags=["visits"], summary="My visits")
async def list_my_visits(request: Request) -> dict[str, Any]:
    return {"visits": await my_visits(caller=caller_of(request))}


@get(
    "/api/visits/{visit_id:str}",
    guards=[ANYONE_SIGNED_IN],
    tags=["visits"],
    summary="A visit's state and inspection record, rebuilt from its events",
)
async def get_visit(request: Request, visit_id: FromPath[str]) -> dict[str, Any]:
    view = await visit_view(visit_id=visit_id, caller=caller_of(request))
    return view.to_json()


@get(
    "/api/visits/{visit_id:str}/package",
    guards=[ANYONE_SIGNED_IN],
    cache_control=NO_STORE,
    tags=["visits"],
    summary="Everything a member's phone needs to do the visit offline",
)
async def get_package(request: Request, visit_id: FromPath[str]) -> dict[str, Any]:
    """Who may see the visit may fetch it; `credential` is null unless the caller is a member."""
    return await visit_package(visit_id=visit_id, caller=caller_of(request))


@get(
    "/api/visits/{visit_id:str}/credential",
    guards=[ANYONE_SIGNED_IN],
    cache_control=NO_STORE,
    tags=["visits"],
    summary="The caller's own 亮证 credential for the visit (members of the group only)",
)
async def get_credential(request: Request, visit_id: FromPath[str]) -> dict[str, Any]:
    return await my_credential(visit_id=visit_id, caller=caller_of(request))


# The public /c/{token} page is mounted with the visit routes (app.py takes field's ROUTES).
ROUTES = [list_my_visits, get_visit, get_package, get_credential, *CREDENTIAL_PAGE]
