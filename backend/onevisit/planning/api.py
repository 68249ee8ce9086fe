"""A task's draw over HTTP (planning/draws.py has the rules), and its public record.

Coordinators of the initiating department (and admins): commit → beacon → reveal → run →
swaps, and the draw's state. Public, outside /api (no session read, like /log and /verify):
the list of drawn tasks at /public/tasks (HTML, or JSON with Accept: application/json) and
each record at /public/tasks/{task_id}/draw.json — the fixed URL of DRAW.md that outside
verifiers fetch."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Role
from onevisit.field.public_page import _document
from onevisit.planning.draws import (
    assign_directly,
    commit_draw,
    draw_status,
    public_record,
    public_tasks,
    reveal,
    run_draw,
    set_beacon,
    swap,
)
from onevisit.planning.tasks import list_tasks, new_task, task_detail

__all__ = ["ROUTES"]

STAFF = allow(Role.admin, Role.coordinator)
PUBLIC = {"public": True}
HTML, JSON = "text/html", "application/json"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]
Hex64 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; no field here needs it


def Text(limit: int, min_length: int = 0) -> Any:
    return Annotated[str, msgspec.Meta(min_length=min_length, max_length=limit, pattern=NO_NUL)]


class Rule(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    ratio: Text(32) | None = None
    count: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)] | None = None


class Party(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    commit: Hex64


class CommitIn(msgspec.Struct, forbid_unknown_fields=True):
    strata: dict[Name, Rule]
    needs: dict[Name, Annotated[int, msgspec.Meta(ge=0, le=20)]] = msgspec.field(
        default_factory=dict
    )
    cap: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    parties: list[Party] = msgspec.field(default_factory=list)


class BeaconIn(msgspec.Struct, forbid_unknown_fields=True):
    beacon: Text(1000, 1)


class RevealIn(msgspec.Struct, forbid_unknown_fields=True):
    party: Name
    secret: Text(64)


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    give_up: list[Name] = msgspec.field(default_factory=list)  # parties that did not reveal


class SwapIn(msgspec.Struct, forbid_unknown_fields=True):
    subject_id: Name
    out: Name
    reason: Text(32)


class ScopeIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    kinds: list[Name] | None = None
    region: Text(12) | None = None
    industry: Text(16) | None = None
    tags: list[Name] | None = None


class TriggerIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    kind: Text(16)  # complaint|referral|monitoring|risk_alert
    reference: Text(128)
    note: Text(2000) = ""
    subjects: Annotated[list[Name], msgspec.Meta(max_length=10_000)] | None = None
    scope: ScopeIn | None = None


class TaskIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Text(64, 1)
    name: Text(256, 1)
    matters: Annotated[list[Name], msgspec.Meta(min_length=1, max_length=50)]  # lead first
    initiator: Name | None = None  # admins name it; a coordinator's is their department
    trigger: TriggerIn | None = None  # a triggered task (seed 003); none: an ordinary one


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    subject_id: Name
    members: Annotated[list[tuple[Name, Name]], msgspec.Meta(min_length=1, max_length=20)]
    reason: Text(500, 1)


def _rules(strata: dict[str, Rule]) -> dict[str, dict[str, Any]]:
    return {k: msgspec.to_builtins(v) for k, v in strata.items()}


@get("/api/tasks", guards=[STAFF], tags=["draw"], summary="Tasks of my department (all: admin)")
async def get_tasks(request: Request) -> dict[str, Any]:
    return {"tasks": await list_tasks(caller=caller_of(request))}


@post(
    "/api/tasks",
    guards=[STAFF],
    status_code=201,
    tags=["draw"],
    summary='A "1+X" task: the lead matter first, of the initiating department',
)
async def post_task(request: Request, data: JSONBody[TaskIn]) -> dict[str, Any]:
    return await new_task(
        caller=caller_of(request), code=data.code, name=data.name, matters=data.matters,
        initiator=data.initiator,
        trigger=msgspec.to_builtins(data.trigger) if data.trigger else None,
    )  # fmt: skip


@get("/api/tasks/{task:str}", guards=[STAFF], tags=["draw"], summary="A task")
async def get_task(request: Request, task: FromPath[str]) -> dict[str, Any]:
    return await task_detail(caller=caller_of(request), code=task)


@get("/api/tasks/{task:str}/draw", guards=[STAFF], tags=["draw"], summary="A task's draw")
async def get_draw(request: Request, task: FromPath[str]) -> dict[str, Any]:
    return await draw_status(caller=caller_of(request), task_code=task)


@post(
    "/api/tasks/{task:str}/draw",
    guards=[STAFF],
    status_code=201,
    tags=["draw"],
    summary="Commit: fix the population, rules, pool and the parties' commitments",
)
async def post_commit(
    request: Request, task: FromPath[str], data: JSONBody[CommitIn]
) -> dict[str, Any]:
    return await commit_draw(
        caller=caller_of(request),
        task_code=task,
        strata=_rules(data.strata),
        needs=data.needs,
        cap=data.cap,
        parties=[{"name": p.name, "commit": p.commit} for p in data.parties],
    )


@post(
    "/api/tasks/{task:str}/draw/beacon",
    guards=[STAFF],
    status_code=200,
    tags=["draw"],
    summary="Set the public beacon (after the commitment, before the draw)",
)
async def post_beacon(
    request: Request, task: FromPath[str], data: JSONBody[BeaconIn]
) -> dict[str, Any]:
    return await set_beacon(caller=caller_of(request), task_code=task, beacon=data.beacon)


@post(
    "/api/tasks/{task:str}/draw/reveal",
    guards=[STAFF],
    status_code=200,
    tags=["draw"],
    summary="A committing party reveals its secret",
)
async def post_reveal(
    request: Request, task: FromPath[str], data: JSONBody[RevealIn]
) -> dict[str, Any]:
    return await reveal(
        caller=caller_of(request), task_code=task, party=data.party, secret=data.secret
    )


@post(
    "/api/tasks/{task:str}/draw/run",
    guards=[STAFF],
    status_code=200,
    tags=["draw"],
    summary="Draw: the server reveals, the record is computed and published, visits created",
)
async def post_run(request: Request, task: FromPath[str], data: JSONBody[RunIn]) -> dict[str, Any]:
    return await run_draw(caller=caller_of(request), task_code=task, give_up=data.give_up)


@post(
    "/api/tasks/{task:str}/draw/swaps",
    guards=[STAFF],
    status_code=201,
    tags=["draw"],
    summary="Swap an inspector out (who comes in is computed by DRAW.md's rule)",
)
async def post_swap(
    request: Request, task: FromPath[str], data: JSONBody[SwapIn]
) -> dict[str, Any]:
    return await swap(
        caller=caller_of(request),
        task_code=task,
        subject_id=data.subject_id,
        out=data.out,
        reason=data.reason,
    )


@post(
    "/api/tasks/{task:str}/assignments",
    guards=[STAFF],
    status_code=201,
    tags=["draw"],
    summary="A triggered task's visit with inspectors assigned directly (logged as such)",
)
async def post_assignment(
    request: Request, task: FromPath[str], data: JSONBody[AssignIn]
) -> dict[str, Any]:
    return await assign_directly(
        caller=caller_of(request), task_code=task, subject_id=data.subject_id,
        members=[tuple(m) for m in data.members], reason=data.reason,
    )  # fmt: skip


@get(
    "/public/tasks",
    tags=["draw"],
    opt=PUBLIC,
    summary="Drawn tasks (HTML; JSON {tasks: [...]} with Accept: application/json)",
)
async def list_public_tasks(request: Request) -> Response:
    tasks = await public_tasks()
    headers = {"Cache-Control": "no-cache", "Vary": "Accept"}
    if request.accept.best_match([HTML, JSON], default=HTML) == JSON:
        return Response({"tasks": tasks}, media_type=JSON, headers=headers)
    return Response(_tasks_page(tasks), media_type=HTML, headers=headers)


@get(
    "/public/tasks/{task:str}/draw.json",
    tags=["draw"],
    opt=PUBLIC,
    summary="A task's draw record (DRAW.md), recomputable with `onevisit draw verify`",
)
async def get_public_record(task: FromPath[str]) -> Response:
    record = await public_record(task)
    return Response(record, media_type=JSON, headers={"Cache-Control": "no-cache"})


def _tasks_page(tasks: list[dict[str, Any]]) -> str:
    def e(value: Any) -> str:
        return escape(str(value), quote=True)

    rows = "".join(
        f"<section><h2>{e(t['name'])} <span class='en'>{e(t['id'])}</span></h2>"
        f"<p>发起部门 {e(t['initiator_name'])} · 抽取时间 {e(t['drawn_at'] or '')}"
        "</p>"
        f"<p>抽取记录 <a href='{e(t['draw'])}'>{e(t['draw'])}</a><br>"
        f"<span class='hash'>{e(t['record_hash'])}</span></p></section>"
        for t in tasks
    )
    return _document(
        "双随机抽查任务公示",
        "<h1>双随机抽查任务公示 <span class='en'>Published random inspection draws</span></h1>"
        "<p>每项抽取均可复核：下载抽取记录后运行 <code>onevisit draw verify draw.json</code>，"
        "或按 DRAW.md 自行实现复算。<span class='en'>Each record can be recomputed "
        "independently.</span></p>" + (rows or "<section><p>暂无已抽取的任务</p></section>"),
    )


ROUTES = [
    get_tasks,
    post_task,
    get_task,
    get_draw,
    post_commit,
    post_beacon,
    post_reveal,
    post_run,
    post_swap,
    post_assignment,
    list_public_tasks,
    get_public_record,
]
