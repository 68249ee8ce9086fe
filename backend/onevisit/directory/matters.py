"""The one list of matters (一单): each matter with its ordered check items (抽查工作指引)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from onevisit.db import write_transaction
from onevisit.directory.departments import department_ids
from onevisit.directory.records import clean_matter
from onevisit.directory.revisions import latest_revision, new_revision
from onevisit.directory.schemas import CheckItemOut, ImportResult, MatterIn, MatterOut
from onevisit.directory.single import check_path_id, clean_one, struct_values, write_one
from onevisit.directory.tables import CheckItem, Matter
from onevisit.errors import AppError

__all__ = [
    "create_matter",
    "list_matters",
    "same_matter",
    "stored_matters",
    "update_matter",
    "write_matters",
]

_FIELDS = (
    "name",
    "category",
    "ratio_cap",
    "basis",
    "content",
    "methods",
    "subject_kinds",
    "active",
)


async def _load(codes: Sequence[str] | None = None, department: str | None = None) -> list[dict]:
    """Matters as clean-record dicts (plus their row id), items in order."""
    query = Matter.select(Matter.all_columns(), Matter.department.code.as_alias("dep")).output(
        load_json=True
    )
    if codes is not None:
        if not codes:
            return []
        query = query.where(Matter.code.is_in(list(codes)))
    if department:
        query = query.where(Matter.department.code == department)
    rows = await query.order_by(Matter.code)
    items: dict[int, list[tuple[str, str]]] = {r["id"]: [] for r in rows}
    if rows:
        for item in (
            await CheckItem.select()
            .where(CheckItem.matter.is_in(list(items)))
            .order_by(CheckItem.position)
        ):
            items[item["matter"]].append((item["text"], item["basis"]))
    return [
        {
            "id": r["id"],
            "code": r["code"],
            "department": r["dep"],
            "items": items[r["id"]],
            **{f: r[f] for f in _FIELDS},
        }
        for r in rows
    ]


def _out(m: dict[str, Any]) -> MatterOut:
    return MatterOut(
        code=m["code"],
        department=m["department"],
        **{f: m[f] for f in _FIELDS},
        items=[CheckItemOut(position=i, text=t, basis=b) for i, (t, b) in enumerate(m["items"])],
    )


async def list_matters(*, department: str | None = None) -> list[MatterOut]:
    return [_out(m) for m in await _load(department=department)]


def same_matter(record: dict[str, Any], old: dict[str, Any]) -> bool:
    return all(record[k] == old[k] for k in ("department", "items", *_FIELDS))


async def stored_matters(codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored matters of these codes, as clean records by code."""
    return {m["code"]: m for m in await _load(list(codes))}


async def write_matters(
    records: Sequence[dict[str, Any]],
    *,
    actor: str,
    source: str,
    note: str = "",
    expect: str = "any",
    only_department: str | None = None,
) -> ImportResult:
    """Create or update matters from clean records in one transaction. Items are updated in
    place by position (rows keep their ids), extra ones added, surplus ones removed."""
    now = datetime.now(UTC)
    async with write_transaction():
        ids = await department_ids()
        existing = {m["code"]: m for m in await _load([r["code"] for r in records])}
        todo: list[tuple[dict, dict | None]] = []
        unchanged = 0
        for record in records:
            old = existing.get(record["code"])
            if expect == "any" and old is not None and same_matter(record, old):
                # an unchanged matter of another department (the one list, exported whole and
                # imported back by a coordinator) is not a change: nothing to forbid
                unchanged += 1
                continue
            if record["department"] not in ids:
                raise AppError("department.unknown", record["department"])
            for dep in (record["department"], old and old["department"]):
                if only_department is not None and dep and dep != only_department:
                    raise AppError("auth.department_forbidden", department=dep)
            if old is None and expect == "existing":
                raise AppError("matter.unknown", record["code"])
            if old is not None and expect == "new":
                raise AppError("matter.exists", record["code"])
            if old is not None and same_matter(record, old):
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
                inserted = await Matter.insert(
                    Matter(code=record["code"], department=dep, **values)
                ).returning(Matter.id)
                await _write_items(inserted[0]["id"], record["items"], [])
            else:
                await Matter.update(
                    {Matter.department: dep, Matter.updated_at: now, **values}
                ).where(Matter.id == old["id"])
                await _write_items(old["id"], record["items"], old["items"])
    created = sum(old is None for _, old in todo)
    return ImportResult(
        revision=revision, created=created, updated=len(todo) - created, unchanged=unchanged
    )


async def _write_items(matter_id: int, items: list, old_items: list) -> None:
    for position, (text, basis) in enumerate(items[: len(old_items)]):
        if (text, basis) != old_items[position]:
            await CheckItem.update({CheckItem.text: text, CheckItem.basis: basis}).where(
                (CheckItem.matter == matter_id) & (CheckItem.position == position)
            )
    if len(items) > len(old_items):
        await CheckItem.insert(
            *[
                CheckItem(matter=matter_id, position=p, text=t, basis=b)
                for p, (t, b) in enumerate(items)
                if p >= len(old_items)
            ]
        )
    elif len(items) < len(old_items):
        await CheckItem.delete().where(
            (CheckItem.matter == matter_id) & (CheckItem.position >= len(items))
        )


def _clean(data: MatterIn, code: str | None = None) -> dict[str, Any]:
    values = struct_values(data)
    values["items"] = [{"text": i.text, "basis": i.basis} for i in data.items]
    if code is not None:
        values["code"] = code
    return clean_one(clean_matter, values)


async def _one(code: str) -> MatterOut:
    found = await _load([code])
    if not found:
        raise AppError("matter.unknown", code)
    return _out(found[0])


async def create_matter(
    *, data: MatterIn, actor: str, only_department: str | None = None
) -> MatterOut:
    record = _clean(data)
    read = lambda: _one(record["code"])  # noqa: E731
    return await write_one(
        write_matters, record, read, actor=actor, expect="new", only_department=only_department
    )


async def update_matter(
    *, code: str, data: MatterIn, actor: str, only_department: str | None = None
) -> MatterOut:
    check_path_id(data.code, code, "code")
    record = _clean(data, code)
    read = lambda: _one(record["code"])  # noqa: E731
    return await write_one(
        write_matters, record, read, actor=actor, expect="existing", only_department=only_department
    )
