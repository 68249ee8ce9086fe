"""Follow-ups over HTTP (workflow.py has the rules, reading.py the views). Staff only.

| GET  | /api/followups?state=&kind=&overdue=    | signed in, scoped as /api/results |
| GET  | /api/followups/{id}                     | who may see its result            |
| POST | /api/followups/{id}/steps               | reinspect: the department's coordinators
|      |                                         | and the visit's members serving it; close,
|      |                                         | feedback: the coordinators (and admins) |
| GET  | /api/results/{id}/followups             | who may see the result            |
| POST | /api/results/{id}/followups             | the department's coordinators, admins |
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from onevisit.auth.guards import allow, caller_of, signed_in
from onevisit.auth.roles import Role
from onevisit.followup.reading import followup_detail, list_followups, result_followups
from onevisit.followup.workflow import open_followup, record_step
from onevisit.web import Text

__all__ = ["ROUTES"]

MANAGERS = allow(Role.admin, Role.coordinator)
Day = Annotated[str, msgspec.Meta(max_length=10)]  # YYYY-MM-DD, checked by rules.parse_day


class FollowUpIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Text(16, 1)  # rectification | case | transfer
    on: Day  # the day of the order, the filing or the transfer
    text: Text(2000) = ""  # what to correct / the case's note / why it is transferred
    due_on: Day | None = None  # rectification
    case_no: Text(64) = ""  # case
    target: Text(16) = ""  # transfer: department | judiciary | discipline
    department: Text(32) = ""  # transfer to a department
    follows: int | None = None  # the uncorrected order a case or transfer continues


class StepIn(msgspec.Struct, forbid_unknown_fields=True):
    step: Text(16, 1)  # reinspect | close | feedback
    on: Day
    outcome: Text(24) = ""
    text: Text(2000) = ""


@get("/api/followups", guards=[signed_in], tags=["followup"],
     summary="Follow-ups (orders overdue, transfers awaiting feedback)")  # fmt: skip
async def get_followups(
    request: Request,
    followup_state: Annotated[Text(24) | None, QueryParameter(name="state")] = None,
    kind: FromQuery[Text(16) | None] = None,
    overdue: FromQuery[bool | None] = None,
) -> dict[str, Any]:
    return await list_followups(
        caller=caller_of(request), state=followup_state, kind=kind, overdue=overdue
    )


@get("/api/followups/{followup:int}", guards=[signed_in], tags=["followup"],
     summary="A follow-up with its steps")  # fmt: skip
async def get_followup(request: Request, followup: FromPath[int]) -> dict[str, Any]:
    return await followup_detail(caller=caller_of(request), followup_id=followup)


@post("/api/followups/{followup:int}/steps", guards=[signed_in], status_code=201,
      tags=["followup"], summary="A step: re-inspection, closing, feedback")  # fmt: skip
async def post_step(
    request: Request, followup: FromPath[int], data: JSONBody[StepIn]
) -> dict[str, Any]:
    return await record_step(
        caller=caller_of(request), followup_id=followup, step=data.step, on=data.on,
        outcome=data.outcome, text=data.text,
    )  # fmt: skip


@get("/api/results/{result:int}/followups", guards=[signed_in], tags=["followup"],
     summary="A result's follow-ups")  # fmt: skip
async def get_result_followups(request: Request, result: FromPath[int]) -> dict[str, Any]:
    return await result_followups(caller=caller_of(request), result_id=result)


@post("/api/results/{result:int}/followups", guards=[MANAGERS], status_code=201,
      tags=["followup"], summary="Open a follow-up: order, case, transfer")  # fmt: skip
async def post_followup(
    request: Request, result: FromPath[int], data: JSONBody[FollowUpIn]
) -> dict[str, Any]:
    return await open_followup(
        caller=caller_of(request), result_id=result, kind=data.kind, on=data.on, text=data.text,
        due_on=data.due_on, case_no=data.case_no, target=data.target,
        department=data.department, follows=data.follows,
    )  # fmt: skip


ROUTES = [get_followups, get_followup, post_step, get_result_followups, post_followup]
