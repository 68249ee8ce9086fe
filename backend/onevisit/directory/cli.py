"""`onevisit import KIND FILE` and `onevisit export KIND FILE` (as the "cli" actor, all
departments): the same domain functions as the API."""

from __future__ import annotations

import sys
from pathlib import Path

from onevisit.directory.exporting import export_file
from onevisit.directory.importing import import_file
from onevisit.errors import AppError

__all__ = ["print_row_errors", "run_export", "run_import"]


async def run_import(*, kind: str, path: str) -> None:
    file = Path(path)
    try:
        result = await import_file(
            kind=kind, data=file.read_bytes(), filename=file.name, actor="cli"
        )
    except AppError as exc:
        print_row_errors(exc)
        raise
    print(
        f"{kind}: revision {result.revision}, created {result.created}, "
        f"updated {result.updated}, unchanged {result.unchanged}"
    )


async def run_export(*, kind: str, path: str) -> None:
    file = Path(path)
    fmt = file.suffix.lower().lstrip(".")
    content = await export_file(kind=kind, fmt=fmt)
    file.write_bytes(content)
    print(f"{kind}: {len(content)} bytes written to {file}")


def print_row_errors(exc: AppError) -> None:
    """An all-or-nothing import's bad rows, one line each on stderr; the error's details then
    keep only their number, so the summary line `_run` prints stays short."""
    for e in exc.details.get("errors", []):
        print(
            f"row {e['row']}, column {e['column']}: {e['code']} — {e['message']}",
            file=sys.stderr,
        )
    if "errors" in exc.details:
        exc.details = {"errors": len(exc.details["errors"])}
