"""Checking the rows of a directory file, pure (no database): every bad row is collected as
{row, column, code, message} (row = the file's line, header = 1, as a spreadsheet shows it).
Subject files are checked column by column (100,000 rows); `check_part` runs in a worker
process for parts of a large file (parts.py), which is why this module imports no database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from onevisit.directory import fields as F
from onevisit.directory.columns import map_header
from onevisit.directory.records import (
    SUBJECT_CHECKS,
    SUBJECT_FIELDS,
    SUBJECT_TEXTS,
    FieldErrors,
    RecordColumns,
    clean_subject,
    stored_subject_rows,
)
from onevisit.directory.tabular import Table, read_csv_text
from onevisit.directory.uscc import IdKind, all_valid_uscc
from onevisit.errors import CATALOGUE, AppError

__all__ = ["RowErrors", "active_cell", "cell_getter", "check_part", "parse_subjects"]

# Fields a file may leave out (coordinates are handled as a pair)
_SUBJECT_OPTIONAL = tuple(
    f
    for f in SUBJECT_FIELDS
    if f not in ("subject_id", "id_kind", "name", "kind", "lat_e6", "lon_e6")
)


class RowErrors:
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


def cell_getter(colmap: dict[str, int]) -> Callable[[list[str], str], str]:
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


def active_cell(errors: list[F.FieldError], cell: str) -> bool:
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


def parse_subjects(table: Table) -> tuple[Sequence[tuple], list[str], RowErrors]:
    """Pure: (clean records, fields the file does not carry, row errors); the records of a clean
    file are RecordColumns.

    Column by column, each distinct cell checked once by the checks of clean_subject; a row
    with any failed cell is then cleaned again on its own (clean_subject on the whole row), which
    reports all of its errors."""
    colmap = map_header("subjects", table.header)
    rows = RowErrors(table, colmap)
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
    rows: RowErrors, number: int, cells: dict[str, str], parsers: dict[str, Callable]
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


def check_part(header: bytes, part: bytes) -> list[tuple] | None:
    """For parts.py, in a worker process: the stored rows of the records of a part of a file
    (its header line and some whole data lines), without version, revision and time; None if
    it has a bad row or does not decode as UTF-8 (the whole file is then read in-process,
    which reports every bad row)."""
    try:
        table = read_csv_text((header + b"\n" + part).decode("utf-8-sig"))
    except (UnicodeDecodeError, AppError):  # undecodable; blank lines only
        return None
    records, _, rows = parse_subjects(table)
    return None if rows.errors else stored_subject_rows(records)
