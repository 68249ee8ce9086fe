"""Visits as the field and the office see them: state and record rebuilt from the evidence."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Role
from onevisit.field.service import my_visits, visit_view

__all__ = ["ROUTES"]

ANYONE_SIGNED_IN = allow(Role.admin, Role.coordinator, Role.leader, Role.inspector)


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


ROUTES = [list_my_visits, get_visit]
