"""Export a directory to .csv or .xlsx with exactly the columns the importer reads, so that
export → import changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from onevisit.directory.columns import export_header
from onevisit.directory.fields import degrees_from_e6
from onevisit.directory.inspectors import list_inspectors
from onevisit.directory.matters import list_matters
from onevisit.directory.tables import Subject
from onevisit.directory.tabular import write_table
from onevisit.errors import AppError

__all__ = ["MEDIA_TYPES", "export_file"]

MEDIA_TYPES = {
    "csv": "text/csv",  # the response adds "; charset=utf-8" to text/* types
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_LIST_SEP = ";"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return _LIST_SEP.join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


async def _subject_rows() -> list[list[str]]:
    rows = await Subject.select().order_by(Subject.subject_id).output(load_json=True)
    header = export_header("subjects")
    out = []
    for r in rows:
        r["lat"], r["lon"] = degrees_from_e6(r["lat_e6"]), degrees_from_e6(r["lon_e6"])
        out.append([_text(r[f]) for f in header])
    return out


async def _inspector_rows(department: str | None) -> list[list[str]]:
    header = export_header("inspectors")
    return [
        [_text(getattr(i, f)) for f in header] for i in await list_inspectors(department=department)
    ]


def _matter_rows(matters: list) -> Iterator[list[str]]:
    """One row per check item, the matter columns repeated on each (see importing.py)."""
    header = export_header("matters")
    for m in matters:
        for item in m.items or [None]:
            values = {f: getattr(m, f) for f in header if hasattr(m, f)}
            values["item_text"] = item.text if item else ""
            values["item_basis"] = item.basis if item else ""
            yield [_text(values[f]) for f in header]


async def export_file(*, kind: str, fmt: str, department: str | None = None) -> bytes:
    """department: limit inspectors to one department (a coordinator's own)."""
    if fmt not in MEDIA_TYPES:
        raise AppError("import.format", fmt)
    if kind == "subjects":
        rows: Any = await _subject_rows()
    elif kind == "inspectors":
        rows = await _inspector_rows(department)
    elif kind == "matters":
        rows = list(_matter_rows(await list_matters()))
    else:
        raise AppError("import.kind", kind)
    return write_table(export_header(kind), rows, fmt)
