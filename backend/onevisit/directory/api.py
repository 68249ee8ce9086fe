"""HTTP API of the directories: thin controllers that parse, call one domain function and return
a schema. Department-scoped data: admins see all, others their own department (docs/directory.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Caller, Role
from onevisit.config import get_settings
from onevisit.directory import departments, inspectors, matters, subjects
from onevisit.directory.exporting import MEDIA_TYPES, export_file
from onevisit.directory.importing import import_file
from onevisit.directory.schemas import (
    ConflictIn,
    ConflictOut,
    DepartmentIn,
    DepartmentList,
    DepartmentOut,
    ImportResult,
    InspectorIn,
    InspectorList,
    InspectorOut,
    MatterIn,
    MatterList,
    MatterOut,
    SubjectDetail,
    SubjectIn,
    SubjectList,
    SubjectUpdate,
)
from onevisit.errors import AppError

__all__ = ["ROUTES"]

ANY_ROLE = allow(Role.admin, Role.coordinator, Role.leader, Role.inspector)
MANAGERS = allow(Role.admin, Role.coordinator)
ADMIN = allow(Role.admin)


def _caller(request: Request) -> Caller:
    caller = caller_of(request)
    assert caller is not None  # every route has a guard that requires a caller
    return caller


def _only(caller: Caller) -> str | None:
    """The department a non-admin is limited to ("" for one without any: matches nothing)."""
    return None if caller.role is Role.admin else (caller.department or "")


def _no_nul(*values: str | None) -> None:
    """A NUL character is in no stored text (PostgreSQL text cannot hold one)."""
    if any(v and "\x00" in v for v in values):
        raise AppError("request.invalid", "参数含有 NUL 字符")


class DepartmentController(Controller):
    path = "/api/departments"
    tags = ("directory",)

    @get("/", guards=[ANY_ROLE])
    async def list_departments(self) -> DepartmentList:
        return DepartmentList(departments=await departments.list_departments())

    @post("/", guards=[ADMIN])
    async def create_department(self, data: JSONBody[DepartmentIn]) -> DepartmentOut:
        return await departments.create_department(data=data)


class MatterController(Controller):
    path = "/api/matters"
    tags = ("directory",)

    @get("/", guards=[ANY_ROLE])
    async def list_matters(self, department: FromQuery[str | None] = None) -> MatterList:
        _no_nul(department)
        return MatterList(matters=await matters.list_matters(department=department or None))

    @post("/", guards=[MANAGERS])
    async def create_matter(self, request: Request, data: JSONBody[MatterIn]) -> MatterOut:
        caller = _caller(request)
        return await matters.create_matter(
            data=data, actor=caller.user_id, only_department=_only(caller)
        )

    @put("/{code:str}", guards=[MANAGERS])
    async def update_matter(
        self, request: Request, code: FromPath[str], data: JSONBody[MatterIn]
    ) -> MatterOut:
        caller = _caller(request)
        return await matters.update_matter(
            code=code, data=data, actor=caller.user_id, only_department=_only(caller)
        )


class SubjectController(Controller):
    path = "/api/subjects"
    tags = ("directory",)

    @get("/", guards=[ANY_ROLE])
    async def list_subjects(
        self,
        q: FromQuery[str] = "",
        region: FromQuery[str] = "",
        credit_class: FromQuery[str] = "",
        kind: FromQuery[str] = "",
        limit: FromQuery[int] = 50,
        offset: FromQuery[int] = 0,
    ) -> SubjectList:
        found, total = await subjects.list_subjects(
            q=q, region=region, credit_class=credit_class, kind=kind, limit=limit, offset=offset
        )
        return SubjectList(subjects=found, total=total)

    @get("/{subject_id:str}", guards=[ANY_ROLE])
    async def get_subject(self, subject_id: FromPath[str]) -> SubjectDetail:
        return await subjects.get_subject(subject_id=subject_id)

    @post("/", guards=[MANAGERS])
    async def create_subject(self, request: Request, data: JSONBody[SubjectIn]) -> SubjectDetail:
        return await subjects.create_subject(data=data, actor=_caller(request).user_id)

    @put("/{subject_id:str}", guards=[MANAGERS])
    async def update_subject(
        self, request: Request, subject_id: FromPath[str], data: JSONBody[SubjectUpdate]
    ) -> SubjectDetail:
        return await subjects.update_subject(
            subject_id=subject_id, data=data, actor=_caller(request).user_id
        )


class InspectorController(Controller):
    path = "/api/inspectors"
    tags = ("directory",)

    @get("/", guards=[allow(Role.admin, Role.coordinator, Role.leader)])
    async def list_inspectors(
        self, request: Request, department: FromQuery[str | None] = None
    ) -> InspectorList:
        _no_nul(department)
        department = department or None  # ?department= (empty) is no filter
        only = _only(_caller(request))
        if only is not None and department not in (None, only):
            raise AppError("auth.department_forbidden", department=department)
        found = await inspectors.list_inspectors(department=department or only)
        return InspectorList(inspectors=found)

    @post("/", guards=[MANAGERS])
    async def create_inspector(self, request: Request, data: JSONBody[InspectorIn]) -> InspectorOut:
        caller = _caller(request)
        return await inspectors.create_inspector(
            data=data, actor=caller.user_id, only_department=_only(caller)
        )

    @put("/{code:str}", guards=[MANAGERS])
    async def update_inspector(
        self, request: Request, code: FromPath[str], data: JSONBody[InspectorIn]
    ) -> InspectorOut:
        caller = _caller(request)
        return await inspectors.update_inspector(
            code=code, data=data, actor=caller.user_id, only_department=_only(caller)
        )

    @post("/{code:str}/conflicts", guards=[MANAGERS])
    async def declare_conflict(
        self, request: Request, code: FromPath[str], data: JSONBody[ConflictIn]
    ) -> ConflictOut:
        caller = _caller(request)
        return await inspectors.declare_conflict(
            code=code,
            subject_id=data.subject_id,
            reason=data.reason,
            actor=caller.user_id,
            only_department=_only(caller),
        )


@dataclass
class ImportForm:
    file: UploadFile


@post("/api/imports/{kind:str}", guards=[MANAGERS], status_code=200, tags=["directory"])
async def import_directory(
    request: Request, kind: FromPath[str], data: MultipartBody[ImportForm]
) -> ImportResult:
    caller = _caller(request)
    limit = get_settings().max_import_bytes
    content = await data.file.read(limit + 1)  # the body limit should have caught it already
    if len(content) > limit:
        raise AppError("request.too_large", max_bytes=limit)
    return await import_file(
        kind=kind,
        data=content,
        filename=data.file.filename or "",
        actor=caller.user_id,
        only_department=_only(caller) if kind != "subjects" else None,
    )


@get("/api/exports/{name:str}", guards=[MANAGERS], tags=["directory"])
async def export_directory(request: Request, name: FromPath[str]) -> Response[bytes]:
    """name: subjects.csv, inspectors.xlsx, … (inspectors: a coordinator's own department)."""
    kind, _, fmt = name.partition(".")
    if fmt not in MEDIA_TYPES:
        raise AppError("import.kind", name)
    only = _only(_caller(request)) if kind == "inspectors" else None
    content = await export_file(kind=kind, fmt=fmt, department=only)
    return Response(
        content=content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{kind}.{fmt}"'},
    )


@post(
    "/api/me/conflicts",
    guards=[allow(Role.leader, Role.inspector)],
    status_code=201,
    tags=["directory"],
    summary="An inspector declares their own conflict of interest (回避) with a subject",
)
async def declare_my_conflict(request: Request, data: JSONBody[ConflictIn]) -> ConflictOut:
    """Before a draw it keeps the pair apart (DRAW.md matching, swaps); a declaration made
    after a draw is grounds for a swap (reason conflict_of_interest)."""
    caller = _caller(request)
    if not caller.inspector_code:
        raise AppError("inspector.unknown", "this account is not an inspector's")
    return await inspectors.declare_conflict(
        code=caller.inspector_code, subject_id=data.subject_id, reason=data.reason,
        actor=caller.user_id,
    )  # fmt: skip


ROUTES = [
    declare_my_conflict,
    DepartmentController,
    MatterController,
    SubjectController,
    InspectorController,
    import_directory,
    export_directory,
]
