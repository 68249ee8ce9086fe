"""`onevisit verify` (EVIDENCE.md §6): re-check everything from the database and the media store
alone, trusting no derived column.

One pass in log order joins the events (by log_index) with the leaves (by idx), page by page,
so a million events fit in memory. Per event (§3): the stored bytes are canonical, `hash` is
SHA-256 of them, the columns equal the envelope, the signature verifies with the device's key
(revoked keys included; device "server" with the server's event key), the device's chain is
gapless from seq 1 with matching prev, every media reference names a stored original whose
bytes hash and size match, and a passkey confirmation verifies (§5, sign count 0) for the
relying party its passkey was registered for (the origin may have moved since: confirm.py).
The record index (record_ref) must say exactly what the events say: one row (record hash,
event hash, visit) per act naming a record, and no row an event does not back.
Per leaf (§4): it is JCS {"h","s","r"} naming the event at its index with that hash, sig and
receipt time, and leaves are gapless. The leaf hashes are folded into a compact range that
yields every perfect-subtree node (compared with merkle_node) and the root at every checkpoint
size; each checkpoint must be a note signed by the log key whose size and root equal its row's
and the recomputed root (so all checkpoints are consistent with each other).

Failures are collected, never raised; `failures[0]` is the first broken entry in log order.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import operator
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from onevisit.evidence import merkle
from onevisit.evidence.audit import (
    EVENT_COLUMNS,
    CompactRange,
    Counts,
    Failure,
    VerifyReport,
    checkpoint_problems,
    event_problems,
)
from onevisit.evidence.confirm import (
    ConfirmationKeys,
    is_passkey_confirmation,
    load_confirmation_keys,
)
from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import (
    SERVER_DEVICE,
    Event,
    device_id_of,
    media_refs,
    named_record,
    parse_event,
)
from onevisit.evidence.events import parse_leaf_input as _parse_leaf
from onevisit.evidence.keys import event_key_spki, log_key, log_name
from onevisit.evidence.note import verifier_key
from onevisit.evidence.tables import Checkpoint, LogLeaf, MerkleNode, RecordRef
from onevisit.evidence.tables import Event as EventRow

__all__ = ["PAGE", "Counts", "Failure", "VerifyReport", "verify_all"]

PAGE = 5000  # rows per query
MAX_KEPT = 10_000  # failures kept in the report (all are counted)
_EVENT, _MEDIA, _CONFIRM, _REF, _LEAF, _NODE, _CHECKPOINT = range(7)  # rank within one log position
_EVENT_READ = (*(c for c, _ in EVENT_COLUMNS), "hash", "envelope", "sig", "received_ms")


def _stored_digest(sha256: str) -> tuple[str, int] | None:
    """(SHA-256, size) of the stored original named `sha256`, streamed; None if absent."""
    from onevisit.media.store import READ_BLOCK, get_store

    digest, size = hashlib.sha256(), 0
    try:
        with get_store().open(sha256) as fh:
            while block := fh.read(READ_BLOCK):
                digest.update(block)
                size += len(block)
    except (FileNotFoundError, ValueError):
        return None
    return digest.hexdigest(), size


async def _rows(
    table: Any, key: Any, columns: tuple[Any, ...], hook: Callable[[list], Awaitable[None]]
) -> AsyncIterator[dict[str, Any]]:
    """Rows in key order, a page per query (keyset pagination: one indexed range read each);
    `hook` sees each page before its rows are yielded."""
    last = None
    while True:
        query = table.select(*columns).order_by(key).limit(PAGE)
        rows = await (query if last is None else query.where(key > last))
        if not rows:
            return
        await hook(rows)
        for row in rows:
            yield row
        last = rows[-1][key._meta.name]


async def _nothing(_: list) -> None:
    return None


def _node_where(key: tuple[int, int]) -> tuple[str, tuple[int, int]]:
    level, idx = key
    order = (((idx + 1) << level) - 1, _NODE)  # the leaf whose append completed the node
    return f"merkle_node (level {level}, index {idx})", order


class _Verifier:
    def __init__(self, progress: Callable[[int, int], None] | None) -> None:
        self.report = VerifyReport()
        self.progress = progress
        self.keys: dict[str, tuple[bytes, str]] = {}  # device → (SPKI, owner user id)
        self.heads: dict[str, tuple[int, str]] = {}  # device → (seq, hash) of its chain so far
        self.parsed: dict[int, Event | EvidenceError] = {}  # this page's envelopes
        self.media: dict[str, tuple[str, int] | None] = {}  # sha256 → what the store holds
        self.passkeys = ConfirmationKeys({}, "", "")
        self.tree = CompactRange()
        self.expected = 0  # the next leaf index
        self.sizes: set[int] = set()  # checkpoint sizes, whose roots we keep
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
        self.nodes: dict[tuple[int, int], bytes] = {}  # recomputed, not yet compared
        # (record hash, event hash, visit) → log index: the record_ref rows the events demand
        self.record_refs: dict[tuple[str, str, str | None], int] = {}

    def fail(self, kind: str, where: str, detail: str, order: tuple[int, int]) -> None:
        self.report.problems += 1
        if len(self.report.failures) < MAX_KEPT:
            self.report.failures.append(Failure(kind, where, detail, order))

    # --- events (§3) -------------------------------------------------------------------------
    async def load_keys(self) -> None:
        from onevisit.auth.tables import DeviceKey

        rows = await DeviceKey.select(DeviceKey.device_id, DeviceKey.spki, DeviceKey.app_user)
        for r in rows:
            spki = bytes(r["spki"])
            if device_id_of(spki) != r["device_id"]:  # §2: device_id = SHA-256 of the SPKI
                where = f"device_key {r['device_id']}"
                self.fail("device.id", where, "device_id is not SHA-256 of its SPKI", (-1, 0))
            self.keys[r["device_id"]] = (spki, str(r["app_user"]))
        self.keys[SERVER_DEVICE] = (event_key_spki(), SERVER_DEVICE)

    async def event_page(self, rows: list[dict[str, Any]]) -> None:
        """Parse the page, load the passkeys it names, hash the media files it first names."""
        self.parsed = {}
        for r in rows:
            try:
                self.parsed[r["log_index"]] = parse_event(bytes(r["envelope"]))
            except EvidenceError as exc:
                self.parsed[r["log_index"]] = exc
        events = [e for e in self.parsed.values() if isinstance(e, Event)]
        self.passkeys = await load_confirmation_keys(events, history=True)
        new = {ref["sha256"] for e in events for ref in media_refs(e.body)} - self.media.keys()
        names = sorted(s for s in new if isinstance(s, str))
        found = await asyncio.to_thread(lambda: [_stored_digest(s) for s in names])
        self.media.update(zip(names, found, strict=True))

    def event(self, row: dict[str, Any]) -> None:
        i = row["log_index"]
        where, order = f"event {row['event_id']} (log index {i})", (i, _EVENT)
        self.report.counts.events += 1
        ev = self.parsed.pop(i)
        if isinstance(ev, EvidenceError):
            self.fail(ev.code, where, f"stored envelope is not canonical: {ev.reason}", order)
            return
        problems = event_problems(row, ev, self.keys.get(ev.device), self.heads.get(ev.device))
        for kind, detail in problems:
            self.fail(kind, where, detail, order)
        self.heads[ev.device] = (ev.seq, ev.hash)
        for ref in media_refs(ev.body):
            sha, stored, m_order = ref["sha256"], self.media.get(ref["sha256"]), (i, _MEDIA)
            if stored is None:
                self.fail("media.missing", where, f"media {sha} is not in the store", m_order)
            elif stored[0] != sha:
                detail = f"the stored file hashes to {stored[0]} (referenced by {where})"
                self.fail("media.hash", f"media {sha}", detail, m_order)
            elif stored[1] != ref["bytes"]:
                detail = f"media {sha} has {stored[1]} bytes, not {ref['bytes']}"
                self.fail("media.size", where, detail, m_order)
        named = named_record(ev.type, ev.body)
        if named is not None:
            self.record_refs[(named, ev.hash, ev.visit)] = i
        if ev.type == "record_confirmed":
            self.report.counts.confirmations += 1
            self.report.counts.passkey_confirmations += is_passkey_confirmation(ev)
            try:
                self.passkeys.check(ev)
            except EvidenceError as exc:
                detail = f"confirmation does not verify: {exc.reason}"
                self.fail(exc.code, where, detail, (i, _CONFIRM))

    # --- leaves and the tree (§4) ----------------------------------------------------------
    async def leaf(self, row: dict[str, Any] | None, ev: dict[str, Any] | None, i: int) -> None:
        where, order = f"log_leaf {i}", (i, _LEAF)
        expected, self.expected = self.expected, i + 1
        if row is None:
            self.fail("leaf.missing", where, f"no leaf for event {ev and ev['event_id']}", order)
            return
        if i != expected:
            self.fail("leaf.gap", where, f"leaves {expected}..{i - 1} are missing", order)
        self.report.counts.leaves += 1
        data = bytes(row["leaf_input"])
        for level, idx, digest in self.tree.append(merkle.leaf_hash(data)):
            self.nodes[(level, idx)] = digest
        if self.tree.size in self.sizes:
            self.roots[self.tree.size] = self.tree.root()
        try:
            leaf = _parse_leaf(data)
        except EvidenceError as exc:
            self.fail(exc.code, where, f"leaf input is not JCS {{h,s,r}}: {exc.reason}", order)
            return
        if row["event_hash"] != leaf.h:
            self.fail("leaf.column", where, f"event_hash column ≠ the leaf's h {leaf.h}", order)
        if ev is None:
            self.fail("leaf.orphan", where, f"names {leaf.h}; no event has log index {i}", order)
            return
        diffs = []
        actual = hashlib.sha256(bytes(ev["envelope"])).hexdigest()
        if leaf.h != actual:
            other = await EventRow.select(EventRow.event_id, EventRow.log_index).where(
                (EventRow.hash == leaf.h) & (EventRow.event_id != ev["event_id"])
            )
            named = ", ".join(f"event {o['event_id']} (log index {o['log_index']})" for o in other)
            diffs.append(
                f"h {leaf.h} names {named}, not {ev['event_id']}"
                if named
                else f"h {leaf.h} ≠ SHA-256 {actual} of the envelope of {ev['event_id']}"
            )
        if leaf.s != ev["sig"]:
            diffs.append("s differs from the event's sig")
        if leaf.r != ev["received_ms"]:
            diffs.append(f"r {leaf.r} ≠ the event's received_ms {ev['received_ms']}")
        if diffs:
            self.fail("leaf.mismatch", where, "; ".join(diffs), order)

    async def compare_nodes(self) -> None:
        """The recomputed nodes against merkle_node: one query, per level one index range
        (the nodes a run of appends completes are contiguous on each level)."""
        if not self.nodes:
            return
        spans: dict[int, tuple[int, int]] = {}
        for level, idx in self.nodes:
            lo, hi = spans.get(level, (idx, idx))
            spans[level] = (min(lo, idx), max(hi, idx))
        cond = functools.reduce(
            operator.or_,
            [
                (MerkleNode.level == lv) & (MerkleNode.idx >= lo) & (MerkleNode.idx <= hi)
                for lv, (lo, hi) in spans.items()
            ],
        )
        rows = await MerkleNode.select(MerkleNode.level, MerkleNode.idx, MerkleNode.hash).where(
            cond
        )
        for r in rows:
            key = (r["level"], r["idx"])
            want, stored = self.nodes.pop(key, None), bytes(r["hash"])
            self.report.counts.nodes += 1
            if want is not None and stored != want:
                where, order = _node_where(key)
                detail = f"stored {stored.hex()} ≠ recomputed {want.hex()}"
                self.fail("node.mismatch", where, detail, order)
        for key in self.nodes:
            where, order = _node_where(key)
            self.fail("node.missing", where, "not stored", order)
        self.nodes = {}

    async def checkpoints(self) -> None:
        vkey = verifier_key(name=log_name(), public_key=log_key().public_key())
        columns = (Checkpoint.size, Checkpoint.root, Checkpoint.note)
        async for row in _rows(Checkpoint, Checkpoint.size, columns, _nothing):
            size = row["size"]
            self.report.counts.checkpoints += 1
            self.report.latest_size = size
            found = checkpoint_problems(
                row,
                vkey=vkey,
                origin=log_name(),
                root=self.roots.get(size),
                log_size=self.tree.size,
            )
            for kind, detail in found:
                self.fail(kind, f"checkpoint size {size}", detail, (size - 1, _CHECKPOINT))

    # --- the record index ----------------------------------------------------------------
    async def record_index(self) -> None:
        """Each record_ref row against the events' own record hashes (read in the pass)."""
        seen: set[tuple[str, str, str | None]] = set()
        columns = (RecordRef.id, RecordRef.record_hash, RecordRef.event_hash, RecordRef.visit)
        async for row in _rows(RecordRef, RecordRef.id, columns, _nothing):
            key = (row["record_hash"], row["event_hash"], row["visit"])
            if key in self.record_refs:
                seen.add(key)
                continue
            where = f"record_ref {row['id']}"
            detail = (
                f"names record {row['record_hash']} for event {row['event_hash']} of visit "
                f"{row['visit']}: no such event of that visit names that record"
            )
            self.fail("record_ref.mismatch", where, detail, (self.tree.size, _REF))
        for key, i in self.record_refs.items():
            if key not in seen:
                named, event_hash, _ = key
                where = f"event {event_hash} (log index {i})"
                detail = f"names record {named} but record_ref has no row for it"
                self.fail("record_ref.missing", where, detail, (i, _REF))

    # --- the pass --------------------------------------------------------------------------
    async def run(self) -> VerifyReport:
        await self.load_keys()
        self.sizes = {r["size"] for r in await Checkpoint.select(Checkpoint.size)}
        total = max(await EventRow.count(), await LogLeaf.count())
        ev_cols = (*(getattr(EventRow, name) for name in _EVENT_READ), EventRow.log_index)
        lf_cols = (LogLeaf.idx, LogLeaf.leaf_input, LogLeaf.event_hash)
        events = _rows(EventRow, EventRow.log_index, ev_cols, self.event_page)
        leaves = _rows(LogLeaf, LogLeaf.idx, lf_cols, _nothing)
        ev, lf = await anext(events, None), await anext(leaves, None)
        done = 0
        while ev is not None or lf is not None:  # a merge join on the log position
            i = min(r[k] for r, k in ((ev, "log_index"), (lf, "idx")) if r is not None)
            e = ev if ev is not None and ev["log_index"] == i else None
            leaf = lf if lf is not None and lf["idx"] == i else None
            if e is not None:
                self.event(e)
                ev = await anext(events, None)
            await self.leaf(leaf, e, i)
            if leaf is not None:
                lf = await anext(leaves, None)
            done += 1
            if done % PAGE == 0:
                await self.compare_nodes()
                if self.progress:
                    self.progress(done, total)
        await self.compare_nodes()
        extra = await MerkleNode.count() - self.report.counts.nodes
        if extra:
            detail = f"{extra} rows beyond the tree of {self.tree.size} leaves"
            self.fail("node.extra", "merkle_node", detail, (self.tree.size, _NODE))
        await self.checkpoints()
        await self.record_index()
        self.report.counts.devices = len(self.heads)
        self.report.counts.media = sum(1 for v in self.media.values() if v is not None)
        self.report.failures.sort(key=lambda f: f.order)
        if self.progress:
            self.progress(total, total)
        return self.report


async def verify_all(*, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Re-check the whole evidence store (§6). `progress(done, total)` after each page."""
    return await _Verifier(progress).run()
