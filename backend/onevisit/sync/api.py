"""POST /api/sync: a batch of signed events, acknowledged one by one (see ingest.py)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import msgspec
from litestar import post
from litestar.params import JSONBody

from onevisit.auth.guards import allow
from onevisit.auth.roles import Role
from onevisit.errors import AppError
from onevisit.sync.ingest import MAX_BATCH, Submitted, ingest_batch

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
    checkpoint = result.checkpoint
    return {
        # absent rather than null: an accepted ack has no code, a rejected one no log index
        "acks": [{k: v for k, v in vars(a).items() if v is not None} for a in result.acks],
        "checkpoint": None
        if checkpoint is None
        else {
            "size": checkpoint.size,
            "root": base64.b64encode(checkpoint.root).decode(),
            "note": checkpoint.note,
        },
    }


ROUTES = [sync_events]
