"""Results of closed visits: intake from the record, review, correction, publication.

One result per visit × matter (DOMAIN.md "Result vocabulary"), in the states

    pending_entry (待录入) ─┐
    pending_review (待审核) ─► approved (审核通过) ─► published (已公示)
          │    ▲                    │                    │
          ▼    │ correction         ▼ withheld (不予公示: a named leader approved, with reason)
    returned (审核不通过)                                 │
                                        correction ◄─────┘ (a new version; the published
                                                           one stays public until the
                                                           correction is published)

- **Intake**: when a visit is closed (field/team.py), each matter's result of the closed record
  becomes version 1, `pending_review` (`pending_entry` if the record has none).
- **Review** by the matter's department (a coordinator of it, or an admin): approve, or return
  with a reason.
- **Correction** (谁检查、谁录入): a member of the visit serving that department, or its
  coordinator, enters a new version with a reason; it goes back to review. A published result
  is never edited in place (seed 003 art. 16): the public sees the published version and,
  once a correction is published, the history.
- **Publication**: only an approved result (`result.not_reviewed` otherwise); withholding
  needs the approving leader's name and a reason (`result.withhold_unapproved`).

Every step is a server log entry (EVIDENCE.md §4) carrying hashes, never free text: notes and
reasons stay in the database, the log proves what they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import write_transaction
from onevisit.errors import AppError
from onevisit.evidence.jcs import canonical
from onevisit.evidence.store import append_server_entry
from onevisit.field.codes import DISPOSITIONS, RESULT_CODES, codes
from onevisit.field.model import VisitInfo, VisitState
from onevisit.field.projection import Received, project_visit
from onevisit.field.service import received_events, visit_info
from onevisit.field.team import CLOSED, closure_of
from onevisit.planning.tables import Visit
from onevisit.results.tables import Result, ResultStep, ResultVersion
from onevisit.workdays.calendar import BEIJING

__all__ = [
    "ACTIONS",
    "STATES",
    "approve",
    "correct",
    "inspected_on",
    "intake_closed_visits",
    "may_enter",
    "may_review",
    "publish",
    "result_row",
    "return_result",
    "withhold",
]

PENDING_ENTRY, PENDING_REVIEW, RETURNED = "pending_entry", "pending_review", "returned"
APPROVED, PUBLISHED, WITHHELD = "approved", "published", "withheld"
STATES = (
    (PENDING_ENTRY, "待录入"),
    (PENDING_REVIEW, "待审核"),
    (RETURNED, "审核不通过"),
    (APPROVED, "审核通过"),
    (PUBLISHED, "已公示"),
    (WITHHELD, "不予公示"),
)
ACTIONS = (
    ("submitted", "提交审核"),
    ("approved", "审核通过"),
    ("returned", "退回"),
    ("corrected", "更正"),
    ("published", "公示"),
    ("withheld", "不予公示"),
)
MAX_REASON = 500
MAX_ID = 2**31 - 1
_RESULT_CODES, _DISPOSITIONS = codes(RESULT_CODES), codes(DISPOSITIONS)


def _sha(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def inspected_on(state: VisitState, closed_at_ms: int) -> dt.date:
    """The day the inspection ended (seed 003 art. 14: the clock runs from it): the subject's
    signature or refusal as the phone dated it, never later than the close."""
    acts = [a.at for a in (state.signature, state.refusal) if a is not None]
    ms = min([*acts, closed_at_ms])
    return dt.datetime.fromtimestamp(ms / 1000, BEIJING).date()


# --- intake ---------------------------------------------------------------------------------


async def intake_closed_visits() -> int:
    """Results for every closed visit that has none yet; answers how many were made. Cheap
    when there is nothing to do (one indexed query), so readers call it before they read."""
    waiting = await _closed_without_results()
    made = 0
    for visit_id in waiting:
        async with write_transaction():
            if await Result.exists().where(Result.visit == visit_id):
                continue  # another reader took it in meanwhile
            info = await visit_info(visit_id)
            made += await _intake(info, await received_events(visit_id))
    return made


async def _closed_without_results() -> list[str]:
    """One query (the result side an index lookup per closed visit): readers call this on
    every read, public pages included, so it must not load every result's visit to compare."""
    rows = await Visit.raw(
        "SELECT v.id FROM visit v WHERE v.status = {} "
        "AND NOT EXISTS (SELECT 1 FROM result r WHERE r.visit = v.id)",
        CLOSED,
    )
    return [str(r["id"]) for r in rows]


async def _intake(info: VisitInfo, events: Sequence[Received]) -> int:
    closure, _ = closure_of(events)
    if closure is None:
        return 0  # closed in the table but not yet in the log: next time
    cut = next(i for i, r in enumerate(events) if r.event.id == closure.event)
    state = project_visit(visit=info, events=list(events[:cut]), now_ms=closure.received_ms)
    day = inspected_on(state, closure.at)
    for m in state.matters:
        code = m.result_code or ""
        key = f"{info.visit}:{m.code}"
        result = Result(
            key=key,
            visit=info.visit,
            task=info.task,
            matter=m.code,
            matter_name=m.name,
            department=m.department,
            subject_id=info.subject.id,
            subject_name=info.subject.name,
            inspected_on=day,
            record_hash=closure.record_hash,
            state=PENDING_REVIEW if code else PENDING_ENTRY,
            version=1,
        )
        await Result.insert(result)
        content = {"result_code": code, "disposition": m.disposition or "", "note": m.note}
        await ResultVersion.insert(
            ResultVersion(result=result.id, version=1, source="record", by=closure.by, **content)
        )
        logged = await append_server_entry(
            "result_submitted",
            {
                "result": key,
                "visit": info.visit,
                "task": info.task,
                "matter": m.code,
                "department": m.department,
                "subject_id": info.subject.id,
                "version": 1,
                "result_code": code,
                "content_hash": _sha(content),
                "record_hash": closure.record_hash,
                "inspected_on": day.isoformat(),
            },
            visit=info.visit,
        )
        await ResultStep.insert(
            ResultStep(
                result=result.id,
                version=1,
                action="submitted",
                by=closure.by,
                log_index=logged["log_index"],
            )
        )
    return len(state.matters)


# --- who may do what ------------------------------------------------------------------------


def may_review(caller: Caller, result: Mapping[str, Any]) -> bool:
    """The matter's department reviews and publishes: its coordinators, and admins."""
    return caller.role is Role.admin or (
        caller.role is Role.coordinator and caller.department == result["department"]
    )


async def may_enter(caller: Caller, result: Mapping[str, Any]) -> bool:
    """谁检查、谁录入: the visit's members serving the matter's department, and its reviewers."""
    if may_review(caller, result):
        return True
    if caller.inspector_code is None:
        return False
    info = await visit_info(str(result["visit"]))
    return any(
        m.inspector == caller.inspector_code and m.served == result["department"]
        for m in info.members
    )


# --- the steps ------------------------------------------------------------------------------


async def result_row(result_id: int) -> dict[str, Any]:
    """The result by id (a serial: 1 .. 2^31-1, beyond which no engine holds one)."""
    if (
        isinstance(result_id, bool)
        or not isinstance(result_id, int)
        or not (1 <= result_id <= MAX_ID)
    ):
        raise AppError("result.unknown", str(result_id))
    row = await Result.select().where(Result.id == result_id).first()
    if row is None:
        raise AppError("result.unknown", str(result_id))
    return row


def _reason(reason: Any, what: str) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON or "\x00" in text:
        raise AppError("result.invalid", f"{what}: 1-{MAX_REASON} characters")
    return text


async def _step(
    row: Mapping[str, Any],
    action: str,
    caller: Caller,
    *,
    version: int | None = None,
    reason: str = "",
    approver: str = "",
    **logged_too: Any,
) -> dict[str, Any]:
    version = version or row["version"]
    body = {"result": row["key"], "version": version, "action": action, "by": caller.user_id}
    if reason:
        body["reason_hash"] = _sha(reason)
    if approver:
        body["approver"] = approver
    logged = await append_server_entry(
        f"result_{action}", {**body, **logged_too}, visit=str(row["visit"])
    )
    await ResultStep.insert(
        ResultStep(
            result=row["id"],
            version=version,
            action=action,
            by=caller.user_id,
            approver=approver,
            reason=reason,
            log_index=logged["log_index"],
        )
    )
    return logged


async def _reviewable(caller: Caller, result_id: int, allowed: Sequence[str]) -> dict[str, Any]:
    row = await result_row(result_id)
    if not may_review(caller, row):
        raise AppError("auth.department_forbidden", row["department"])
    if row["state"] not in allowed:
        code = "result.not_reviewed" if APPROVED in allowed else "result.state"
        raise AppError(code, f"{row['key']}（{row['state']}）", state=row["state"])
    return row


async def approve(*, caller: Caller, result_id: int) -> dict[str, Any]:
    async with write_transaction():
        row = await _reviewable(caller, result_id, (PENDING_REVIEW,))
        logged = await _step(row, "approved", caller)
        await Result.update({Result.state: APPROVED}).where(Result.id == row["id"])
    return {"id": row["id"], "state": APPROVED, "log": logged}


async def return_result(*, caller: Caller, result_id: int, reason: str) -> dict[str, Any]:
    text = _reason(reason, "the reason it is returned")
    async with write_transaction():
        row = await _reviewable(caller, result_id, (PENDING_REVIEW,))
        logged = await _step(row, "returned", caller, reason=text)
        await Result.update({Result.state: RETURNED}).where(Result.id == row["id"])
    return {"id": row["id"], "state": RETURNED, "log": logged}


async def publish(*, caller: Caller, result_id: int) -> dict[str, Any]:
    """Publish the current version (reviewed: approved, or withheld before and now released)."""
    async with write_transaction():
        row = await _reviewable(caller, result_id, (APPROVED, WITHHELD))
        logged = await _step(row, "published", caller)
        now = dt.datetime.now(dt.UTC)
        await Result.update(
            {
                Result.state: PUBLISHED,
                Result.published_version: row["version"],
                Result.published_at: row["published_at"] or now,
            }
        ).where(Result.id == row["id"])
    return {"id": row["id"], "state": PUBLISHED, "version": row["version"], "log": logged}


async def withhold(*, caller: Caller, result_id: int, reason: str, approver: str) -> dict[str, Any]:
    """Not published (002:20(三)): only with the approving leader named and a reason."""
    name = approver.strip() if isinstance(approver, str) else ""
    if not name or len(name) > 64:
        raise AppError("result.withhold_unapproved", "name the leader who approved (1-64)")
    text = _reason(reason, "the reason it is not published")
    async with write_transaction():
        row = await _reviewable(caller, result_id, (APPROVED,))
        logged = await _step(row, "withheld", caller, reason=text, approver=name)
        await Result.update({Result.state: WITHHELD}).where(Result.id == row["id"])
    return {"id": row["id"], "state": WITHHELD, "log": logged}


async def correct(
    *,
    caller: Caller,
    result_id: int,
    result_code: str,
    disposition: str = "",
    note: str = "",
    reason: str,
) -> dict[str, Any]:
    """A new version (never an edit): back to review; what was published stays public until
    the correction is published."""
    if result_code not in _RESULT_CODES:
        raise AppError("result.invalid", f"unknown result code {result_code!r}")
    if disposition and disposition not in _DISPOSITIONS:
        raise AppError("result.invalid", f"unknown disposition {disposition!r}")
    if not isinstance(note, str) or len(note) > 2000 or "\x00" in note:
        raise AppError("result.invalid", "the note is at most 2000 characters")
    text = _reason(reason, "the reason for the correction")
    async with write_transaction():
        row = await result_row(result_id)
        if not await may_enter(caller, row):
            raise AppError("auth.department_forbidden", row["department"])
        version = row["version"] + 1
        content = {"result_code": result_code, "disposition": disposition, "note": note.strip()}
        await ResultVersion.insert(
            ResultVersion(
                result=row["id"],
                version=version,
                source="correction",
                reason=text,
                by=caller.user_id,
                **content,
            )
        )
        logged = await _step(
            row,
            "corrected",
            caller,
            version=version,
            reason=text,
            result_code=result_code,
            content_hash=_sha(content),
        )
        await Result.update({Result.state: PENDING_REVIEW, Result.version: version}).where(
            Result.id == row["id"]
        )
    return {"id": row["id"], "state": PENDING_REVIEW, "version": version, "log": logged}
