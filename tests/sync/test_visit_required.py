"""`"visit": null` skips the membership and matter checks, so only a plain note may have it
(docs/events.md, "Events and their visit"); everything else is refused with visit.required."""

from __future__ import annotations

import pytest

from onevisit.evidence.tables import Event
from onevisit.field.bodies import BODY_TYPES
from tests.field.factory import body


async def _ack(member, event_type: str, event_body: dict, visit: str | None) -> dict:
    """Send one event; on a rejection the phone continues its chain from the last accepted."""
    seq, prev = member.phone.seq, member.phone.prev
    event = member.phone.event(event_type, event_body, visit=visit)
    r = await member.send(event)
    assert r.status_code == 200, r.text
    ack = r.json()["acks"][0]
    if ack["status"] == "rejected":
        member.phone.rewind(seq=seq, prev=prev)
        assert await Event.count().where(Event.event_id == event.id) == 0
    return ack


async def test_another_departments_matter_without_a_visit_is_refused(joint_visit):
    leader, _, member_b = joint_visit.members
    foreign = {"matter": joint_visit.matters[member_b.department], "item": 0, "result": "compliant"}
    ack = await _ack(leader, "item_result", foreign, None)
    assert (ack["code"], ack["details"]) == ("visit.required", {"type": "item_result"})
    # with the visit named, the usual check refuses it for what it is
    ack = await _ack(leader, "item_result", foreign, joint_visit.visit)
    assert ack["code"] == "matter.not_served"


async def test_checkin_without_a_visit_is_refused(joint_visit):
    leader = joint_visit.members[0]
    position = {"lat_e6": 34_669_900, "lon_e6": 112_442_100, "accuracy_m": 12}
    assert (await _ack(leader, "checkin", position, None))["code"] == "visit.required"
    assert (await _ack(leader, "checkin", position, joint_visit.visit))["status"] == "accepted"


def _visitless_body(etype: str) -> dict:
    if etype == "record_confirmed":  # a passkey assertion is verified before the scope
        return {"record_hash": "ab" * 32, "method": "device_pin"}
    return body(etype)  # the matter codes of these bodies do not matter: no visit, no lookup


@pytest.mark.parametrize("etype", [t for t in BODY_TYPES if t != "note"])
async def test_every_visit_type_needs_its_visit(joint_visit, etype):
    ack = await _ack(joint_visit.members[0], etype, _visitless_body(etype), None)
    assert ack["status"] == "rejected" and ack["code"] == "visit.required", ack


async def test_a_plain_note_may_stand_alone_but_not_one_naming_a_matter(joint_visit):
    leader = joint_visit.members[0]
    matter = joint_visit.matters[leader.department]
    assert (await _ack(leader, "note", {"text": "今日外勤备忘"}, None))["status"] == "accepted"
    ack = await _ack(leader, "note", {"text": "事项备注", "matter": matter}, None)
    assert ack["code"] == "visit.required"
    ack = await _ack(leader, "note", {"text": "事项备注", "matter": matter}, joint_visit.visit)
    assert ack["status"] == "accepted"
