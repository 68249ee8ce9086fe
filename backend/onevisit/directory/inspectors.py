"""The inspector directory (执法检查人员名录库) and declared conflicts of interest (回避).

Conflicts are only ever added: a declaration is part of the trace a later draw relies on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from onevisit.db import write_transaction
from onevisit.directory.departments import department_ids
from onevisit.directory.fields import FieldError, check_text, normalise_subject_id
from onevisit.directory.records import clean_inspector
from onevisit.directory.revisions import latest_revision, new_revision
from onevisit.directory.schemas import ConflictOut, ImportResult, InspectorIn, InspectorOut
from onevisit.directory.single import check_path_id, clean_one, struct_values, write_one
from onevisit.directory.tables import Inspector, InspectorConflict, Subject
from onevisit.errors import AppError

__all__ = [
    "certificate_holders",
    "create_inspector",
    "declare_conflict",
    "list_inspectors",
    "update_inspector",
    "write_inspectors",
]

_FIELDS = ("name", "certificate_no", "post", "expertise", "active")


async def _load(codes: Sequence[str] | None = None, department: str | None = None) -> list[dict]:
    query = Inspector.select(
        Inspector.all_columns(), Inspector.department.code.as_alias("dep")
    ).output(load_json=True)
    if codes is not None:
        if not codes:
            return []
        query = query.where(Inspector.code.is_in(list(codes)))
    if department is not None:  # "" matches nothing: a scoped caller without a department
        query = query.where(Inspector.department.code == department)
    rows = await query.order_by(Inspector.code)
    conflicts: dict[int, list[str]] = {r["id"]: [] for r in rows}
    if rows:
        for c in (
            await InspectorConflict.select(
                InspectorConflict.inspector, InspectorConflict.subject_id
            )
            .where(InspectorConflict.inspector.is_in(list(conflicts)))
            .order_by(InspectorConflict.id)
        ):
            conflicts[c["inspector"]].append(c["subject_id"])
    return [
        {
            "id": r["id"],
            "code": r["code"],
            "department": r["dep"],
            "conflicts": conflicts[r["id"]],
            **{f: r[f] for f in _FIELDS},
        }
        for r in rows
    ]


def _out(i: dict[str, Any]) -> InspectorOut:
    return InspectorOut(**{k: v for k, v in i.items() if k != "id"})


async def list_inspectors(*, department: str | None = None) -> list[InspectorOut]:
    return [_out(i) for i in await _load(department=department)]


async def known_subjects(subject_ids: Sequence[str]) -> set[str]:
    if not subject_ids:
        return set()
    rows = await Subject.select(Subject.subject_id).where(
        Subject.subject_id.is_in(list(set(subject_ids)))
    )
    return {r["subject_id"] for r in rows}


async def certificate_holders(certificates: Sequence[str]) -> dict[str, str]:
    """执法证号 → the code of the stored inspector holding it."""
    if not certificates:
        return {}
    rows = await Inspector.select(Inspector.certificate_no, Inspector.code).where(
        Inspector.certificate_no.is_in(list(set(certificates)))
    )
    return {r["certificate_no"]: r["code"] for r in rows}


async def write_inspectors(
    records: Sequence[dict[str, Any]],
    *,
    actor: str,
    source: str,
    note: str = "",
    expect: str = "any",
    only_department: str | None = None,
) -> ImportResult:
    """Create or update inspectors from clean records in one transaction; listed conflicts not
    yet declared are added (never removed)."""
    now = datetime.now(UTC)
    async with write_transaction():
        ids = await department_ids()
        existing = {i["code"]: i for i in await _load([r["code"] for r in records])}
        named = {s for r in records for s in r["conflicts"]}
        unknown = named - await known_subjects(list(named))
        if unknown:
            raise AppError("subject.unknown", "、".join(sorted(unknown)))
        holders = await certificate_holders([r["certificate_no"] for r in records])
        todo: list[tuple[dict, dict | None]] = []
        unchanged = 0
        for record in records:
            old = existing.get(record["code"])
            holder = holders.setdefault(record["certificate_no"], record["code"])
            if holder != record["code"]:  # one certificate, one inspector
                raise AppError(
                    "inspector.certificate_taken", record["certificate_no"], inspector=holder
                )
            if record["department"] not in ids:
                raise AppError("department.unknown", record["department"])
            for dep in (record["department"], old and old["department"]):
                if only_department is not None and dep and dep != only_department:
                    raise AppError("auth.department_forbidden", department=dep)
            if old is None and expect == "existing":
                raise AppError("inspector.unknown", record["code"])
            if old is not None and expect == "new":
                raise AppError("inspector.exists", record["code"])
            same = (
                old is not None
                and all(record[k] == old[k] for k in ("department", *_FIELDS))
                and set(record["conflicts"]) <= set(old["conflicts"])
            )
            if same:
                unchanged += 1
            else:
                todo.append((record, old))
        if not todo:
            return ImportResult(
                revision=await latest_revision(), created=0, updated=0, unchanged=unchanged
            )
        revision = await new_revision(actor=actor, source=source, note=note, rows=len(todo))
        for record, old in todo:
            values = {f: record[f] for f in _FIELDS}
            dep = ids[record["department"]]
            if old is None:
                inserted = await Inspector.insert(
                    Inspector(code=record["code"], department=dep, **values)
                ).returning(Inspector.id)
                inspector_id, declared = inserted[0]["id"], []
            else:
                inspector_id, declared = old["id"], old["conflicts"]
                await Inspector.update(
                    {Inspector.department: dep, Inspector.updated_at: now, **values}
                ).where(Inspector.id == inspector_id)
            added = [s for s in record["conflicts"] if s not in declared]
            if added:
                await InspectorConflict.insert(
                    *[
                        InspectorConflict(inspector=inspector_id, subject_id=s, declared_by=actor)
                        for s in added
                    ]
                )
    created = sum(old is None for _, old in todo)
    return ImportResult(
        revision=revision, created=created, updated=len(todo) - created, unchanged=unchanged
    )


def _clean(data: InspectorIn, code: str | None = None, conflicts: list | None = None) -> dict:
    values = struct_values(data)
    values["conflicts"] = conflicts or []
    if code is not None:
        values["code"] = code
    return clean_one(clean_inspector, values)


async def _one(code: str) -> InspectorOut:
    found = await _load([code])
    if not found:
        raise AppError("inspector.unknown", code)
    return _out(found[0])


async def create_inspector(
    *, data: InspectorIn, actor: str, only_department: str | None = None
) -> InspectorOut:
    record = _clean(data)
    read = lambda: _one(record["code"])  # noqa: E731
    return await write_one(
        write_inspectors, record, read, actor=actor, expect="new", only_department=only_department
    )


async def update_inspector(
    *, code: str, data: InspectorIn, actor: str, only_department: str | None = None
) -> InspectorOut:
    check_path_id(data.code, code, "code")
    record = _clean(data, code)
    read = lambda: _one(record["code"])  # noqa: E731
    return await write_one(
        write_inspectors,
        record,
        read,
        actor=actor,
        expect="existing",
        only_department=only_department,
    )


async def declare_conflict(
    *, code: str, subject_id: str, reason: str, actor: str, only_department: str | None = None
) -> ConflictOut:
    """Declaring the same pair again is not an error: the first declaration is returned."""
    subject_id = normalise_subject_id(subject_id)
    if "\x00" in code or "\x00" in subject_id:  # no code or id holds one (nor can PostgreSQL)
        raise AppError("request.invalid", "编码含有 NUL 字符")
    try:
        reason = check_text("reason", reason, max_len=2000, multiline=True)
    except FieldError as exc:
        raise exc.to_app_error() from None
    async with write_transaction():
        found = await _load([code])
        if not found:
            raise AppError("inspector.unknown", code)
        inspector = found[0]
        if only_department is not None and inspector["department"] != only_department:
            raise AppError("auth.department_forbidden", department=inspector["department"])
        if not await known_subjects([subject_id]):
            raise AppError("subject.unknown", subject_id)
        if subject_id not in inspector["conflicts"]:
            await InspectorConflict.insert(
                InspectorConflict(
                    inspector=inspector["id"],
                    subject_id=subject_id,
                    reason=reason,
                    declared_by=actor,
                )
            )
        row = (
            await InspectorConflict.select()
            .where(
                (InspectorConflict.inspector == inspector["id"])
                & (InspectorConflict.subject_id == subject_id)
            )
            .first()
        )
    return ConflictOut(
        inspector=code,
        subject_id=subject_id,
        reason=row["reason"],
        declared_by=row["declared_by"],
        declared_at=row["declared_at"],
    )
