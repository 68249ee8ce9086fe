"""Follow-up actions on a result (seed 002 art. 22), the working state beside the log.

- `FollowUp`: one action a department takes on one result — a rectification order
  (责令限期改正), a case (立案查处) or a transfer (移送) — and where it stands. Like
  `Result.state`, `state` is the only column a step changes; what was decided when it was
  opened (dates, target, case number, what to correct) is written once.
- `FollowUpStep`: every step, the opening one included, append-only (the database refuses
  UPDATE and DELETE, see piccolo_migrations/followup_step_guard.py), each with the log index
  of its server log entry.
"""

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from onevisit.results.tables import Result

RESTRICT = OnDelete.restrict


class FollowUp(Table, tablename="follow_up"):
    result = ForeignKey(references=Result, on_delete=RESTRICT, index=True)
    department = Varchar(length=32, index=True)  # the result's department: it follows up
    kind = Varchar(length=16, index=True)  # rules.KINDS
    state = Varchar(length=24, index=True)  # rules.STATES
    opened_on = Date()  # the day of the order, the filing or the transfer
    due_on = Date(null=True, default=None)  # rectification: the time limit
    case_no = Varchar(length=64, default="")  # case: its number (立案号)
    target = Varchar(length=16, default="")  # transfer: rules.TARGETS
    target_department = Varchar(length=32, default="")  # transfer to a department: its code
    text = Text(default="")  # what to correct / the case's note / why it is transferred
    follows = Integer(null=True, default=None)  # the uncorrected order this one continues
    by = Varchar(length=64)  # user id
    created_at = Timestamptz(default=TimestamptzNow())


class FollowUpStep(Table, tablename="follow_up_step"):
    followup = ForeignKey(references=FollowUp, on_delete=RESTRICT, index=True)
    action = Varchar(length=16)  # rules.ACTIONS
    done_on = Date()  # the day it happened (the re-inspection, the closing, the feedback)
    outcome = Varchar(length=24, default="")  # rules.REINSPECTION_OUTCOMES / CASE_OUTCOMES
    text = Text(default="")
    by = Varchar(length=64)
    log_index = Integer()
    at = Timestamptz(default=TimestamptzNow())
