"""The parallel path of planning/draw.py (keys hashed by worker processes) gives the very bytes of
the serial path and of the spec's reference: forced on with thresholds of 0, on draws of a few
thousand subjects with conflicts, partners and a cap, and on the published vectors; the worker
pool survives repeated calls and calls from threads; a dead worker is a clear error."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from onevisit import workers
from onevisit.planning import draw
from tests.planning.test_draw_spec import RefPool, ref_match, ref_select

VECTORS = sorted((Path(__file__).parents[1] / "vectors" / "draw").glob("*.json"))
TASK = "T-2026-0777"

pytestmark = pytest.mark.skipif(draw.worker_count() < 1, reason="one CPU: no parallel path")


@pytest.fixture
def parallel(monkeypatch):
    """Every draw takes the parallel path; yields the number of parallel dispatches so far."""
    monkeypatch.setattr(draw, "PARALLEL_MIN_SUBJECTS", 0)
    monkeypatch.setattr(draw, "PARALLEL_MIN_KEYS", 0)
    calls = [0]
    shared = draw._shared

    def counted(function, shares, meanwhile=None):
        calls[0] += 1
        return shared(function, shares, meanwhile)

    monkeypatch.setattr(draw, "_shared", counted)
    return calls


def serial(fn, *args):
    """fn(*args) with the parallel path off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(draw, "PARALLEL_MIN_SUBJECTS", 10**18)
        mp.setattr(draw, "PARALLEL_MIN_KEYS", 10**18)
        return fn(*args)


def scene(n: int, cap: int | None, seed_text: str = "scene") -> dict[str, Any]:
    """n subjects in 3 strata; 3 departments with partners (one of them a department of the
    task); conflicts on random subjects and whole teams, so partners lend inspectors."""
    rng = random.Random(seed_text)
    ids = sorted({f"91{rng.randrange(10**12):012d}企业" for _ in range(n)})
    population = [[sid, rng.choice("ABC")] for sid in ids]
    departments = [
        draw.Department("SAMR", 2, ("SAMR-P", "FIRE")),
        draw.Department("FIRE", 1, ("FIRE-P",)),
        draw.Department("EPB", 1, ("EPB-P", "SAMR-P")),
    ]
    sizes = {"SAMR": 9, "SAMR-P": 4, "FIRE": 5, "FIRE-P": 3, "EPB": 3, "EPB-P": 2}
    inspectors = sorted([f"{d}-{k}", d] for d, size in sizes.items() for k in range(size))
    conflicts = {(rng.choice(inspectors)[0], rng.choice(ids)) for _ in range(n // 2)}
    for sid in rng.sample(ids, n // 50):  # the whole environment team
        conflicts.update((f"EPB-{k}", sid) for k in range(sizes["EPB"]))
    for sid in rng.sample(ids, n // 100):  # most of market regulation
        conflicts.update((f"SAMR-{k}", sid) for k in range(sizes["SAMR"] - 1))
    return {
        "seed": draw.seed_of([rng.randbytes(32)], "drand:1"),
        "population": population,
        "strata": {"A": {"ratio": "0.3"}, "B": {"count": n // 10}, "C": {"ratio": "1"}},
        "departments": departments,
        "inspectors": inspectors,
        "conflicts": sorted(conflicts),
        "cap": cap,
    }


def draw_of(s: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    subjects = draw.select(s["seed"], TASK, s["population"], s["strata"])
    groups = draw.match(
        s["seed"], TASK, subjects, s["departments"], s["inspectors"], s["conflicts"], s["cap"]
    )
    return subjects, [g.to_json() for g in groups]


@pytest.mark.parametrize("cap", [None, 400, 300])
def test_parallel_equals_serial_and_the_reference(parallel, cap):
    s = scene(3000, cap)
    subjects, groups = draw_of(s)
    assert parallel[0] == 2  # select and match both went parallel
    assert (subjects, groups) == serial(draw_of, s)
    assert subjects == ref_select(s["seed"], TASK, s["population"], s["strata"])
    departments = [
        {"id": d.id, "need": d.need, "partners": list(d.partners)} for d in s["departments"]
    ]
    pool = RefPool(s["inspectors"], s["conflicts"], cap)
    assert groups == ref_match(s["seed"], TASK, subjects, departments, pool)
    lent = [m for g in groups for m in g["members"] if m[1] != m[2]]
    assert lent, "partners lend in this scene"


def test_parallel_swaps_equal_serial(parallel):
    s = scene(2000, 250, "swaps")
    subjects, groups = draw_of(s)
    swaps = [
        {
            "subject_id": g["subject_id"],
            "out": g["members"][k % 2][0],
            "reason": "health",
            "approved_by": "coordinator",
        }
        for k, g in enumerate(groups[:40:3])
    ]
    args = (s["seed"], TASK, subjects, s["departments"], s["inspectors"], s["conflicts"], 250)
    done = draw.apply_swaps(*args, swaps)
    assert parallel[0] >= 2
    assert done == serial(draw.apply_swaps, *args, swaps)


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_the_vectors_recompute_on_the_parallel_path(parallel, path):
    record = json.loads(path.read_text(encoding="utf-8"))
    again = draw.recompute(record)
    assert parallel[0] >= 1
    for name in ("snapshot_hash", "seed", "subjects", "groups", "swaps"):
        assert again[name] == record[name], name
    assert draw.verify(record) == []


def test_the_pool_survives_repeated_calls_and_threads(parallel):
    s = scene(1500, None, "threads")
    first = draw_of(s)
    executor = workers._executor
    assert executor is not None
    for _ in range(3):
        assert draw_of(s) == first
    with ThreadPoolExecutor(4) as threads:  # as the server calls it, from worker threads
        results = list(threads.map(lambda _: draw_of(s), range(8)))
    assert results == [first] * 8
    assert workers._executor is executor
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(draw_of(s)))
    thread.start()
    thread.join(timeout=120)
    assert done == [first]


def test_a_dead_worker_is_a_clear_error_and_the_next_draw_works(parallel):
    s = scene(1000, None, "crash")
    first = draw_of(s)
    executor = workers._executor
    assert executor is not None and executor._processes
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(draw.DrawWorkerError, match="worker process of the draw died"):
        for _ in range(20):  # the pool notices the death at once or at the next result
            draw_of(s)
    assert workers._executor is not executor  # dropped: the next draw starts a new pool
    assert draw_of(s) == first


def test_small_draws_stay_in_process():
    s = scene(300, None, "small")
    calls = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(draw, "_shared", lambda *a: calls.append(a))
        draw_of(s)
    assert calls == []


def test_ids_with_a_line_break_fall_back_to_the_serial_path(parallel):
    s = scene(600, None, "newline")
    s["population"] = sorted([[sid.replace("企", "\n"), label] for sid, label in s["population"]])
    s["conflicts"] = []
    assert draw_of(s) == serial(draw_of, s)


def test_the_snapshot_hash_is_made_while_the_workers_select(parallel, monkeypatch):
    """recompute's snapshot_and_select: the same hash and subjects as the two apart, and the
    snapshot hash computed inside the parallel selection (not after it)."""
    s = scene(3000, None)
    made_during = []
    shared = draw._shared

    def watched(function, shares, meanwhile=None):
        made_during.append(meanwhile is not None)
        return shared(function, shares, meanwhile)

    monkeypatch.setattr(draw, "_shared", watched)
    snapshot, subjects = draw.snapshot_and_select(s["seed"], TASK, s["population"], s["strata"])
    assert made_during[0] is True
    assert snapshot == draw.snapshot_hash(s["population"])
    assert subjects == serial(draw.select, s["seed"], TASK, s["population"], s["strata"])
    # and on the serial path, the same
    assert serial(draw.snapshot_and_select, s["seed"], TASK, s["population"], s["strata"]) == (
        snapshot,
        subjects,
    )
