"""Tasks, visits and joint groups.

A task is one run of a plan line: "1+X" matters (one lead matter plus others) of the
initiating and participating departments (002:15). A visit is one subject visited once by one
joint group that checks every matter of the task (002:18). Group members are listed in the
order they were taken; each serves one department, whose matters it may write results to.
The draw (DRAW.md) creates visits and members; until it exists, tests and the simulator do.
"""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from onevisit.directory.tables import Department, Inspector, Matter

RESTRICT = OnDelete.restrict


class Task(Table, tablename="task"):
    code = Varchar(length=64, unique=True)  # the task id of DRAW.md
    name = Varchar(length=256)
    initiator = ForeignKey(references=Department, on_delete=RESTRICT)
    status = Varchar(length=16, default="open")
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # "ordinary" (drawn from the directory) or "triggered" (seed 003: a complaint, referral,
    # monitoring or risk alert names the subjects or a directional population)
    kind = Varchar(length=16, default="ordinary")
    trigger = JSON(null=True, default=None)  # {kind, reference, note, subjects | scope}
    plan_code = Varchar(length=64, default="")  # the plan line it runs, if any
    plan_line = Integer(null=True, default=None)


class Plan(Table, tablename="plan"):
    """An annual joint plan (002:12-13). Its content lives in versions: the first publication
    and every adjustment is a new PlanVersion with its reason; nothing is edited in place."""

    code = Varchar(length=64, unique=True)
    year = Integer()
    name = Varchar(length=256)
    initiator = ForeignKey(references=Department, on_delete=RESTRICT)
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PlanVersion(Table, tablename="plan_version"):
    plan = ForeignKey(references=Plan, on_delete=RESTRICT, index=True)
    version = Integer()
    reason = Text(default="")
    lines = JSON(
        default=[]
    )  # [{task_name, lead, matters, initiator, participants, scope, ratio, schedule}]
    content_hash = Varchar(length=64, default="")  # SHA-256 of the version's JCS, logged
    published_by = Varchar(length=64, default="")
    published_at = Timestamptz(default=TimestamptzNow())


class TaskMatter(Table, tablename="task_matter"):
    task = ForeignKey(references=Task, on_delete=RESTRICT, index=True)
    matter = ForeignKey(references=Matter, on_delete=RESTRICT)
    lead = Boolean(default=False)  # the "1" of "1+X"
    position = Integer(default=0)


class Visit(Table, tablename="visit"):
    id = UUID(primary_key=True)  # the "visit" of events: not guessable
    task = ForeignKey(references=Task, on_delete=RESTRICT, index=True)
    subject_id = Varchar(length=64, index=True)
    batch_order = Integer(default=0)  # position in the draw's batch order
    planned_date = Date(null=True, default=None)  # the leader's day plan
    day_order = Integer(null=True, default=None)  # the leader's order within that day
    status = Varchar(length=16, default="assigned")
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class VisitMember(Table, tablename="visit_member"):
    visit = ForeignKey(references=Visit, on_delete=RESTRICT, index=True)
    inspector = ForeignKey(references=Inspector, on_delete=RESTRICT, index=True)
    department = ForeignKey(references=Department, on_delete=RESTRICT)  # the inspector's own
    served = ForeignKey(references=Department, on_delete=RESTRICT)  # whose matters it checks
    position = Integer()  # order taken (DRAW.md); the leader is listed by is_leader
    is_leader = Boolean(default=False)


class Draw(Table, tablename="draw"):
    """A task's draw (DRAW.md), from commitment to the published record. Each step is also a
    server log entry (EVIDENCE.md §4), which is the evidence; this row is the working state.
    `inputs` are fixed at commitment (population, strata, departments, pool, conflicts, cap,
    parties' commitments); `record` is the published draw record, rewritten only by a swap
    (each swap is a log entry and a DrawSwap row; the record's groups are after all swaps)."""

    task = ForeignKey(references=Task, on_delete=RESTRICT, unique=True)
    status = Varchar(length=16, default="committed")  # committed → drawn
    inputs = JSON(default={})
    server_secret = Varchar(length=64)  # hex; published in the record once drawn
    beacon = Text(default="")
    beacon_set = Boolean(default=False)
    reveals = JSON(default={})  # party name → secret hex, or null: did not reveal
    record = JSON(null=True, default=None)
    record_hash = Varchar(length=64, default="")
    directory_revision = Integer(default=0)  # the directory snapshot the population is from
    created_by = Varchar(length=64, default="")
    committed_at = Timestamptz(default=TimestamptzNow())
    drawn_at = Timestamptz(null=True, default=None)
    reveal_by = Timestamptz(null=True, default=None)  # other parties reveal before it


class DrawSwap(Table, tablename="draw_swap"):
    """An approved swap, in order (DRAW.md "Swaps"); `incoming` is computed, never chosen."""

    draw = ForeignKey(references=Draw, on_delete=RESTRICT, index=True)
    position = Integer()
    subject_id = Varchar(length=64)
    outgoing = Varchar(length=32)  # inspector code
    incoming = Varchar(length=32)
    reason = Varchar(length=32)
    approved_by = Varchar(length=64)
    at = Timestamptz(default=TimestamptzNow())
