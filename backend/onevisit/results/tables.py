"""Results of closed visits, one per visit × matter (DOMAIN.md "Result vocabulary").

The evidence is the signed record and the server log entries each step writes; these tables
are the working state beside them:

- `Result`: where one matter's result of one visit stands (state, current and published
  version). The only rows that change, and only by the steps of review/publish.py.
- `ResultVersion`: the content (national result code, disposition, note), append-only:
  version 1 comes from the closed record; a correction is a new version with its reason and
  author — a published result is never edited in place (seed 003 art. 16).
- `ResultStep`: every step (submitted, approved, returned, published, withheld, corrected),
  who, why, which approver, and the log index of its server log entry; append-only.
"""

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from onevisit.planning.tables import Visit

RESTRICT = OnDelete.restrict


class Result(Table, tablename="result"):
    key = Varchar(length=120, unique=True)  # "<visit>:<matter>": one result per visit × matter
    visit = ForeignKey(references=Visit, on_delete=RESTRICT, index=True)
    task = Varchar(length=64, index=True)  # task code
    matter = Varchar(length=64)  # matter code
    matter_name = Varchar(length=200, default="")
    department = Varchar(length=32, index=True)  # the matter's department: it reviews
    subject_id = Varchar(length=64, index=True)
    subject_name = Varchar(length=200, default="")
    inspected_on = Date()  # the day the inspection ended: the clock starts after it
    record_hash = Varchar(length=64)  # the closed record it came from
    state = Varchar(length=16, index=True)  # see review.STATES
    version = Integer(default=1)  # the current version
    published_version = Integer(null=True, default=None)  # what the public sees
    published_at = Timestamptz(null=True, default=None)  # first publication
    created_at = Timestamptz(default=TimestamptzNow())


class ResultVersion(Table, tablename="result_version"):
    result = ForeignKey(references=Result, on_delete=RESTRICT, index=True)
    version = Integer()
    result_code = Varchar(length=32)  # field/codes.py RESULT_CODES
    disposition = Varchar(length=32, default="")  # field/codes.py DISPOSITIONS, or none
    note = Text(default="")
    source = Varchar(length=16)  # record | correction
    reason = Text(default="")  # why it was corrected
    by = Varchar(length=64, default="")  # user id; "server" for the record's
    at = Timestamptz(default=TimestamptzNow())


class ResultStep(Table, tablename="result_step"):
    result = ForeignKey(references=Result, on_delete=RESTRICT, index=True)
    version = Integer()
    action = Varchar(length=16)  # see review.ACTIONS
    by = Varchar(length=64, default="")
    approver = Varchar(length=64, default="")  # who approved a withholding (a named leader)
    reason = Text(default="")
    log_index = Integer()
    at = Timestamptz(default=TimestamptzNow())
