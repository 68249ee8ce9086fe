"""A task's draw over HTTP (planning/draws.py has the rules), and its public record.

Coordinators of the initiating department (and admins): commit → beacon → reveal → run →
swaps, and the draw's state. Public, outside /api (no session read, like /log and /verify):
the list of drawn tasks at /public/tasks (HTML, or JSON with Accept: application/json) and
each record at /public/tasks/{task_id}/draw.json — the fixed URL of DRAW.md that outside
verifiers fetch."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Role
from onevisit.field.public_page import _document, _e
from onevisit.planning.dayplan import plan_days
from onevisit.planning.draws import (
    DEFAULT_REVEAL_HOURS,
    MAX_REVEAL_HOURS,
    assign_directly,
    commit_draw,
    draw_status,
    public_record,
    public_task,
    public_tasks,
    reveal,
    run_draw,
    set_beacon,
    swap,
)
from onevisit.planning.plans import (
    adjust_plan,
    create_plan,
    list_plans,
    plan_detail,
    plan_for_staff,
)
from onevisit.planning.tasks import list_tasks, new_task, task_detail
from onevisit.web import HTML, JSON, PUBLIC, PUBLIC_HEADERS, Text, wants_json

__all__ = ["ROUTES"]

STAFF = allow(Role.admin, Role.coordinator)
Hex64 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


Name = Text(64, 1)


class Rule(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    ratio: Text(32) | None = None
    count: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)] | None = None


class Party(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    commit: Hex64


class CommitIn(msgspec.Struct, forbid_unknown_fields=True):
    strata: dict[Name, Rule]
    needs: dict[Name, Annotated[int, msgspec.Meta(ge=1, le=20)]] = msgspec.field(
        default_factory=dict
    )
    cap: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    parties: Annotated[list[Party], msgspec.Meta(max_length=8)] = msgspec.field(
        default_factory=list
    )
    # the other parties reveal within so many hours; after that the draw runs without them
    reveal_hours: Annotated[int, msgspec.Meta(ge=1, le=MAX_REVEAL_HOURS)] = DEFAULT_REVEAL_HOURS


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
    kinds: Annotated[list[Name], msgspec.Meta(max_length=50)] | None = None
    region: Text(12) | None = None
    industry: Text(16) | None = None
    tags: Annotated[list[Name], msgspec.Meta(max_length=50)] | None = None


class TriggerIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    kind: Text(16)  # complaint|referral|monitoring|risk_alert
    reference: Text(128)
    note: Text(2000) = ""
    subjects: Annotated[list[Name], msgspec.Meta(max_length=10_000)] | None = None
    scope: ScopeIn | None = None


class PlanRef(msgspec.Struct, forbid_unknown_fields=True):
    code: Name
    line: Annotated[int, msgspec.Meta(ge=1, le=200)]  # 1-based, in the current version


class TaskIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Text(64, 1)
    name: Text(256, 1)
    matters: Annotated[list[Name], msgspec.Meta(min_length=1, max_length=50)]  # lead first
    initiator: Name | None = None  # admins name it; a coordinator's is their department
    trigger: TriggerIn | None = None  # a triggered task (seed 003); none: an ordinary one
    plan: PlanRef | None = None  # the plan line it runs


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    start: Text(10, 10)
    end: Text(10, 10)


class PlanLineIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    task_name: Text(256, 1)
    lead: Name
    ratio: Text(32, 1)
    schedule: ScheduleIn
    matters: Annotated[list[Name], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    initiator: Name | None = None
    scope: ScopeIn | None = None


Lines = Annotated[list[PlanLineIn], msgspec.Meta(min_length=1, max_length=200)]


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Text(64, 1)
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    name: Text(256, 1)
    lines: Lines
    initiator: Name | None = None


class PlanVersionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text(1000, 1)
    lines: Lines


class DayEntry(msgspec.Struct, forbid_unknown_fields=True):
    visit: Text(36, 1)
    date: Text(10, 10) | None = None


class DayPlanIn(msgspec.Struct, forbid_unknown_fields=True):
    visits: Annotated[list[DayEntry], msgspec.Meta(min_length=1, max_length=500)]


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
        plan=msgspec.to_builtins(data.plan) if data.plan else None,
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
        reveal_hours=data.reveal_hours,
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
    "/api/day-plan",
    guards=[allow(Role.leader, Role.inspector)],
    status_code=200,
    tags=["visits"],
    summary="The leader's day plan: a date per visit, in order (the group's leader only)",
)
async def post_day_plan(request: Request, data: JSONBody[DayPlanIn]) -> dict[str, Any]:
    return await plan_days(
        caller=caller_of(request), entries=[msgspec.to_builtins(e) for e in data.visits]
    )


@get("/api/plans", guards=[STAFF], tags=["plan"], summary="Annual joint plans")
async def get_plans() -> dict[str, Any]:
    return {"plans": await list_plans()}


@get("/api/plans/{plan:str}", guards=[STAFF], tags=["plan"], summary="A plan (+ may_adjust)")
async def get_plan(request: Request, plan: FromPath[str]) -> dict[str, Any]:
    return await plan_for_staff(caller=caller_of(request), code=plan)


@post(
    "/api/plans",
    guards=[STAFF],
    status_code=201,
    tags=["plan"],
    summary="An annual joint plan, published as version 1",
)
async def post_plan(request: Request, data: JSONBody[PlanIn]) -> dict[str, Any]:
    return await create_plan(
        caller=caller_of(request), code=data.code, year=data.year, name=data.name,
        lines=msgspec.to_builtins(data.lines), initiator=data.initiator,
    )  # fmt: skip


@post(
    "/api/plans/{plan:str}/versions",
    guards=[STAFF],
    status_code=201,
    tags=["plan"],
    summary="Adjust a plan: a new version of its lines, with the reason",
)
async def post_plan_version(
    request: Request, plan: FromPath[str], data: JSONBody[PlanVersionIn]
) -> dict[str, Any]:
    return await adjust_plan(
        caller=caller_of(request), code=plan, reason=data.reason,
        lines=msgspec.to_builtins(data.lines),
    )  # fmt: skip


@get(
    "/public/plans",
    tags=["plan"],
    opt=PUBLIC,
    summary="Published plans (HTML; JSON {plans: [...]} with Accept: application/json)",
)
async def list_public_plans(request: Request) -> Response:
    plans = await list_plans()
    if wants_json(request):
        return Response({"plans": plans}, media_type=JSON, headers=PUBLIC_HEADERS)
    return Response(_plans_page(plans), media_type=HTML, headers=PUBLIC_HEADERS)


@get(
    "/public/plans/{plan:str}",
    tags=["plan"],
    opt=PUBLIC,
    summary="A plan with every version and its reason (HTML; JSON with Accept)",
)
async def get_public_plan(request: Request, plan: FromPath[str]) -> Response:
    detail = await plan_detail(code=plan)
    if wants_json(request):
        return Response(detail, media_type=JSON, headers=PUBLIC_HEADERS)
    return Response(_plan_page(detail), media_type=HTML, headers=PUBLIC_HEADERS)


def _plans_page(plans: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<section><h2><a href='{_e(p['url'])}'>{_e(p['name'])}</a> "
        f"<span class='en'>{_e(p['code'])}</span></h2>"
        f"<p>{_e(p['year'])} 年 · {_e(p['initiator_name'])} · 第 {_e(p['version'])} 版 · "
        f"{_e(p['lines'])} 项任务</p></section>"
        for p in plans
    )
    return _document(
        "双随机抽查计划公示",
        "<h1>双随机抽查计划公示 <span class='en'>Published inspection plans</span></h1>"
        + (rows or "<section><p>暂无</p></section>"),
    )


def _plan_page(plan: dict[str, Any]) -> str:
    versions = []
    for v in plan["versions"]:
        lines = "".join(
            f"<li><strong>{_e(x['task_name'])}</strong> · 牵头 {_e(x['initiator'])}"
            f"（{_e(x['lead'])}）"
            + (f" · 配合 {_e('、'.join(x['participants']))}" if x["participants"] else "")
            + f" · 比例 {_e(x['ratio'])} · {_e(x['schedule']['start'])} 至 "
            f"{_e(x['schedule']['end'])}</li>"
            for x in v["lines"]
        )
        versions.append(
            f"<section><h2>第 {_e(v['version'])} 版 <span class='en'>{_e(v['published_at'])}"
            f"</span></h2><p>{_e(v['reason'])}</p><ol>{lines}</ol>"
            f"<p class='hash'>{_e(v['content_hash'])}</p></section>"
        )
    return _document(
        plan["name"],
        f"<h1>{_e(plan['name'])} <span class='en'>{_e(plan['code'])}</span></h1>"
        f"<p>{_e(plan['year'])} 年 · {_e(plan['initiator_name'])}</p>" + "".join(versions),
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
    headers = PUBLIC_HEADERS
    if wants_json(request):
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


@get(
    "/public/tasks/{task:str}",
    tags=["draw"],
    opt=PUBLIC,
    summary="A drawn task: matters, plan line, the draw and its check (HTML; JSON with Accept)",
)
async def get_public_task(request: Request, task: FromPath[str]) -> Response:
    data = await public_task(task)
    headers = PUBLIC_HEADERS
    if wants_json(request):
        return Response(data, media_type=JSON, headers=headers)
    return Response(_task_page(data), media_type=HTML, headers=headers)


def _task_page(task: dict[str, Any]) -> str:
    matters = "".join(
        f"<li>{_e(m['name'])} <span class='en'>{_e(m['code'])}</span> · {_e(m['department_name'])}"
        "</li>"
        for m in task["matters"]
    )
    plan = (
        f"<p>执行年度计划 <a href='{_e(task['plan']['url'])}'>{_e(task['plan']['code'])}</a>"
        f" 第 {_e(task['plan']['line'])} 项</p>"
        if task["plan"]
        else ""
    )
    kind = "双随机抽查" if task["kind"] != "triggered" else f"触发式检查（{_e(task['trigger'])}）"
    return _document(
        task["name"],
        f"<h1>{_e(task['name'])} <span class='en'>{_e(task['id'])}</span></h1>"
        f"<p>{kind} · 发起部门 {_e(task['initiator_name'])}</p>{plan}"
        f"<section><h2>抽查事项 <span class='en'>Matters</span></h2><ol>{matters}</ol></section>"
        + (_draw_section(task["draw"]) if task["draw"] else
           "<section><h2>抽取 <span class='en'>The draw</span></h2><p id='no-draw'>本任务的检查"
           "未经随机抽取（依规直接指派），检查组的指派已记入证据日志。</p></section>"),
    )  # fmt: skip


def _draw_section(d: dict[str, Any]) -> str:
    parties = "".join(
        f"<li>{_e('本系统' if p['name'] == 'server' else p['name'])}："
        f"<span class='hash'>{_e(p['commit'])}</span>"
        + ("" if p["revealed"] else "（未揭示，以 32 个零字节代替）")
        + "</li>"
        for p in d["parties"]
    )
    return (
        "<section><h2>抽取 <span class='en'>The draw</span></h2>"
        f"<p>抽取时间 {_e(d['drawn_at'] or '')} · 可抽取对象 {_e(d['population'])} 户 · "
        f"抽中 {_e(d['drawn'])} 户 · 人员调换 {_e(d['swaps'])} 次</p>"
        f"<p>名录快照哈希 <span class='hash'>{_e(d['snapshot_hash'])}</span></p>"
        f"<p>各方承诺</p><ul>{parties}</ul>"
        f"<p>公开信标 {_e(d['beacon'] or '（无）')}</p>"
        f"<p>随机种子 <span class='hash'>{_e(d['seed'])}</span></p>"
        f"<p>抽取记录 <a id='draw-record' href='{_e(d['record_url'])}'>{_e(d['record_url'])}</a>"
        f"<br>记录哈希 <span class='hash' id='draw-hash'>{_e(d['record_hash'])}</span></p>"
        "</section>"
        "<section><h2>复核 <span class='en'>Check it</span></h2>"
        "<p><button type='button' id='draw-check' hidden>在本浏览器中复算</button></p>"
        "<p id='draw-check-result' role='status' aria-live='polite'></p>"
        "<p class='muted'>或下载抽取记录后运行 <code>onevisit draw verify draw.json</code>，"
        "或按 DRAW.md 自行实现复算。<span class='en'>Anyone can recompute it: DRAW.md.</span>"
        "</p></section><script type='module' src='/publicdraw.js'></script>"
    )


def _tasks_page(tasks: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<section><h2><a href='/public/tasks/{_e(t['id'])}'>{_e(t['name'])}</a> "
        f"<span class='en'>{_e(t['id'])}</span></h2>"
        f"<p>发起部门 {_e(t['initiator_name'])} · 抽取时间 {_e(t['drawn_at'] or '')}"
        "</p>"
        f"<p>抽取记录 <a href='{_e(t['draw'])}'>{_e(t['draw'])}</a><br>"
        f"<span class='hash'>{_e(t['record_hash'])}</span></p></section>"
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
    get_public_task,
    get_public_record,
    post_day_plan,
    get_plans,
    get_plan,
    post_plan,
    post_plan_version,
    list_public_plans,
    get_public_plan,
]
