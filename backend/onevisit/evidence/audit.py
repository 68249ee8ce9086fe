"""The pure parts of `onevisit verify` (EVIDENCE.md §6): the report, the per-entry checks that
need no I/O, and the compact range that recomputes the tree from its leaves in O(log n) memory.
evidence/verify.py reads the database and the media store and feeds them through these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onevisit.evidence import merkle
from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import Event, check_chain, verify_event_signature
from onevisit.evidence.note import parse_checkpoint, verify_note

__all__ = [
    "EVENT_COLUMNS",
    "CompactRange",
    "Counts",
    "Failure",
    "Problem",
    "VerifyReport",
    "checkpoint_problems",
    "event_problems",
]

Problem = tuple[str, str]  # (kind, detail)
# Columns of the event table that repeat an envelope field (§3), as (column, Event attribute).
EVENT_COLUMNS = (
    ("event_id", "id"), ("device_id", "device"), ("seq", "seq"), ("prev", "prev"),
    ("actor", "actor"), ("visit", "visit"), ("event_type", "type"), ("at_ms", "at"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Failure:
    kind: str  # a stable code, e.g. "sig.invalid", "leaf.mismatch", "node.mismatch"
    where: str  # the entry: "event <id> (log index 12)", "log_leaf 12", "checkpoint size 40"
    detail: str
    order: tuple[int, int] = field(default=(-1, 0), compare=False, repr=False)  # log position

    def __str__(self) -> str:
        return f"{self.where}: {self.detail} [{self.kind}]"


@dataclass
class Counts:
    events: int = 0
    devices: int = 0
    leaves: int = 0
    nodes: int = 0
    checkpoints: int = 0
    media: int = 0
    confirmations: int = 0  # record_confirmed events (§5): passkey or device PIN
    passkey_confirmations: int = 0  # of which the WebAuthn assertion was verified


@dataclass
class VerifyReport:
    counts: Counts = field(default_factory=Counts)
    failures: list[Failure] = field(default_factory=list)  # in log order, at most MAX_KEPT
    problems: int = 0  # every failure found
    latest_size: int | None = None

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def summary(self) -> str:
        c = self.counts
        if not self.ok:
            plural = "problem" if self.problems == 1 else "problems"
            return f"verify: FAILED — {self.problems} {plural}; first: {self.failures[0]}"
        latest = "none" if self.latest_size is None else f"latest size {self.latest_size}"
        return (
            f"verify: OK — {c.events} events from {c.devices} devices, {c.leaves} leaves, "
            f"{c.nodes} nodes, {c.checkpoints} checkpoints ({latest}), {c.media} media files, "
            f"{c.confirmations} confirmations ({c.passkey_confirmations} by passkey)"
        )


def event_problems(
    row: dict[str, Any], ev: Event, key: tuple[bytes, str] | None, head: tuple[int, str] | None
) -> list[Problem]:
    """A stored event row against its parsed envelope: the hash column, the repeated columns,
    the device key (owner and signature) and the device chain whose head is (seq, hash)."""
    found: list[Problem] = []
    if row["hash"] != ev.hash:
        found.append(("event.hash", f"hash column {row['hash']} ≠ SHA-256 {ev.hash}"))
    pairs = [(c, row[c], getattr(ev, a)) for c, a in EVENT_COLUMNS]
    diffs = [f"{c} {stored!r} ≠ {signed!r}" for c, stored, signed in pairs if stored != signed]
    if diffs:
        found.append(("event.columns", "columns differ from the envelope: " + "; ".join(diffs)))
    if key is None:
        found.append(("device.unknown", f"no key for device {ev.device}"))
    else:
        if key[1] != ev.actor:
            found.append(("device.not_actor", f"the device key belongs to {key[1]}"))
        try:
            verify_event_signature(
                envelope_bytes=ev.raw, signature_b64url=row["sig"], spki_der=key[0]
            )
        except EvidenceError as exc:
            found.append((exc.code, f"signature does not verify ({exc.reason})"))
    try:
        check_chain(prev_hash=head and head[1], last_seq=head and head[0], event=ev)
    except EvidenceError as exc:
        found.append((exc.code, f"device chain broken: {exc.reason}"))
    return found


def checkpoint_problems(
    row: dict[str, Any], *, vkey: str, origin: str, root: bytes | None, log_size: int
) -> list[Problem]:
    """A checkpoint row (size, root, note) against the log key and the root recomputed from
    the leaves at its size (None: the log is smaller)."""
    try:
        cp = parse_checkpoint(verify_note(note=row["note"], verifier_key=vkey))
    except EvidenceError as exc:
        return [(exc.code, f"note does not verify with the log key: {exc.reason}")]
    diffs = []
    if cp.origin != origin:
        diffs.append(f"origin {cp.origin!r} is not {origin!r}")
    if cp.size != row["size"] or cp.root != bytes(row["root"]):
        diffs.append(f"the signed size/root ({cp.size}) differ from the row's")
    if root is None:
        diffs.append(f"the log has only {log_size} leaves")
    elif cp.root != root:
        diffs.append(f"signed root ≠ root recomputed from leaves 0..{row['size'] - 1}")
    return [("checkpoint.mismatch", "; ".join(diffs))] if diffs else []


class CompactRange:
    """The right edge of an RFC 6962 tree: the perfect subtrees covering leaves [0, size), left
    to right, strictly decreasing. Appending a leaf yields every node it completes, exactly the
    rows merkle_node holds (merkle.append_nodes), in O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self.edge: list[tuple[int, bytes]] = []  # (level, hash)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        level, idx, acc = 0, self.size, leaf_hash
        created = [(0, idx, acc)]
        while self.edge and self.edge[-1][0] == level:
            acc = merkle.node_hash(self.edge.pop()[1], acc)
            level, idx = level + 1, idx >> 1
            created.append((level, idx, acc))
        self.edge.append((level, acc))
        self.size += 1
        return created

    def root(self) -> bytes:
        """MTH of the leaves so far: the edge folded right to left (merkle.subtree_hash)."""
        if not self.edge:
            return merkle.EMPTY_ROOT
        acc = self.edge[-1][1]
        for _, left in reversed(self.edge[:-1]):
            acc = merkle.node_hash(left, acc)
        return acc
