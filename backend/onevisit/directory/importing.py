"""Import a directory from a .csv or .xlsx file, all or nothing.

Every row is parsed and checked first; every bad row is reported as
{row, column, code, message} (row = the file's line, header = 1, as a spreadsheet shows it),
and if there is any, `import.rows_invalid` is raised and nothing is stored. Then the clean
records go through the same write path as the API (subjects.write_subjects, …), so a
re-import updates changed rows (with history for subjects) and leaves unchanged ones alone.

Matters file layout: one row per check item. The first row of a matter carries the matter
columns; the following rows of the same matter either repeat the same `code` or leave it
blank, and their other matter columns are blank or equal to the first row's (exports repeat
them). A matter's rows must be contiguous; a code seen again later is a duplicate. A matter
without check items is one row with an empty item_text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onevisit.directory import fields as F
from onevisit.directory.columns import map_header
from onevisit.directory.departments import department_ids
from onevisit.directory.inspectors import known_subjects, write_inspectors
from onevisit.directory.matters import write_matters
from onevisit.directory.records import FieldErrors, clean_inspector, clean_matter, clean_subject
from onevisit.directory.schemas import ImportResult
from onevisit.directory.subjects import write_subjects
from onevisit.directory.tables import Inspector, Matter
from onevisit.directory.tabular import Table, read_table
from onevisit.errors import CATALOGUE, AppError

__all__ = ["import_file", "parse_subjects"]

KINDS = ("subjects", "inspectors", "matters")
_SUBJECT_OPTIONAL = (
    "address",
    "industry_code",
    "region_code",
    "credit_class",
    "abnormal",
    "serious_violation",
    "last_inspected",
    "legal_representative",
    "tags",
)


class _Rows:
    """Collects row errors in the shape the API returns."""

    def __init__(self, table: Table, colmap: dict[str, int]) -> None:
        self.header = table.header
        self.colmap = colmap
        self.errors: list[dict[str, Any]] = []

    def column(self, field: str) -> str:
        for name in (field, f"{field}_e6", field.removesuffix("_e6")):
            if name in self.colmap:
                return self.header[self.colmap[name]]
        return field

    def add(self, row: int, field: str, code: str, detail: str = "") -> None:
        message = CATALOGUE[code].zh + (f"：{detail}" if detail else "")
        self.errors.append(
            {"row": row, "column": self.column(field), "code": code, "message": message}
        )

    def add_all(self, row: int, errors: list[F.FieldError]) -> None:
        for e in errors:
            self.add(row, e.field, e.code, e.detail)

    def raise_if_any(self) -> None:
        if self.errors:
            self.errors.sort(key=lambda e: e["row"])
            raise AppError("import.rows_invalid", f"{len(self.errors)} 处错误", errors=self.errors)


def _getter(colmap: dict[str, int]) -> Callable[[list[str], str], str]:
    def get(cells: list[str], field: str) -> str:
        index = colmap.get(field)
        return cells[index] if index is not None and index < len(cells) else ""

    return get


def _parse(errors: list[F.FieldError], fn: Callable[..., Any], *args: Any, default: Any) -> Any:
    try:
        return fn(*args)
    except F.FieldError as exc:
        errors.append(exc)
        return default


def _active(errors: list[F.FieldError], cell: str) -> bool:
    """A blank 'active' cell means active (most files leave it out)."""
    return _parse(errors, F.parse_bool, "active", cell, default=True) if cell else True


def parse_subjects(table: Table) -> tuple[list[tuple], list[str], _Rows]:
    """Pure: (clean records, fields the file does not carry, row errors)."""
    colmap = map_header("subjects", table.header)
    rows = _Rows(table, colmap)
    degrees = "lat" in colmap or "lon" in colmap
    has_coords = degrees or "lat_e6" in colmap or "lon_e6" in colmap
    keep = [f for f in _SUBJECT_OPTIONAL if f not in colmap]
    if not has_coords:
        keep += ["lat_e6", "lon_e6"]
    coord = F.parse_degrees_e6 if degrees else F.parse_int
    # Cell positions by field; an absent column reads the "" appended to every row (index -1).
    at = {f: colmap.get(f, -1) for f in ("subject_id", "name", "kind", *_SUBJECT_OPTIONAL)}
    at["lat"], at["lon"] = (
        (colmap.get("lat", -1), colmap.get("lon", -1))
        if degrees
        else (colmap.get("lat_e6", -1), colmap.get("lon_e6", -1))
    )
    width = len(table.header) + 1
    records: list[tuple] = []
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        cells.append("")
        if len(cells) < width:
            cells[-1:] = [""] * (width - len(cells) + 1)
        errs: list[F.FieldError] = []
        lat, lon = cells[at["lat"]], cells[at["lon"]]
        abnormal, serious = cells[at["abnormal"]], cells[at["serious_violation"]]
        values = {
            "subject_id": cells[at["subject_id"]],
            "name": cells[at["name"]],
            "kind": cells[at["kind"]],
            "address": cells[at["address"]],
            "lat_e6": _parse(errs, coord, "lat", lat, default=None) if lat else None,
            "lon_e6": _parse(errs, coord, "lon", lon, default=None) if lon else None,
            "industry_code": cells[at["industry_code"]],
            "region_code": cells[at["region_code"]],
            "credit_class": cells[at["credit_class"]],
            "abnormal": abnormal != ""
            and _parse(errs, F.parse_bool, "abnormal", abnormal, default=False),
            "serious_violation": serious != ""
            and _parse(errs, F.parse_bool, "serious_violation", serious, default=False),
            "last_inspected": cells[at["last_inspected"]] or None,
            "legal_representative": cells[at["legal_representative"]],
            "tags": F.parse_list(cells[at["tags"]]),
        }
        if errs:  # a failed coordinate must not also fail as "unpaired"
            values["lat_e6"] = values["lon_e6"] = None
        try:
            record = clean_subject(values)
        except FieldErrors as exc:
            errs += exc.errors
        if errs:
            rows.add_all(number, errs)
            continue
        first = seen.setdefault(record[0], number)
        if first != number:
            rows.add(number, "subject_id", "import.duplicate", f"{record[0]} 与第 {first} 行重复")
            continue
        records.append(record)
    return records, keep, rows


async def _existing_departments(model: Any, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await model.select(model.code, model.department.code.as_alias("dep")).where(
        model.code.is_in(codes)
    )
    return {r["code"]: r["dep"] for r in rows}


def _check_department(
    rows: _Rows, number: int, code: str, department: str, ids: dict, before: dict, only: str | None
) -> None:
    """Unknown department; and for a coordinator, a row of (or moving a row from) another one."""
    if department and department not in ids:
        rows.add(number, "department", "department.unknown", department)
    for dep in (department, before.get(code)):
        if only is not None and dep and dep != only:
            rows.add(number, "department", "auth.department_forbidden", dep)
            break


async def _inspector_records(table: Table, only: str | None) -> tuple[list[dict], _Rows]:
    colmap = map_header("inspectors", table.header)
    rows, get = _Rows(table, colmap), _getter(colmap)
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
        values["active"] = _active(errs, get(cells, "active"))
        try:
            parsed.append((number, clean_inspector(values)))
        except FieldErrors as exc:
            errs += exc.errors
        rows.add_all(number, errs)
    before = await _existing_departments(Inspector, [code for _, code, _ in owners])
    for number, code, department in owners:
        _check_department(rows, number, code, department, ids, before, only)
    named = await known_subjects([s for _, r in parsed for s in r["conflicts"]])
    records, seen = [], {}
    for number, record in parsed:
        first = seen.setdefault(record["code"], number)
        if first != number:
            rows.add(number, "code", "import.duplicate", f"{record['code']} 与第 {first} 行重复")
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


async def _matter_records(table: Table, only: str | None) -> tuple[list[dict], _Rows]:
    colmap = map_header("matters", table.header)
    rows, get = _Rows(table, colmap), _getter(colmap)
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
    before = await _existing_departments(Matter, [g[1] for g in groups])
    records = []
    for number, code, head, items in groups:
        errs: list[F.FieldError] = []
        values: dict[str, Any] = {"code": code, **head}
        values["methods"] = F.parse_methods("methods", head["methods"])
        kinds = F.parse_list(head["subject_kinds"])
        values["subject_kinds"] = [F.KIND_ALIASES.get(k, k) for k in kinds]
        values["active"] = _active(errs, head["active"])
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
        _check_department(rows, number, code, head["department"], ids, before, only)
        if record is not None:
            records.append(record)
    return records, rows


async def import_file(
    *, kind: str, data: bytes, filename: str = "", actor: str, only_department: str | None = None
) -> ImportResult:
    """only_department: a coordinator's own department; rows of another one are row errors."""
    if kind not in KINDS:
        raise AppError("import.kind", kind, kinds=list(KINDS))
    table = read_table(data, filename)
    note = f"{kind} import {filename}".strip()[:200]
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
