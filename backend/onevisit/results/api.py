"""Results over HTTP (results/review.py has the rules, reading.py the views).

Staff (signed in): /api/results — each role sees what it may (admins all; coordinators their
department's; inspectors and leaders the matters they serve in their own visits), with the
20-working-day clock; review, publication, withholding and corrections.

Public, no sign-in, outside /api: /public/results (search by name or USCC; HTML, or JSON with
Accept: application/json), /public/subjects/{id} (a subject's published results and their
corrections), and the open data /public/results.csv and /public/results.json. Only what was
published: result codes and dispositions, never notes, reasons or people.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from onevisit.auth.guards import allow, caller_of, signed_in
from onevisit.auth.roles import Role
from onevisit.field.public_page import _document, _e
from onevisit.results.reading import (
    PUBLIC_COLUMNS,
    list_results,
    open_data,
    public_subject,
    result_detail,
    search_public,
)
from onevisit.results.review import approve, correct, publish, return_result, withhold
from onevisit.web import HTML, JSON, PUBLIC, PUBLIC_HEADERS, Text, wants_json

__all__ = ["ROUTES"]

REVIEWERS = allow(Role.admin, Role.coordinator)


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text(500, 1)


class WithholdIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text(500, 1)
    approver: Text(64, 1)  # the department leader who approved not publishing


class CorrectionIn(msgspec.Struct, forbid_unknown_fields=True):
    result_code: Text(32, 1)
    reason: Text(500, 1)
    disposition: Text(32) = ""
    note: Text(2000) = ""


@get("/api/results", guards=[signed_in], tags=["results"], summary="Results with their clock")
async def get_results(
    request: Request,
    result_state: Annotated[Text(16) | None, QueryParameter(name="state")] = None,
    task: FromQuery[Text(64) | None] = None,
    department: FromQuery[Text(32) | None] = None,
    alert: FromQuery[Text(16) | None] = None,
) -> dict[str, Any]:
    return await list_results(
        caller=caller_of(request),
        state=result_state,
        task=task,
        department=department,
        alert=alert,
    )


@get("/api/results/{result:int}", guards=[signed_in], tags=["results"], summary="A result")
async def get_result(request: Request, result: FromPath[int]) -> dict[str, Any]:
    return await result_detail(caller=caller_of(request), result_id=result)


@post("/api/results/{result:int}/approve", guards=[REVIEWERS], status_code=200,
      tags=["results"], summary="Review: approve the current version")  # fmt: skip
async def post_approve(request: Request, result: FromPath[int]) -> dict[str, Any]:
    return await approve(caller=caller_of(request), result_id=result)


@post("/api/results/{result:int}/return", guards=[REVIEWERS], status_code=200,
      tags=["results"], summary="Review: return with a reason")  # fmt: skip
async def post_return(
    request: Request, result: FromPath[int], data: JSONBody[ReasonIn]
) -> dict[str, Any]:
    return await return_result(caller=caller_of(request), result_id=result, reason=data.reason)


@post("/api/results/{result:int}/publish", guards=[REVIEWERS], status_code=200,
      tags=["results"], summary="Publish an approved result")  # fmt: skip
async def post_publish(request: Request, result: FromPath[int]) -> dict[str, Any]:
    return await publish(caller=caller_of(request), result_id=result)


@post("/api/results/{result:int}/withhold", guards=[REVIEWERS], status_code=200,
      tags=["results"], summary="Withhold (a named leader approved; with a reason)")  # fmt: skip
async def post_withhold(
    request: Request, result: FromPath[int], data: JSONBody[WithholdIn]
) -> dict[str, Any]:
    return await withhold(
        caller=caller_of(request), result_id=result, reason=data.reason, approver=data.approver
    )


@post("/api/results/{result:int}/versions", guards=[signed_in], status_code=201,
      tags=["results"], summary="A correction: a new version, back to review")  # fmt: skip
async def post_correction(
    request: Request, result: FromPath[int], data: JSONBody[CorrectionIn]
) -> dict[str, Any]:
    return await correct(
        caller=caller_of(request), result_id=result, result_code=data.result_code,
        disposition=data.disposition, note=data.note, reason=data.reason,
    )  # fmt: skip


# --- public ---------------------------------------------------------------------------------


@get("/public/results", tags=["results"], opt=PUBLIC,
     summary="Search published results by name or USCC (HTML; JSON with Accept)")  # fmt: skip
async def get_public_search(request: Request, q: FromQuery[Text(100)] = "") -> Response:
    found = await search_public(q)
    if wants_json(request):
        return Response(found, media_type=JSON, headers=PUBLIC_HEADERS)
    return Response(_search_page(found), media_type=HTML, headers=PUBLIC_HEADERS)


@get("/public/subjects/{subject:str}", tags=["results"], opt=PUBLIC,
     summary="A subject's published results (HTML; JSON with Accept)")  # fmt: skip
async def get_public_subject(request: Request, subject: FromPath[str]) -> Response:
    data = await public_subject(subject)
    if wants_json(request):
        return Response(data, media_type=JSON, headers=PUBLIC_HEADERS)
    return Response(_subject_page(data), media_type=HTML, headers=PUBLIC_HEADERS)


@get("/public/results.json", tags=["results"], opt=PUBLIC,
     summary="Open data: every published result (JSON)")  # fmt: skip
async def get_open_json() -> Response:
    rows = [{k: r[k] for k in PUBLIC_COLUMNS} for r in await open_data()]
    return Response({"results": rows}, media_type=JSON, headers={"Cache-Control": "no-cache"})


@get("/public/results.csv", tags=["results"], opt=PUBLIC,
     summary="Open data: every published result (CSV, UTF-8 with BOM)")  # fmt: skip
async def get_open_csv() -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PUBLIC_COLUMNS)
    for r in await open_data():
        writer.writerow([r[k] for k in PUBLIC_COLUMNS])
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Cache-Control": "no-cache",
                 "Content-Disposition": 'attachment; filename="onevisit-results.csv"'},
    )  # fmt: skip


def _search_page(found: dict[str, Any]) -> str:
    rows = "".join(
        f"<li><a href='{_e(s['url'])}'>{_e(s['subject_name'])}</a> "
        f"<span class='hash'>{_e(s['subject_id'])}</span> · {_e(s['results'])} 条结果</li>"
        for s in found["subjects"]
    )
    if found["query"] and not rows:
        rows = "<li>未找到已公示的检查结果 <span class='en'>No published results</span></li>"
    return _document(
        "抽查检查结果公示",
        "<h1>抽查检查结果公示 <span class='en'>Published inspection results</span></h1>"
        "<form method='get' action='/public/results'><label for='q'>企业名称或统一社会信用代码"
        f"</label> <input id='q' name='q' value='{_e(found['query'])}' maxlength='100'> "
        "<button type='submit'>查询</button></form>"
        f"<section><ul id='subjects'>{rows}</ul></section>"
        "<p><a href='/public/results.csv'>开放数据 CSV</a> · "
        "<a href='/public/results.json'>JSON</a></p>",
    )


def _subject_page(data: dict[str, Any]) -> str:
    sections = []
    for r in data["results"]:
        history = ""
        if r["corrected"]:
            history = "<p>更正记录：" + "；".join(
                f"第 {_e(h['version'])} 版 {_e(h['result_label'])}（{_e(h['published_at'][:10])}）"
                for h in r["history"]
            ) + "</p>"  # fmt: skip
        sections.append(
            f"<section class='result'><h2>{_e(r['matter_name'])} "
            f"<span class='en'>{_e(r['matter'])}</span></h2>"
            f"<p><strong>{_e(r['result_label'])}</strong>"
            + (f" · {_e(r['disposition_label'])}" if r["disposition_label"] else "")
            + f"</p><p>检查日期 {_e(r['inspected_on'])} · 公示日期 {_e(r['published_at'][:10])}"
            f" · 任务 {_e(r['task'])} · 部门 {_e(r['department'])}</p>{history}"
            f"<p><a href='{_e(r['verify'])}'>核验检查记录</a> · "
            f"<a href='/public/tasks/{_e(r['task'])}'>抽查任务与抽取记录</a></p></section>"
        )
    return _document(
        data["subject_name"],
        f"<h1>{_e(data['subject_name'])} <span class='hash'>{_e(data['subject_id'])}</span></h1>"
        + "".join(sections),
    )


ROUTES = [
    get_results,
    get_result,
    post_approve,
    post_return,
    post_publish,
    post_withhold,
    post_correction,
    get_public_search,
    get_public_subject,
    get_open_json,
    get_open_csv,
]
