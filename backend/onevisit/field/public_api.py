"""The record's fixed public URL (EVIDENCE.md §7): outside verifiers and the QR code on the
printed record depend on it. No sign-in, by design, like the /log URLs: it lies outside /api, so
no session is even read, and it is listed public in tests/system/test_route_guards.py. What it
shows and hides: field/public.py and docs/sync.md "Verifying a record"."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.params import FromPath

from onevisit.errors import AppError
from onevisit.field.public import public_record
from onevisit.field.public_page import error_page, record_page
from onevisit.web import HTML, JSON, PUBLIC, PUBLIC_HEADERS, wants_json

__all__ = ["ROUTES"]


@get(
    "/verify/record/{record_hash:str}",
    tags=["log"],
    opt=PUBLIC,
    summary="A record's public verification page (HTML; JSON with Accept: application/json)",
)
async def verify_record(request: Request, record_hash: FromPath[str]) -> Response:
    """The record, its confirmations, its signature or refusal and its log entries with
    inclusion proofs against the latest checkpoint. HTML unless the client asks for JSON; an
    unknown or malformed hash is `record.unknown` (404) in either form."""
    as_json = wants_json(request)
    headers = PUBLIC_HEADERS
    try:
        data = await public_record(record_hash)
    except AppError as exc:
        if as_json:
            raise
        return Response(error_page(exc), status_code=exc.status, media_type=HTML, headers=headers)
    if as_json:
        return Response(data, media_type=JSON, headers=headers)
    return Response(record_page(data), media_type=HTML, headers=headers)


ROUTES = [verify_record]
