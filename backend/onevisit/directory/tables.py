"""Tables of the directories.

Subjects keep every change: `subject` holds the current version of each subject, and before a
row is changed its previous version is copied to `subject_history` (append-only). Every change
batch (an import, an API edit, the demo) is one `directory_revision`; each version records the
revision that wrote it, so "the directory as of revision R" is well defined and a draw can name
the exact snapshot it drew from.
"""

from piccolo.columns import (
    JSON,
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

# Evidence and directory rows are never cascaded away: deleting a parent must fail.
RESTRICT = OnDelete.restrict


class Department(Table, tablename="department"):
    code = Varchar(length=32, unique=True)
    name = Varchar(length=128)
    region_code = Varchar(length=12, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class DepartmentPartner(Table, tablename="department_partner"):
    """Ordered fallback departments for matching when a department is short (001:二(四))."""

    department = ForeignKey(references=Department, on_delete=RESTRICT, index=True)
    partner = ForeignKey(references=Department, on_delete=RESTRICT)
    position = Integer(default=0)


class Matter(Table, tablename="matter"):
    code = Varchar(length=32, unique=True)
    department = ForeignKey(references=Department, on_delete=RESTRICT, index=True)
    name = Varchar(length=256)
    category = Varchar(length=8)  # "key" | "general" (000:二(二), 002:9)
    ratio_cap = Varchar(length=16, null=True, default=None)  # decimal string; general only
    basis = Text(default="")
    content = Text(default="")
    methods = JSON(default=[])  # on_site | documentary | online | commissioned
    subject_kinds = JSON(default=[])
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CheckItem(Table, tablename="check_item"):
    matter = ForeignKey(references=Matter, on_delete=RESTRICT, index=True)
    position = Integer()
    text = Text()
    basis = Text(default="")


class DirectoryRevision(Table, tablename="directory_revision"):
    at = Timestamptz(default=TimestamptzNow())
    actor = Varchar(length=64, default="")  # user id, or "cli" / "demo"
    source = Varchar(length=16)  # import | api | demo
    note = Text(default="")
    rows = Integer(default=0)


class Subject(Table, tablename="subject"):
    subject_id = Varchar(length=64, unique=True)  # USCC, 15-digit regno or plain id
    id_kind = Varchar(length=8)  # uscc | regno | other
    name = Varchar(length=256)
    kind = Varchar(length=16)  # enterprise | individual | cooperative | organisation | product …
    address = Varchar(length=512, default="")
    lat_e6 = Integer(null=True, default=None)  # integer micro-degrees (EVIDENCE.md §1)
    lon_e6 = Integer(null=True, default=None)
    industry_code = Varchar(length=16, default="")
    region_code = Varchar(length=12, default="", index=True)
    credit_class = Varchar(length=1, default="B")  # A (low risk) .. D (high)
    abnormal = Boolean(default=False)  # 经营异常名录
    serious_violation = Boolean(default=False)  # 严重违法失信名单
    last_inspected = Date(null=True, default=None)
    legal_representative = Varchar(length=64, default="")
    tags = JSON(default=[])
    version = Integer(default=1)
    revision = Integer()  # directory_revision.id that wrote this version
    updated_at = Timestamptz(default=TimestamptzNow())


class SubjectHistory(Table, tablename="subject_history"):
    """Superseded versions of subjects; rows are only ever inserted."""

    subject_id = Varchar(length=64, index=True)
    id_kind = Varchar(length=8)
    name = Varchar(length=256)
    kind = Varchar(length=16)
    address = Varchar(length=512, default="")
    lat_e6 = Integer(null=True, default=None)
    lon_e6 = Integer(null=True, default=None)
    industry_code = Varchar(length=16, default="")
    region_code = Varchar(length=12, default="")
    credit_class = Varchar(length=1, default="B")
    abnormal = Boolean(default=False)
    serious_violation = Boolean(default=False)
    last_inspected = Date(null=True, default=None)
    legal_representative = Varchar(length=64, default="")
    tags = JSON(default=[])
    version = Integer()
    revision = Integer()  # revision that wrote this version
    superseded_by_revision = Integer()  # revision that replaced it
    updated_at = Timestamptz(default=TimestamptzNow())


class Inspector(Table, tablename="inspector"):
    code = Varchar(length=32, unique=True)
    name = Varchar(length=64)
    department = ForeignKey(references=Department, on_delete=RESTRICT, index=True)
    certificate_no = Varchar(length=64)  # 执法证号
    post = Varchar(length=64, default="")
    expertise = JSON(default=[])
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class InspectorConflict(Table, tablename="inspector_conflict"):
    """A declared conflict of interest (回避): the draw never matches this pair."""

    inspector = ForeignKey(references=Inspector, on_delete=RESTRICT, index=True)
    subject_id = Varchar(length=64)
    reason = Text(default="")
    declared_by = Varchar(length=64, default="")
    declared_at = Timestamptz(default=TimestamptzNow())
