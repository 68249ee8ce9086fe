"""The rescue bundle (docs/bundle.md): `onevisit import-bundle FILE` — the real command in a
subprocess, on this run's database — and POST /api/sync/bundle ingest a phone's signed events
and their media through the checks of a sync: accepted, duplicate on a second import, rejected
with the sync codes, tampered media refused, malformed files refused whole, stored data never
changed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onevisit.auth.roles import Role
from onevisit.evidence.tables import Event, LogLeaf
from onevisit.evidence.verify import verify_all
from onevisit.media.tables import MediaObject, MediaUpload
from onevisit.simulate.phone import Phone
from tests.media.util import jpeg, sha, upload

ROOT = Path(__file__).resolve().parents[2]
FORMAT = "onevisit.bundle/1"


def ref(data: bytes) -> dict:
    return {"sha256": sha(data), "bytes": len(data), "mime": "image/jpeg"}


def entry(data: bytes, *, digest: str | None = None, **extra) -> dict:
    return {
        "sha256": digest or sha(data),
        "mime": "image/jpeg",
        "size": len(data),
        "data": base64.b64encode(data).decode(),
        **extra,
    }


def bundle(events, media=()) -> dict:
    return {
        "format": FORMAT,
        "made_ms": 1_760_000_000_000,
        "events": [e.wire() for e in events],
        "media": list(media),
    }


def write(tmp_path: Path, doc: dict | bytes, name: str = "rescue.json") -> Path:
    path = tmp_path / name
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    return path


def cli(path: Path) -> subprocess.CompletedProcess:
    """`onevisit import-bundle` as an operator runs it, with this run's settings."""
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "backend"), env.get("PYTHONPATH")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "onevisit.cli", "import-bundle", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def event_lines(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line.startswith("event ")]


async def stored(ids: list[str]) -> dict[str, bytes]:
    rows = await Event.select(Event.event_id, Event.envelope).where(Event.event_id.is_in(ids))
    return {r["event_id"]: bytes(r["envelope"]) for r in rows}


def checkin() -> dict:
    return {"lat_e6": 34_669_900, "lon_e6": 112_442_100, "accuracy_m": 12}


async def test_cli_imports_then_reports_duplicates_and_stores_nothing_twice(joint_visit, tmp_path):
    leader, _, member_b = joint_visit.members
    visit = joint_visit.visit
    photo = jpeg(seed=901)
    matter_b = joint_visit.matters[member_b.department]
    events = [
        leader.phone.event("checkin", checkin(), visit=visit),
        leader.phone.event("photo", {"media": ref(photo), "caption": "门头"}, visit=visit),
        # two devices in one bundle, each in seq order
        member_b.phone.event("checkin", checkin(), visit=visit),
        member_b.phone.event(
            "item_result", {"matter": matter_b, "item": 0, "result": "compliant"}, visit=visit
        ),
    ]
    path = write(tmp_path, bundle(events, [entry(photo, purpose="photo")]))

    run = cli(path)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = event_lines(run.stdout)
    assert [(w[1], w[3]) for w in lines] == [("accepted", e.id) for e in events]
    assert "media  accepted" in run.stdout and leader.user_id in run.stdout
    assert "4 events (4 accepted, 0 duplicate, 0 rejected)" in run.stdout
    first = await stored([e.id for e in events])
    assert first == {e.id: e.envelope.encode() for e in events}  # byte for byte
    obj = await MediaObject.select().where(MediaObject.sha256 == sha(photo)).first()
    assert obj["bytes"] == len(photo) and str(obj["uploaded_by"]) == leader.user_id
    # the bundle's bytes are the leader's proof of possession: they may read the original
    assert (await leader.client.get(f"/api/media/{sha(photo)}")).content == photo
    uploads = await MediaUpload.count().where(MediaUpload.sha256 == sha(photo))
    leaves = await LogLeaf.count()

    again = cli(path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [w[1] for w in event_lines(again.stdout)] == ["duplicate"] * 4
    assert "media  duplicate" in again.stdout
    assert await stored([e.id for e in events]) == first
    assert await MediaUpload.count().where(MediaUpload.sha256 == sha(photo)) == uploads
    assert await LogLeaf.count() == leaves
    report = await verify_all()
    assert report.ok, report.failures


async def test_rejections_tampered_media_and_the_chain_behind_them(joint_visit, tmp_path):
    leader, second, _ = joint_visit.members
    visit = joint_visit.visit
    good, bad = jpeg(seed=902), jpeg(seed=903)
    tampered = bytearray(bad)
    tampered[-10] ^= 0xFF  # same size, other bytes
    a = [
        leader.phone.event("checkin", checkin(), visit=visit),
        leader.phone.event("photo", {"media": ref(bad)}, visit=visit),
        leader.phone.event("note", {"text": "之后的笔记"}, visit=visit),
    ]
    outsider = Phone(actor=second.user_id)  # a key never registered
    b = [
        outsider.event("photo", {"media": ref(good)}, visit=visit),
        second.phone.event("checkin", checkin(), visit=joint_visit.visit + "x"),
    ]
    doc = bundle(a + b, [entry(bytes(tampered), digest=sha(bad)), entry(good)])
    run = cli(write(tmp_path, doc))
    assert run.returncode == 1, run.stdout + run.stderr
    got = [(w[1], w[4] if w[1] == "rejected" else None) for w in event_lines(run.stdout)]
    assert got == [
        ("accepted", None),
        ("rejected", "media.not_uploaded"),  # its media was refused
        ("rejected", "chain.gap"),  # the device's chain waits on it
        ("rejected", "device.unknown"),
        ("rejected", "visit.unknown"),
    ]
    media_lines = [line.split() for line in run.stdout.splitlines() if line.startswith("media ")]
    assert [(w[1], w[3]) for w in media_lines] == [
        ("rejected", "media.hash_mismatch"),
        # only an unregistered key names it: nobody's possession, so not stored at all
        ("rejected", "bundle.media_unreferenced"),
    ]
    assert "NOT everything" in run.stdout
    for data in (bad, good):
        assert not await MediaObject.exists().where(MediaObject.sha256 == sha(data))
        assert not await MediaUpload.exists().where(MediaUpload.sha256 == sha(data))
    assert set(await stored([e.id for e in a + b])) == {a[0].id}


async def test_data_already_stored_never_changes(joint_visit, tmp_path, as_role):
    """A bundle carrying other bytes under stored ids, and media someone else stored first."""
    leader = joint_visit.members[0]
    visit = joint_visit.visit
    photo = jpeg(seed=904)
    owner = await as_role(Role.inspector)
    assert (await upload(owner.client, photo)).status_code == 204
    before_obj = await MediaObject.select().where(MediaObject.sha256 == sha(photo)).first()

    first = leader.phone.event("checkin", checkin(), visit=visit)
    assert (await leader.send(first)).json()["acks"][0]["status"] == "accepted"
    original = await stored([first.id])
    # the same id re-signed with another body at the same place of the chain
    leader.phone.rewind(seq=0, prev="0" * 64)
    env = json.loads(first.envelope)
    env["body"] = {**env["body"], "accuracy_m": 99}
    forged = leader.phone.sign(env)
    photo_event = leader.phone.event("photo", {"media": ref(photo)}, visit=visit)
    run = cli(write(tmp_path, bundle([forged, photo_event], [entry(photo)])))
    assert run.returncode == 1, run.stdout + run.stderr
    lines = event_lines(run.stdout)
    assert (lines[0][1], lines[0][4]) == ("rejected", "event.conflict")
    assert await stored([first.id]) == original
    # the photo is the leader's now too (they sent the bytes), the object row is untouched
    after_obj = await MediaObject.select().where(MediaObject.sha256 == sha(photo)).first()
    assert after_obj == before_obj
    assert (await leader.client.get(f"/api/media/{sha(photo)}")).content == photo


def _doc(good: dict, **change) -> bytes:
    return json.dumps({"format": FORMAT, "made_ms": 1, "events": [good], **change}).encode()


MALFORMED = {
    "not UTF-8 JSON": (lambda g: b"\xff\xfe not json", "bundle.malformed"),
    "not an object": (lambda g: b"[]", "bundle.malformed"),
    "another format": (lambda g: _doc(g, format="onevisit.bundle/2"), "bundle.format_unknown"),
    "event without sig": (lambda g: _doc(g, events=[g, {"envelope": "{}"}]), "bundle.malformed"),
    "unknown field": (lambda g: _doc(g, extra=1), "bundle.malformed"),
    "bad base64": (
        lambda g: _doc(g, media=[{"sha256": "a" * 64, "mime": "image/jpeg", "size": 3,
                                  "data": "***"}]),
        "bundle.malformed",
    ),
    "duplicate key": (
        lambda g: _doc(g)[:-1] + b', "made_ms": 2}',
        "bundle.malformed",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_file_is_refused_whole(joint_visit, tmp_path, case):
    """A good event in a bad file is not imported either: the file is refused whole."""
    leader = joint_visit.members[0]
    good = leader.phone.event("checkin", checkin(), visit=joint_visit.visit)
    make, code = MALFORMED[case]
    run = cli(write(tmp_path, make(good.wire())))
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"[{code}]" in run.stderr
    assert await stored([good.id]) == {}


async def test_a_missing_file_is_named(tmp_path):
    run = cli(tmp_path / "nowhere.json")
    assert run.returncode == 2 and "nowhere.json" in run.stderr


async def test_http_upload_for_coordinators_and_admins(joint_visit, as_role):
    leader = joint_visit.members[0]
    photo = jpeg(seed=905)
    events = [
        leader.phone.event("checkin", checkin(), visit=joint_visit.visit),
        leader.phone.event("photo", {"media": ref(photo)}, visit=joint_visit.visit),
    ]
    body = json.dumps(bundle(events, [entry(photo)])).encode()
    inspector = await as_role(Role.inspector)
    r = await inspector.client.post("/api/sync/bundle", content=body)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    assert await stored([e.id for e in events]) == {}

    coordinator = await as_role(Role.coordinator)
    r = await coordinator.client.post(
        "/api/sync/bundle", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert [a["status"] for a in answer["acks"]] == ["accepted", "accepted"]
    assert answer["media"][0]["status"] == "accepted"
    assert answer["media"][0]["actors"] == [leader.user_id]
    assert answer["checkpoint"]["size"] > answer["acks"][1]["log_index"]
    assert answer["counts"]["events"] == {"accepted": 2, "duplicate": 0, "rejected": 0}

    admin = await as_role(Role.admin)
    files = {"file": ("rescue.onevisit.json", body, "application/json")}
    r = await admin.client.post("/api/sync/bundle", files=files)
    assert r.status_code == 200, r.text
    assert [a["status"] for a in r.json()["acks"]] == ["duplicate", "duplicate"]
    assert r.json()["media"][0]["status"] == "duplicate"

    r = await admin.client.post("/api/sync/bundle", content=b'{"format": 1}')
    assert r.status_code == 400 and r.json()["code"] == "bundle.format_unknown"
