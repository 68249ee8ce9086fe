"""The sync endpoint (EVIDENCE.md §3): per-event acknowledgements, nothing of a rejected event
stored, safe resends, and receipts that verify against the signed checkpoint."""

from __future__ import annotations

import base64

from onevisit.auth.roles import Role
from onevisit.evidence.events import leaf_input
from onevisit.evidence.merkle import leaf_hash, verify_inclusion
from onevisit.evidence.note import parse_checkpoint, verify_note
from onevisit.evidence.tables import Event, LogLeaf


def item(matter: str, position: int, result: str = "compliant") -> dict:
    body = {"matter": matter, "item": position, "result": result}
    return body if result != "non_compliant" else {**body, "note": "现场发现问题"}


def checkin() -> dict:
    return {"lat_e6": 34_669_900, "lon_e6": 112_442_100, "accuracy_m": 12}


async def stored_count(event_id: str) -> int:
    return await Event.count().where(Event.event_id == event_id)


async def test_accepted_events_get_receipts_that_verify(joint_visit, client):
    leader = joint_visit.members[0]
    matter = joint_visit.matters[leader.department]
    events = [
        leader.phone.event("checkin", checkin(), visit=joint_visit.visit),
        leader.phone.event("item_result", item(matter, 0), visit=joint_visit.visit),
        leader.phone.event(
            "item_result", item(matter, 1, "non_compliant"), visit=joint_visit.visit
        ),
    ]
    r = await leader.send(*events)
    assert r.status_code == 200, r.text
    answer = r.json()
    acks = answer["acks"]
    assert [a["status"] for a in acks] == ["accepted"] * 3
    assert [a["id"] for a in acks] == [e.id for e in events]
    indexes = [a["log_index"] for a in acks]
    assert indexes == list(range(indexes[0], indexes[0] + 3))

    # the checkpoint is a signed note that verifies with the published key
    vkey = (await client.get("/log/key")).text.strip()
    text = verify_note(note=answer["checkpoint"]["note"], verifier_key=vkey)
    cp = parse_checkpoint(text)
    assert cp.size == answer["checkpoint"]["size"] > indexes[-1]
    assert base64.b64encode(cp.root).decode() == answer["checkpoint"]["root"]
    assert (await client.get("/log/checkpoint")).text == answer["checkpoint"]["note"]

    for event, ack in zip(events, acks, strict=True):
        leaf = leaf_input(event_hash=event.hash, sig=event.sig, receipt_ms=ack["received_ms"])
        proof = ack["inclusion"]
        verify_inclusion(
            leaf_hash=leaf_hash(leaf), index=proof["index"], size=proof["size"],
            path=[bytes.fromhex(p) for p in proof["path"]], root=cp.root,
        )  # fmt: skip
        # the exact bytes are stored, and the log entry is the leaf the receipt names
        row = await Event.select(Event.envelope).where(Event.event_id == event.id).first()
        assert bytes(row["envelope"]) == event.envelope.encode()
        entry = (
            await client.get(f"/log/entries?start={ack['log_index']}&end={ack['log_index'] + 1}")
        ).json()
        assert base64.b64decode(entry["entries"][0]) == leaf


async def test_resend_is_a_duplicate_and_adds_nothing(joint_visit):
    leader = joint_visit.members[0]
    event = leader.phone.event("checkin", checkin(), visit=joint_visit.visit)
    first = (await leader.send(event)).json()["acks"][0]
    leaves = await LogLeaf.count()
    again = (await leader.send(event)).json()
    assert again["acks"][0]["status"] == "duplicate"
    assert again["acks"][0]["log_index"] == first["log_index"]
    assert again["checkpoint"] is None
    assert await LogLeaf.count() == leaves and await stored_count(event.id) == 1


async def test_same_id_other_bytes_is_a_conflict(joint_visit):
    leader = joint_visit.members[0]
    envelope = leader.phone.envelope("note", {"text": "原文"}, visit=joint_visit.visit)
    ack = (await leader.send(_resign(leader.phone, envelope, {"text": "原文"}))).json()["acks"][0]
    assert ack["status"] == "accepted"
    other = _resign(leader.phone, envelope, {"text": "改过的"})
    ack = (await leader.send(other)).json()["acks"][0]
    assert ack["status"] == "rejected" and ack["code"] == "event.conflict"


def _resign(phone, envelope, body):
    """The same envelope (same id, seq, prev) with another body, signed by the same key."""
    from onevisit.evidence.events import event_hash, sign_event
    from onevisit.evidence.jcs import canonical_evidence
    from onevisit.simulate.phone import SignedEvent

    env = {**envelope, "body": body}
    raw = canonical_evidence(env)
    return SignedEvent(raw.decode(), sign_event(envelope_bytes=raw, private_key=phone.key),
                       env["id"], event_hash(raw), env["seq"])  # fmt: skip


async def test_seq_gap_names_the_expected_seq_and_the_device_recovers(joint_visit):
    leader = joint_visit.members[0]
    e1 = leader.phone.event("note", {"text": "一"}, visit=joint_visit.visit)
    e2 = leader.phone.event("note", {"text": "二"}, visit=joint_visit.visit)
    e3 = leader.phone.event("note", {"text": "三"}, visit=joint_visit.visit)
    acks = (await leader.send(e1, e3)).json()["acks"]
    assert acks[0]["status"] == "accepted"
    assert acks[1]["status"] == "rejected" and acks[1]["code"] == "chain.gap"
    assert acks[1]["details"]["expected_seq"] == 2
    assert await stored_count(e3.id) == 0
    acks = (await leader.send(e2, e3)).json()["acks"]  # reordered resend, in order now
    assert [a["status"] for a in acks] == ["accepted", "accepted"]


async def test_reordered_batch_rejects_the_early_one(joint_visit):
    leader = joint_visit.members[0]
    e1 = leader.phone.event("note", {"text": "一"}, visit=joint_visit.visit)
    e2 = leader.phone.event("note", {"text": "二"}, visit=joint_visit.visit)
    acks = (await leader.send(e2, e1)).json()["acks"]
    assert acks[0]["code"] == "chain.gap" and acks[1]["status"] == "accepted"


async def test_bad_signature_stores_nothing(joint_visit):
    leader = joint_visit.members[0]
    event = leader.phone.event("note", {"text": "签名坏了"}, visit=joint_visit.visit)
    bad = {"envelope": event.envelope, "sig": joint_visit.members[1].phone.event(
        "note", {"text": "x"}, visit=None).sig}  # fmt: skip
    r = await leader.client.post("/api/sync", json={"events": [bad]})
    ack = r.json()["acks"][0]
    assert ack["status"] == "rejected" and ack["code"] == "sig.invalid"
    assert await stored_count(event.id) == 0


async def test_non_canonical_bytes_are_refused(joint_visit):
    leader = joint_visit.members[0]
    event = leader.phone.event("note", {"text": "空格"}, visit=joint_visit.visit)
    spaced = event.envelope.replace(",", ", ", 1)
    r = await leader.client.post(
        "/api/sync", json={"events": [{"envelope": spaced, "sig": event.sig}]}
    )
    assert r.json()["acks"][0]["code"] == "event.not_canonical"
    assert await stored_count(event.id) == 0


async def test_unknown_and_revoked_devices(joint_visit):
    from onevisit.simulate.phone import Phone

    leader = joint_visit.members[0]
    stranger = Phone(actor=leader.user_id)
    ack = (await leader.send(stranger.event("note", {"text": "x"}, visit=None))).json()["acks"][0]
    assert ack["code"] == "device.unknown"
    r = await leader.client.post(f"/api/auth/devices/{leader.phone.device_id}/revoke")
    assert r.status_code == 200, r.text
    ack = (await leader.send(leader.phone.event("note", {"text": "y"}, visit=None))).json()
    assert ack["acks"][0]["code"] == "device.revoked"


async def test_device_of_another_user_is_refused(joint_visit):
    leader, other = joint_visit.members[0], joint_visit.members[1]
    other.phone.actor = leader.user_id  # other's key, claiming to be the leader
    ack = (await other.send(other.phone.event("note", {"text": "冒名"}, visit=None))).json()
    assert ack["acks"][0]["code"] == "device.not_actor"


async def test_membership_and_matter_ownership(joint_visit, make_user, sign_in):
    leader, _, member_b = joint_visit.members
    matter_b = joint_visit.matters[member_b.department]
    # the leader's department does not own matter B; the phone then continues its chain from
    # its last accepted event
    seq, prev = leader.phone.seq, leader.phone.prev
    ack = (await leader.send(leader.phone.event(
        "item_result", item(matter_b, 0), visit=joint_visit.visit))).json()["acks"][0]  # fmt: skip
    assert ack["code"] == "matter.not_served"
    leader.phone.rewind(seq=seq, prev=prev)
    # member B may write it
    ack = (await member_b.send(member_b.phone.event(
        "item_result", item(matter_b, 0), visit=joint_visit.visit))).json()["acks"][0]  # fmt: skip
    assert ack["status"] == "accepted"
    # a visit that does not exist, and an outsider
    from onevisit.simulate.phone import Phone

    nowhere = "01937000-0000-7000-8000-000000000000"
    ack = (await leader.send(leader.phone.event("note", {"text": "x"}, visit=nowhere))).json()
    ack = ack["acks"][0]
    assert ack["code"] == "visit.unknown"
    outsider_id = await make_user(role=Role.inspector)
    outsider = await sign_in(outsider_id)
    phone = Phone(actor=outsider_id)
    await outsider.post("/api/auth/devices", json={"spki": phone.spki_b64url, "label": "o"})
    event = phone.event("note", {"text": "路过"}, visit=joint_visit.visit)
    r = await outsider.post("/api/sync", json={"events": [event.wire()]})
    assert r.json()["acks"][0]["code"] == "visit.not_member"


async def test_invalid_body_is_refused(joint_visit):
    leader = joint_visit.members[0]
    matter = joint_visit.matters[leader.department]
    no_note = {"matter": matter, "item": 0, "result": "non_compliant"}  # a note is required
    event = leader.phone.event("item_result", no_note, visit=joint_visit.visit)
    ack = (await leader.send(event)).json()["acks"][0]
    assert ack["code"] == "event.body_invalid"


async def test_phones_cannot_write_as_the_server(joint_visit):
    leader = joint_visit.members[0]
    env = leader.phone.envelope("note", {"text": "x"}, visit=None)
    env.update(device="server", type="server.publish", actor="server")
    signed = leader.phone.sign(env)
    ack = (await leader.send(signed)).json()["acks"][0]
    assert ack["status"] == "rejected" and ack["code"] in ("device.reserved", "event.malformed")


async def test_batch_limits_and_roles(joint_visit, client):
    leader = joint_visit.members[0]
    event = leader.phone.event("note", {"text": "x"}, visit=None)
    r = await leader.client.post("/api/sync", json={"events": [event.wire()] * 501})
    assert r.status_code == 413 and r.json()["code"] == "sync.batch_too_large"
    r = await client.post("/api/sync", json={"events": [event.wire()]})
    assert r.status_code == 401 and r.json()["code"] == "auth.required"
    r = await leader.client.post("/api/sync", content=b"{not json")
    assert r.status_code == 400 and r.json()["code"] == "request.invalid"
