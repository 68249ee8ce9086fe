"""The public 亮证 URL, GET /c/{token} (docs/visits.md "The credential"): what the subject's
phone opens from an inspector's QR code. No sign-in, by design, like /verify/record: it lies
outside /api, so no session is even read. HTML unless the client asks for JSON; 200 for a
valid credential, 404 for a token this server did not seal, 410 for an expired or withdrawn
one — a page in every case. Registered through field/api.py's ROUTES."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.params import FromPath

from onevisit.field.credential import check_credential
from onevisit.field.credential_page import CSP, credential_page

__all__ = ["ROUTES"]

HTML, JSON = "text/html", "application/json"
PUBLIC = {"public": True}  # the token is the credential; anyone holding it may check it


@get(
    "/c/{token:str}",
    tags=["visits"],
    opt=PUBLIC,
    summary="An inspector's 亮证 check (HTML; JSON with Accept: application/json)",
)
async def show_credential(request: Request, token: FromPath[str]) -> Response:
    """Whether the token is one this server sealed, unexpired, for an inspector who is still
    a member of the visit's group and active; if so the inspector's name, department and
    certificate number, the task and the subject."""
    verdict = await check_credential(token)
    headers = {"Cache-Control": "no-store", "Vary": "Accept", "X-Robots-Tag": "noindex"}
    if request.accept.best_match([HTML, JSON], default=HTML) == JSON:
        return Response(verdict.body, status_code=verdict.http_status, headers=headers)
    headers["Content-Security-Policy"] = CSP
    page = credential_page(verdict.body)
    return Response(page, status_code=verdict.http_status, media_type=HTML, headers=headers)


ROUTES = [show_credential]
