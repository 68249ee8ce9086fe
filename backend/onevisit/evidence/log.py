"""The append-only log in the database (EVIDENCE.md §4): leaves, perfect-subtree nodes,
signed checkpoints, and the proofs served at the fixed /log URLs.

The pure Merkle code asks for nodes through `get_node(level, idx)`. Which nodes a computation
needs depends only on the sizes and indexes, never on hash values, so each query runs the pure
function once with a recorder to learn the O(log n) node positions, fetches exactly those in one
query, and runs it again for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from onevisit.db import bulk_insert, write_transaction
from onevisit.evidence import merkle
from onevisit.evidence.keys import log_key, log_name
from onevisit.evidence.note import checkpoint_text, sign_note
from onevisit.evidence.tables import Checkpoint, LogLeaf, MerkleNode

__all__ = [
    "LogAppender",
    "SignedCheckpoint",
    "consistency_proof",
    "current_checkpoint",
    "inclusion_proof",
    "inclusion_proofs",
    "latest_checkpoint",
    "log_size",
    "read_entries",
    "read_leaves",
    "sign_checkpoint",
    "tree_root",
]

T = TypeVar("T")
Key = tuple[int, int]
_ZERO = bytes(32)


def _needed(fn: Callable[..., Any], *args: Any) -> set[Key]:
    seen: set[Key] = set()

    def record(level: int, idx: int) -> bytes:
        seen.add((level, idx))
        return _ZERO

    fn(*args, record)
    return seen


_NODES_PER_QUERY = 200  # SQLite parses an OR chain as a tree at most 1000 deep


async def _nodes(keys: Iterable[Key]) -> dict[Key, bytes]:
    """The stored nodes at these positions, in one query (O(log n) of them per call; a
    batch of proofs asks for more, in queries of at most _NODES_PER_QUERY)."""
    keys = sorted(set(keys))
    found: dict[Key, bytes] = {}
    for start in range(0, len(keys), _NODES_PER_QUERY):
        chunk = keys[start : start + _NODES_PER_QUERY]
        where = " OR ".join("(level = {} AND idx = {})" for _ in chunk)
        args = [v for key in chunk for v in key]
        sql = f"SELECT level, idx, hash FROM merkle_node WHERE {where}"
        rows = await MerkleNode.raw(sql, *args)
        found.update(((r["level"], r["idx"]), bytes(r["hash"])) for r in rows)
    missing = set(keys) - set(found)
    if missing:
        raise LookupError(f"log nodes missing from the store: {sorted(missing)[:4]}")
    return found


async def _run(fn: Callable[..., T], *args: Any) -> T:
    nodes = await _nodes(_needed(fn, *args))
    return fn(*args, lambda level, idx: nodes[(level, idx)])


async def log_size() -> int:
    row = await LogLeaf.select(LogLeaf.idx).order_by(LogLeaf.idx, ascending=False).first()
    return 0 if row is None else row["idx"] + 1


@dataclass
class LogAppender:
    """Appends leaves inside the caller's write transaction (one writer at a time: see
    db.write_transaction). Holds the right edge of the tree in memory, so a batch of appends
    reads O(log n) nodes once and then none."""

    size: int
    known: dict[Key, bytes]
    leaves: list[tuple[int, bytes, str]] = field(default_factory=list)
    nodes: list[tuple[int, int, bytes]] = field(default_factory=list)
    opened_size: int = 0  # the tree's size when it was opened

    @classmethod
    async def open(cls) -> LogAppender:
        size = await log_size()
        edge = _needed(merkle.tree_root, size) if size else set()
        return cls(size=size, known=await _nodes(edge), opened_size=size)

    def append(self, *, leaf_input: bytes, event_hash: str) -> int:
        index = self.size
        created = merkle.append_nodes(index, merkle.leaf_hash(leaf_input), self.get_node)
        for level, idx, digest in created:
            self.known[(level, idx)] = digest
        self.nodes.extend(created)
        self.leaves.append((index, leaf_input, event_hash))
        self.size += 1
        return index

    def get_node(self, level: int, idx: int) -> bytes:
        return self.known[(level, idx)]

    def root(self) -> bytes:
        return merkle.tree_root(self.size, self.get_node)

    async def flush(self) -> None:
        await bulk_insert("log_leaf", ("idx", "leaf_input", "event_hash"), self.leaves)
        await bulk_insert("merkle_node", ("level", "idx", "hash"), self.nodes)
        self.leaves, self.nodes = [], []


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str


async def sign_checkpoint(appender: LogAppender) -> SignedCheckpoint | None:
    """Sign and store the checkpoint of the appender's tree, inside the same transaction.
    None when the tree did not grow since the last checkpoint."""
    # a tree grown in this transaction has no checkpoint of its size yet (appends hold the
    # write lock): only an unchanged one needs the query
    if appender.size == appender.opened_size:
        latest = await latest_checkpoint()
        if latest is not None and latest.size == appender.size:
            return None
    root = appender.root()
    text = checkpoint_text(origin=log_name(), size=appender.size, root=root)
    note = sign_note(text=text, name=log_name(), private_key=log_key())
    await Checkpoint.insert(
        Checkpoint(size=appender.size, root=root, note=note, signed_ms=int(time.time() * 1000))
    )
    return SignedCheckpoint(appender.size, root, note)


async def latest_checkpoint() -> SignedCheckpoint | None:
    row = await Checkpoint.select().order_by(Checkpoint.size, ascending=False).first()
    if row is None:
        return None
    return SignedCheckpoint(row["size"], bytes(row["root"]), row["note"])


async def current_checkpoint() -> SignedCheckpoint:
    """The latest checkpoint; on a log that has none yet, sign one of its current size first
    (size 0 and root SHA-256() on an empty log, RFC 6962 §2.1), so /log/checkpoint always
    answers a signed note. One writer at a time: two first reads sign it once."""
    latest = await latest_checkpoint()
    if latest is not None:
        return latest
    async with write_transaction():
        signed = await sign_checkpoint(await LogAppender.open())
    latest = signed or await latest_checkpoint()  # signed just now, or by the writer before
    if latest is None:
        raise LookupError("no checkpoint after signing one")
    return latest


async def inclusion_proof(index: int, size: int) -> tuple[bytes, list[bytes]]:
    """(leaf hash, audit path) of leaf `index` in the tree of `size` leaves."""
    nodes = await _nodes({(0, index)})
    return nodes[(0, index)], await _run(merkle.inclusion_path, index, size)


async def inclusion_proofs(indexes: Iterable[int], size: int) -> dict[int, list[bytes]]:
    """The audit paths of many leaves in one tree, reading every node they need once (the
    proofs of one visit's events share most of their subtrees)."""
    wanted = sorted(set(indexes))
    keys: set[Key] = set()
    for index in wanted:
        keys |= _needed(merkle.inclusion_path, index, size)
    nodes = await _nodes(keys)
    memo: dict[tuple[int, int], bytes] = {}

    def get(level: int, idx: int) -> bytes:
        return nodes[(level, idx)]

    return {i: merkle.inclusion_path(i, size, get, memo) for i in wanted}


async def consistency_proof(first: int, second: int) -> list[bytes]:
    return await _run(merkle.consistency_path, first, second)


async def tree_root(size: int) -> bytes:
    return await _run(merkle.tree_root, size)


async def read_leaves(indexes: Iterable[int]) -> dict[int, bytes]:
    """The leaf inputs at these indexes (absent: not in the log)."""
    wanted = sorted(set(indexes))
    found: dict[int, bytes] = {}
    for start in range(0, len(wanted), 500):
        rows = await LogLeaf.select(LogLeaf.idx, LogLeaf.leaf_input).where(
            LogLeaf.idx.is_in(wanted[start : start + 500])
        )
        found.update((r["idx"], bytes(r["leaf_input"])) for r in rows)
    return found


async def read_entries(start: int, end: int) -> list[bytes]:
    rows = (
        await LogLeaf.select(LogLeaf.leaf_input)
        .where((LogLeaf.idx >= start) & (LogLeaf.idx < end))
        .order_by(LogLeaf.idx)
    )
    return [bytes(r["leaf_input"]) for r in rows]
