"""The follow-up vocabulary and its state machine (seed 002 art. 22), pure: no I/O.

    rectification (责令限期改正)  open ─reinspect─► corrected
                                   │
                                   └──reinspect─► not_corrected ─(a case or transfer
                                                                  follows it)─► escalated
    case (立案查处)               filed ─close─► closed
    transfer (移送)               awaiting_feedback ─feedback─► feedback_received

An order is overdue while it is open past its due date (逾期未改正 is what the re-inspection
then finds). A case or a transfer may name the uncorrected order it continues ("逾期未改正的，
依法依规进行后续处理"), which moves that order to `escalated`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from onevisit.errors import AppError
from onevisit.field.codes import codes

__all__ = [
    "ACTIONS",
    "CASE_OUTCOMES",
    "KINDS",
    "MAX_TEXT",
    "OPENING",
    "REINSPECTION_OUTCOMES",
    "STATES",
    "STEPS",
    "TARGETS",
    "Step",
    "check_text",
    "is_overdue",
    "parse_day",
    "step_for",
]

RECTIFICATION, CASE, TRANSFER = "rectification", "case", "transfer"
KINDS = ((RECTIFICATION, "责令限期改正"), (CASE, "立案查处"), (TRANSFER, "移送"))
STATES = (
    ("open", "限期改正中"),
    ("corrected", "已改正"),
    ("not_corrected", "逾期未改正"),
    ("escalated", "已转立案或移送"),
    ("filed", "已立案"),
    ("closed", "已结案"),
    ("awaiting_feedback", "待反馈"),
    ("feedback_received", "已反馈"),
)
ACTIONS = (
    ("ordered", "责令限期改正"),
    ("filed", "立案"),
    ("transferred", "移送"),
    ("reinspected", "复查"),
    ("closed", "结案"),
    ("feedback", "处理结果反馈"),
    ("escalated", "转立案或移送"),
)
# 002:22: to the department with jurisdiction (or penalty power), to the judiciary when a
# crime is suspected, to discipline inspection for suspected misconduct of officials
TARGETS = (
    ("department", "有管辖权的部门"),
    ("judiciary", "司法机关"),
    ("discipline", "纪检监察机关"),
)
REINSPECTION_OUTCOMES = (("corrected", "已改正"), ("not_corrected", "逾期未改正"))
CASE_OUTCOMES = (
    ("penalised", "给予行政处罚"),
    ("not_penalised", "不予行政处罚"),
    ("transferred", "移送司法机关"),
    ("withdrawn", "撤销立案"),
)
# the state each kind starts in, and its opening step
OPENING = {
    RECTIFICATION: ("open", "ordered"),
    CASE: ("filed", "filed"),
    TRANSFER: ("awaiting_feedback", "transferred"),
}
# an uncorrected order continued by a case or a transfer
ESCALABLE, ESCALATED = "not_corrected", "escalated"
MAX_TEXT = 2000
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Step:
    """A step a follow-up takes after its opening: which kind, from which state, the action
    logged, and the state each outcome leads to ("" when the step has no outcome)."""

    kind: str
    from_state: str
    action: str
    leads_to: dict[str, str]
    text_required: bool = False
    managers_only: bool = True  # False: the visit's members of the department may record it


STEPS = {
    "reinspect": Step(
        RECTIFICATION, "open", "reinspected",
        {"corrected": "corrected", "not_corrected": "not_corrected"}, managers_only=False,
    ),
    "close": Step(CASE, "filed", "closed", {c: "closed" for c, _ in CASE_OUTCOMES}),
    "feedback": Step(
        TRANSFER, "awaiting_feedback", "feedback", {"": "feedback_received"}, text_required=True
    ),
}  # fmt: skip


def step_for(*, kind: str, state: str, step: str, outcome: str) -> tuple[Step, str]:
    """The step and the state it leads to; followup.invalid for a step this kind never takes
    or an unknown outcome, followup.state when the item is not where the step starts."""
    rule = STEPS.get(step)
    if rule is None or rule.kind != kind:
        raise AppError("followup.invalid", f"a {kind} takes no step {step!r}")
    if outcome not in rule.leads_to:
        known = ", ".join(sorted(o for o in rule.leads_to if o)) or "none"
        raise AppError("followup.invalid", f"the outcome of {step} is one of: {known}")
    if state != rule.from_state:
        raise AppError(
            "followup.state", f"{step} needs {rule.from_state}, not {state}", state=state
        )
    return rule, rule.leads_to[outcome]


def parse_day(value: Any, what: str) -> dt.date:
    """A YYYY-MM-DD date (followup.invalid otherwise)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise AppError("followup.invalid", f"{what}: a date YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise AppError("followup.invalid", f"{what}: not a date") from None
    if not 2000 <= day.year <= 2099:
        raise AppError("followup.invalid", f"{what}: a year 2000-2099")
    return day


def check_text(value: Any, what: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    """Free text, trimmed: at most `limit` characters, no NUL; required ones not blank."""
    text = value.strip() if isinstance(value, str) else None
    if text is None or len(text) > limit or "\x00" in text or (required and not text):
        size = f"1-{limit}" if required else f"at most {limit}"
        raise AppError("followup.invalid", f"{what}: {size} characters")
    return text


def is_overdue(*, kind: str, state: str, due_on: dt.date | None, today: dt.date) -> bool:
    """An order still open after its due date (the due date itself is still in time)."""
    return kind == RECTIFICATION and state == "open" and due_on is not None and today > due_on


KIND_CODES, TARGET_CODES = codes(KINDS), codes(TARGETS)
