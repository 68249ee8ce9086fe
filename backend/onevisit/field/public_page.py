"""The HTML of a record's public verification page: what `public.public_record` returns, shown
in Chinese first, on one server-rendered page (no script; the CSP allows none inline anyway),
readable on a phone that scanned the printed record's QR code. Every value comes from field
data, so every value goes through `_e` (html.escape) — nothing is inserted raw.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from onevisit.errors import AppError
from onevisit.field.codes import (
    DISPOSITIONS,
    ITEM_RESULTS,
    REFUSAL_REASONS,
    RESULT_CODES,
    SPECIAL_OUTCOMES,
    label,
)
from onevisit.workdays.calendar import BEIJING

__all__ = ["error_page", "record_page"]

METHOD_LABELS = {"passkey": "通行密钥确认", "device_pin": "设备密钥与PIN确认"}
TYPE_LABELS = {
    "checkin": "到场签到", "item_result": "检查项目结果", "matter_result": "事项结果",
    "photo": "照片", "note": "备注", "transcript": "现场笔录", "witness": "见证人",
    "special_outcome": "特殊情形", "correction": "更正", "signature": "当事人签名",
    "signature_refused": "拒绝签名", "record_confirmed": "检查人员确认",
}  # fmt: skip
STYLE = """
body{margin:0;font:16px/1.6 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
color:#1a1a1a;background:#f6f7f9}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem;
border-bottom:1px solid #ccd;padding-bottom:.2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
section{background:#fff;border-radius:6px;padding:.2rem 1rem .8rem;margin:.8rem 0}
.en{color:#666;font-size:.85em;font-weight:normal}
.short{font:bold 2rem/1.2 ui-monospace,monospace;letter-spacing:.1em}
code,.hash,pre{font-family:ui-monospace,monospace;font-size:.8rem;word-break:break-all;
white-space:pre-wrap}
.ok{color:#0a6b2d}.warn{color:#8a4b00}.muted{color:#666}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.3rem 0}
dt{color:#555}dd{margin:0}ul,ol{padding-left:1.3rem}li{margin:.3rem 0}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _label(table: tuple[tuple[str, str], ...], code: Any) -> str:
    try:
        return _e(f"{label(table, code)}（{code}）")
    except KeyError:
        return _e(code)


def _time(ms: Any) -> str:
    if not isinstance(ms, int):
        return ""
    try:
        at = datetime.fromtimestamp(ms / 1000, UTC).astimezone(BEIJING)
    except (OverflowError, OSError, ValueError):
        return _e(ms)
    return _e(at.strftime("%Y-%m-%d %H:%M:%S") + " 北京时间")


def _h(value: Any) -> str:
    return f'<span class="hash">{_e(value)}</span>'


def _hashes(values: list[Any]) -> str:
    if not values:
        return ""
    return "<ul>" + "".join(f'<li class="hash">{_e(v)}</li>' for v in values) + "</ul>"


def _dl(pairs: list[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in pairs if v)
    return f"<dl>{rows}</dl>"


def _section(title: str, en: str, body: str) -> str:
    return f'<section><h2>{title} <span class="en">{en}</span></h2>{body or "<p>无</p>"}</section>'


def record_page(data: dict[str, Any]) -> str:
    """The whole page. `data` is the JSON answer of the same URL."""
    record = data["record"]
    names = {m["inspector"]: m["name"] for m in record.get("members", [])}

    def who(code: Any) -> str:
        return _e(f"{names[code]}（{code}）" if code in names else code)

    parts = [_head(data)]
    subject, task = record["subject"], record["task"]
    about = [
        ("名称", _e(subject["name"])),
        ("统一社会信用代码 / 标识", _h(subject["id"])),
        ("地址", _e(subject.get("address", ""))),
    ]
    parts.append(_section("检查对象", "Subject", _dl(about)))
    about = [("任务", _e(task.get("name", ""))), ("编号", _e(task["code"]))]
    parts.append(_section("抽查任务", "Task", _dl([*about, ("检查编号", _h(record["visit"]))])))
    members = "".join(
        f"<li>{_e(m['name'])}（{_e(m['inspector'])}）· 部门 {_e(m['department'])}"
        + (f" · 执法证号 {_e(m['certificate'])}" if m.get("certificate") else "")
        + (" · 组长" if m.get("role") == "leader" else "")
        + "</li>"
        for m in record.get("members", [])
    )
    parts.append(_section("检查组", "Inspection group", members and f"<ul>{members}</ul>"))
    checkins = "".join(
        f"<li>{who(c['inspector'])} · {_time(c['at'])}"
        + (f" · 距登记地址 {_e(c['distance_m'])} 米" if "distance_m" in c else "")
        + (f" · 定位精度 {_e(c['accuracy_m'])} 米" if "accuracy_m" in c else "")
        + (f" · 无定位：{_e(c['reason'])}" if "reason" in c else "")
        + "</li>"
        for c in record.get("checkins", [])
    )
    parts.append(_section("到场签到", "Check-ins", checkins and f"<ul>{checkins}</ul>"))
    matters = "".join(_matter(m, who) for m in record["matters"])
    parts.append(_section("检查事项", "Matters", matters))
    notes = "".join(
        f"<li>{who(n['by'])} · {_time(n['at'])}"
        + (f" · 事项 {_e(n['matter'])}" if "matter" in n else "")
        + f"<br>{_e(n['text'])}</li>"
        for n in record.get("notes", [])
    )
    parts.append(_section("备注", "Notes", notes and f"<ul>{notes}</ul>"))
    transcripts = "".join(
        f"<li>{who(t['by'])} · {_time(t['at'])}<br>{_e(t['text'])}{_hashes(t['media'])}</li>"
        for t in record.get("transcripts", [])
    )
    parts.append(_section("现场笔录", "Transcripts", transcripts and f"<ul>{transcripts}</ul>"))
    photos = "".join(
        f"<li>{who(p['by'])} · {_time(p['at'])}"
        + (f" · {_e(p['caption'])}" if "caption" in p else "")
        + (f" · 事项 {_e(p['matter'])}" if "matter" in p else "")
        + (f" 第 {_e(p['item'] + 1)} 项" if isinstance(p.get("item"), int) else "")
        + f'<br><span class="hash">SHA-256 {_e(p["sha256"])}</span></li>'
        for p in record.get("photos", [])
    )
    parts.append(_section("照片", "Photos (hashes only)", photos and f"<ul>{photos}</ul>"))
    outcomes = "".join(
        f"<li>{who(s['by'])} · {_time(s['at'])} · {_label(SPECIAL_OUTCOMES, s['code'])}"
        f"<br>{_e(s['text'])}{_hashes(s['media'])}</li>"
        for s in record.get("special_outcomes", [])
    )
    parts.append(_section("特殊情形", "Special outcomes", outcomes and f"<ul>{outcomes}</ul>"))
    witnesses = record.get("witnesses", [])
    listed = witnesses and f"<p>共 {len(witnesses)} 条</p>{_hashes(witnesses)}"
    title = "Witness records (event hashes; personal data not published)"
    parts.append(_section("见证记录", title, listed))
    corrections = "".join(
        f"<li>{_e(c['reason'])}<br><span class='muted'>更正事件 {_e(c['event'])}，"
        f"更正对象 {_e(c['supersedes'])}</span></li>"
        for c in record.get("corrections", [])
    )
    parts.append(_section("更正", "Corrections", corrections and f"<ul>{corrections}</ul>"))
    parts.append(_acts(data))
    parts.append(_entries(data))
    parts.append(_howto(data))
    return _document(f"检查记录核验 {data['short_code']}", "".join(parts))


def _head(data: dict[str, Any]) -> str:
    kept = data["retention"]
    status = (
        '<p class="ok">这是该次检查记录的当前版本。</p>'
        if data["current"]
        else '<p class="warn">该次检查的记录此后已有补充或更正，当前版本与本页不同；'
        "本页为被确认或签名时的版本。</p>"
    )
    return (
        '<h1>检查记录核验 <span class="en">Inspection record verification</span></h1>'
        f'<p>记录短码 <span class="en">short code</span><br>'
        f'<span class="short">{_e(data["short_code"])}</span></p>'
        f'<p>记录哈希 <span class="en">record hash (SHA-256)</span><br>'
        f'<span class="hash">{_e(data["record_hash"])}</span></p>{status}'
        f'<p id="retention">存档：只增不改、不可删除，保存不少于 {_e(kept["min_years"])} 年'
        f'（至少至 {_e(kept["kept_until"])}）<span class="en">Archived append-only, kept at '
        f"least {_e(kept['min_years'])} years</span></p>"
    )


def _matter(m: dict[str, Any], who: Any) -> str:
    items = []
    for i in m.get("items", []):
        line = f"{_e(i['position'] + 1)}. {_e(i['text'])} — "
        if "result" in i:
            line += f"<strong>{_label(ITEM_RESULTS, i['result'])}</strong>"
            line += " · " + "、".join(who(b) for b in i.get("by", []))
            if "note" in i:
                line += f"<br>说明：{_e(i['note'])}"
            line += _hashes(i.get("media", []))
        elif "conflict" in i:
            line += "<strong>结论不一致</strong>：" + "、".join(
                _label(ITEM_RESULTS, c) for c in i["conflict"]
            )
        else:
            line += '<span class="muted">未填写</span>'
        items.append(f"<li>{line}</li>")
    result = ""
    if "result_code" in m:
        result = f"<p>事项结果：<strong>{_label(RESULT_CODES, m['result_code'])}</strong>"
        if "disposition" in m:
            result += f" · 后续处置：{_label(DISPOSITIONS, m['disposition'])}"
        if "note" in m:
            result += f"<br>说明：{_e(m['note'])}"
        result += "</p>"
    elif "result_conflict" in m:
        conflict = "、".join(_label(RESULT_CODES, c) for c in m["result_conflict"])
        result = f"<p>事项结果不一致：{conflict}</p>"
    return (
        f"<h3>{_e(m['name'])}</h3><p class='muted'>事项编号 {_e(m['code'])} · "
        f"部门 {_e(m['department'])}</p><ul>{''.join(items)}</ul>{result}"
    )


def _acts(data: dict[str, Any]) -> str:
    out = []
    confirmations = "".join(
        f"<li>{_e(c['name'])}（{_e(c['inspector'])}）· 部门 {_e(c['department'])}"
        + (f" · 执法证号 {_e(c['certificate'])}" if c.get("certificate") else "")
        + f"<br>{_e(METHOD_LABELS.get(c['method'], c['method']))} · {_time(c['at'])}"
        + f"<br><span class='muted'>日志序号 {_e(c['log_index'])}</span>"
        + f" <span class='hash'>{_e(c['event_hash'])}</span></li>"
        for c in data["confirmations"]
    )
    listed = confirmations and f"<ul>{confirmations}</ul>"
    out.append(_section("检查人员确认", "Inspectors' confirmations", listed))
    s, r = data["signature"], data["refusal"]
    body = ""
    if s:
        body += "<h3>当事人签名</h3>" + _dl([
            ("签名人", _e(s["signer_name"])), ("身份", _e(s["signer_role"])),
            ("签名时间", _time(s["at"])), ("签名图像 SHA-256", _h(s["image_sha256"])),
            ("笔迹数据 SHA-256", _h(s["strokes_sha256"])),
            ("日志序号", _e(s["log_index"])), ("事件哈希", _h(s["event_hash"])),
        ])  # fmt: skip
    if r:
        media = [
            (title, _h(r[key]))
            for key, title in (
                ("witness_signature_sha256", "见证人签名 SHA-256"), ("photo_sha256", "照片 SHA-256")
            )
            if key in r
        ]  # fmt: skip
        body += "<h3>未签名（拒绝或无法签名）</h3>" + _dl([
            ("原因", _label(REFUSAL_REASONS, r["reason_code"])), ("说明", _e(r["reason"])),
            ("见证人", _e(r["witness"]["name"])), ("记录时间", _time(r["at"])), *media,
            ("日志序号", _e(r["log_index"])), ("事件哈希", _h(r["event_hash"])),
        ])  # fmt: skip
    out.append(_section("当事人签名", "Signature of the subject", body))
    return "".join(out)


def _entries(data: dict[str, Any]) -> str:
    cp = data["checkpoint"]
    rows = []
    for entry in data["entries"]:
        proof = entry["inclusion"]
        detail = '<span class="warn">尚未被检查点覆盖</span>'
        if proof:
            path = "".join(f"<li>{_e(p)}</li>" for p in proof["path"])
            detail = (
                f"<details><summary>包含证明（树大小 {_e(proof['size'])}）</summary>"
                f"<p class='hash'>叶子哈希 {_e(proof['leaf_hash'])}</p>"
                f"<p class='hash'>叶子输入（base64）{_e(entry['leaf_input'])}</p>"
                f"<ol class='hash'>{path}</ol></details>"
            )
        kind = TYPE_LABELS.get(entry["type"], entry["type"])
        rows.append(
            f"<li>日志序号 <strong>{_e(entry['log_index'])}</strong> · {_e(kind)}"
            f"<br><span class='hash'>{_e(entry['event_hash'])}</span>{detail}</li>"
        )
    body = (
        f"<p>以下 {len(rows)} 个日志条目是本记录所依据的现场事件及其确认、签名，"
        "均附有对最新检查点的包含证明（RFC 6962）。</p>"
        f"<ul>{''.join(rows)}</ul>"
        f"<h3>最新检查点 <span class='en'>latest checkpoint</span></h3>"
        f"<p>树大小 {_e(cp['size'])} · 根哈希（base64）{_h(cp['root'])}</p>"
        f"<pre>{_e(cp['note'])}</pre>"
    )
    return _section("日志条目与包含证明", "Log entries and inclusion proofs", body)


def _howto(data: dict[str, Any]) -> str:
    return _section(
        "如何自行核验",
        "How to verify it yourself",
        "<ol><li>用已公布的日志公钥（<code>/log/key</code>）验证检查点签名。</li>"
        "<li>对每个条目：叶子哈希 = SHA-256(0x00 ‖ 叶子输入)，按包含证明算到根哈希，"
        "须与检查点一致。</li>"
        "<li>以 <code>Accept: application/json</code> 请求本页得到 JSON，其中 <code>record</code> "
        "按 RFC 8785 规范化后的 SHA-256 即记录哈希。</li></ol>"
        "<p class='muted'>出于个人信息保护，本页不公开电话号码、身份证件号码、签名图像和照片原件，"
        "仅公开其哈希。</p>",
    )


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def error_page(error: AppError) -> str:
    """A coded failure as a page (the JSON clients get the usual error body)."""
    body = error.to_body()
    return _document(
        "检查记录核验",
        '<h1>检查记录核验 <span class="en">Inspection record verification</span></h1>'
        f"<section><p>{_e(body['message'])}</p>"
        f"<p class='en'>{_e(body['message_en'])}</p>"
        f"<p class='muted'>错误代码 <code>{_e(body['code'])}</code></p></section>",
    )
