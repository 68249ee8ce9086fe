"""`onevisit verify` (EVIDENCE.md §6): a realistic sync verifies clean; one changed byte anywhere
(an envelope, a sig, a receipt time, a leaf, a tree node, a checkpoint, a media original), a
removed leaf or event, or two swapped leaves fails it, naming the entry first."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from onevisit.evidence.tables import Checkpoint, Event, LogLeaf
from onevisit.evidence.verify import verify_all
from tests.verify.copies import Copy, Snapshot
from tests.verify.scenario import Scenario, build

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


def _flip_char(text: str, at: int) -> str:
    return text[:at] + ("B" if text[at] != "B" else "C") + text[at + 1 :]


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


async def _sig(db: Copy, f: dict, s: Scenario) -> str:
    sig = _flip_char(f["ev"]["sig"], 0)
    await db.execute(("UPDATE event SET sig = ? WHERE log_index = ?", (sig, f["i"])))
    return f"{f['event']} (log index {f['i']})"


async def _received_ms(db: Copy, f: dict, s: Scenario) -> str:
    await db.execute(
        ("UPDATE event SET received_ms = received_ms + 1 WHERE log_index = ?", (f["i"],))
    )
    return f"log_leaf {f['i']}: r "


async def _leaf_input(db: Copy, f: dict, s: Scenario) -> str:
    tampered = _flip_digit(bytes(f["leaves"][f["i"]]["leaf_input"]), b'"r":')
    await db.execute(("UPDATE log_leaf SET leaf_input = ? WHERE idx = ?", (tampered, f["i"])))
    return f"log_leaf {f['i']}: r "


async def _node(db: Copy, f: dict, s: Scenario) -> str:
    idx = f["i"] >> 1
    await db.execute(
        ("UPDATE merkle_node SET hash = ? WHERE level = 1 AND idx = ?", (bytes(32), idx))
    )
    return f"merkle_node (level 1, index {idx}): stored 0000"


async def _checkpoint(db: Copy, f: dict, s: Scenario) -> str:
    note = f["cp"]["note"]
    root_at = note.index("\n", note.index("\n") + 1) + 1  # the first character of the root
    sql = "UPDATE checkpoint SET note = ? WHERE size = ?"
    await db.execute((sql, (_flip_char(note, root_at), f["cp"]["size"])))
    return f"checkpoint size {f['cp']['size']}: note does not verify"


async def _media(db: Copy, f: dict, s: Scenario) -> str:
    media = db.workdir / f"media-{os.urandom(3).hex()}"
    shutil.copytree(db.media_dir, media)
    original = media / "originals" / s.photo_sha[:2] / s.photo_sha[2:4] / s.photo_sha
    original.chmod(0o644)
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    original.write_bytes(bytes(data))
    db.media_dir = media
    return f"media {s.photo_sha}: the stored file hashes to"


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


CASES = [_envelope, _sig, _received_ms, _leaf_input, _node, _checkpoint, _media,
         _deleted_leaf, _deleted_event, _swapped_leaves]  # fmt: skip


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


def test_media_original_path_layout_is_the_stores(tmp_path):
    # The media case above edits a file by path: keep it in step with the store's layout.
    from onevisit.media.store import LocalStore

    sha = "ab" * 32
    assert LocalStore(Path("/m")).original_path(sha) == Path(f"/m/originals/ab/ab/{sha}")
