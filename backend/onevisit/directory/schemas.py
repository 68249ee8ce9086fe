"""API input and output of the directories: explicit msgspec structs (never PiccoloDTO, which
turns defaulted columns into optional None fields and ignores max_length)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

__all__ = [
    "CheckItemIn",
    "CheckItemOut",
    "ConflictIn",
    "ConflictOut",
    "DepartmentIn",
    "DepartmentList",
    "DepartmentOut",
    "ImportResult",
    "InspectorIn",
    "InspectorList",
    "InspectorOut",
    "MatterIn",
    "MatterList",
    "MatterOut",
    "SubjectDetail",
    "SubjectFields",
    "SubjectIn",
    "SubjectList",
    "SubjectOut",
]


class _S(msgspec.Struct, kw_only=True):
    """Unknown input fields are ignored: the PWA may send back a whole object it received."""


class DepartmentIn(_S):
    code: str
    name: str
    region_code: str = ""
    partners: list[str] = []


class DepartmentOut(_S):
    code: str
    name: str
    region_code: str
    partners: list[str]
    active: bool


class DepartmentList(_S):
    departments: list[DepartmentOut]


class CheckItemIn(_S):
    text: str
    basis: str = ""


class CheckItemOut(_S):
    position: int
    text: str
    basis: str


class MatterIn(_S):
    code: str
    department: str
    name: str
    category: str  # key | general
    ratio_cap: str | None = None  # decimal string, general matters only
    basis: str = ""
    content: str = ""
    methods: list[str] = []
    subject_kinds: list[str] = []
    active: bool = True
    items: list[CheckItemIn] = []


class MatterOut(_S):
    code: str
    department: str
    name: str
    category: str
    ratio_cap: str | None
    basis: str
    content: str
    methods: list[str]
    subject_kinds: list[str]
    active: bool
    items: list[CheckItemOut]


class MatterList(_S):
    matters: list[MatterOut]


class SubjectFields(_S):
    """A subject's editable fields (the body of PUT /api/subjects/{subject_id})."""

    name: str
    kind: str
    address: str = ""
    lat_e6: int | None = None
    lon_e6: int | None = None
    industry_code: str = ""
    region_code: str = ""
    credit_class: str = "B"
    abnormal: bool = False
    serious_violation: bool = False
    last_inspected: date | None = None
    legal_representative: str = ""
    tags: list[str] = []
    version: int | None = None  # if given, the version this edit replaces (else 409)


class SubjectUpdate(SubjectFields, kw_only=True):
    """The body of PUT /api/subjects/{subject_id}: a subject_id, if given, must be the path's."""

    subject_id: str | None = None


class SubjectIn(SubjectFields, kw_only=True):
    subject_id: str


class SubjectOut(_S):
    subject_id: str
    id_kind: str
    name: str
    kind: str
    address: str
    lat_e6: int | None
    lon_e6: int | None
    industry_code: str
    region_code: str
    credit_class: str
    abnormal: bool
    serious_violation: bool
    last_inspected: date | None
    legal_representative: str
    tags: list[str]
    version: int
    revision: int


class SubjectDetail(SubjectOut, kw_only=True):
    history: list[SubjectOut]  # older versions, newest first


class SubjectList(_S):
    subjects: list[SubjectOut]
    total: int


class InspectorIn(_S):
    code: str
    name: str
    department: str
    certificate_no: str
    post: str = ""
    expertise: list[str] = []
    active: bool = True


class InspectorOut(_S):
    code: str
    name: str
    department: str
    certificate_no: str
    post: str
    expertise: list[str]
    active: bool
    conflicts: list[str]


class InspectorList(_S):
    inspectors: list[InspectorOut]


class ConflictIn(_S):
    subject_id: str
    reason: str = ""


class ConflictOut(_S):
    inspector: str
    subject_id: str
    reason: str
    declared_by: str
    declared_at: datetime


class ImportResult(_S):
    revision: int
    created: int
    updated: int
    unchanged: int
