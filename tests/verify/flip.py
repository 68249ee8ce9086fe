"""Run as `python -m tests.verify.flip SPEC.json OUT.json` on a copy of the test database whose
append-only triggers are dropped (test_verify.py does): change single bytes of stored objects,
one at a time, run `onevisit verify` (verify_all, in this process) after each, put the byte
back, and write what verify said to OUT.json. A row is changed inside a transaction that
verify_all reads through and that is then rolled back; a media file is written back.

The copy is first cut down to the verify scenario: the events of its devices (the three phones,
every event of device "server", whose chain starts before the scenario) are appended to a new
log in their old order, with their exact leaf inputs, and checkpointed halfway and at the end.
So each of the hundreds of verify runs reads a few dozen entries, however many the rest of the
test run stored, and the entries are still the bytes the API stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onevisit.db import bulk_insert, engine, is_sqlite, write_transaction
from onevisit.evidence.events import media_refs, parse_event
from onevisit.evidence.log import LogAppender, sign_checkpoint
from onevisit.evidence.store import EVENT_COLUMNS
from onevisit.evidence.tables import Checkpoint, Event, LogLeaf, MerkleNode
from onevisit.evidence.verify import VerifyReport, verify_all
from onevisit.media.store import LocalStore

ALL_BELOW = 40  # objects shorter than this: every byte; longer ones: a sample


class _Rollback(Exception):
    pass


async def trim(devices: list[str], source_media: Path, media: Path) -> dict[str, int]:
    """Keep only the events of `devices`, re-logged; copy the originals they reference."""
    events = await Event.select().where(Event.device_id.is_in(devices)).order_by(Event.log_index)
    old = [e["log_index"] for e in events]
    leaves = await LogLeaf.select().where(LogLeaf.idx.is_in(old))
    leaf_of = {r["idx"]: bytes(r["leaf_input"]) for r in leaves}
    async with write_transaction():
        for table in ("event", "log_leaf", "merkle_node", "checkpoint"):
            await Event.raw(f"DELETE FROM {table}")
        appender = await LogAppender.open()
        for n, e in enumerate(events):
            appender.append(leaf_input=leaf_of[e["log_index"]], event_hash=e["hash"])
            e["log_index"] = n
            if n + 1 == len(events) // 2:
                await sign_checkpoint(appender)
        await appender.flush()
        await sign_checkpoint(appender)
        await bulk_insert("event", EVENT_COLUMNS, [[e[c] for c in EVENT_COLUMNS] for e in events])
        # the record index keeps only the rows of the events kept (verify checks it both ways)
        await Event.raw("DELETE FROM record_ref WHERE event_hash NOT IN (SELECT hash FROM event)")
    src, dst = LocalStore(source_media), LocalStore(media)
    for e in events:
        for ref in media_refs(parse_event(bytes(e["envelope"])).body):
            target = dst.original_path(ref["sha256"])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src.original_path(ref["sha256"]), target)
    return {e["event_id"]: e["log_index"] for e in events}


@dataclass
class Target:
    label: str
    where: str  # the entry verify must name first
    read: Callable[[], Awaitable[bytes]]
    write: Callable[[bytes], Awaitable[Any]]
    text: bool = False  # a text column: the changed bytes must stay UTF-8 without NUL
    file: bool = False  # not in the database: put back by writing the original again


def _column(table: str, column: str, key: str, value: Any, *, text: bool = False):
    async def read() -> bytes:
        rows = await Event.raw(f"SELECT {column} FROM {table} WHERE {key} = {{}}", value)
        data = rows[0][column]
        return data.encode() if text else bytes(data)

    async def write(data: bytes) -> None:
        sql = f"UPDATE {table} SET {column} = {{}} WHERE {key} = {{}}"
        await Event.raw(sql, data.decode() if text else data, value)

    return read, write


def _file(path: Path):
    async def read() -> bytes:
        return path.read_bytes()

    async def write(data: bytes) -> None:
        path.write_bytes(data)

    return read, write


async def targets(spec: dict, index: dict[str, int], media: Path) -> list[Target]:
    found = []
    for name, event_id in spec["events"].items():
        where = f"event {event_id} (log index {index[event_id]})"
        found.append(
            Target(
                f"envelope of {name}", where, *_column("event", "envelope", "event_id", event_id)
            )
        )
        found.append(
            Target(
                f"sig of {name}",
                where,
                *_column("event", "sig", "event_id", event_id, text=True),
                text=True,
            )
        )
        i = index[event_id]
        found.append(
            Target(f"leaf of {name}", f"log_leaf {i}", *_column("log_leaf", "leaf_input", "idx", i))
        )
    node = await MerkleNode.select().order_by(MerkleNode.level, ascending=False).first()
    level, idx = node["level"], node["idx"]
    where = f"merkle_node (level {level}, index {idx})"

    async def read_node() -> bytes:
        rows = await Event.raw(
            "SELECT hash FROM merkle_node WHERE level = {} AND idx = {}", level, idx
        )
        return bytes(rows[0]["hash"])

    async def write_node(data: bytes) -> None:
        await Event.raw(
            "UPDATE merkle_node SET hash = {} WHERE level = {} AND idx = {}", data, level, idx
        )

    found.append(Target("tree node", where, read_node, write_node))
    sizes = [r["size"] for r in await Checkpoint.select(Checkpoint.size).order_by(Checkpoint.size)]
    for size in sizes:
        where = f"checkpoint size {size}"
        note = _column("checkpoint", "note", "size", size, text=True)
        found.append(Target(f"note of checkpoint {size}", where, *note, text=True))
    root = _column("checkpoint", "root", "size", sizes[-1])
    found.append(Target(f"root of checkpoint {sizes[-1]}", f"checkpoint size {sizes[-1]}", *root))
    sha = spec["photo_sha"]
    path = LocalStore(media).original_path(sha)
    path.chmod(0o644)
    found.append(Target("media original", f"media {sha}", *_file(path), file=True))
    return found


def positions(n: int, rng: random.Random, sample: int) -> list[int]:
    if n <= ALL_BELOW:
        return list(range(n))
    return sorted({0, n - 1, *rng.sample(range(1, n - 1), sample - 2)})


def flipped(data: bytes, pos: int, rng: random.Random, text: bool) -> bytes:
    masks = list(range(1, 256))
    rng.shuffle(masks)
    for mask in masks:
        out = data[:pos] + bytes([data[pos] ^ mask]) + data[pos + 1 :]
        if not text:
            return out
        try:
            if "\x00" not in out.decode("utf-8"):
                return out
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"no single-byte change of position {pos} keeps the text UTF-8")


async def verify_changed(t: Target, original: bytes, changed: bytes) -> VerifyReport:
    """verify_all with `changed` in place of `original`, which is back afterwards."""
    report = None
    try:
        async with engine().transaction():  # verify_all reads through it: one connection
            await t.write(changed)
            report = await verify_all()
            raise _Rollback
    except _Rollback:
        pass
    finally:
        if t.file:
            await t.write(original)
    assert report is not None
    return report


async def main(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    media = Path(os.environ["ONEVISIT_MEDIA_DIR"])
    if not is_sqlite():
        await engine().start_connection_pool(min_size=1, max_size=2)
    index = await trim(spec["devices"], Path(spec["source_media"]), media)
    rng = random.Random(spec["seed"])
    before = await verify_all()
    results = []
    for t in await targets(spec, index, media):
        original = await t.read()
        for pos in positions(len(original), rng, spec["sample"]):
            report = await verify_changed(t, original, flipped(original, pos, rng, t.text))
            first = str(report.failures[0]) if report.failures else None
            results.append({"object": t.label, "where": t.where, "pos": pos, "size": len(original),
                            "first": first})  # fmt: skip
    after = await verify_all()
    out = {"before": before.summary(), "after": after.summary(), "events": len(index),
           "results": results}  # fmt: skip
    Path(out_path).write_text(json.dumps(out, ensure_ascii=False))
    if not is_sqlite():
        await engine().close_connection_pool()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
