"""Import a directory from a .csv or .xlsx file, all or nothing.

Every row is parsed and checked first; every bad row is reported as
{row, column, code, message} (row = the file's line, header = 1, as a spreadsheet shows it),
and if there is any, `import.rows_invalid` is raised and nothing is stored. Then the clean
records go through the same write path as the API (subjects.write_subjects, …), so a
re-import updates changed rows (with history for subjects) and leaves unchanged ones alone.
Checking is checking.py's (pure); a large file of new subjects is checked in a worker process
while it is stored (parts.py), with the same answers.

Matters file layout: one row per check item. The first row of a matter carries the matter
columns; the following rows of the same matter either repeat the same `code` or leave it
blank, and their other matter columns are blank or equal to the first row's (exports repeat
them). A matter's rows must be contiguous; a code seen again later is a duplicate. A matter
without check items is one row with an empty item_text.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from onevisit.directory import fields as F
from onevisit.directory.checking import RowErrors, active_cell, cell_getter, parse_subjects
from onevisit.directory.columns import map_header
from onevisit.directory.departments import department_ids
from onevisit.directory.inspectors import certificate_holders, known_subjects, write_inspectors
from onevisit.directory.matters import same_matter, stored_matters, write_matters
from onevisit.directory.parts import import_new_subjects
from onevisit.directory.records import FieldErrors, clean_inspector, clean_matter
from onevisit.directory.schemas import ImportResult
from onevisit.directory.subjects import write_subjects
from onevisit.directory.tables import Inspector
from onevisit.directory.tabular import Table, read_table
from onevisit.errors import AppError

__all__ = ["import_file", "parse_subjects"]

KINDS = ("subjects", "inspectors", "matters")


async def _existing_departments(model: Any, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await model.select(model.code, model.department.code.as_alias("dep")).where(
        model.code.is_in(codes)
    )
    return {r["code"]: r["dep"] for r in rows}


def _check_department(
    rows: RowErrors,
    number: int,
    code: str,
    department: str,
    ids: dict,
    before: dict,
    only: str | None,
) -> None:
    """Unknown department; and for a coordinator, a row of (or moving a row from) another one."""
    if department and department not in ids:
        rows.add(number, "department", "department.unknown", department)
    for dep in (department, before.get(code)):
        if only is not None and dep and dep != only:
            rows.add(number, "department", "auth.department_forbidden", dep)
            break


async def _inspector_records(table: Table, only: str | None) -> tuple[list[dict], RowErrors]:
    colmap = map_header("inspectors", table.header)
    rows, get = RowErrors(table, colmap), cell_getter(colmap)
    ids = await department_ids()
    parsed: list[tuple[int, dict]] = []
    owners: list[tuple[int, str, str]] = []  # every row's (line, code, department)
    for number, cells in table.rows:
        errs: list[F.FieldError] = []
        values = {
            f: get(cells, f) for f in ("code", "name", "department", "certificate_no", "post")
        }
        values["expertise"] = F.parse_list(get(cells, "expertise"))
        values["conflicts"] = F.parse_list(get(cells, "conflicts"))
        owners.append((number, values["code"], values["department"]))
        values["active"] = active_cell(errs, get(cells, "active"))
        try:
            parsed.append((number, clean_inspector(values)))
        except FieldErrors as exc:
            errs += exc.errors
        rows.add_all(number, errs)
    before = await _existing_departments(Inspector, [code for _, code, _ in owners])
    for number, code, department in owners:
        _check_department(rows, number, code, department, ids, before, only)
    named = await known_subjects([s for _, r in parsed for s in r["conflicts"]])
    holders = await certificate_holders([r["certificate_no"] for _, r in parsed])
    records, seen, certificates = [], {}, {}
    for number, record in parsed:
        first = seen.setdefault(record["code"], number)
        if first != number:
            rows.add(number, "code", "import.duplicate", f"{record['code']} 与第 {first} 行重复")
        cert = record["certificate_no"]
        first = certificates.setdefault(cert, number)
        if first != number:
            rows.add(number, "certificate_no", "import.duplicate", f"{cert} 与第 {first} 行重复")
        elif holders.get(cert, record["code"]) != record["code"]:
            detail = f"{cert} 已属于执法检查人员 {holders[cert]}"
            rows.add(number, "certificate_no", "import.duplicate", detail)
        for s in record["conflicts"]:
            if s not in named:
                rows.add(number, "conflicts", "subject.unknown", s)
        records.append(record)
    return records, rows


_MATTER_FIELDS = (
    "department",
    "name",
    "category",
    "ratio_cap",
    "basis",
    "content",
    "methods",
    "subject_kinds",
    "active",
)


async def _matter_records(table: Table, only: str | None) -> tuple[list[dict], RowErrors]:
    colmap = map_header("matters", table.header)
    rows, get = RowErrors(table, colmap), cell_getter(colmap)
    groups: list[tuple[int, str, dict[str, str], list]] = []  # first row, code, cells, items
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        code = get(cells, "code")
        head = {f: get(cells, f) for f in _MATTER_FIELDS}
        item = (number, get(cells, "item_text"), get(cells, "item_basis"))
        if groups and code in ("", groups[-1][1]):
            first = groups[-1][2]
            for f, v in head.items():
                if v and v != first[f]:
                    detail = f"与本事项第一行（{groups[-1][0]} 行）不一致"
                    rows.add(number, f, "import.value_invalid", detail)
            groups[-1][3].append(item)
        elif code in seen:
            rows.add(number, "code", "import.duplicate", f"{code} 与第 {seen[code]} 行不连续重复")
        else:
            seen[code or f"#{number}"] = number
            groups.append((number, code, head, [item]))
    ids = await department_ids()
    stored = await stored_matters([g[1] for g in groups])
    before = {code: m["department"] for code, m in stored.items()}
    records = []
    for number, code, head, items in groups:
        errs: list[F.FieldError] = []
        values: dict[str, Any] = {"code": code, **head}
        values["methods"] = F.parse_methods("methods", head["methods"])
        kinds = F.parse_list(head["subject_kinds"])
        values["subject_kinds"] = [F.KIND_ALIASES.get(k, k) for k in kinds]
        values["active"] = active_cell(errs, head["active"])
        values["items"] = [(text, basis) for _, text, basis in items if text or basis]
        try:
            record = clean_matter(values)
        except FieldErrors as exc:
            errs += exc.errors
            record = None
        for e in errs:  # an item error belongs to the item's own row
            at = number
            if e.field.startswith("item_"):
                at = next((n for n, t, _ in items if not t), number)
            rows.add(at, e.field, e.code, e.detail)
        old = stored.get(code)
        if only is None or record is None or old is None or not same_matter(record, old):
            # an unchanged matter of another department is skipped, not forbidden
            _check_department(rows, number, code, head["department"], ids, before, only)
        if record is not None:
            records.append(record)
    return records, rows


_gc_pauses = [0, False]  # imports under way, whether the cyclic GC was on before the first


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Reading, checking and writing a file builds ~10^6 small containers, none in a cycle; the
    collections they trigger cost a third of an import. Concurrent imports share the pause; the
    GC is switched back on when the last one ends (cycles made meanwhile are collected then)."""
    if _gc_pauses[0] == 0:
        _gc_pauses[1] = gc.isenabled()
        gc.disable()
    _gc_pauses[0] += 1
    try:
        yield
    finally:
        _gc_pauses[0] -= 1
        if _gc_pauses[0] == 0 and _gc_pauses[1]:
            gc.enable()


async def import_file(
    *, kind: str, data: bytes, filename: str = "", actor: str, only_department: str | None = None
) -> ImportResult:
    """only_department: a coordinator's own department; rows of another one are row errors."""
    if kind not in KINDS:
        raise AppError("import.kind", kind, kinds=list(KINDS))
    note = f"{kind} import {filename}".strip()[:200]
    with _gc_paused():
        if kind == "subjects":  # a large file of new subjects: checked while it is stored
            result = await import_new_subjects(
                data, filename, actor=actor, source="import", note=note
            )
            if result is not None:
                return result
        return await _import(kind, read_table(data, filename), note, actor, only_department)


async def _import(
    kind: str, table: Table, note: str, actor: str, only_department: str | None
) -> ImportResult:
    if kind == "subjects":
        records, keep, rows = parse_subjects(table)
        rows.raise_if_any()
        return await write_subjects(records, actor=actor, source="import", note=note, keep=keep)
    if kind == "inspectors":
        records, rows = await _inspector_records(table, only_department)
        rows.raise_if_any()
        return await write_inspectors(
            records, actor=actor, source="import", note=note, only_department=only_department
        )
    records, rows = await _matter_records(table, only_department)
    rows.raise_if_any()
    return await write_matters(
        records, actor=actor, source="import", note=note, only_department=only_department
    )
