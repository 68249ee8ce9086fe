"""HTTP API of media: resumable uploads (tus-like, docs/media.md) and reads of originals and
derivatives. Thin controllers: parse, call one domain function, answer."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, head, patch, post
from litestar.datastructures import ETag
from litestar.params import FromPath, JSONBody
from litestar.response import File

from onevisit.auth.guards import allow, caller_of
from onevisit.auth.roles import Caller, Role
from onevisit.errors import AppError
from onevisit.media import objects, uploads
from onevisit.media.schemas import UploadIn, UploadOut
from onevisit.media.store import get_store

__all__ = ["ROUTES"]

FIELD_ROLES = allow(Role.admin, Role.coordinator, Role.leader, Role.inspector)
IMMUTABLE = "private, max-age=31536000, immutable"  # content-addressed: never changes
DERIVED = "private, max-age=86400"  # regenerable: the watermark gains place/subject later


def _caller(request: Request) -> Caller:
    caller = caller_of(request)
    assert caller is not None  # every route has a guard that requires a caller
    return caller


def _out(state: uploads.UploadState) -> UploadOut:
    return UploadOut(
        upload_id=state.upload_id,
        sha256=state.sha256,
        offset=state.offset,
        size=state.size,
        complete=state.complete,
    )


def _offset_headers(state: uploads.UploadState) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(state.offset),
        "Upload-Length": str(state.size),
        "Cache-Control": "no-store",
    }
    if state.complete:
        headers["Upload-Complete"] = "?1"
    return headers


def _header_int(request: Request, name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    if not raw.strip().isdigit() or len(raw) > 15:
        raise AppError("upload.offset_required", header=name)
    return int(raw)


class UploadController(Controller):
    path = "/api/media/uploads"
    tags = ("media",)
    guards = [FIELD_ROLES]  # noqa: RUF012 (litestar's own attribute)

    @post("/", status_code=201)
    async def create_upload(
        self, request: Request, data: JSONBody[UploadIn]
    ) -> Response[UploadOut]:
        created, state = await uploads.create_upload(
            user_id=_caller(request).user_id,
            sha256=data.sha256,
            size=data.size,
            mime=data.mime,
            purpose=data.purpose,
        )
        return Response(_out(state), status_code=201 if created else 200)

    @head("/{upload_id:str}")
    async def upload_head(self, request: Request, upload_id: FromPath[str]) -> Response[None]:
        state = await uploads.upload_state(user_id=_caller(request).user_id, upload_id=upload_id)
        return Response(None, headers=_offset_headers(state))

    @get("/{upload_id:str}")
    async def upload_status(
        self, request: Request, upload_id: FromPath[str]
    ) -> Response[UploadOut]:
        state = await uploads.upload_state(user_id=_caller(request).user_id, upload_id=upload_id)
        return Response(_out(state), headers=_offset_headers(state))

    @patch("/{upload_id:str}", status_code=204)
    async def upload_chunk(self, request: Request, upload_id: FromPath[str]) -> Response[None]:
        offset = _header_int(request, "upload-offset")
        if offset is None:
            raise AppError("upload.offset_required", header="Upload-Offset")
        state = await uploads.append_chunk(
            user_id=_caller(request).user_id,
            upload_id=upload_id,
            offset=offset,
            body=request.stream(),
            length=_header_int(request, "content-length"),
        )
        return Response(None, status_code=204, headers=_offset_headers(state))


class MediaController(Controller):
    path = "/api/media"
    tags = ("media",)
    guards = [FIELD_ROLES]  # noqa: RUF012

    @get("/{sha256:str}")
    async def original(self, request: Request, sha256: FromPath[str]) -> Response[None] | File:
        obj = await objects.readable_object(caller=_caller(request), sha256=sha256)
        headers = {"Cache-Control": IMMUTABLE}
        if sha256 in request.headers.get("if-none-match", ""):
            return Response(None, status_code=304, headers={**headers, "ETag": f'"{sha256}"'})
        path = get_store().local_path(sha256)
        if path is None:  # a remote store would redirect to a signed URL here
            raise AppError("media.unknown")
        return File(
            path=path,
            media_type=obj.mime,
            filename=sha256,
            content_disposition_type="inline",
            etag=ETag(value=sha256),
            headers=headers,
        )

    @get("/{sha256:str}/thumb")
    async def thumbnail(self, request: Request, sha256: FromPath[str]) -> Response[bytes]:
        data = await objects.derivative(caller=_caller(request), sha256=sha256, kind="thumb")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": DERIVED})

    @get("/{sha256:str}/display")
    async def display(self, request: Request, sha256: FromPath[str]) -> Response[bytes]:
        data = await objects.derivative(caller=_caller(request), sha256=sha256, kind="display")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": DERIVED})


ROUTES = [UploadController, MediaController]
