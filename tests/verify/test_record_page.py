"""GET /verify/record/{record_hash} (EVIDENCE.md §5, §7): a joint visit synced through the real
API — check-ins, results, a note holding markup, a photo, a witness with phone and id number,
a passkey and a PIN confirmation and the subject's signature of record A; then a later note
(record B), a refusal of B with the same witness and a PIN confirmation of B — read by an
anonymous client. The proofs and the checkpoint verify with the project's own verifiers, the
record hashes to its hash, personal data is absent, the HTML escapes what it shows, and unknown
or malformed hashes are coded 404s. The record_ref index: written with the events, filled by its
migration, and checked by `onevisit verify`."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest

from onevisit.evidence.events import parse_leaf_input
from onevisit.evidence.jcs import canonical_evidence
from onevisit.evidence.merkle import leaf_hash, verify_inclusion
from onevisit.evidence.note import parse_checkpoint, verify_note
from onevisit.evidence.tables import RecordRef
from onevisit.evidence.verify import verify_all
from tests.media.util import jpeg, png, sha, upload
from tests.verify.copies import SQLITE, Snapshot, run_module
from tests.verify.scenario import accepted, confirmation, item, leader_passkey

JSON = {"Accept": "application/json"}
NOTE = '<script>alert("record")</script> & 「门头」'
WITNESS = {"name": "赵见证", "id_number": "110101199003071234", "phone": "13912345678"}
WITNESS_ROLE = "社区网格员甲"
NEVER_A_RECORD = hashlib.sha256(b"a hash no state of the visit ever had").hexdigest()
RECORD_REF_GUARD = "2026-12-02T14:03:00:000000"  # the migration that fills record_ref


@dataclass
class World:
    visit: str
    a: str  # record hash the subject signed
    b: str  # the record after a later note: refused
    before_a: list[str]  # hashes of the field events record A was built from
    after_a: list[str]  # field events after it (in B only)
    acts_a: list[str]
    acts_b: list[str]
    stray: str  # a confirmation naming a hash that was never the visit's record
    secrets: list[str] = field(default_factory=list)  # must never appear publicly


_cache: dict[str, object] = {}


async def _record_hash(member, visit: str) -> str:
    r = await member.client.get(f"/api/visits/{visit}")
    assert r.status_code == 200, r.text
    return r.json()["record_hash"]


async def _media(member, data: bytes, mime: str) -> dict:
    purpose = "photo" if mime == "image/jpeg" else "signature"
    r = await upload(member.client, data, mime=mime, purpose=purpose)
    assert r.status_code in (200, 201, 204), r.text
    return {"sha256": sha(data), "bytes": len(data), "mime": mime}


async def _build(joint_visit, app) -> World:
    leader, second, member_b = joint_visit.members
    visit = joint_visit.visit
    authn = await leader_passkey(joint_visit, app)

    before_a: list[str] = []
    checkin = {"lat_e6": 34_669_900, "lon_e6": 112_442_100, "accuracy_m": 12}
    for m in joint_visit.members:
        matter = joint_visit.matters[m.department]
        events = [
            m.phone.event("checkin", checkin, visit=visit),
            *[m.phone.event("item_result", item(matter, i), visit=visit) for i in range(3)],
        ]
        await accepted(m, *events)
        before_a += [e.hash for e in events]
    photo = jpeg(seed=11)
    image, strokes = png(48, 40), json.dumps([[1, 2, 3, 4]]).encode()
    witness_image = png(40, 48)
    photo_ref = await _media(leader, photo, "image/jpeg")
    image_ref = await _media(leader, image, "image/png")
    strokes_ref = await _media(leader, strokes, "application/json")
    witness_ref = await _media(leader, witness_image, "image/png")
    events = [
        leader.phone.event("note", {"text": NOTE}, visit=visit),
        leader.phone.event("photo", {"media": photo_ref, "caption": "门头"}, visit=visit),
        leader.phone.event("witness", WITNESS | {"role": WITNESS_ROLE}, visit=visit),
    ]
    await accepted(leader, *events)
    before_a += [e.hash for e in events]

    a = await _record_hash(leader, visit)
    pin_a = member_b.phone.event(
        "record_confirmed", {"record_hash": a, "method": "device_pin"}, visit=visit
    )
    passkey_a = leader.phone.event("record_confirmed", confirmation(authn, a), visit=visit)
    signed = {
        "record_hash": a, "signer_name": "钱经理", "signer_role": "负责人",
        "image": image_ref, "strokes": strokes_ref,
    }  # fmt: skip
    signature = leader.phone.event("signature", signed, visit=visit)
    await accepted(leader, passkey_a, signature)
    await accepted(member_b, pin_a)

    later = second.phone.event("note", {"text": "签字后补充的说明"}, visit=visit)
    await accepted(second, later)
    b = await _record_hash(leader, visit)
    assert b != a
    refused = {
        "record_hash": b, "reason_code": "refused", "reason": "负责人拒绝在补充后的记录上签字",
        "witness": WITNESS | {"role": WITNESS_ROLE}, "witness_signature": witness_ref,
    }  # fmt: skip
    refusal = leader.phone.event("signature_refused", refused, visit=visit)
    pin_b = member_b.phone.event(
        "record_confirmed", {"record_hash": b, "method": "device_pin"}, visit=visit
    )
    stray = member_b.phone.event(
        "record_confirmed", {"record_hash": NEVER_A_RECORD, "method": "device_pin"}, visit=visit
    )
    await accepted(leader, refusal)
    await accepted(member_b, pin_b, stray)

    secrets = [WITNESS["phone"], WITNESS["id_number"], WITNESS_ROLE]
    for data in (image, witness_image, photo, strokes):
        b64, b64url = base64.b64encode(data), base64.urlsafe_b64encode(data)
        secrets += [b64.decode()[:40], b64url.decode()[:40]]
    for m in joint_visit.members:
        secrets += [m.phone.device_id, m.user_id]
    return World(
        visit, a, b, before_a, [later.hash], [passkey_a.hash, signature.hash, pin_a.hash],
        [refusal.hash, pin_b.hash], stray.hash, secrets,
    )  # fmt: skip


@pytest.fixture
async def world(joint_visit, app) -> World:
    if "world" not in _cache:
        _cache["world"] = await _build(joint_visit, app)
    return _cache["world"]  # type: ignore[return-value]


@pytest.fixture
async def snapshot(world, tmp_path_factory) -> Snapshot:
    """The database with the world in it, taken once for the tamper and migration cases."""
    if "snapshot" not in _cache:
        taken = Snapshot(tmp_path_factory.mktemp("record_page"))
        await taken.take()
        _cache["snapshot"] = taken
    return _cache["snapshot"]  # type: ignore[return-value]


@pytest.fixture(scope="module", autouse=True)
async def _drop_snapshot():
    yield
    if "snapshot" in _cache:
        await _cache["snapshot"].drop()  # type: ignore[attr-defined]


async def _checkpoint(client: httpx.AsyncClient, served: dict):
    """The served checkpoint, verified with the published key (/log/key) and evidence/note.py."""
    vkey = (await client.get("/log/key")).text
    cp = parse_checkpoint(verify_note(note=served["note"], verifier_key=vkey))
    assert cp.size == served["size"] and base64.b64encode(cp.root).decode() == served["root"]
    return cp


def _check_entries(entries: list[dict], cp) -> None:
    for e in entries:
        leaf = base64.b64decode(e["leaf_input"], validate=True)
        assert parse_leaf_input(leaf).h == e["event_hash"]
        proof = e["inclusion"]
        assert proof["index"] == e["log_index"] and proof["size"] == cp.size
        assert proof["leaf_hash"] == leaf_hash(leaf).hex()
        verify_inclusion(
            leaf_hash=leaf_hash(leaf), index=e["log_index"], size=cp.size, root=cp.root,
            path=[bytes.fromhex(p) for p in proof["path"]],
        )  # fmt: skip


async def test_signed_record_json_verifies_with_the_projects_verifiers(world, client):
    r = await client.get(f"/verify/record/{world.a}", headers=JSON)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert set(data) == {
        "record_hash", "short_code", "current", "record", "confirmations", "signature",
        "refusal", "entries", "checkpoint", "retention",
    }  # fmt: skip
    assert data["record_hash"] == world.a and data["short_code"] == world.a[:8]
    # the archive keeps it at least two years after its last act (002:25), never deletable
    kept = data["retention"]
    assert kept["min_years"] == 2 and kept["deletable"] is False
    last = max(c["at"] for c in data["confirmations"]) if data["confirmations"] else 0
    last_day = dt.datetime.fromtimestamp(last / 1000, dt.timezone(dt.timedelta(hours=8))).date()
    assert dt.date.fromisoformat(kept["kept_until"]) >= last_day.replace(year=last_day.year + 2)
    page = await client.get(f"/verify/record/{world.a}")
    assert f"至少至 {kept['kept_until']}" in page.text
    assert data["current"] is False  # a note came after the signature
    # The record is the document as hashed: anyone recomputes its hash (JCS, SHA-256).
    assert hashlib.sha256(canonical_evidence(data["record"])).hexdigest() == world.a
    assert data["record"]["visit"] == world.visit
    assert NOTE in [n["text"] for n in data["record"]["notes"]]

    cp = await _checkpoint(client, data["checkpoint"])
    assert data["checkpoint"]["note"] == (await client.get("/log/checkpoint")).text
    _check_entries(data["entries"], cp)
    hashes = [e["event_hash"] for e in data["entries"]]
    assert hashes == sorted(hashes, key=lambda h: hashes.index(h))  # no duplicates
    assert set(hashes) == set(world.before_a) | set(world.acts_a)
    indexes = [e["log_index"] for e in data["entries"]]
    assert indexes == sorted(indexes)

    by_hash = {e["event_hash"]: e for e in data["entries"]}
    methods = sorted(c["method"] for c in data["confirmations"])
    assert methods == ["device_pin", "passkey"]
    for c in data["confirmations"]:
        assert {"inspector", "name", "department", "certificate", "at"} <= c.keys()
        assert by_hash[c["event_hash"]]["log_index"] == c["log_index"]
        assert by_hash[c["event_hash"]]["type"] == "record_confirmed"
    s = data["signature"]
    assert s["signer_name"] == "钱经理" and s["signer_role"] == "负责人"
    assert by_hash[s["event_hash"]]["log_index"] == s["log_index"]
    assert len(s["image_sha256"]) == 64 and len(s["strokes_sha256"]) == 64
    assert data["refusal"] is None


async def test_current_record_shows_the_refusal_with_the_witness_name_only(world, client):
    r = await client.get(f"/verify/record/{world.b}", headers=JSON)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["current"] is True and data["signature"] is None
    assert hashlib.sha256(canonical_evidence(data["record"])).hexdigest() == world.b
    refusal = data["refusal"]
    assert refusal["witness"] == {"name": WITNESS["name"]}
    assert refusal["reason_code"] == "refused" and "witness_signature_sha256" in refusal
    assert [c["method"] for c in data["confirmations"]] == ["device_pin"]
    hashes = {e["event_hash"] for e in data["entries"]}
    assert hashes == set(world.before_a) | set(world.after_a) | set(world.acts_b)
    _check_entries(data["entries"], await _checkpoint(client, data["checkpoint"]))


async def test_personal_data_is_absent_from_json_and_html(world, client):
    for record in (world.a, world.b):
        for headers in (JSON, {}):
            r = await client.get(f"/verify/record/{record}", headers=headers)
            assert r.status_code == 200
            for secret in world.secrets:
                assert secret not in r.text, secret
            assert "envelope" not in r.text


async def test_html_page_escapes_field_data(world, client):
    r = await client.get(f"/verify/record/{world.a}", headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["vary"] == "Accept"
    page = r.text
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;record&quot;)&lt;/script&gt; &amp; 「门头」" in page
    assert "检查记录核验" in page and world.a[:8] in page and world.a in page
    assert 'name="viewport"' in page and 'lang="zh-CN"' in page
    for shown in ("钱经理", "通行密钥确认", "设备密钥与PIN确认", "符合（compliant）"):
        assert shown in page, shown
    # A browser's own Accept (and none at all) gets the page, not JSON
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "*/*"):
        r = await client.get(f"/verify/record/{world.b}", headers={"Accept": accept})
        assert r.headers["content-type"].startswith("text/html")
        assert WITNESS["name"] in r.text and "未签名" in r.text


BAD = [
    "0" * 64,  # well formed, names nothing
    NEVER_A_RECORD,  # named by a confirmation, but never a record of its visit
    "AB" * 32,
    "ab" * 31,
    "ab" * 33,
    "g" * 64,
    "%00",
    "\x00",
    "a\x00" * 32,
    "x" * 3000,
    "１２３",
    "'; DROP TABLE record_ref;--",
]


@pytest.mark.parametrize("bad", BAD, ids=range(len(BAD)))
async def test_unknown_and_malformed_hashes_are_coded_404s(world, client, bad):
    url = f"/verify/record/{quote(bad, safe='')}"  # so "%00" arrives as itself, "\x00" as NUL
    r = await client.get(url, headers=JSON)
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "record.unknown"
    r = await client.get(url)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "record.unknown" in r.text and "<script" not in r.text.lower()


async def test_index_rows_are_written_with_the_events_and_verify(world):
    rows = await RecordRef.select().where(RecordRef.visit == world.visit)
    got = sorted((r["record_hash"], r["event_hash"]) for r in rows)
    want = [(world.a, h) for h in world.acts_a] + [(world.b, h) for h in world.acts_b]
    assert got == sorted([*want, (NEVER_A_RECORD, world.stray)])  # one row per act, no other
    report = await verify_all()
    assert report.ok, [str(f) for f in report.failures[:5]]


async def test_verify_fails_on_a_wrong_or_missing_index_row(world, snapshot):
    row = await RecordRef.select().where(RecordRef.record_hash == world.a).first()
    async with snapshot.copy() as db:  # a row naming an event that names another record
        insert = "INSERT INTO record_ref (record_hash, event_hash, visit) VALUES (?, ?, ?)"
        await db.execute((insert, (world.b, row["event_hash"], world.visit)))
        result = await db.verify()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[record_ref.mismatch]" in result.stdout, result.stdout
    async with snapshot.copy() as db:  # an act whose row is gone
        await db.execute(("DELETE FROM record_ref WHERE id = ?", (row["id"],)))
        result = await db.verify()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[record_ref.missing]" in result.stdout, result.stdout
    assert f"event {row['event_hash']}" in result.stdout


async def test_migration_fills_the_index_from_stored_events(world, snapshot):
    """Emptied and its migration forgotten, record_ref is refilled by that migration alone from
    the stored envelopes, with the triggers back, and the copy verifies clean."""
    count = await RecordRef.count()
    async with snapshot.copy() as db:
        await db.execute(  # the copy's triggers are dropped; its migration makes them again
            *([] if SQLITE else ["DROP FUNCTION record_ref_append_only()"]),
            "DELETE FROM record_ref",
            ("DELETE FROM migration WHERE name = ?", (RECORD_REF_GUARD,)),
        )
        migrated = await asyncio.to_thread(run_module, "onevisit.cli", db.url, None, "migrate")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        result = await db.verify()
        assert result.returncode == 0, result.stdout + result.stderr
        assert await _refused(db, "DELETE FROM record_ref"), "the triggers were not made again"
        assert await _count(db) == count


async def _refused(db, sql: str) -> bool:
    try:
        await db.execute(sql)
    except Exception as exc:  # sqlite3.IntegrityError or asyncpg's error: both say append-only
        return "append-only" in str(exc)
    return False


async def _count(db) -> int:
    sql = "SELECT COUNT(*) FROM record_ref"
    if SQLITE:
        con = sqlite3.connect(db.url.removeprefix("sqlite://"))
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    import asyncpg

    con = await asyncpg.connect(db.url)
    try:
        return await con.fetchval(sql)
    finally:
        await con.close()
