"""The verifiable double random draw of ../shared/specs/DRAW.md, as pure functions (no I/O).

Everything here is recomputable by anyone from a published draw record: the server runs these
functions to make a draw, `onevisit draw verify FILE` runs them again on the record alone, and
an outside verifier can implement the spec independently and get the same bytes.

- `snapshot_hash`, `quota`, `seed_of`: the fixed inputs.
- `select`: per stratum the k subjects with the lowest SHA-256 keys; their union in key order
  is the batch order.
- `match`: the joint groups, by the spec's exact loop (departments in record order, initiator
  first; partners only while short; lowest key1 among candidates; per-draw loads and cap).
- `apply_swaps`: swaps in record order, each `in` computed by the same rules.
- `recompute` / `verify`: a whole record from its inputs, and the differences from it.

Large draws hash in parallel (see "parallel hashing"): the same keys, computed by worker
processes, merged into the same bytes as the serial path.

Identifiers enter hashes as UTF-8; big-endian 256-bit keys compare as their 32 digest bytes,
so keys stay `bytes` (no int conversion). Ratios are decimal strings computed with Fraction:
`ceil(ratio × n)` never touches a float.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import chain, compress, cycle, islice, pairwise, repeat
from operator import add, attrgetter, eq, itemgetter, lt
from typing import Any

from onevisit import workers
from onevisit.errors import AppError
from onevisit.workers import WorkerError, worker_count

__all__ = [
    "FORMAT_VERSION",
    "SWAP_REASONS",
    "ZERO_SECRET",
    "Department",
    "DrawWorkerError",
    "Group",
    "apply_swaps",
    "match",
    "matching_key",
    "quota",
    "recompute",
    "seed_of",
    "select",
    "selection_key",
    "snapshot_and_select",
    "snapshot_hash",
    "verify",
    "worker_count",
]

FORMAT_VERSION = 1
ZERO_SECRET = bytes(32)  # stands for a party that did not reveal (DRAW.md "Seed")
SWAP_REASONS = ("conflict_of_interest", "post_change", "work_conflict", "health")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_RATIO = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
_PLAIN_BYTES = bytes(b for b in range(0x20, 0x100) if b != 0x5C)  # JSON leaves them as is

# Speed (benchmarks/draw.py): a draw hashes ~3M short messages, and CPython's floor is the
# creation of one hash object each. `_keys` runs the whole loop in C (map over bound
# methods), so the draw costs little more than those hashes. Every fast path below gives the
# same bytes as the plain loop it stands for; anything unusual (an error to report, ids that
# need escaping, a cap) takes the plain loop, which also raises the errors.
_SHA256 = hashlib.sha256
_DIGEST = type(hashlib.sha256()).digest


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def _keys(prefix: bytes, tails: Iterable[bytes]) -> list[bytes]:
    """SHA-256(prefix || tail) for every tail, in order."""
    return list(map(_DIGEST, map(_SHA256, map(prefix.__add__, tails))))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: a large draw makes millions of tuples and lists
    (none in a cycle), and the collections they trigger walk every live object of the process
    (~0.3 s of a 1M draw). Reference counting still frees everything."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- parallel hashing -----------------------------------------------------------------------
# hashlib keeps the GIL for short messages, so threads do not help: a large draw hands shares
# of its keys to worker processes and hashes a share itself meanwhile. The workers return
# compact results (keys below a threshold; rankings as small integers), which the calling
# process merges into exactly what the serial path gives. The pool is onevisit.workers' (shared
# with large imports). Small draws stay in-process: their dispatch would cost more than it
# saves, and the spec's thousands of small test cases stay fast.

PARALLEL_MIN_SUBJECTS = 200_000  # select: population size from which keys are shared out
PARALLEL_MIN_KEYS = 300_000  # match: own-pool key1 count from which they are shared out
# The calling process's share of the keys, relative to a worker's: it also prepares the
# shares and merges the results (measured on 2 cores with benchmarks/draw.py).
SELECT_OWN_SHARE = 0.5
MATCH_OWN_SHARE = 0.9


class DrawWorkerError(WorkerError):
    """A worker process of the parallel draw died (killed, out of memory). Not a draw.* error:
    the draw's inputs are fine and the same draw can be computed again."""


def _shared(
    function: Any,
    shares: list[Callable[[], tuple[Any, ...]]],
    meanwhile: Callable[[], Any] | None = None,
) -> list[Any]:
    """function(*share()) of every share: all but the last in the workers, the last here
    meanwhile, after `meanwhile()` (other work of this process that would otherwise wait for
    the workers); results in the order of the shares. Each share is made just before it is
    handed out, so the workers start before this process prepares its own."""
    executor = workers.pool()
    assert executor is not None
    futures: list[Future[Any]] = []
    try:
        futures = [executor.submit(function, *share()) for share in shares[:-1]]
        if meanwhile is not None:
            meanwhile()
        own = function(*shares[-1]())
        return [future.result() for future in futures] + [own]
    except BrokenProcessPool as exc:
        workers.discard(executor)
        raise DrawWorkerError(f"a worker process of the draw died: {exc}") from exc
    finally:
        for future in futures:
            future.cancel()


def _runs(count: int, own_share: float) -> list[tuple[int, int]]:
    """(start, end) of the non-empty runs of `count` items: equal ones for the workers, then
    one of `own_share` of theirs for the calling process."""
    weights = [1.0] * worker_count() + [own_share]
    total, bounds, done = sum(weights), [0], 0.0
    for weight in weights:
        done += weight
        bounds.append(round(count * done / total))
    return [(start, end) for start, end in pairwise(bounds) if end > start]


def _selection_share(
    prefix: bytes, ids: bytes, count: int, threshold: bytes
) -> tuple[bytes, array[int]] | None:
    """Of `count` ids joined by newlines: the selection keys below `threshold` in increasing
    order, joined, and their positions. None unless the ids are non-empty and increasing (so
    distinct)."""
    encoded = ids.split(b"\n")
    if len(encoded) != count or not encoded[0]:
        return None
    if not all(map(lt, encoded, islice(encoded, 1, None))):
        return None
    keys = _keys(prefix, encoded)
    positions = list(compress(range(count), map(threshold.__gt__, keys)))
    positions.sort(key=keys.__getitem__)
    return b"".join(map(keys.__getitem__, positions)), array("I", positions)


def _ranking_share(
    base: bytes, ids: bytes, count: int, pools: list[tuple[bytes, list[bytes], int]]
) -> list[list[array[int]]] | None:
    """For `count` subject ids joined by newlines and each (b"\0" + department + b"\0",
    its inspectors' UTF-8, depth): the positions in the pool of each subject's `depth` lowest
    key1, as `depth` columns (column j: every subject's j-th lowest). None if an id holds a
    newline."""
    encoded = ids.split(b"\n")
    if len(encoded) != count:
        return None
    prefixes = list(map(base.__add__, encoded))
    rankings = []
    for tail, members, depth in pools:
        m = len(members)
        messages = map(
            add,
            chain.from_iterable(map(repeat, map(add, prefixes, repeat(tail)), repeat(m))),
            cycle(members),
        )
        keys = list(map(_DIGEST, map(_SHA256, messages)))
        rows = list(zip(*[iter(keys)] * m, strict=True))  # a subject's keys, in pool order
        code = _position_code(m)
        rankings.append([array(code, map(tuple.index, rows, j)) for j in _lowest(rows, depth)])
    return rankings


def _lowest(rows: list[tuple[bytes, ...]], depth: int) -> list[list[bytes]]:
    """Column j: the j-th lowest key of every row, for j < depth (≤ the length of the rows)."""
    if depth > 2:
        ranked = list(map(sorted, rows))
        return [list(map(itemgetter(j), ranked)) for j in range(depth)]
    lowest = [list(map(min, rows))]
    if depth == 2:  # the lowest above the lowest: cheaper than sorting
        above = map(filter, map(attrgetter("__lt__"), lowest[0]), rows)
        lowest.append(list(map(min, above)))
    return lowest


def _position_code(size: int) -> str:
    """The array type code of positions in a list of `size`."""
    return "B" if size <= 1 << 8 else "H" if size <= 1 << 16 else "I"


@dataclass(frozen=True, slots=True)
class Department:
    """A department of the task: how many inspectors each visit needs from it, and the
    partner departments that lend inspectors when it is short (in order)."""

    id: str
    need: int
    partners: tuple[str, ...] = ()


@dataclass(slots=True)
class Group:
    """One visit's joint group: members (inspector, own department, served department) in
    the order taken; the leader is the first taken for the initiating department."""

    subject_id: str
    leader: str
    members: list[tuple[str, str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "leader": self.leader,
            "members": [list(m) for m in self.members],
        }


def _fail(detail: str, **details: Any) -> AppError:
    return AppError("draw.invalid", detail, **details)


def _utf8(value: str, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise _fail(f"{what} must be a non-empty string")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        raise _fail(f"{what} is not valid Unicode") from exc


# --- inputs ---------------------------------------------------------------------------------


def snapshot_hash(population: Iterable[Sequence[str]]) -> str:
    """SHA-256 of JCS(sorted [[subject_id, stratum], ...]), hex. For lists of strings without
    lone surrogates, Python's compact JSON with ensure_ascii=False is exactly RFC 8785."""
    rows = population if isinstance(population, list) else list(population)
    data = _snapshot_text(rows)
    if data is None:
        rows = sorted([str(sid), str(stratum)] for sid, stratum in rows)
        try:
            text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _fail("a subject id or stratum is not valid Unicode") from exc
    return hashlib.sha256(data).hexdigest()


def _snapshot_text(rows: list[Any]) -> bytes | None:
    """The same JSON text built by joins, for rows as a record lists them: pairs of strings,
    subject ids strictly increasing, nothing to escape. None for anything else."""
    try:
        if not rows or set(map(len, rows)) != {2}:
            return None
        flat = list(chain.from_iterable(rows))  # id, stratum, id, stratum, …
        sids = flat[0::2]
        if not all(map(lt, sids, islice(sids, 1, None))):
            return None
        labels = set(flat[1::2])
        if not all(type(s) is str for s in labels):
            return None
        after = {s: f'","{s}"],["' for s in labels}  # a stratum and what follows it
        flat[1::2] = map(after.__getitem__, flat[1::2])
        flat[-1] = flat[-1][: -len('],["')] + "]]"
        data = ('[["' + "".join(flat)).encode("utf-8")  # TypeError unless all are str
        # Nothing to escape: no quote but the 4 of each row, no backslash or control character
        # (UTF-8 encodes those as single bytes; every byte of other characters is ≥ 0x80).
        if data.count(b'"') != 4 * len(rows) or data.translate(None, _PLAIN_BYTES):
            return None
        return data
    except (TypeError, UnicodeEncodeError):
        return None


def quota(rule: Mapping[str, Any], n: int) -> int:
    """How many of a stratum of n subjects are drawn: {"ratio": "0.05"} → ceil(ratio × n)
    capped at n (exactly, from the decimal string), or {"count": k} capped at n."""
    if not isinstance(rule, Mapping) or len(rule) != 1:
        raise _fail('a stratum rule is {"ratio": "<decimal>"} or {"count": <integer>}')
    if "count" in rule:
        count = rule["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise _fail("a stratum count must be a non-negative integer")
        return min(count, n)
    ratio = rule.get("ratio")
    if not isinstance(ratio, str) or not _RATIO.fullmatch(ratio):
        raise _fail('a stratum ratio must be a decimal string such as "0.05"')
    exact = Fraction(ratio)
    if exact > 1:
        raise _fail("a stratum ratio must be between 0 and 1")
    return min(n, -((-exact.numerator * n) // exact.denominator))  # ceil without floats


def seed_of(secrets: Sequence[bytes], beacon: str) -> bytes:
    """SHA-256(s_1 || … || s_n || beacon as UTF-8)."""
    h = hashlib.sha256()
    for secret in secrets:
        if len(secret) != 32:
            raise _fail("every party's secret is 32 bytes")
        h.update(secret)
    h.update(beacon.encode("utf-8"))
    return h.digest()


def selection_key(seed: bytes, task_id: str, subject_id: str) -> bytes:
    return hashlib.sha256(
        seed + b"\x00" + task_id.encode() + b"\x00" + subject_id.encode()
    ).digest()


def matching_key(
    seed: bytes, task_id: str, subject_id: str, department_id: str, inspector_id: str
) -> bytes:
    parts = (task_id, subject_id, department_id, inspector_id)
    return hashlib.sha256(seed + b"\x01" + b"\x00".join(p.encode() for p in parts)).digest()


# --- selection ------------------------------------------------------------------------------


def snapshot_and_select(
    seed: bytes,
    task_id: str,
    population: Iterable[Sequence[str]],
    strata: Mapping[str, Mapping[str, Any]],
) -> tuple[str, list[str]]:
    """(snapshot_hash, select) of one population: a large draw computes the snapshot hash in
    this process while the workers hash their shares of the selection keys."""
    rows = population if isinstance(population, list) else list(population)
    found: list[str] = []
    subjects = select(
        seed, task_id, rows, strata, meanwhile=lambda: found.append(snapshot_hash(rows))
    )
    return (found[0] if found else snapshot_hash(rows)), subjects


def select(
    seed: bytes,
    task_id: str,
    population: Iterable[Sequence[str]],
    strata: Mapping[str, Mapping[str, Any]],
    meanwhile: Callable[[], Any] | None = None,
) -> list[str]:
    """The selected subjects in batch order: per stratum the `quota` lowest keys, then all of
    them by key. Every stratum of the population needs a rule (a stratum without one would be
    silently never drawn). `meanwhile()`, if given, may run while worker processes hash (only
    on the parallel path: the caller checks whether it ran)."""
    rows = population if isinstance(population, list) else list(population)
    try:
        with _gc_paused():
            chosen = _select_fast(seed, task_id, rows, strata, meanwhile)
    except DrawWorkerError:
        raise
    except Exception:  # the plain loop below meets the same problem and reports it
        chosen = None
    if chosen is not None:
        return chosen
    prefix = hashlib.sha256(seed + b"\x00" + _utf8(task_id, "task_id") + b"\x00")
    by_stratum: dict[str, list[tuple[bytes, str]]] = {}
    seen: set[str] = set()
    for sid, stratum in rows:
        if sid in seen:
            raise _fail(f"subject {sid} appears twice in the population", subject_id=sid)
        seen.add(sid)
        h = prefix.copy()
        h.update(_utf8(sid, "subject_id"))
        by_stratum.setdefault(stratum, []).append((h.digest(), sid))
    unruled = sorted(set(by_stratum) - set(strata))
    if unruled:
        raise _fail(f"no ratio or count for stratum {unruled[0]}", strata=unruled)
    chosen_keyed: list[tuple[bytes, str]] = []
    for stratum, keyed in by_stratum.items():
        k = quota(strata[stratum], len(keyed))
        chosen_keyed.extend(heapq.nsmallest(k, keyed) if k < len(keyed) else keyed)
    for rule in strata.values():
        quota(rule, 0)  # a rule of an empty stratum must still be well formed
    chosen_keyed.sort()
    return [sid for _, sid in chosen_keyed]


def _select_fast(
    seed: bytes,
    task_id: str,
    rows: list[Any],
    strata: Mapping[str, Mapping[str, Any]],
    meanwhile: Callable[[], Any] | None = None,
) -> list[str] | None:
    """`select` for a well-formed population (pairs, distinct non-empty string ids, every
    stratum ruled), else None. The keys are made in C loops; the k lowest of a stratum are
    found among the keys below a threshold a little above the expected k-th key (a stratum
    with fewer than k below it is done in full), so that only ~k keys are sorted."""
    prefix = seed + b"\x00" + _utf8(task_id, "task_id") + b"\x00"
    n = len(rows)
    if not n or set(map(len, rows)) != {2}:
        return None
    sids = list(map(_FIRST, rows))
    column = list(map(_SECOND, rows))
    sizes = Counter(column)
    if set(sizes) - set(strata):
        return None
    quotas = {stratum: quota(strata[stratum], size) for stratum, size in sizes.items()}
    for rule in strata.values():
        quota(rule, 0)
    whole = [stratum for stratum, k in quotas.items() if k >= sizes[stratum]]
    partial = {}  # stratum → (k, the fraction of all keys expected to hold its k lowest)
    for stratum, k in quotas.items():
        if 0 < k < sizes[stratum]:
            q, size = k / sizes[stratum], sizes[stratum]
            partial[stratum] = (k, q + 6 * math.sqrt(q * (1 - q) / size) + 16 / size)
    bound = max((f for _, f in partial.values()), default=1.0)
    threshold = int(bound * 2**256).to_bytes(32, "big") if bound < 0.5 else None
    chosen = None
    if threshold is not None and n >= PARALLEL_MIN_SUBJECTS and worker_count() > 0:
        chosen = _select_parallel(prefix, sids, column, whole, partial, threshold, meanwhile)
    if chosen is None:
        chosen = _select_serial(prefix, sids, column, whole, partial, threshold)
        if chosen is None:
            return None
    chosen.sort()
    return [sid for _, sid in chosen]


def _select_serial(
    prefix: bytes,
    sids: list[str],
    column: list[Any],
    whole: list[Any],
    partial: dict[Any, tuple[int, float]],
    threshold: bytes | None,
) -> list[tuple[bytes, str]] | None:
    n = len(sids)
    encoded = "\n".join(sids).encode("utf-8").split(b"\n")  # str ids without lone surrogates
    if len(encoded) != n:  # an id with a line break
        encoded = list(map(str.encode, sids))
    # Distinct and non-empty: UTF-8 keeps code point order, so ids listed in increasing order
    # (as a record has them) need only a comparison of neighbours.
    if all(map(lt, encoded, islice(encoded, 1, None))):
        if not encoded[0]:
            return None
    elif len(set(encoded)) != n or b"" in encoded:
        return None
    keys = _keys(prefix, encoded)
    chosen: list[tuple[bytes, str]] = []
    for stratum in whole:
        chosen.extend(compress(zip(keys, sids, strict=True), map(eq, column, repeat(stratum))))
    below: dict[Any, list[tuple[bytes, str]]] = {stratum: [] for stratum in partial}
    if threshold is not None:
        for at in compress(range(n), map(threshold.__gt__, keys)):
            if column[at] in below:
                below[column[at]].append((keys[at], sids[at]))
    for stratum, (k, _) in partial.items():
        some = below[stratum]
        if len(some) < k:  # unlucky (or no threshold): the whole stratum
            mask = map(eq, column, repeat(stratum))
            some = list(compress(zip(keys, sids, strict=True), mask))
        some.sort()
        chosen.extend(islice(some, k))
    return chosen


def _select_parallel(
    prefix: bytes,
    sids: list[str],
    column: list[Any],
    whole: list[Any],
    partial: dict[Any, tuple[int, float]],
    threshold: bytes,
    meanwhile: Callable[[], Any] | None = None,
) -> list[tuple[bytes, str]] | None:
    """`_select_serial` with the keys made in shares of consecutive ids, each share returning
    only its keys below the threshold; `meanwhile()` runs here while the workers hash. None
    (the serial path decides) for ids not listed in increasing order, or a stratum with fewer
    than k keys below the threshold."""
    runs = _runs(len(sids), SELECT_OWN_SHARE)
    if not all(sids[end - 1] < sids[end] for _, end in runs[:-1]):  # where shares meet
        return None

    def share(start: int, end: int) -> Callable[[], tuple[Any, ...]]:
        return lambda: (prefix, "\n".join(sids[start:end]).encode("utf-8"), end - start, threshold)

    results = _shared(_selection_share, [share(*run) for run in runs], meanwhile)
    if None in results:
        return None
    keys: list[bytes] = []  # every key below the threshold, in increasing order
    at: list[int] = []  # and its place in the population
    for (start, _), (joined, positions) in zip(runs, results, strict=True):
        keys += [joined[k : k + 32] for k in range(0, len(joined), 32)]
        at += map(start.__add__, positions)
    order = sorted(range(len(keys)), key=keys.__getitem__)  # a merge of sorted runs
    labels = list(map(column.__getitem__, map(at.__getitem__, order)))
    taken: list[int] = []  # in `order`: the first k of each stratum
    for stratum, (k, _) in partial.items():
        first = list(islice(compress(range(len(order)), map(eq, labels, repeat(stratum))), k))
        if len(first) < k:
            return None
        taken += first
    taken.sort()
    picks = list(map(order.__getitem__, taken))
    chosen_ids = map(sids.__getitem__, map(at.__getitem__, picks))
    chosen = list(zip(map(keys.__getitem__, picks), chosen_ids, strict=True))
    for stratum in whole:  # all of it: their keys here (a stratum taken whole is rarely large)
        members = list(compress(sids, map(eq, column, repeat(stratum))))
        chosen.extend(zip(_keys(prefix, map(str.encode, members)), members, strict=True))
    return chosen


# --- matching -------------------------------------------------------------------------------


class _Pool:
    """Active inspectors by department, conflicts, the cap and the loads of this draw."""

    def __init__(
        self,
        seed: bytes,
        task_id: str,
        inspectors: Iterable[Sequence[str]],
        conflicts: Iterable[Sequence[str]],
        cap: int | None,
    ) -> None:
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise _fail("cap is a positive integer or null")
        self.seed, self.task = seed, _utf8(task_id, "task_id")
        self.by_department: dict[str, list[str]] = {}
        self.department_of: dict[str, str] = {}
        self.utf8: dict[str, bytes] = {}
        for inspector, department in inspectors:
            if inspector in self.department_of:
                raise _fail(f"inspector {inspector} is listed twice", inspector_id=inspector)
            self.utf8[inspector] = _utf8(inspector, "inspector_id")
            self.department_of[inspector] = department
            self.by_department.setdefault(department, []).append(inspector)
        self.conflicts = {(i, s) for i, s in conflicts}
        self.conflicted: dict[str, set[str]] = {}  # subject → inspectors in conflict with it
        for i, s in self.conflicts:
            self.conflicted.setdefault(s, set()).add(i)
        self.cap = cap
        self.load: dict[str, int] = dict.fromkeys(self.department_of, 0)
        # department → (its inspectors, columns of positions: column j holds each subject's
        # j-th lowest key1 in it, by the subject's place in the draw), made by `_rank_ahead`
        self.rankings: dict[str, tuple[list[str], list[array[int]]]] = {}

    def subject_prefix(self, subject_id: str) -> bytes:
        return self.seed + b"\x01" + self.task + b"\x00" + subject_id.encode()

    def ranked(
        self, prefix: bytes, subject_id: str, source: str, excluded: Iterable[str]
    ) -> list[str]:
        """Candidates of `source` for `subject_id`, lowest key1 first."""
        candidates = self.by_department.get(source, ())
        cap, load, conflicted = self.cap, self.load, self.conflicted.get(subject_id)
        if excluded or conflicted or cap is not None:
            conflicted = conflicted or ()
            candidates = [
                i
                for i in candidates
                if i not in excluded and i not in conflicted and (cap is None or load[i] < cap)
            ]
        if not candidates:
            return []
        source_prefix = prefix + b"\x00" + source.encode() + b"\x00"
        keys = _keys(source_prefix, map(self.utf8.__getitem__, candidates))
        return [inspector for _, inspector in sorted(zip(keys, candidates, strict=True))]

    def ranked_ahead(
        self, subject_id: str, at: int, source: str, excluded: Iterable[str], limit: int
    ) -> list[str] | None:
        """The first `limit` of `ranked` from the rankings made ahead (the subject at place
        `at`), or None when there are none or they end before `limit` were found. A candidate
        keeps its rank among its pool when others are left out, so the first eligible ones of
        the ranking are the first of `ranked`."""
        ahead = self.rankings.get(source)
        if ahead is None:
            return None
        own, columns = ahead
        cap, load = self.cap, self.load
        conflicted = self.conflicted.get(subject_id, ())
        found: list[str] = []
        for column in columns:
            inspector = own[column[at]]
            if inspector in excluded or inspector in conflicted:
                continue
            if cap is None or load[inspector] < cap:
                found.append(inspector)
                if len(found) == limit:
                    return found
        return found if len(columns) == len(own) else None


def _departments(departments: Sequence[Department]) -> list[Department]:
    if not departments:
        raise _fail("a draw needs at least the initiating department")
    ids = [d.id for d in departments]
    if len(set(ids)) != len(ids):
        raise _fail("a department is listed twice")
    for d in departments:
        if isinstance(d.need, bool) or not isinstance(d.need, int) or d.need < 0:
            raise _fail(f"need of {d.id} must be a non-negative integer", department_id=d.id)
    return list(departments)


def match(
    seed: bytes,
    task_id: str,
    subjects: Sequence[str],
    departments: Sequence[Department],
    inspectors: Iterable[Sequence[str]],
    conflicts: Iterable[Sequence[str]] = (),
    cap: int | None = None,
) -> list[Group]:
    """The joint groups, subject by subject in batch order (DRAW.md "Inspector matching").
    A department still short after its partners fails the draw, naming it (draw.short)."""
    departments = _departments(departments)
    pool = _Pool(seed, task_id, inspectors, conflicts, cap)
    return _groups(pool, subjects, departments)


def _groups(pool: _Pool, subjects: Sequence[str], departments: list[Department]) -> list[Group]:
    with _gc_paused():
        return _groups_of(pool, list(subjects), departments)


def _groups_of(pool: _Pool, subjects: list[str], departments: list[Department]) -> list[Group]:
    _rank_ahead(pool, subjects, departments)
    if pool.cap is None:  # no loads to carry from one visit to the next
        try:
            groups = _groups_fast(pool, subjects, departments)
        except Exception:  # the plain loop below meets the same problem and reports it
            groups = None
        if groups is not None:
            return groups
        pool.load = dict.fromkeys(pool.load, 0)
    return [_group(pool, sid, departments, at) for at, sid in enumerate(subjects)]


def _rank_ahead(pool: _Pool, subjects: list[str], departments: list[Department]) -> None:
    """For a large draw, the rankings of every department's own pool for every subject, made
    in parallel into `pool.rankings` (key1 does not depend on loads, so they can be made
    before the loop that takes inspectors). Without a cap a department's `need` lowest are
    ranked, enough for every subject without conflicts; with a cap, whole pools. Partners are
    ranked lazily by `ranked`: they are rarely asked."""
    depths = {}
    for d in departments:
        size = len(pool.by_department.get(d.id, ()))
        if d.need and size:
            depths[d.id] = size if pool.cap is not None else min(d.need, size)
    keys = len(subjects) * sum(len(pool.by_department[d]) for d in depths)
    if not keys or keys < PARALLEL_MIN_KEYS or worker_count() < 1:
        return
    try:
        base = pool.seed + b"\x01" + pool.task + b"\x00"
        pools = [
            (
                b"\x00" + source.encode() + b"\x00",
                list(map(pool.utf8.__getitem__, pool.by_department[source])),
                depth,
            )
            for source, depth in depths.items()
        ]
        runs = _runs(len(subjects), MATCH_OWN_SHARE)
        shares = [
            (base, "\n".join(subjects[start:end]).encode("utf-8"), end - start, pools)
            for start, end in runs
        ]
    except (TypeError, UnicodeEncodeError):  # the loop meets it and reports it
        return
    results = _shared(_ranking_share, [(lambda share=share: share) for share in shares])
    if None in results:  # an id with a line break: the loop ranks as it goes
        return
    for n, (source, depth) in enumerate(depths.items()):
        own = pool.by_department[source]
        columns = []
        for j in range(depth):
            column = array(_position_code(len(own)))
            for result in results:
                column.extend(result[n][j])
            columns.append(column)
        pool.rankings[source] = (own, columns)


def _groups_fast(
    pool: _Pool, subjects: Sequence[str], departments: list[Department]
) -> list[Group] | None:
    """`_group` of every subject at once, when there is no cap (so visits do not depend on each
    other) and every department has at least `need` inspectors of its own. A subject without
    conflicts then takes its department's own lowest keys (inspectors belong to one department,
    so no one is taken twice): those are computed department by department over all such
    subjects, in C loops. Subjects with a conflict go through `_group`."""
    subjects = list(subjects)
    if not subjects:
        return []
    if sum(d.need for d in departments) < 2:
        return None
    for d in departments:
        if len(pool.by_department.get(d.id, ())) < d.need:
            return None
    conflicted = pool.conflicted
    mask = [sid not in conflicted for sid in subjects]
    plain = list(compress(range(len(subjects)), mask))
    prefixes: list[bytes] | None = None
    columns = []  # per member position: the member tuple of every plain subject
    leaders = None
    for position, department in enumerate(departments):
        if not department.need:
            continue
        own = pool.by_department[department.id]
        members = [(i, department.id, department.id) for i in own]
        ahead = pool.rankings.get(department.id)
        if ahead is not None:  # made in parallel: column j is every subject's j-th lowest
            for j, ranks in enumerate(ahead[1][: department.need]):
                taken = ranks if len(plain) == len(subjects) else list(compress(ranks, mask))
                columns.append(list(map(members.__getitem__, taken)))
                if position == 0 and j == 0:
                    leaders = list(map(own.__getitem__, taken))
            continue
        if prefixes is None:
            base = pool.seed + b"\x01" + pool.task + b"\x00"
            prefixes = [base + subjects[k].encode() for k in plain]
        m, tail = len(own), b"\x00" + department.id.encode() + b"\x00"
        messages = map(
            add,
            chain.from_iterable(map(repeat, map(add, prefixes, repeat(tail)), repeat(m))),
            cycle(list(map(pool.utf8.__getitem__, own))),
        )
        keys = list(map(_DIGEST, map(_SHA256, messages)))
        rows = list(zip(*[iter(keys)] * m, strict=True))  # a subject's keys, in pool order
        for j, keys_j in enumerate(_lowest(rows, department.need)):
            taken = list(map(tuple.index, rows, keys_j))
            columns.append(list(map(members.__getitem__, taken)))
            if position == 0 and j == 0:
                leaders = list(map(own.__getitem__, taken))
    plain_sids = [subjects[k] for k in plain] if len(plain) < len(subjects) else subjects
    if leaders is None:
        leaders = [""] * len(plain_sids)
    made = list(map(Group, plain_sids, leaders, map(list, zip(*columns, strict=True))))
    if len(plain) == len(subjects):
        return made
    groups: list[Any] = [None] * len(subjects)
    for k, group in zip(plain, made, strict=True):
        groups[k] = group
    for k, sid in enumerate(subjects):
        if groups[k] is None:
            groups[k] = _group(pool, sid, departments, k)
    return groups


def _group(
    pool: _Pool, subject_id: str, departments: list[Department], at: int | None = None
) -> Group:
    """The group of the subject at place `at` of the draw (for the rankings made ahead)."""
    prefix = pool.subject_prefix(subject_id)
    members: list[tuple[str, str, str]] = []
    taken: set[str] = set()
    leader = ""
    for position, department in enumerate(departments):
        short = department.need
        for source in (department.id, *department.partners):
            if not short:
                break
            ranked = None if at is None else pool.ranked_ahead(subject_id, at, source, taken, short)
            if ranked is None:
                ranked = pool.ranked(prefix, subject_id, source, taken)[:short]
            for inspector in ranked:
                members.append((inspector, source, department.id))
                taken.add(inspector)
                pool.load[inspector] += 1
                short -= 1
                if position == 0 and not leader:
                    leader = inspector
        if short:
            raise AppError(
                "draw.short",
                f"{department.id}（{subject_id}）",
                department_id=department.id,
                subject_id=subject_id,
                missing=short,
            )
    if len(members) < 2:  # 002:17 — at least two inspectors on site
        raise AppError(
            "draw.short",
            f"{departments[0].id}（{subject_id}）",
            department_id=departments[0].id,
            subject_id=subject_id,
            missing=2 - len(members),
        )
    return Group(subject_id=subject_id, leader=leader, members=members)


# --- swaps ----------------------------------------------------------------------------------


def apply_swaps(
    seed: bytes,
    task_id: str,
    subjects: Sequence[str],
    departments: Sequence[Department],
    inspectors: Iterable[Sequence[str]],
    conflicts: Iterable[Sequence[str]],
    cap: int | None,
    swaps: Sequence[Mapping[str, Any]],
) -> tuple[list[Group], list[dict[str, Any]]]:
    """The groups after the draw and then every swap in order; each swap answered with its
    computed `in`. A swap is {subject_id, out, reason, approved_by} (a given `in` is ignored:
    `verify` compares it)."""
    departments = _departments(departments)
    pool = _Pool(seed, task_id, inspectors, conflicts, cap)
    groups = _groups(pool, subjects, departments)
    by_subject = {g.subject_id: g for g in groups}
    partners = {d.id: d.partners for d in departments}
    swapped_out: dict[str, set[str]] = {}
    done = []
    for n, swap in enumerate(swaps):
        sid, out = swap.get("subject_id"), swap.get("out")
        group = by_subject.get(sid)
        if group is None:
            raise AppError("swap.invalid", f"#{n + 1}: {sid} was not drawn", subject_id=sid)
        place = next((k for k, m in enumerate(group.members) if m[0] == out), None)
        if place is None:
            raise AppError("swap.invalid", f"#{n + 1}: {out} is not in the group of {sid}")
        if swap.get("reason") not in SWAP_REASONS:
            raise AppError("swap.invalid", f"#{n + 1}: reason is one of {', '.join(SWAP_REASONS)}")
        if not isinstance(swap.get("approved_by"), str) or not swap["approved_by"]:
            raise AppError("swap.invalid", f"#{n + 1}: a swap names its approver")
        _, own, served = group.members[place]
        gone = swapped_out.setdefault(sid, set())
        gone.add(out)
        excluded = {m[0] for m in group.members} | gone
        prefix = pool.subject_prefix(sid)
        chosen = None
        for source in dict.fromkeys((own, *partners.get(served, ()))):
            ranked = pool.ranked(prefix, sid, source, excluded)
            if ranked:
                chosen = (ranked[0], source)
                break
        if chosen is None:
            raise AppError(
                "swap.no_candidate", f"{served}（{sid}）", subject_id=sid, department_id=served
            )
        inspector, source = chosen
        group.members[place] = (inspector, source, served)
        pool.load[out] -= 1
        pool.load[inspector] += 1
        if group.leader == out:
            group.leader = inspector
        done.append(
            {
                "subject_id": sid,
                "out": out,
                "in": inspector,
                "reason": swap["reason"],
                "approved_by": swap["approved_by"],
            }
        )
    return groups, done


# --- the record -----------------------------------------------------------------------------


def _hex32(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise _fail(f"{what} must be 64 lowercase hex characters")
    return bytes.fromhex(value)


def _parties(parties: Any) -> list[bytes]:
    """The secrets in commitment order; each revealed one must match its commitment. A party
    marked "revealed": false stands in with 32 zero bytes (DRAW.md "Seed")."""
    if not isinstance(parties, list) or not parties:
        raise _fail("a draw has at least one committing party")
    secrets = []
    for n, party in enumerate(parties):
        if not isinstance(party, Mapping) or not isinstance(party.get("name"), str):
            raise _fail(f"party #{n + 1} needs a name")
        commit = _hex32(party.get("commit"), f"party {party['name']}: commit")
        secret = _hex32(party.get("secret"), f"party {party['name']}: secret")
        if party.get("revealed", True) is False:
            if secret != ZERO_SECRET:
                raise _fail(f"party {party['name']} did not reveal: its secret is 32 zero bytes")
        elif hashlib.sha256(secret).digest() != commit:
            raise _fail(f"party {party['name']}: SHA-256(secret) is not its commitment")
        secrets.append(secret)
    return secrets


def _pairs(value: Any, what: str) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    ):
        raise _fail(f"{what} is a list of [string, string]")
    return [(a, b) for a, b in value]


def recompute(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as its inputs determine it: snapshot hash, seed, selection, groups and the
    swaps' `in` computed afresh; everything else copied. Raises AppError on malformed input."""
    if not isinstance(record, Mapping) or record.get("v") != FORMAT_VERSION:
        raise _fail(f'not a draw record of format "v": {FORMAT_VERSION}')
    task_id = record.get("task_id")
    _utf8(task_id, "task_id")
    population = _pairs(record.get("population"), "population")
    strata = record.get("strata")
    if not isinstance(strata, Mapping):
        raise _fail("strata is an object of stratum → rule")
    beacon = record.get("beacon", "")
    if not isinstance(beacon, str):
        raise _fail("beacon is a string (empty if none)")
    if beacon:
        _utf8(beacon, "beacon")
    seed = seed_of(_parties(record.get("parties")), beacon)
    departments = []
    for n, d in enumerate(record.get("departments") or []):
        if not isinstance(d, Mapping) or not isinstance(d.get("id"), str):
            raise _fail("departments are objects with id, need and partners")
        _utf8(d["id"], "a department id")
        partners = d.get("partners", [])
        if not isinstance(partners, list) or not all(isinstance(p, str) for p in partners):
            raise _fail(f"partners of {d['id']} are a list of department ids")
        for partner in partners:
            _utf8(partner, "a partner department id")
        need = d.get("need", 2 if n == 0 else 1)  # DRAW.md's defaults: initiator 2, others 1
        departments.append(Department(d["id"], need, tuple(partners)))
    inspectors = _pairs(record.get("inspectors"), "inspectors")
    for _, department in inspectors:
        _utf8(department, "an inspector's department id")
    conflicts = _pairs(record.get("conflicts", []), "conflicts")
    swaps = record.get("swaps", [])
    if not isinstance(swaps, list) or not all(isinstance(s, Mapping) for s in swaps):
        raise _fail("swaps is a list of objects")
    snapshot, subjects = snapshot_and_select(seed, task_id, population, strata)
    groups, done = apply_swaps(
        seed, task_id, subjects, departments, inspectors, conflicts, record.get("cap"), swaps
    )
    return {
        **record,
        "population": [list(p) for p in sorted(population)],
        "snapshot_hash": snapshot,
        "seed": seed.hex(),
        "subjects": subjects,
        "groups": [g.to_json() for g in groups],
        "swaps": done,
    }


_CHECKED = ("population", "snapshot_hash", "seed", "subjects", "groups", "swaps")


def verify(record: Mapping[str, Any]) -> list[str]:
    """What in the record differs from what its inputs give; empty when it verifies."""
    try:
        expected = recompute(record)
    except AppError as exc:
        return [f"{exc.code}: {exc.detail or exc.problem.en}"]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:  # a field of a wrong type
        return [f"draw.invalid: malformed record ({type(exc).__name__}: {exc})"]
    problems = []
    for name in _CHECKED:
        if record.get(name) != expected[name]:
            problems.append(
                f"{name} differs from what the inputs give{_where(record, expected, name)}"
            )
    return problems


def _where(record: Mapping[str, Any], expected: Mapping[str, Any], name: str) -> str:
    def short(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)[:200]

    got, want = record.get(name), expected[name]
    if isinstance(got, list) and isinstance(want, list):
        for i, (a, b) in enumerate(zip(got, want, strict=False)):
            if a != b:
                return f" (first at [{i}]: {short(a)}, expected {short(b)})"
        return f" ({len(got)} entries, expected {len(want)})"
    return f" (expected {short(want)})"
