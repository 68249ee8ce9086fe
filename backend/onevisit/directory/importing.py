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

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from onevisit.db import is_sqlite
from onevisit.directory import fields as F
from onevisit.directory.columns import map_header
from onevisit.directory.departments import department_ids
from onevisit.directory.inspectors import certificate_holders, known_subjects, write_inspectors
from onevisit.directory.matters import same_matter, stored_matters, write_matters
from onevisit.directory.records import (
    SUBJECT_CHECKS,
    SUBJECT_FIELDS,
    SUBJECT_TEXTS,
    FieldErrors,
    RecordColumns,
    clean_inspector,
    clean_matter,
    clean_subject,
)
from onevisit.directory.schemas import ImportResult
from onevisit.directory.subjects import stream_new_subjects, write_subjects
from onevisit.directory.tables import Inspector
from onevisit.directory.tabular import Table, read_table
from onevisit.directory.uscc import IdKind, all_valid_uscc
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


_BAD = object()  # the checked value of a cell that failed its check
_USCC = IdKind.uscc.value
_LAT_LON = ("lat_e6", "lon_e6")


class _Memo(dict):
    """check(cell), computed once per distinct cell; _BAD for a failed one."""

    def __init__(self, check: Callable[[str], Any]) -> None:
        self.check = check
        self.failed = False

    def __missing__(self, cell: str) -> Any:
        self[cell] = value = _checked(self.check, cell)
        self.failed = self.failed or value is _BAD
        return value


def _checked(check: Callable[..., Any], *cells: Any) -> Any:
    try:
        return check(*cells)
    except F.FieldError:
        return _BAD


def _check_column(check: Callable[..., Any], *columns: Sequence[Any]) -> tuple[list[Any], bool]:
    """check over a column (or over the cells of several side by side): (values, any failed).

    map() keeps the loop in C. A column that repeats a few values (most do: kinds, classes,
    flags, dates, tags, codes) is checked once per distinct value."""
    head = columns[0][:1000]
    if len(columns) == 1 and len(set(head)) * 2 < len(head):
        memo = _Memo(check)
        return list(map(memo.__getitem__, columns[0])), memo.failed
    try:
        return list(map(check, *columns)), False
    except F.FieldError:  # rare: again, cell by cell
        return list(map(partial(_checked, check), *columns)), True


def _compose(check: Callable[[Any], Any], parse: Callable[[str], Any] | None) -> Callable:
    return check if parse is None else lambda cell: check(parse(cell))


def _extremes_pass(check: Callable[[Any], Any], cells: Sequence[Any], measure: Callable) -> bool:
    """For a check that depends on one measure of a value only, whether a whole column passes:
    it does if its two extremes do."""
    try:
        check(min(cells, key=measure))
        check(max(cells, key=measure))
    except F.FieldError:
        return False
    return True


def _coordinates(parse: Callable[[str], Any], cells: Sequence[str], degrees: bool) -> list[Any]:
    column = F.parse_degrees_e6_column(cells) if degrees else None
    return column if column is not None else _check_column(parse, cells)[0]


def _pairs_pass(lat: list[Any], lon: list[Any]) -> bool:
    """Whether all the rows' coordinates pass check_e6, by the column's extremes: it checks the
    pairing (no None here) and the range (the largest magnitudes)."""
    if any(None in c or _BAD in c for c in (lat, lon)):
        return lat.count(None) == len(lat) == lon.count(None)  # no coordinates at all
    try:
        F.check_e6(max(lat, key=abs), max(lon, key=abs))
    except F.FieldError:
        return False
    return True


def _pair(lat: Any, lon: Any) -> Any:
    if lat is _BAD or lon is _BAD:  # a coordinate that failed to parse fails its pair
        raise F.FieldError("lat", "subject.coordinates_invalid")
    return F.check_e6(lat, lon)


def parse_subjects(table: Table) -> tuple[Sequence[tuple], list[str], _Rows]:
    """Pure: (clean records, fields the file does not carry, row errors); the records of a clean
    file are RecordColumns.

    Column by column, each distinct cell checked once by the checks of clean_subject; a row
    with any failed cell is then cleaned again on its own (clean_subject on the whole row), which
    reports all of its errors."""
    colmap = map_header("subjects", table.header)
    rows = _Rows(table, colmap)
    degrees = "lat" in colmap or "lon" in colmap
    has_coords = degrees or "lat_e6" in colmap or "lon_e6" in colmap
    keep = [f for f in _SUBJECT_OPTIONAL if f not in colmap]
    if not has_coords:
        keep += ["lat_e6", "lon_e6"]
    coord = F.parse_degrees_e6 if degrees else F.parse_int
    # File cell → the value clean_subject takes, where the cell is not that value itself.
    parsers: dict[str, Callable[[str], Any]] = {
        "lat_e6": partial(coord, "lat"),
        "lon_e6": partial(coord, "lon"),
        "abnormal": partial(_flag_cell, "abnormal"),
        "serious_violation": partial(_flag_cell, "serious_violation"),
        "last_inspected": _date_cell,
        "tags": F.parse_list,
    }
    numbers = table.numbers
    columns = table.columns  # short rows padded; an absent column is blank
    blank = ("",) * len(numbers)
    at = dict(colmap)
    if degrees:
        at["lat_e6"], at["lon_e6"] = colmap.get("lat", -1), colmap.get("lon", -1)
    cells_of: dict[str, Sequence[str]] = {}
    for field in SUBJECT_FIELDS[:1] + SUBJECT_FIELDS[2:]:  # all but id_kind
        i = at.get(field, -1)
        cells_of[field] = columns[i] if 0 <= i < len(columns) else blank

    checked: dict[str, list[Any]] = {}
    failed = False
    for field, check in SUBJECT_CHECKS:
        if (
            field in SUBJECT_TEXTS
            and _extremes_pass(check, cells_of[field], len)
            and not F.has_control("".join(cells_of[field]))
        ):
            checked[field], bad = list(cells_of[field]), False  # cells are stripped (read_table)
        elif check is not None:
            check = _compose(check, parsers.get(field))
            checked[field], bad = _check_column(check, cells_of[field])
        elif field == "subject_id" and all_valid_uscc(cells_of[field]):
            # the usual file: canonical USCCs only, valid whatever the kind
            checked["subject_id"] = list(cells_of[field])
            checked["id_kind"], bad = [_USCC] * len(numbers), False
        elif field == "subject_id":  # after the kind, which it depends on
            ids = checked["subject_id"] = list(map(F.normalise_subject_id, cells_of[field]))
            check_id = partial(F.check_subject_id, "subject_id")
            checked["id_kind"], bad = _check_column(check_id, ids, checked["kind"])
        else:  # a failed coordinate fails the pair (a pair fails on the row's lat)
            lat, lon = (_coordinates(parsers[f], cells_of[f], degrees) for f in _LAT_LON)
            bad = False
            if not _pairs_pass(lat, lon):
                pairs, bad = _check_column(_pair, lat, lon)
                lat = [_BAD if p is _BAD else v for v, p in zip(lat, pairs, strict=True)]
            checked["lat_e6"], checked["lon_e6"] = lat, lon
        failed = failed or bad
    if not failed and len(set(checked["subject_id"])) == len(numbers):  # all valid, no duplicate
        return RecordColumns([checked[f] for f in SUBJECT_FIELDS]), keep, rows
    records: list[tuple | None] = list(zip(*(checked[f] for f in SUBJECT_FIELDS), strict=True))
    if failed:  # rows with a failed cell: all their errors, from clean_subject on the whole row
        for i, record in enumerate(records):
            if _BAD in record:  # type: ignore[operator]
                cells = {f: cells_of[f][i] for f in cells_of}
                records[i] = _subject_row(rows, numbers[i], cells, parsers)

    seen: dict[str, int] = {}
    unique: list[tuple] = []
    for number, record in zip(numbers, records, strict=True):
        if record is None:
            continue
        first = seen.setdefault(record[0], number)
        if first == number:
            unique.append(record)
        else:
            rows.add(number, "subject_id", "import.duplicate", f"{record[0]} 与第 {first} 行重复")
    return unique, keep, rows


def _flag_cell(field: str, cell: str) -> bool:
    return cell != "" and F.parse_bool(field, cell)


def _date_cell(cell: str) -> str | None:
    return cell or None


def _subject_row(
    rows: _Rows, number: int, cells: dict[str, str], parsers: dict[str, Callable]
) -> tuple | None:
    """One row cleaned on its own; every error is added to rows."""
    errs: list[F.FieldError] = []
    values: dict[str, Any] = {}
    for field, cell in cells.items():
        parse = parsers.get(field)
        try:
            values[field] = cell if parse is None else parse(cell)
        except F.FieldError as exc:  # a failed value is left out (clean_subject's default)
            errs.append(exc)
    if errs:  # a failed coordinate must not also fail as "unpaired"
        values["lat_e6"] = values["lon_e6"] = None
    try:
        record = clean_subject(values)
    except FieldErrors as exc:
        errs += exc.errors
    if errs:
        rows.add_all(number, errs)
        return None
    return record


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
    stored = await stored_matters([g[1] for g in groups])
    before = {code: m["department"] for code, m in stored.items()}
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
        old = stored.get(code)
        if only is None or record is None or old is None or not same_matter(record, old):
            # an unchanged matter of another department is skipped, not forbidden
            _check_department(rows, number, code, head["department"], ids, before, only)
        if record is not None:
            records.append(record)
    return records, rows


# Parts of a large file checked one after the other, each while the server inserts the last
# (PostgreSQL; SQLite's executemany needs the interpreter itself, so there is nothing to overlap).
STREAM_PART_ROWS = 10_000


class _BadPart(Exception):
    """A part of a streamed file has a bad row."""


def _streamable_ids(table: Table) -> Sequence[str] | None:
    """The ids of a file that can be streamed (stream_new_subjects): on PostgreSQL, larger than
    a part, its ids all canonical valid USCCs and distinct — so that each part is checked on its
    own (no duplicate across parts, the kind cannot fail an id) and they are the stored ids."""
    if is_sqlite() or len(table.numbers) <= STREAM_PART_ROWS:
        return None
    index = map_header("subjects", table.header).get("subject_id", -1)
    if not 0 <= index < len(table.columns):
        return None
    ids = table.columns[index]
    return ids if len(set(ids)) == len(ids) and all_valid_uscc(ids) else None


def _checked_parts(table: Table) -> Iterator[Sequence[tuple]]:
    """The clean records of each part of the file; _BadPart at the first bad row (the caller
    then checks the whole file, which reports every bad row)."""
    numbers, columns = table.numbers, table.columns
    for start in range(0, len(numbers), STREAM_PART_ROWS):
        end = start + STREAM_PART_ROWS
        part = [c[start:end] for c in columns]
        part_table = Table(table.header, numbers=numbers[start:end], columns=part)
        records, _, rows = parse_subjects(part_table)
        if rows.errors:
            raise _BadPart
        yield records


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
    with _gc_paused():
        return await _import(kind, read_table(data, filename), filename, actor, only_department)


async def _import(
    kind: str, table: Table, filename: str, actor: str, only_department: str | None
) -> ImportResult:
    note = f"{kind} import {filename}".strip()[:200]
    if kind == "subjects":
        ids = _streamable_ids(table)
        if ids is not None:
            try:
                result = await stream_new_subjects(
                    ids, _checked_parts(table), actor=actor, source="import", note=note
                )
            except _BadPart:
                result = None  # rolled back: the whole file is checked below, for the report
            if result is not None:
                return result
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
