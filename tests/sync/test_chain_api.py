"""Through POST /api/sync: a wrong `prev`, a reused `seq` and an oversized envelope are each
refused with their own code, and nothing of them is stored."""

from __future__ import annotations

from onevisit.evidence.events import GENESIS_PREV
from onevisit.evidence.tables import Event
from onevisit.sync.ingest import MAX_ENVELOPE_BYTES


async def stored(event_id: str) -> bool:
    return await Event.exists().where(Event.event_id == event_id)


def note(text: str = "记录") -> dict:
    return {"text": text}


async def test_wrong_prev_is_a_mismatch(joint_visit):
    leader, visit = joint_visit.members[0], joint_visit.visit
    first = leader.phone.event("note", note("一"), visit=visit)
    assert (await leader.send(first)).json()["acks"][0]["status"] == "accepted"
    # the right seq, but prev names something other than the device's last event
    leader.phone.rewind(seq=first.seq, prev="ab" * 32)
    wrong = leader.phone.event("note", note("二"), visit=visit)
    r = await leader.send(wrong)
    assert r.status_code == 200
    ack = r.json()["acks"][0]
    assert (ack["status"], ack["code"], ack["id"]) == ("rejected", "chain.mismatch", wrong.id)
    assert not await stored(wrong.id) and r.json()["checkpoint"] is None
    # continued from the real head, the same id goes in
    leader.phone.rewind(seq=first.seq, prev=first.hash)
    assert (await leader.send(leader.phone.resign(wrong))).json()["acks"][0]["status"] == "accepted"


async def test_prev_zeros_exactly_at_seq_one(joint_visit):
    """Checked on the envelope itself, before any chain is read: event.malformed."""
    member, visit = joint_visit.members[1], joint_visit.visit
    assert member.phone.seq == 0
    member.phone.rewind(seq=0, prev="cd" * 32)
    first = member.phone.event("note", note(), visit=visit)
    member.phone.rewind(seq=5, prev=GENESIS_PREV)
    later = member.phone.event("note", note(), visit=visit)
    for event in (first, later):
        ack = (await member.send(event)).json()["acks"][0]
        assert (ack["code"], ack["details"].get("field")) == ("event.malformed", "prev"), ack
        assert not await stored(event.id)
    member.phone.rewind(seq=0, prev=GENESIS_PREV)


async def test_a_reused_seq_is_a_fork(joint_visit):
    leader, visit = joint_visit.members[0], joint_visit.visit
    head = (leader.phone.seq, leader.phone.prev)
    taken = leader.phone.event("note", note("原件"), visit=visit)
    assert (await leader.send(taken)).json()["acks"][0]["status"] == "accepted"
    # another event (new id) signed on the same seq and prev: a second branch of the chain
    leader.phone.rewind(seq=head[0], prev=head[1])
    branch = leader.phone.event("note", note("分叉"), visit=visit)
    assert branch.seq == taken.seq and branch.id != taken.id
    ack = (await leader.send(branch)).json()["acks"][0]
    assert (ack["status"], ack["code"]) == ("rejected", "chain.fork")
    assert not await stored(branch.id) and await stored(taken.id)
    leader.phone.rewind(seq=taken.seq, prev=taken.hash)


async def test_an_oversized_envelope_is_refused_alone(joint_visit):
    leader, visit = joint_visit.members[0], joint_visit.visit
    head = (leader.phone.seq, leader.phone.prev)
    # 22,000 Chinese characters: 66,000 UTF-8 bytes, under the request's character limit
    big = leader.phone.event("note", note("检" * 22_000), visit=visit)
    assert len(big.envelope.encode()) > MAX_ENVELOPE_BYTES > len(big.envelope)
    leader.phone.rewind(seq=head[0], prev=head[1])
    small = leader.phone.event("note", note("正常"), visit=visit)
    r = await leader.client.post("/api/sync", json={"events": [big.wire(), small.wire()]})
    assert r.status_code == 200, r.text
    acks = r.json()["acks"]
    assert acks[0]["status"] == "rejected" and acks[0]["code"] == "event.too_large"
    assert acks[1]["status"] == "accepted"  # one oversized event does not sink the batch
    assert not await stored(big.id)


async def test_an_envelope_past_the_request_limit_is_a_bad_request(joint_visit):
    leader = joint_visit.members[0]
    huge = {"envelope": "{" + " " * 80_000 + "}", "sig": "AA"}
    r = await leader.client.post("/api/sync", json={"events": [huge]})
    assert r.status_code == 400 and r.json()["code"] == "request.invalid"
