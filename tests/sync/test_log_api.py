"""The log's fixed URLs (EVIDENCE.md §7) as an outside verifier uses them: a checkpoint that
verifies with /log/key, inclusion and consistency proofs that verify against it, and entries
(a range past the log's end or longer than the page is cut short, as RFC 6962 §4.6 allows)."""

from __future__ import annotations

import base64
import re

import pytest

from onevisit.evidence import api
from onevisit.evidence.keys import log_key, log_name
from onevisit.evidence.log import latest_checkpoint, log_size, read_entries
from onevisit.evidence.merkle import leaf_hash, verify_consistency, verify_inclusion
from onevisit.evidence.note import parse_checkpoint, verifier_key, verify_note
from onevisit.evidence.tables import Checkpoint, Event

TEXT_PLAIN = "text/plain; charset=utf-8"


async def signed_tree(client):
    vkey = (await client.get("/log/key")).text
    note = (await client.get("/log/checkpoint")).text
    return parse_checkpoint(verify_note(note=note, verifier_key=vkey))


async def test_proofs_verify_against_published_checkpoints(joint_visit, client):
    leader = joint_visit.members[0]
    await leader.send(leader.phone.event("note", {"text": "第一批"}, visit=joint_visit.visit))
    old = await signed_tree(client)
    await leader.send(
        *[leader.phone.event("note", {"text": f"第二批{i}"}, visit=None) for i in range(5)]
    )
    new = await signed_tree(client)
    assert new.size == old.size + 5

    r = (await client.get(f"/log/proof/consistency?from={old.size}&to={new.size}")).json()
    assert r["from"] == old.size and r["to"] == new.size
    verify_consistency(
        size1=old.size, size2=new.size, root1=old.root, root2=new.root,
        path=[bytes.fromhex(p) for p in r["path"]],
    )  # fmt: skip

    for index in (0, old.size - 1, new.size - 1):
        entry = (await client.get(f"/log/entries?start={index}&end={index + 1}")).json()
        leaf = base64.b64decode(entry["entries"][0])
        proof = (await client.get(f"/log/proof/inclusion?index={index}&size={new.size}")).json()
        assert proof["leaf_hash"] == leaf_hash(leaf).hex()
        verify_inclusion(
            leaf_hash=leaf_hash(leaf), index=index, size=new.size, root=new.root,
            path=[bytes.fromhex(p) for p in proof["path"]],
        )  # fmt: skip


@pytest.mark.parametrize(
    "query",
    [
        "/log/entries?start=5&end=5",
        "/log/entries?start=6&end=5",
        "/log/entries?start=-1&end=5",
        "/log/entries?start=99999999&end=100000000",
        "/log/proof/inclusion?index=3&size=3",
        "/log/proof/inclusion?index=0&size=99999999",
        "/log/proof/consistency?from=4&to=2",
        "/log/proof/consistency?from=1&to=99999999",
    ],
)
async def test_bad_ranges_are_coded_errors(joint_visit, client, query):
    leader = joint_visit.members[0]
    await leader.send(leader.phone.event("note", {"text": "x"}, visit=None))
    r = await client.get(query)
    assert r.status_code == 400
    assert r.json()["code"] in ("log.range_invalid", "request.invalid")


async def test_entries_past_the_end_or_too_many_are_cut_short(joint_visit, client, monkeypatch):
    leader = joint_visit.members[0]
    await leader.send(
        *[leader.phone.event("note", {"text": f"页{i}"}, visit=None) for i in range(3)]
    )
    size = await log_size()

    async def entries(start: int, end: int) -> list[bytes]:
        r = await client.get(f"/log/entries?start={start}&end={end}")
        assert r.status_code == 200, r.text
        return [base64.b64decode(e) for e in r.json()["entries"]]

    # end past the log: the entries up to its end
    assert await entries(size - 2, size + 50) == await read_entries(size - 2, size)
    assert len(await entries(0, 99999999)) == min(size, api.MAX_ENTRIES)
    # more than a page: the first page, from start
    monkeypatch.setattr(api, "MAX_ENTRIES", 2)
    assert await entries(size - 3, size) == await read_entries(size - 3, size - 1)
    assert await entries(size - 3, size + 9) == await read_entries(size - 3, size - 1)


async def test_key_and_event_key_are_plain_text(client):
    r = await client.get("/log/key")
    assert r.headers.get_list("content-type") == [TEXT_PLAIN]
    # exactly the verifier key string: no newline, nothing else
    assert r.text == verifier_key(name=log_name(), public_key=log_key().public_key())
    assert re.fullmatch(r"[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*", r.text), r.text
    name, key_hash, key = r.text.split("+", 2)
    assert name == "localhost:8000/log"
    assert len(key_hash) == 8 and base64.b64decode(key, validate=True)[0] == 1
    r = await client.get("/log/event-key")
    assert r.headers.get_list("content-type") == [TEXT_PLAIN]
    spki = base64.b64decode(r.text, validate=True)
    assert spki[:2] == b"\x30\x59"  # DER SEQUENCE of a P-256 SubjectPublicKeyInfo


async def test_checkpoint_is_the_signed_note_byte_for_byte(joint_visit, client):
    leader = joint_visit.members[0]
    await leader.send(leader.phone.event("note", {"text": "检查点"}, visit=None))
    r = await client.get("/log/checkpoint")
    assert r.status_code == 200
    assert r.headers.get_list("content-type") == [TEXT_PLAIN]  # one charset, not two
    latest = await latest_checkpoint()
    assert latest is not None and r.content == latest.note.encode()
    assert r.content.endswith(b"\n")  # a signed note ends in a newline (C2SP signed-note)


async def test_evidence_rows_cannot_be_changed(joint_visit):
    leader = joint_visit.members[0]
    await leader.send(leader.phone.event("note", {"text": "不可改"}, visit=None))
    with pytest.raises(Exception, match="append-only"):
        await Event.update({Event.actor: "someone else"}).where(Event.seq >= 1)
    with pytest.raises(Exception, match="append-only"):
        await Checkpoint.delete().where(Checkpoint.size >= 0)
