"""The HTML of the 亮证 page (GET /c/{token}): a check's verdict (`credential.Verdict.body`),
Chinese first with English beside it, one server-rendered page for whatever phone the subject
scanned the code with. No script at all; the only inline code is the style sheet, which the
page's own Content-Security-Policy allows by its hash. Every value goes through `_e`.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from html import escape
from typing import Any

from onevisit.field.public_page import BEIJING
from onevisit.field.public_page import STYLE as RECORD_STYLE

__all__ = ["CSP", "credential_page"]

STYLE = (
    RECORD_STYLE
    + """
.verdict{font-size:1.5rem;font-weight:bold;margin:.8rem 0 .3rem}
.verdict.ok{color:#0a6b2d}.verdict.bad{color:#a11}
section.ok{border-left:6px solid #0a6b2d}section.bad{border-left:6px solid #a11}
"""
)
# Stricter than the app-wide policy: nothing may load, no script may run, no form may send.
CSP = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _time(ms: Any) -> str:
    if not isinstance(ms, int):
        return ""
    at = datetime.fromtimestamp(ms / 1000, UTC).astimezone(BEIJING)
    return _e(at.strftime("%Y-%m-%d %H:%M") + " 北京时间")


def _dl(pairs: list[tuple[str, str, str]]) -> str:
    rows = "".join(
        f'<dt>{zh} <span class="en">{en}</span></dt><dd>{value}</dd>' for zh, en, value in pairs
    )
    return f"<dl>{rows}</dl>"


def credential_page(body: dict[str, Any]) -> str:
    ok = body["valid"] is True
    mark = "ok" if ok else "bad"
    parts = [
        '<h1>执法检查人员亮证核验 <span class="en">Inspector credential check</span></h1>',
        f'<section class="{mark}"><p class="verdict {mark}">{"✓" if ok else "✗"} '
        f'{_e(body["message"])}</p><p class="en">{_e(body["message_en"])}</p>',
    ]
    if ok:
        who, task = body["inspector"], body["task"]
        role = ("组长", "group leader") if who["leader"] else ("组员", "member")
        parts.append("</section>")
        parts.append(
            '<section><h2>检查人员 <span class="en">Inspector</span></h2>'
            + _dl(
                [
                    ("姓名", "name", _e(who["name"])),
                    ("所属部门", "department", _e(who["department_name"])),
                    ("执法证号", "certificate no.", _e(who["certificate"] or "未登记")),
                    ("检查组内", "in the group", f"{role[0]} <span class='en'>{role[1]}</span>"),
                ]
            )
            + "</section>"
        )
        parts.append(
            '<section><h2>检查任务 <span class="en">Inspection task</span></h2>'
            + _dl(
                [
                    ("任务名称", "task", _e(task["name"])),
                    ("任务编号", "task code", _e(task["code"])),
                    ("检查对象", "subject", _e(body["subject"]["name"])),
                ]
            )
            + "</section>"
        )
        parts.append(
            "<section>"
            + _dl(
                [
                    ("有效期至", "valid until", _time(body["expires_ms"])),
                    ("核验时间", "checked at", _time(body["checked_ms"])),
                ]
            )
            + "<p class='muted'>本页由服务器在打开时实时核验，截图不能代替核验。"
            "如有疑问，可以向实施检查的部门核实。<br><span class='en'>This page is checked by "
            "the server each time it is opened; a screenshot proves nothing. If in doubt, ask "
            "the inspecting department.</span></p></section>"
        )
    else:
        if body["status"] == "expired":
            parts.append(_dl([("有效期至", "valid until", _time(body["expires_ms"]))]))
        parts.append(
            "<p>请要求检查人员重新出示亮证码，或向实施检查的部门核实其身份。</p>"
            "<p class='en'>Ask the inspector to show a current code, or check the inspector's "
            "identity with the inspecting department.</p>"
            f"<p class='muted'>核验时间 {_time(body['checked_ms'])}</p></section>"
        )
    return _document("亮证核验", "".join(parts))


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
