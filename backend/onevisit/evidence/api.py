"""The log's fixed public URLs (EVIDENCE.md §7): outside verifiers depend on them, so they
take exactly these paths and shapes. No sign-in: the log is public by design (it holds hashes,
signatures and receipt times, no personal data)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from litestar import Response, get
from litestar.params import QueryParameter

from onevisit.errors import AppError
from onevisit.evidence.keys import event_key_spki, log_key, log_name
from onevisit.evidence.log import (
    consistency_proof,
    current_checkpoint,
    inclusion_proof,
    latest_checkpoint,
    log_size,
    read_entries,
)
from onevisit.evidence.note import verifier_key

__all__ = ["ROUTES"]

MAX_ENTRIES = 1000  # per /log/entries request
TEXT = "text/plain"  # litestar adds "; charset=utf-8" to text/* itself
Index = Annotated[int, QueryParameter(ge=0)]


async def _checked_size(size: int) -> None:
    """A proof can only be asked for a tree that has been signed."""
    latest = await latest_checkpoint()
    if latest is None or size > latest.size:
        raise AppError("log.range_invalid", f"tree size {size} is not signed yet", size=size)


@get("/log/checkpoint", tags=["log"], summary="The latest signed checkpoint (C2SP signed note)")
async def checkpoint() -> Response[str]:
    """Byte for byte the signed note (it ends in a newline, as every signed note does). An
    empty log answers its size-0 checkpoint, signed on the first read."""
    latest = await current_checkpoint()
    return Response(latest.note, media_type=TEXT, headers={"Cache-Control": "no-cache"})


@get("/log/key", tags=["log"], summary="The note verifier key of the log")
async def key() -> Response[str]:
    """Exactly the verifier key string, no newline: what a verifier pins and compares."""
    return Response(
        verifier_key(name=log_name(), public_key=log_key().public_key()), media_type=TEXT
    )


@get("/log/event-key", tags=["log"], summary="SPKI (base64) of the server's event key")
async def event_key() -> Response[str]:
    return Response(base64.b64encode(event_key_spki()).decode(), media_type=TEXT)


@get("/log/entries", tags=["log"], summary="Leaf inputs for indexes start ≤ i < end")
async def entries(start: Index, end: Index) -> dict[str, Any]:
    """As RFC 6962 §4.6 get-entries allows: a range reaching past the log is cut at its
    size, and a long one at MAX_ENTRIES (the answer starts at `start` either way, so a client
    asks again from where it ended). A range that starts at or past the size is refused."""
    if not start < end:
        raise AppError("log.range_invalid", "need start < end", start=start, end=end)
    size = await log_size()
    if start >= size:
        raise AppError("log.range_invalid", f"start must be below the log size {size}", size=size)
    end = min(end, size, start + MAX_ENTRIES)
    return {"entries": [base64.b64encode(e).decode() for e in await read_entries(start, end)]}


@get("/log/proof/inclusion", tags=["log"], summary="RFC 6962 audit path of a leaf")
async def inclusion(index: Index, size: Index) -> dict[str, Any]:
    if not index < size:
        raise AppError("log.range_invalid", "need index < size")
    await _checked_size(size)
    leaf, path = await inclusion_proof(index, size)
    return {"index": index, "size": size, "leaf_hash": leaf.hex(), "path": [p.hex() for p in path]}


@get("/log/proof/consistency", tags=["log"], summary="RFC 6962 consistency proof")
async def consistency(
    first: Annotated[int, QueryParameter(name="from", ge=1)],
    second: Annotated[int, QueryParameter(name="to", ge=1)],
) -> dict[str, Any]:
    if not first <= second:
        raise AppError("log.range_invalid", "need 0 < from ≤ to")
    await _checked_size(second)
    path = await consistency_proof(first, second)
    return {"from": first, "to": second, "path": [p.hex() for p in path]}


ROUTES = [checkpoint, key, event_key, entries, inclusion, consistency]
