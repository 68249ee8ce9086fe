"""A large file of new subjects, checked in parts by a worker process while this one stores the
parts already checked.

Reading and checking 100,000 rows costs about as much as storing them, and both keep the GIL
(threads would take turns), so on a machine with a second CPU the file is cut at line breaks
into parts that a worker process (onevisit.workers) reads and checks one after the other while
this process inserts each part as it comes back: SQLite's inserts here, PostgreSQL's COPY
streaming to the server. All or nothing, as the whole-file path (importing.py).

It is only a faster road to the same answer: whenever it cannot give exactly what the
whole-file path gives, it stops, rolls back whatever it wrote, and returns None, and the caller
takes the whole-file path — which also reports every bad row with its line. That is the case
for a file that is not a plain UTF-8 CSV without quotes (a quoted cell may hold a line break; a
.xlsx or GB18030 file is read whole), a part with a bad row, an id that exists already or that
repeats across parts (the subject_id unique index refuses it: an update is compared row by
row), and a worker that died. Only a file of at least PARALLEL_MIN_LINES lines is cut.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from itertools import repeat

import asyncpg

from onevisit import workers
from onevisit.bulk import copy_rows
from onevisit.db import bulk_insert, is_sqlite, write_transaction
from onevisit.directory.checking import check_part
from onevisit.directory.revisions import new_revision
from onevisit.directory.schemas import ImportResult
from onevisit.directory.subjects import SUBJECT_COLUMNS
from onevisit.directory.tables import DirectoryRevision
from onevisit.directory.tabular import is_xlsx

__all__ = ["import_new_subjects"]

PART_LINES = 5_000  # lines of a part; the first is a fifth of that: nothing overlaps its check
PARALLEL_MIN_LINES = 20_000


class _NotHere(Exception):
    """This file takes the whole-file path after all (a bad row, an id stored already)."""


def cut(
    data: bytes, filename: str, part_lines: int, min_lines: int = 1
) -> tuple[bytes, list[bytes]] | None:
    """(header line, parts of the data lines) of a file of at least `min_lines` lines that can be
    checked part by part; each part holds whole lines. None for a file whose lines might not be
    its rows or that might not decode as UTF-8 part by part."""
    lines = data.count(b"\n")
    if lines < max(2, min_lines) or is_xlsx(data, filename):
        return None
    if b'"' in data or b"\x00" in data[:65536]:
        return None  # quotes: a line break may be inside a cell; NUL: read_table refuses it
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone CR breaks a line for the csv module
    end = data.find(b"\n")
    header, start = data[:end], end + 1
    line_bytes = (len(data) - start) / lines
    step = max(1, int(line_bytes * part_lines // 5))
    parts = []
    while start < len(data):
        end = data.find(b"\n", start + step)
        end = len(data) if end < 0 else end + 1
        parts.append(data[start:end])
        start, step = end, max(1, int(line_bytes * part_lines))
    return header, parts


async def import_new_subjects(
    data: bytes, filename: str, *, actor: str, source: str, note: str
) -> ImportResult | None:
    """Import a file of new subjects part by part in a worker process; None (nothing written)
    when the whole-file path must do it (see the module's docstring)."""
    cuts = cut(data, filename, PART_LINES, PARALLEL_MIN_LINES)
    if cuts is None or workers.worker_count() < 1:
        return None
    header, parts = cuts
    futures: list[Future] = []
    try:
        for part in parts:
            future = workers.submit(check_part, header, part)
            if future is None:  # the pool broke: no new one for the parts still to go
                return None
            futures.append(future)
        return await _store(futures, actor=actor, source=source, note=note)
    except (_NotHere, sqlite3.IntegrityError, asyncpg.UniqueViolationError, BrokenProcessPool):
        return None  # rolled back (a dead worker's pool was discarded)
    finally:
        for future in futures:
            future.cancel()


async def _store(futures: Sequence[Future], *, actor: str, source: str, note: str) -> ImportResult:
    now = datetime.now(UTC)
    count = 0
    async with write_transaction():
        revision = await new_revision(actor=actor, source=source, note=note, rows=0)
        extra = (1, revision, now)  # version, revision, updated_at of every new row

        async def parts() -> AsyncIterator[list[tuple]]:
            nonlocal count
            for future in futures:
                rows = await asyncio.wrap_future(future)
                if rows is None:
                    raise _NotHere
                count += len(rows)
                yield list(map(tuple.__add__, rows, repeat(extra)))

        if is_sqlite():
            async for rows in parts():
                await bulk_insert("subject", SUBJECT_COLUMNS, rows)
        else:
            await copy_rows("subject", SUBJECT_COLUMNS, _flat(parts()))
        await DirectoryRevision.update({DirectoryRevision.rows: count}).where(
            DirectoryRevision.id == revision
        )
    return ImportResult(revision=revision, created=count, updated=0, unchanged=0)


async def _flat(parts: AsyncIterator[list[tuple]]) -> AsyncIterator[tuple]:
    async for rows in parts:
        for row in rows:
            yield row
