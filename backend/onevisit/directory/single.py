"""One record written through the API, the same way for subjects, matters and inspectors:
clean it (the first failed field becomes the error), check the body names the path's id, then
write it and read the answer inside one write transaction — so under concurrent edits the
answer is what this write stored, not a later one (writers are serialised: db.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from onevisit.db import write_transaction
from onevisit.directory.records import FieldErrors
from onevisit.errors import AppError

__all__ = ["check_path_id", "clean_one", "struct_values", "write_one"]

R = TypeVar("R")
T = TypeVar("T")


def struct_values(data: Any) -> dict[str, Any]:
    """The fields of a msgspec struct as a dict (the input of the clean_* functions)."""
    return {f: getattr(data, f) for f in data.__struct_fields__}


def clean_one(clean: Callable[[dict[str, Any]], R], values: dict[str, Any]) -> R:
    try:
        return clean(values)
    except FieldErrors as exc:  # the API reports the first failed field
        raise exc.errors[0].to_app_error() from None


def check_path_id(given: str | None, path: str, name: str) -> None:
    if given is not None and given != path:
        raise AppError("request.invalid", f"请求体中的 {name} 与路径不一致")


async def write_one(
    write: Callable[..., Awaitable[Any]],
    record: Any,
    read: Callable[[], Awaitable[T]],
    **options: Any,
) -> T:
    async with write_transaction():
        records: Sequence[Any] = [record]
        await write(records, source="api", **options)
        return await read()
