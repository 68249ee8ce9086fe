"""Reading follow-ups: the list a caller may see (with overdue orders and transfers awaiting
feedback), a result's follow-ups, one follow-up with its steps.

Who sees what is the results' rule (results/reading.py): admins all; coordinators their
department's; inspectors and leaders those of the matters they serve in their own visits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from onevisit.auth.roles import Caller, Role
from onevisit.db import read_transaction
from onevisit.errors import AppError
from onevisit.field.codes import DISPOSITIONS, label_or_code
from onevisit.followup import rules
from onevisit.followup.tables import FollowUp, FollowUpStep
from onevisit.followup.workflow import followup_row
from onevisit.results.reading import visible_results
from onevisit.results.review import may_enter, may_review, result_row
from onevisit.results.tables import Result, ResultVersion
from onevisit.workdays.calendar import today_in_china

__all__ = ["followup_detail", "list_followups", "result_followups"]

MAX_LIST = 500
_STATE_CODES = {c for c, _ in rules.STATES}
_OF_RESULT = (
    FollowUp.result.key.as_alias("result_key"),
    FollowUp.result.visit.as_alias("visit"),
    FollowUp.result.subject_id.as_alias("subject_id"),
    FollowUp.result.subject_name.as_alias("subject_name"),
    FollowUp.result.matter_name.as_alias("matter_name"),
    FollowUp.result.inspected_on.as_alias("inspected_on"),
)
CODES = {
    "kinds": rules.KINDS,
    "states": rules.STATES,
    "targets": rules.TARGETS,
    "reinspection_outcomes": rules.REINSPECTION_OUTCOMES,
    "case_outcomes": rules.CASE_OUTCOMES,
}


def _summary(row: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    due = row["due_on"]
    overdue = rules.is_overdue(kind=row["kind"], state=row["state"], due_on=due, today=today)
    out = {
        "id": row["id"],
        "result": row["result"],
        "department": row["department"],
        "kind": row["kind"],
        "kind_label": label_or_code(rules.KINDS, row["kind"]),
        "state": row["state"],
        "state_label": label_or_code(rules.STATES, row["state"]),
        "opened_on": row["opened_on"].isoformat(),
        "due_on": due.isoformat() if due else None,
        "overdue": overdue,
        "days_left": (due - today).days if due and row["state"] == "open" else None,
        "case_no": row["case_no"],
        "target": row["target"],
        "target_label": label_or_code(rules.TARGETS, row["target"]),
        "target_department": row["target_department"],
        "text": row["text"],
        "follows": row["follows"],
    }
    if "result_key" in row:
        out |= {
            "result_key": row["result_key"],
            "visit": str(row["visit"]),
            "subject_id": row["subject_id"],
            "subject_name": row["subject_name"],
            "matter_name": row["matter_name"],
            "inspected_on": row["inspected_on"].isoformat(),
        }
    return out


async def _visible(caller: Caller) -> Any:
    """A where-clause of the follow-ups a caller may list (None: all)."""
    if caller.role is Role.admin:
        return None
    if caller.role is Role.coordinator:
        return FollowUp.department == caller.department
    served = await Result.select(Result.id).where(await visible_results(caller))
    ids = [r["id"] for r in served]
    return FollowUp.result.is_in(ids) if ids else FollowUp.id == -1


async def list_followups(
    *,
    caller: Caller,
    state: str | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
) -> dict[str, Any]:
    """The caller's follow-ups, newest first; `overdue` orders and transfers awaiting feedback
    are counted."""
    if state is not None and state not in _STATE_CODES:
        raise AppError("followup.invalid", f"state is one of {', '.join(sorted(_STATE_CODES))}")
    if kind is not None and kind not in rules.KIND_CODES:
        raise AppError("followup.invalid", f"kind is one of {', '.join(sorted(rules.KIND_CODES))}")
    today = today_in_china()
    async with read_transaction():
        query = FollowUp.select(*FollowUp.all_columns(), *_OF_RESULT)
        for clause in (
            await _visible(caller),
            state and FollowUp.state == state,
            kind and FollowUp.kind == kind,
            overdue
            and (FollowUp.kind == rules.RECTIFICATION)
            & (FollowUp.state == "open")
            & (FollowUp.due_on < today),
        ):
            if clause is not None and clause is not False and clause != "":
                query = query.where(clause)
        rows = await query.order_by(FollowUp.id, ascending=False).limit(MAX_LIST)
    items = [_summary(r, today) for r in rows]
    if overdue is False:
        items = [i for i in items if not i["overdue"]]
    counts: dict[str, int] = {}
    for i in items:
        counts[i["state"]] = counts.get(i["state"], 0) + 1
    return {
        "followups": items,
        "counts": counts,
        "overdue": sum(1 for i in items if i["overdue"]),
        "awaiting_feedback": counts.get("awaiting_feedback", 0),
        "today": today.isoformat(),
    }


async def _readable_result(caller: Caller, result_id: int) -> dict[str, Any]:
    result = await result_row(result_id)
    if not (may_review(caller, result) or await may_enter(caller, result)):
        raise AppError("auth.department_forbidden", result["department"])
    return result


async def result_followups(*, caller: Caller, result_id: int) -> dict[str, Any]:
    """A result's follow-ups, with what the caller may do and the code lists of the forms."""
    today = today_in_china()
    async with read_transaction():
        result = await _readable_result(caller, result_id)
        version = (
            await ResultVersion.select(ResultVersion.disposition)
            .where(
                (ResultVersion.result == result["id"])
                & (ResultVersion.version == result["version"])
            )
            .first()
        )
        rows = await FollowUp.select().where(FollowUp.result == result["id"]).order_by(FollowUp.id)
    disposition = version["disposition"] if version else ""
    return {
        "result": {
            "id": result["id"],
            "key": result["key"],
            "department": result["department"],
            "subject_name": result["subject_name"],
            "matter_name": result["matter_name"],
            "inspected_on": result["inspected_on"].isoformat(),
            "disposition": disposition,
            "disposition_label": label_or_code(DISPOSITIONS, disposition),
        },
        "followups": [_summary(r, today) for r in rows],
        "may_manage": may_review(caller, result),
        "codes": CODES,
    }


async def followup_detail(*, caller: Caller, followup_id: int) -> dict[str, Any]:
    """One follow-up with its steps and what the caller may do next."""
    async with read_transaction():
        item = await followup_row(followup_id)
        result = await _readable_result(caller, item["result"])
        row = (
            await FollowUp.select(*FollowUp.all_columns(), *_OF_RESULT)
            .where(FollowUp.id == item["id"])
            .first()
        )
        steps = (
            await FollowUpStep.select()
            .where(FollowUpStep.followup == item["id"])
            .order_by(FollowUpStep.id)
        )
        continued_by = await FollowUp.select(FollowUp.id).where(FollowUp.follows == item["id"])
    outcomes = dict(rules.REINSPECTION_OUTCOMES + rules.CASE_OUTCOMES)
    out = _summary(row, today_in_china())
    out["may_manage"] = may_review(caller, result)
    out["may_reinspect"] = out["may_manage"] or await may_enter(caller, result)
    out["continued_by"] = [r["id"] for r in continued_by]
    out["codes"] = CODES
    out["steps"] = [
        {
            "action": s["action"],
            "label": label_or_code(rules.ACTIONS, s["action"]),
            "on": s["done_on"].isoformat(),
            "outcome": s["outcome"],
            "outcome_label": outcomes.get(s["outcome"], s["outcome"]),
            "text": s["text"],
            "by": s["by"],
            "log_index": s["log_index"],
            "at": s["at"].isoformat(),
        }
        for s in steps
    ]
    return out
