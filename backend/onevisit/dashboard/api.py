"""The dashboard over HTTP: one read, scoped by role in dashboard/figures.py."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Role
from onevisit.dashboard.figures import dashboard

__all__ = ["ROUTES"]


@get("/api/dashboard", guards=[allow(Role.admin, Role.coordinator, Role.leader)],
     tags=["dashboard"], summary="Plan coverage, completion and results for one year")  # fmt: skip
async def get_dashboard(
    request: Request,
    year: FromQuery[int | None] = None,
    department: FromQuery[str | None] = None,  # checked in figures.py
) -> dict[str, Any]:
    return await dashboard(caller=caller_of(request), year=year, department=department)


ROUTES = [get_dashboard]
