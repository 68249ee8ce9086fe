"""The inspection record of a visit as PDF: who may have it, when it exists, and what goes
into it (docs/pdf.md). The visit is rebuilt from its events as for GET /api/visits/{id}, by
the same function, so access is decided in one place (field/service.py may_see_visit)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from onevisit.auth.roles import Caller
from onevisit.config import get_settings
from onevisit.directory.tables import Department
from onevisit.errors import AppError
from onevisit.field.service import visit_view
from onevisit.media.objects import derivative
from onevisit.pdf.font import find_cjk_font
from onevisit.pdf.render import FontUnusable, render_pdf
from onevisit.pdf.sheet import images_wanted, is_confirmed, sheet_of

__all__ = ["RecordPdf", "record_pdf"]

# Rendering is CPU-bound (~0.3 s, most of it parsing the font): a burst of print requests
# must not occupy every worker thread at once.
_RENDERING = asyncio.Semaphore(2)


@dataclass(frozen=True, slots=True)
class RecordPdf:
    data: bytes
    short_code: str
    record_hash: str


async def record_pdf(*, visit_id: str, caller: Caller) -> RecordPdf:
    """The PDF of the visit's current record; 404/403 as for the visit itself, pdf.no_record
    (409) until an inspector confirmed the current record, pdf.font_missing (503) without a
    CJK font on the server."""
    view = await visit_view(visit_id=visit_id, caller=caller)
    if not is_confirmed(view.state):
        raise AppError("pdf.no_record", visit=visit_id)
    font = find_cjk_font()
    if font is None:
        raise AppError("pdf.font_missing")
    sheet = sheet_of(
        info=view.info,
        state=view.state,
        record=view.record,
        record_hash=view.record_hash,
        origin=get_settings().origin,
        departments=await _department_names(view.record),
        images=await _thumbnails(caller, images_wanted(view.state, view.record)),
    )
    try:
        async with _RENDERING:
            data = await asyncio.to_thread(render_pdf, sheet, font=font)
    except FontUnusable as exc:
        raise AppError("pdf.font_missing", "字体文件无法使用", font=str(exc)) from exc
    return RecordPdf(data, sheet.short_code, view.record_hash)


async def _department_names(record: dict) -> dict[str, str]:
    wanted = {m["department"] for m in record["members"]}
    wanted |= {m["department"] for m in record["matters"]}
    rows = await Department.select(Department.code, Department.name).where(
        Department.code.is_in(sorted(wanted) or [""])
    )
    return {r["code"]: r["name"] for r in rows}


async def _thumbnails(caller: Caller, hashes: list[str]) -> dict[str, bytes]:
    """The media's thumbnails (small JPEGs, made once and cached by media/objects.py). A photo
    whose bytes have not reached the server yet has none: the sheet says so beside its hash."""
    found: dict[str, bytes] = {}
    for sha256 in hashes:
        try:
            found[sha256] = await derivative(caller=caller, sha256=sha256, kind="thumb")
        except AppError:  # media.unknown (not uploaded yet) or media.no_derivative
            continue
    return found
