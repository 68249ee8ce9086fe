"""`onevisit verify` (EVIDENCE.md §6): a realistic sync verifies clean; any changed byte of a
stored envelope, signature, leaf, tree node, checkpoint or media original (each position of the
short ones, a seeded sample of the long ones), a changed receipt time, a removed leaf or event,
or two swapped leaves fails it, naming the entry first."""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

from onevisit.evidence.events import SERVER_DEVICE
from onevisit.evidence.tables import Checkpoint, Event, LogLeaf
from onevisit.evidence.verify import verify_all
from tests.verify.copies import Copy, Snapshot, run_module
from tests.verify.scenario import Scenario, build

FLIP_SEED = 20261202
FLIP_SAMPLE = 30  # positions per object longer than flip.ALL_BELOW bytes, first and last included

_cache: dict[str, object] = {}


@pytest.fixture
async def world(joint_visit, app, tmp_path_factory) -> tuple[Scenario, Snapshot]:
    """Built once per run (the tamper cases share one snapshot of the database)."""
    if "scenario" not in _cache:
        scenario = await build(joint_visit, app)
        snapshot = Snapshot(tmp_path_factory.mktemp("verify"))
        await snapshot.take()
        _cache.update(scenario=scenario, snapshot=snapshot)
    return _cache["scenario"], _cache["snapshot"]  # type: ignore[return-value]


@pytest.fixture(scope="module", autouse=True)
async def _drop_snapshot():
    yield
    if "snapshot" in _cache:
        await _cache["snapshot"].drop()  # type: ignore[attr-defined]


async def test_a_realistic_sync_verifies_clean(world):
    progress: list[tuple[int, int]] = []
    report = await verify_all(progress=lambda done, total: progress.append((done, total)))
    # Every other module's tests share this database: all of it must verify.
    assert report.ok, [str(f) for f in report.failures[:5]]
    c = report.counts
    assert c.events >= 20 and c.leaves == c.events and c.nodes >= 2 * c.leaves - 16
    assert c.devices >= 4  # three phones (one revoked since) and the server
    assert c.media >= 1 and c.confirmations >= 2 and c.passkey_confirmations >= 1
    assert c.checkpoints >= 1 and report.latest_size == c.leaves
    assert report.summary().startswith(f"verify: OK — {c.events} events from {c.devices} ")
    assert progress[-1][0] == progress[-1][1] > 0


async def test_cli_passes_on_an_untampered_copy(world):
    _, snapshot = world
    async with snapshot.copy() as db:
        result = await db.verify()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("verify: OK — ")
    assert result.stderr == ""  # no bar: stderr is not a TTY


def _flip_digit(data: bytes, after: bytes) -> bytes:
    """Change the first digit after `after` (the result stays canonical JSON)."""
    pos = data.index(after) + len(after)
    digit = data[pos : pos + 1]
    assert digit.isdigit()
    return data[:pos] + (b"7" if digit != b"7" else b"3") + data[pos + 1 :]


async def _facts(s: Scenario) -> dict:
    ev = await Event.select().where(Event.event_id == s.ids["photo"]).first()
    i = ev["log_index"]
    rows = await LogLeaf.select().where(LogLeaf.idx.is_in([i, i + 1]))
    leaves = {r["idx"]: r for r in rows}
    cp = await Checkpoint.select().where(Checkpoint.size > i).order_by(Checkpoint.size).first()
    return {"ev": ev, "i": i, "leaves": leaves, "cp": cp, "event": f"event {ev['event_id']}"}


async def _envelope(db: Copy, f: dict, s: Scenario) -> str:
    tampered = _flip_digit(bytes(f["ev"]["envelope"]), b'"at":')
    await db.execute(("UPDATE event SET envelope = ? WHERE log_index = ?", (tampered, f["i"])))
    return f"{f['event']} (log index {f['i']})"


async def _received_ms(db: Copy, f: dict, s: Scenario) -> str:
    await db.execute(
        ("UPDATE event SET received_ms = received_ms + 1 WHERE log_index = ?", (f["i"],))
    )
    return f"log_leaf {f['i']}: r "


async def _deleted_leaf(db: Copy, f: dict, s: Scenario) -> str:
    await db.execute(("DELETE FROM log_leaf WHERE idx = ?", (f["i"],)))
    return f"log_leaf {f['i']}: no leaf for event {f['ev']['event_id']}"


async def _deleted_event(db: Copy, f: dict, s: Scenario) -> str:
    await db.execute(("DELETE FROM event WHERE log_index = ?", (f["i"],)))
    return f"log_leaf {f['i']}: names {f['ev']['hash']}; no event has log index {f['i']}"


async def _swapped_leaves(db: Copy, f: dict, s: Scenario) -> str:
    a, b = f["leaves"][f["i"]], f["leaves"][f["i"] + 1]
    sql = "UPDATE log_leaf SET leaf_input = ?, event_hash = ? WHERE idx = ?"
    await db.execute(
        (sql, (bytes(b["leaf_input"]), b["event_hash"], f["i"])),
        (sql, (bytes(a["leaf_input"]), a["event_hash"], f["i"] + 1)),
    )
    return f"log_leaf {f['i']}: h {b['event_hash']} names event "


# One changed byte through the command line (exit status, summary, stderr); every byte of every
# kind of stored object is the property test below, in-process.
CASES = [_envelope, _received_ms, _deleted_leaf, _deleted_event, _swapped_leaves]


@pytest.mark.parametrize("tamper", CASES, ids=[c.__name__.strip("_") for c in CASES])
async def test_one_change_fails_naming_the_entry(world, tamper):
    scenario, snapshot = world
    facts = await _facts(scenario)
    async with snapshot.copy() as db:
        names = await tamper(db, facts, scenario)
        result = await db.verify()
    assert result.returncode == 1, result.stdout + result.stderr
    summary = result.stdout.strip()
    assert summary.startswith("verify: FAILED — "), summary
    # the untampered copy verifies clean, so the first broken entry is the tampered one
    assert f"first: {names}" in summary, summary
    assert names in result.stderr.splitlines()[0], result.stderr


async def test_any_changed_byte_fails_naming_the_entry(world, tmp_path):
    """On a copy of the database and of the scenario's media (tests/verify/flip.py), for a
    phone's event with a photo, a passkey confirmation and a server event: every byte of a tree
    node and of a checkpoint root, and a seeded sample of FLIP_SAMPLE positions (first and last
    included) of each envelope, signature, leaf, checkpoint note and the photo — each changed
    alone, verified, then put back."""
    scenario, snapshot = world
    rows = await Event.select(Event.device_id).where(Event.visit == scenario.visit)
    ids = scenario.ids
    spec = {
        "devices": sorted({r["device_id"] for r in rows} | {SERVER_DEVICE}),
        "events": {"photo": ids["photo"], "passkey confirmation": ids["confirm"],
                   "server event": ids["server"]},
        "photo_sha": scenario.photo_sha,
        "source_media": os.environ["ONEVISIT_MEDIA_DIR"],
        "seed": FLIP_SEED,
        "sample": FLIP_SAMPLE,
    }  # fmt: skip
    spec_path, out_path = tmp_path / "spec.json", tmp_path / "out.json"
    spec_path.write_text(json.dumps(spec))
    async with snapshot.copy() as db:
        args = (db.url, tmp_path / "media", str(spec_path), str(out_path))
        result = await asyncio.to_thread(run_module, "tests.verify.flip", *args)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    out = json.loads(out_path.read_text())
    assert out["before"].startswith("verify: OK"), out["before"]  # the cut-down copy is clean
    assert out["after"].startswith("verify: OK"), out["after"]  # and every byte was put back

    tried: dict[str, set[int]] = defaultdict(set)
    wrong = []
    for r in out["results"]:
        tried[r["object"]].add(r["pos"])
        if r["first"] is None or not r["first"].startswith(r["where"] + ": "):
            wrong.append(f"{r['object']} byte {r['pos']}/{r['size']}: {r['first'] or 'passed'}")
    assert not wrong, f"{len(wrong)} of {len(out['results'])} changes:\n" + "\n".join(wrong[:20])

    sizes = {r["object"]: r["size"] for r in out["results"]}
    kinds = ("envelope of", "sig of", "leaf of", "tree node", "note of checkpoint",
             "root of checkpoint", "media original")  # fmt: skip
    for kind in kinds:
        assert any(name.startswith(kind) for name in tried), (kind, sorted(tried))
    assert len([n for n in tried if n.startswith("note of checkpoint")]) == 2
    for name, positions in tried.items():
        size = sizes[name]
        assert {0, size - 1} <= positions, name
        assert len(positions) >= min(size, FLIP_SAMPLE), (name, len(positions), size)


def test_media_original_path_layout_is_the_stores(tmp_path):
    # The flip test edits media originals by path: keep it in step with the store's layout.
    from onevisit.media.store import LocalStore

    sha = "ab" * 32
    assert LocalStore(Path("/m")).original_path(sha) == Path(f"/m/originals/ab/ab/{sha}")
