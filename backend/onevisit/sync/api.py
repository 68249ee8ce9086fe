"""POST /api/sync: a batch of signed events, acknowledged one by one (see ingest.py); and
POST /api/sync/bundle: a rescue bundle file (bundle.py, docs/bundle.md) through the same checks."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.params import JSONBody

from onevisit.auth.guards import allow
from onevisit.auth.roles import Role
from onevisit.config import get_settings
from onevisit.errors import AppError
from onevisit.evidence.log import SignedCheckpoint
from onevisit.sync.bundle import import_bundle, parse_bundle
from onevisit.sync.ingest import MAX_BATCH, Ack, Submitted, ingest_batch

__all__ = ["ROUTES"]


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    envelope: Annotated[str, msgspec.Meta(min_length=2, max_length=70_000)]
    sig: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class SyncIn(msgspec.Struct, forbid_unknown_fields=True):
    events: list[EventIn]


@post(
    "/api/sync",
    guards=[allow(Role.admin, Role.coordinator, Role.leader, Role.inspector)],
    status_code=200,
    tags=["sync"],
    summary="Send a batch of signed events; each gets its own acknowledgement",
)
async def sync_events(data: JSONBody[SyncIn]) -> dict[str, Any]:
    if len(data.events) > MAX_BATCH:
        raise AppError("sync.batch_too_large", f"≤ {MAX_BATCH}", limit=MAX_BATCH)
    result = await ingest_batch([Submitted(e.envelope, e.sig) for e in data.events])
    return {"acks": acks_out(result.acks), "checkpoint": checkpoint_out(result.checkpoint)}


def acks_out(acks: list[Ack]) -> list[dict[str, Any]]:
    # absent rather than null: an accepted ack has no code, a rejected one no log index
    return [{k: v for k, v in vars(a).items() if v is not None} for a in acks]


def checkpoint_out(checkpoint: SignedCheckpoint | None) -> dict[str, Any] | None:
    if checkpoint is None:
        return None
    return {
        "size": checkpoint.size,
        "root": base64.b64encode(checkpoint.root).decode(),
        "note": checkpoint.note,
    }


@post(
    "/api/sync/bundle",
    guards=[allow(Role.admin, Role.coordinator)],
    status_code=200,
    tags=["sync"],
    summary="Import a rescue bundle (onevisit.bundle/1): raw JSON body or a multipart `file`",
)
async def sync_bundle(request: Request) -> dict[str, Any]:
    limit = get_settings().max_import_bytes  # the app's body limit; larger files: the CLI
    if request.content_type[0] == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise AppError("request.invalid", "a multipart field `file` is required")
        content = await upload.read(limit + 1)
    else:
        content = await request.body()
    if len(content) > limit:
        raise AppError("request.too_large", max_bytes=limit)
    result = await import_bundle(parse_bundle(content))
    return {
        "acks": acks_out(result.acks),
        "media": [{k: v for k, v in vars(m).items() if v is not None} for m in result.media],
        "checkpoint": checkpoint_out(result.checkpoint),
        "counts": result.counts(),
    }


ROUTES = [sync_events, sync_bundle]
