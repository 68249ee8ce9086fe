"""The subject directory: one write path for every source (file import, API, demo), with history.

`subject` holds the current version of each subject. Before a row changes, its previous version
is copied to `subject_history` (append-only, guarded by triggers), and the batch gets one
`directory_revision`. A row whose values did not change is left alone and is not a change.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from piccolo.columns.combination import WhereRaw

from onevisit.bulk import bulk_update, fetch_by_keys
from onevisit.db import bulk_insert, is_sqlite, write_transaction
from onevisit.directory.fields import normalise_subject_id
from onevisit.directory.records import (
    SUBJECT_FIELDS,
    RecordColumns,
    clean_subject,
    stored_subject,
    stored_subject_rows,
)
from onevisit.directory.revisions import latest_revision, new_revision
from onevisit.directory.schemas import (
    ImportResult,
    SubjectDetail,
    SubjectIn,
    SubjectOut,
    SubjectUpdate,
)
from onevisit.directory.single import check_path_id, clean_one, struct_values, write_one
from onevisit.directory.tables import Subject, SubjectHistory
from onevisit.errors import AppError

__all__ = [
    "create_subject",
    "get_subject",
    "list_subjects",
    "subjects_as_of",
    "update_subject",
    "write_subjects",
]

SUBJECT_COLUMNS = (*SUBJECT_FIELDS, "version", "revision", "updated_at")
HISTORY_COLUMNS = (*SUBJECT_FIELDS, "version", "revision", "superseded_by_revision", "updated_at")
_N = len(SUBJECT_FIELDS)
_TAGS = SUBJECT_FIELDS.index("tags")  # the stored record's tags: JSON text
_OUT = (*SUBJECT_FIELDS, "version", "revision")


def _fields_of(row: tuple) -> tuple:
    """The comparable record of a stored row (tags parsed, bools as bools)."""
    fields = list(row[:_N])
    fields[_TAGS] = json.loads(fields[_TAGS]) if isinstance(fields[_TAGS], str) else fields[_TAGS]
    fields[10], fields[11] = bool(fields[10]), bool(fields[11])  # abnormal, serious_violation
    return tuple(fields)


async def write_subjects(
    records: Sequence[tuple],
    *,
    actor: str,
    source: str,
    note: str = "",
    keep: Collection[str] = (),
    expect: str = "any",
    version: int | None = None,
) -> ImportResult:
    """Create or update subjects from clean records, all in one transaction and revision.

    keep: fields the source did not carry (columns absent from a file): existing rows keep
    their stored value. expect: "new" refuses existing ids (subject.exists), "existing"
    refuses unknown ids (subject.unknown); version: the version an edit replaces.
    """
    keep_idx = [SUBJECT_FIELDS.index(f) for f in keep]
    now = datetime.now(UTC)
    async with write_transaction():
        ids = records.columns[0] if isinstance(records, RecordColumns) else [r[0] for r in records]
        stored = await fetch_by_keys("subject", SUBJECT_COLUMNS, "subject_id", ids)
        existing = {row[0]: row for row in stored}
        if expect == "new" and existing:
            raise AppError("subject.exists", subject_id=next(iter(existing)))
        new: Sequence[tuple]
        if not existing and expect != "existing":  # all new (a first import): as they are
            new, changed, unchanged = records, [], 0
        else:
            new, changed, unchanged = _compare(records, existing, keep_idx, expect, version)
        if not new and not changed:
            return ImportResult(
                revision=await latest_revision(), created=0, updated=0, unchanged=unchanged
            )
        revision = await new_revision(
            actor=actor, source=source, note=note, rows=len(new) + len(changed)
        )
        await bulk_insert("subject", SUBJECT_COLUMNS, stored_subject_rows(new, 1, revision, now))
        # History first: the superseded version is kept before the current row is overwritten.
        await bulk_insert(
            "subject_history",
            HISTORY_COLUMNS,
            [(*old[:_N], old[_N], old[_N + 1], revision, old[_N + 2]) for _, old in changed],
        )
        await bulk_update(
            "subject",
            "subject_id",
            SUBJECT_COLUMNS[1:],
            [(*stored_subject(r)[1:], old[_N] + 1, revision, now, r[0]) for r, old in changed],
        )
    return ImportResult(
        revision=revision, created=len(new), updated=len(changed), unchanged=unchanged
    )


def _compare(
    records: Iterable[tuple],
    existing: dict[str, tuple],
    keep_idx: list[int],
    expect: str,
    version: int | None,
) -> tuple[list[tuple], list[tuple[tuple, tuple]], int]:
    """(new records, (record, stored row) of changed ones, number unchanged)."""
    new: list[tuple] = []
    changed: list[tuple[tuple, tuple]] = []
    unchanged = 0
    for record in records:
        old = existing.get(record[0])
        if old is None:
            if expect == "existing":
                raise AppError("subject.unknown", subject_id=record[0])
            new.append(record)
            continue
        if version is not None and old[_N] != version:
            raise AppError("subject.stale", current_version=old[_N], given_version=version)
        old_fields = _fields_of(old)
        if keep_idx:
            merged = list(record)
            for i in keep_idx:
                merged[i] = old_fields[i]
            record = tuple(merged)
        if record == old_fields:
            unchanged += 1
        else:
            changed.append((record, old))
    return new, changed, unchanged


async def create_subject(*, data: SubjectIn, actor: str) -> SubjectDetail:
    record = clean_one(clean_subject, struct_values(data))
    read = lambda: get_subject(subject_id=record[0])  # noqa: E731
    return await write_one(write_subjects, record, read, actor=actor, expect="new")


async def update_subject(*, subject_id: str, data: SubjectUpdate, actor: str) -> SubjectDetail:
    given = None if data.subject_id is None else normalise_subject_id(data.subject_id)
    check_path_id(given, normalise_subject_id(subject_id), "subject_id")
    record = clean_one(clean_subject, {**struct_values(data), "subject_id": subject_id})
    read = lambda: get_subject(subject_id=record[0])  # noqa: E731
    return await write_one(
        write_subjects, record, read, actor=actor, expect="existing", version=data.version
    )


def _out(row: dict[str, Any], cls: type = SubjectOut, **extra: Any) -> Any:
    return cls(**{f: row[f] for f in _OUT}, **extra)


async def get_subject(*, subject_id: str) -> SubjectDetail:
    subject_id = normalise_subject_id(subject_id)
    if "\x00" in subject_id:  # no id holds one (and PostgreSQL text cannot)
        raise AppError("subject.unknown", subject_id=subject_id.replace("\x00", "\ufffd"))
    row = (
        await Subject.select()
        .where(Subject.subject_id == subject_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise AppError("subject.unknown", subject_id=subject_id)
    older = (
        await SubjectHistory.select()
        .where(SubjectHistory.subject_id == subject_id)
        .order_by(SubjectHistory.version, ascending=False)
        .output(load_json=True)
    )
    return _out(row, SubjectDetail, history=[_out(h) for h in older])


async def list_subjects(
    *,
    q: str = "",
    region: str = "",
    credit_class: str = "",
    kind: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[SubjectOut], int]:
    """q matches a name (substring) or a subject id (prefix, case-insensitive)."""
    if not 1 <= limit <= 500 or not 0 <= offset <= 1_000_000_000:
        raise AppError("request.invalid", "limit 须为 1–500，offset 须为 0–10⁹")
    if any("\x00" in v for v in (q, region, credit_class, kind)):
        raise AppError("request.invalid", "查询条件含有 NUL 字符")
    where: list[Any] = []
    q = q.strip()
    if q:
        prefix = normalise_subject_id(q)
        # SQLite's LIKE already ignores ASCII case; it has no ILIKE
        like = "LIKE" if is_sqlite() else "ILIKE"
        where.append(
            WhereRaw(f"name {like} {{}} ESCAPE '\\'", f"%{_like_escape(q)}%")
            | ((Subject.subject_id >= prefix) & (Subject.subject_id < prefix + "\uffff"))
        )
    if region:  # a region code matches itself and the areas below it
        where.append(
            WhereRaw("region_code LIKE {} ESCAPE '\\'", _like_escape(region.strip()) + "%")
        )
    if credit_class:
        where.append(Subject.credit_class == credit_class.strip().upper())
    if kind:
        where.append(Subject.kind == kind.strip())
    query = Subject.select().output(load_json=True).order_by(Subject.subject_id)
    count = Subject.count()
    for condition in where:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.limit(limit).offset(offset)
    return [_out(r) for r in rows], await count


def _like_escape(text: str) -> str:
    """text matched literally by LIKE … ESCAPE '\\' (its % and _ are not wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def subjects_as_of(revision: int) -> list[SubjectOut]:
    """The subject directory exactly as it stood after `revision` (a draw names it): the current
    rows written at or before it, plus the history versions that were current then."""
    current = await Subject.select().where(Subject.revision <= revision).output(load_json=True)
    superseded = (
        await SubjectHistory.select()
        .where(
            (SubjectHistory.revision <= revision)
            & (SubjectHistory.superseded_by_revision > revision)
        )
        .output(load_json=True)
    )
    rows = sorted([*current, *superseded], key=lambda r: r["subject_id"])
    return [_out(r) for r in rows]
