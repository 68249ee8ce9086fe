"""Follow-up actions on a result (seed 002 art. 22): opening one, and its later steps.

- **Open** (the matter's department: its coordinators, and admins): a rectification order with
  its due date (after the inspection) and what to correct; a case with its number; a transfer
  to a department of the directory, the judiciary or discipline inspection, with the reason.
  A case or transfer may name the uncorrected order it continues (`follows`).
- **Steps** (rules.STEPS): the re-inspection of an order — also by the visit's members who
  served the department (谁检查、谁复查) —, the closing of a case, the receiver's feedback on
  a transfer.

Every opening and step is a `FollowUpStep` row (append-only) and a server log entry
`server.followup_<action>` of ids, codes, dates and hashes — free text (what to correct,
notes, the case number) stays in the database, the log proves what it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import write_transaction
from onevisit.directory.tables import Department
from onevisit.errors import AppError
from onevisit.evidence.jcs import canonical
from onevisit.evidence.store import append_server_entry
from onevisit.followup import rules
from onevisit.followup.tables import FollowUp, FollowUpStep
from onevisit.results.review import MAX_ID, may_enter, may_review, result_row
from onevisit.workdays.calendar import today_in_china

__all__ = ["followup_row", "open_followup", "record_step"]


def _sha(text: str) -> str:
    return hashlib.sha256(canonical(text)).hexdigest()


async def followup_row(followup_id: int) -> dict[str, Any]:
    """The follow-up by id (a serial, 1 .. 2^31-1)."""
    if (
        isinstance(followup_id, bool)
        or not isinstance(followup_id, int)
        or not 1 <= followup_id <= MAX_ID
    ):
        raise AppError("followup.unknown", str(followup_id))
    row = await FollowUp.select().where(FollowUp.id == followup_id).first()
    if row is None:
        raise AppError("followup.unknown", str(followup_id))
    return row


def _day_between(value: Any, what: str, *, first: dt.date, today: dt.date) -> dt.date:
    """A day that already happened, not before `first`."""
    day = rules.parse_day(value, what)
    if not first <= day <= today:
        raise AppError("followup.invalid", f"{what}: from {first} to today ({today})")
    return day


async def _log_step(
    row: Mapping[str, Any],
    result: Mapping[str, Any],
    caller: Caller,
    *,
    action: str,
    day: dt.date,
    outcome: str = "",
    text: str = "",
    **logged_too: Any,
) -> dict[str, Any]:
    body = {
        "followup": row["id"],
        "result": result["key"],
        "kind": row["kind"],
        "action": action,
        "on": day.isoformat(),
        "by": caller.user_id,
        **({"outcome": outcome} if outcome else {}),
        **({"text_hash": _sha(text)} if text else {}),
        **logged_too,
    }
    logged = await append_server_entry(f"followup_{action}", body, visit=str(result["visit"]))
    await FollowUpStep.insert(
        FollowUpStep(
            followup=row["id"],
            action=action,
            done_on=day,
            outcome=outcome,
            text=text,
            by=caller.user_id,
            log_index=logged["log_index"],
        )
    )
    return logged


async def open_followup(
    *,
    caller: Caller,
    result_id: int,
    kind: str,
    on: str | dt.date,
    text: str,
    due_on: str | dt.date | None = None,
    case_no: str = "",
    target: str = "",
    department: str = "",
    follows: int | None = None,
) -> dict[str, Any]:
    """A new follow-up of the result (see the module's docstring)."""
    if kind not in rules.KIND_CODES:
        raise AppError("followup.invalid", f"kind is one of {', '.join(sorted(rules.KIND_CODES))}")
    async with write_transaction():
        result = await result_row(result_id)
        if not may_review(caller, result):
            raise AppError("auth.department_forbidden", result["department"])
        today, inspected = today_in_china(), result["inspected_on"]
        day = _day_between(on, "the date", first=inspected, today=today)
        fields, logged_too = _opening_fields(
            kind, day=day, inspected=inspected, text=text, due_on=due_on, case_no=case_no,
            target=target, department=department,
        )  # fmt: skip
        if fields.get("target_department") and not await Department.exists().where(
            Department.code == fields["target_department"]
        ):
            raise AppError("followup.invalid", f"no department {fields['target_department']!r}")
        continued = await _continued(follows, kind=kind, result=result)
        state, action = rules.OPENING[kind]
        item = FollowUp(
            result=result["id"], department=result["department"], kind=kind, state=state,
            opened_on=day, follows=continued and continued["id"], by=caller.user_id, **fields,
        )  # fmt: skip
        await FollowUp.insert(item)
        row = {"id": item.id, "kind": kind}
        logged = await _log_step(
            row, result, caller, action=action, day=day, text=fields["text"], **logged_too,
            **({"follows": continued["id"]} if continued else {}),
        )  # fmt: skip
        if continued:
            await _log_step(
                continued, result, caller, action="escalated", day=day, followed_by=item.id
            )
            await FollowUp.update({FollowUp.state: rules.ESCALATED}).where(
                FollowUp.id == continued["id"]
            )
    return {"id": item.id, "kind": kind, "state": state, "log": logged}


def _opening_fields(
    kind: str,
    *,
    day: dt.date,
    inspected: dt.date,
    text: Any,
    due_on: Any,
    case_no: Any,
    target: Any,
    department: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns the kind writes, and what of them the log carries (no free text)."""
    given = {"due_on": due_on, "case_no": case_no, "target": target, "department": department}
    used = {
        rules.RECTIFICATION: {"due_on"},
        rules.CASE: {"case_no"},
        rules.TRANSFER: {"target", "department"},
    }[kind]
    stray = sorted(k for k, v in given.items() if k not in used and v not in (None, ""))
    if stray:
        raise AppError("followup.invalid", f"a {kind} has no {', '.join(stray)}")
    if kind == rules.RECTIFICATION:
        due = rules.parse_day(due_on, "the due date")
        if due <= inspected or due < day:
            raise AppError("followup.invalid", "the due date is after the inspection and the order")
        what = rules.check_text(text, "what to correct", required=True)
        return {"due_on": due, "text": what}, {"due_on": due.isoformat()}
    if kind == rules.CASE:
        number = rules.check_text(case_no, "the case number", required=True, limit=64)
        note = rules.check_text(text, "the note", required=False)
        return {"case_no": number, "text": note}, {"case_no_hash": _sha(number)}
    if target not in rules.TARGET_CODES:
        raise AppError(
            "followup.invalid", f"target is one of {', '.join(sorted(rules.TARGET_CODES))}"
        )
    code = rules.check_text(department, "the department", required=target == "department", limit=32)
    if target != "department" and code:
        raise AppError("followup.invalid", "only a transfer to a department names one")
    reason = rules.check_text(text, "the reason", required=True)
    fields = {"target": target, "target_department": code, "text": reason}
    return fields, {"target": target, **({"department": code} if code else {})}


async def _continued(follows: Any, *, kind: str, result: Mapping[str, Any]) -> dict | None:
    """The uncorrected order of the same result that a case or a transfer continues."""
    if follows is None:
        return None
    if kind == rules.RECTIFICATION:
        raise AppError("followup.invalid", "only a case or a transfer continues an order")
    order = await followup_row(follows)
    if order["result"] != result["id"] or order["kind"] != rules.RECTIFICATION:
        raise AppError("followup.invalid", "follows names an order of the same result")
    if order["state"] != rules.ESCALABLE:
        raise AppError("followup.state", "only an order found not corrected", state=order["state"])
    return order


async def _check_may_record(
    caller: Caller, result: Mapping[str, Any], rule: rules.Step | None
) -> None:
    """The department's coordinators record every step; the visit's members serving the
    department only the re-inspection (谁检查、谁复查); other inspectors nothing."""
    if may_review(caller, result):
        return
    members_too = rule is not None and not rule.managers_only
    if members_too and await may_enter(caller, result):
        return
    if members_too or caller.role in (Role.admin, Role.coordinator):
        raise AppError("auth.department_forbidden", result["department"])
    raise AppError("auth.forbidden", role=caller.role.value)


async def record_step(
    *,
    caller: Caller,
    followup_id: int,
    step: str,
    on: str | dt.date,
    outcome: str = "",
    text: str = "",
) -> dict[str, Any]:
    """A re-inspection, a closing or a feedback (rules.STEPS)."""
    async with write_transaction():
        row = await followup_row(followup_id)
        result = await result_row(row["result"])
        await _check_may_record(caller, result, rules.STEPS.get(step))
        rule, state = rules.step_for(
            kind=row["kind"], state=row["state"], step=step, outcome=outcome
        )
        day = _day_between(on, "the date", first=row["opened_on"], today=today_in_china())
        note = rules.check_text(text, "the text", required=rule.text_required)
        logged = await _log_step(
            row, result, caller, action=rule.action, day=day, outcome=outcome, text=note
        )
        await FollowUp.update({FollowUp.state: state}).where(FollowUp.id == row["id"])
    return {"id": row["id"], "state": state, "log": logged}
