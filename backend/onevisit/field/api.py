"""Visits as the field and the office see them: state and record rebuilt from the evidence;
a member's offline package and 亮证 credential; the leader's team view and closing the visit,
with the phones' backlog reports behind it (docs/visits.md)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, JSONBody

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Role
from onevisit.field.credential import my_credential
from onevisit.field.credential_api import ROUTES as CREDENTIAL_PAGE
from onevisit.field.package import visit_package
from onevisit.field.service import my_visits, visit_view
from onevisit.field.team import close_visit, report_status, team_view

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


Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
Millis = Annotated[int, msgspec.Meta(ge=0, le=2**53)]


class StatusIn(msgspec.Struct, forbid_unknown_fields=True):
    pending: Count  # this device's outbox rows not yet verified (queued or uploading)
    visits: dict[str, Count] = msgspec.field(default_factory=dict)  # of them, per visit id
    last_ok_ms: Millis | None = None  # the phone's last sync run that got an answer
    rejected: Count = 0  # rows rejected for good: shown to the leader, never waited for


class CloseIn(msgspec.Struct, forbid_unknown_fields=True):
    # The record the leader looked at; when given, a changed record is not closed unseen.
    record_hash: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")] | None = None


@post(
    "/api/devices/{device_id:str}/status",
    guards=[ANYONE_SIGNED_IN],
    status_code=200,
    tags=["visits"],
    summary="A phone's backlog after a sync run (its owner only; latest report kept)",
)
async def post_device_status(
    request: Request, device_id: FromPath[str], data: JSONBody[StatusIn]
) -> dict[str, Any]:
    return await report_status(
        caller=caller_of(request), device_id=device_id, pending=data.pending,
        visits=data.visits, rejected=data.rejected, last_ok_ms=data.last_ok_ms,
    )  # fmt: skip


@get(
    "/api/visits/{visit_id:str}/team",
    guards=[ANYONE_SIGNED_IN],
    cache_control=NO_STORE,
    tags=["visits"],
    summary="The leader's view: per member, what the server holds and their phones still hold",
)
async def get_team(request: Request, visit_id: FromPath[str]) -> dict[str, Any]:
    return await team_view(visit_id=visit_id, caller=caller_of(request))


@post(
    "/api/visits/{visit_id:str}/close",
    guards=[ANYONE_SIGNED_IN],
    status_code=200,
    tags=["visits"],
    summary="Close the visit (the group's leader; 409 with a code per reason it may not yet)",
)
async def post_close(
    request: Request, visit_id: FromPath[str], data: JSONBody[CloseIn]
) -> dict[str, Any]:
    return await close_visit(
        visit_id=visit_id, caller=caller_of(request), record_hash=data.record_hash
    )


# The public /c/{token} page is mounted with the visit routes (app.py takes field's ROUTES).
ROUTES = [
    list_my_visits,
    get_visit,
    get_package,
    get_credential,
    get_team,
    post_close,
    post_device_status,
    *CREDENTIAL_PAGE,
]
