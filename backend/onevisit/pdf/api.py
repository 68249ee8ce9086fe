"""GET /api/visits/{visit_id}/record.pdf: the inspection record form (检查记录表) to print."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Role
from onevisit.pdf.service import record_pdf

__all__ = ["ROUTES"]

ANYONE_SIGNED_IN = allow(Role.admin, Role.coordinator, Role.leader, Role.inspector)


@get(
    "/api/visits/{visit_id:str}/record.pdf",
    guards=[ANYONE_SIGNED_IN],
    # thumbnails are not public (the record page shows hashes only): no shared caches
    cache_control=CacheControlHeader(no_store=True),
    media_type="application/pdf",
    tags=["visits"],
    summary="The visit's confirmed inspection record as an A4 PDF with a QR code to verify it",
)
async def get_record_pdf(request: Request, visit_id: FromPath[str]) -> Response[bytes]:
    pdf = await record_pdf(visit_id=visit_id, caller=caller_of(request))
    name = f"检查记录表-{pdf.short_code}.pdf"
    disposition = (  # RFC 6266: an ASCII name for old clients, the Chinese one as filename*
        f"inline; filename=\"record-{pdf.short_code}.pdf\"; filename*=UTF-8''{quote(name)}"
    )
    return Response(
        pdf.data,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, "X-Record-Hash": pdf.record_hash},
    )


ROUTES = [get_record_pdf]
