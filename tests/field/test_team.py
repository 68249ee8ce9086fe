"""The team leader's view and closing a visit (docs/visits.md "Team view", "Closing a visit"):
the rules of closing on projected scenes (pure), then the API with real phones, real signed
events and real backlog reports — who may report, see and close, and who may not."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import serialization

from onevisit.auth.roles import Role
from onevisit.auth.tables import DeviceStatus, User
from onevisit.evidence.events import parse_event, verify_event_signature
from onevisit.evidence.keys import event_key
from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from onevisit.field.team import Report, assess
from onevisit.planning.tables import Visit
from tests.field.factory import INFO, NOW, Scene, full_visit, near
from tests.fixtures import unique
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture)
from tests.sync.test_sync import checkin, item

MEMBERS = [m.actor for m in INFO.members]  # u1 (leader), u2, u3, u4


def view(scene: Scene, reports: tuple[Report, ...] = (), status: str = "assigned") -> dict:
    state = scene.state()
    return assess(info=INFO, state=state, events=scene.log.entries, reports=reports, status=status)


def reason_codes(v: dict) -> list[str]:
    return [r["code"] for r in v["reasons"]]


def reason(v: dict, code: str) -> dict:
    return next(r for r in v["reasons"] if r["code"] == code)


def refuse(scene: Scene, record_hash: str) -> None:
    scene.add("u1", "signature_refused", {
        "record_hash": record_hash, "reason_code": "refused", "reason": "负责人拒绝签字",
        "witness": {"name": "赵敏"},
    })  # fmt: skip


def confirm(scene: Scene, actor: str, record_hash: str) -> None:
    scene.add(actor, "record_confirmed", {"record_hash": record_hash, "method": "device_pin"})


def report(actor: str, pending: int, reported_ms: int = NOW) -> Report:
    return Report(f"dev-{actor}", actor, pending, 0, NOW - 1, reported_ms)


# --- the rules, pure -----------------------------------------------------------------------
def test_a_fresh_visit_is_not_closable_and_says_why():
    v = view(Scene())
    assert v["closable"] is False
    assert reason_codes(v) == ["visit.not_signed", "visit.presence"]
    assert reason(v, "visit.not_signed")["details"] == {"signature": "missing"}
    assert [m["actor"] for m in v["members"]] == MEMBERS  # group order
    assert all(m["checked_in"] is False and m["answers"] == 0 for m in v["members"])
    assert all(m["last_received_ms"] is None and m["pending"] == 0 for m in v["members"])


def test_closable_once_refused_confirmed_by_everyone_present_and_synced():
    s = full_visit()
    current = s.state().record_hash
    refuse(s, current)
    for actor in ("u1", "u2", "u3"):
        confirm(s, actor, current)
    v = view(s)
    # u4 checked in (1.1 km away, still there) and has not confirmed: named, and only u4
    assert reason_codes(v) == ["visit.unconfirmed"]
    who = reason(v, "visit.unconfirmed")["details"]["members"]
    assert who == [{"actor": "u4", "inspector": "YJ001", "name": "刘洋", "confirmation": "missing"}]
    assert "刘洋" in reason(v, "visit.unconfirmed")["message"]

    confirm(s, "u4", "0" * 64)  # a confirmation of another record is stale
    who = reason(view(s), "visit.unconfirmed")["details"]["members"]
    assert [(w["actor"], w["confirmation"]) for w in who] == [("u4", "stale")]

    confirm(s, "u4", current)
    v = view(s)
    assert v["closable"] is True and v["reasons"] == []
    assert v["refusal"]["stale"] is False and v["signature"] is None
    assert {c["actor"]: c["stale"] for c in v["confirmations"]} == dict.fromkeys(MEMBERS, False)
    u3 = v["members"][2]
    assert u3["checked_in"] is True and u3["answers"] == 3  # two items and the matter result
    assert u3["last_received_ms"] == max(
        r.received_ms for r in s.log.entries if r.event.actor == "u3"
    )

    # a phone that still holds events of the visit blocks closing, and says whose
    v = view(s, reports=(report("u3", 2), report("u3", 1), report("u2", 0)))
    assert reason_codes(v) == ["visit.pending_sync"]
    assert v["members"][2]["pending"] == 3 and v["members"][1]["pending"] == 0
    assert reason(v, "visit.pending_sync")["details"]["members"] == [
        {"actor": "u3", "inspector": "HB001", "name": "王芳", "pending": 3, "reported_ms": NOW}
    ]

    # once closed, nothing is closable again
    assert reason_codes(view(s, status="closed")) == ["visit.closed"]


def test_a_special_outcome_needs_no_signature_but_everyones_confirmation():
    # 002:21: the business is not at its address — nobody can sign or refuse; the evidence
    # forms the result, and the inspectors present confirm the record as it is
    s = Scene()
    s.add("u1", "checkin", near())
    s.add("u2", "checkin", near())
    s.add("u1", "special_outcome", {"code": "unreachable", "text": "登记住所已拆迁，现场无人"})
    v = view(s)
    assert "visit.not_signed" not in reason_codes(v)
    assert reason_codes(v) == ["visit.unconfirmed"]
    current = s.state().record_hash
    for actor in ("u1", "u2"):
        confirm(s, actor, current)
    assert view(s)["closable"] is True


def test_a_conflict_blocks_closing_and_shows_the_answers():
    s = full_visit()
    s.item("u2", "SC-01", 0, "non_compliant", "未悬挂")  # u1 said compliant
    current = s.state().record_hash
    refuse(s, current)
    for actor in MEMBERS:
        confirm(s, actor, current)
    v = view(s)
    assert reason_codes(v) == ["visit.conflicts"]
    assert reason(v, "visit.conflicts")["details"] == {"items": 1, "results": 0, "signature": False}
    (c,) = v["conflicts"]["items"]
    assert (c["matter"], c["item"]) == ("SC-01", 0)
    assert sorted((a["actor"], a["result"]) for a in c["answers"]) == [
        ("u1", "compliant"),
        ("u2", "non_compliant"),
    ]


def test_stale_acts_and_presence():
    s = Scene()
    s.add("u1", "checkin", near())
    refuse(s, "ab" * 32)  # names a record that is not the current one
    v = view(s)
    assert reason_codes(v) == ["visit.not_signed", "visit.unconfirmed", "visit.presence"]
    assert reason(v, "visit.not_signed")["details"] == {"signature": "stale"}
    assert reason(v, "visit.presence")["details"] == {"present": 1}
    assert v["two_present"] is False


def test_the_view_is_plain_json():
    s = full_visit()
    v = view(s, reports=(report("u1", 1),))
    assert json.loads(json.dumps(v)) == v
    assert v["record_hash"] == s.state().record_hash and v["short_code"] == v["record_hash"][:8]
    assert v["members"][0]["devices"] == [
        {"device_id": "dev-u1", "pending": 1, "rejected": 0, "last_ok_ms": NOW - 1,
         "reported_ms": NOW}
    ]  # fmt: skip


# --- the API, with real phones -------------------------------------------------------------
async def post_status(client, device: str, pending: int, visits: dict | None = None, **kw):
    body = {"pending": pending, "visits": visits or {}, "last_ok_ms": 1_764_000_000_000, **kw}
    return await client.post(f"/api/devices/{device}/status", json=body)


async def test_only_a_device_owner_reports_its_backlog(joint_visit, client):  # noqa: F811
    leader, second, _ = joint_visit.members
    visit = joint_visit.visit
    device = leader.phone.device_id

    r = await post_status(leader.client, device, 3, {visit: 2}, rejected=1)
    assert r.status_code == 200, r.text
    assert r.json()["visits"] == {visit: 2} and r.json()["rejected"] == 1
    r = await post_status(leader.client, device, 1, {visit: 1})
    assert r.status_code == 200
    rows = await DeviceStatus.select().where(DeviceStatus.device_id == device)
    assert len(rows) == 1 and rows[0]["pending"] == 1  # only the latest report is kept

    # not the owner; unknown device; no session; bad bodies — nothing stored
    r = await post_status(second.client, device, 0)
    assert r.status_code == 403 and r.json()["code"] == "device.not_owner"
    r = await post_status(second.client, "f" * 64, 0)
    assert r.status_code == 404 and r.json()["code"] == "device.unknown"
    r = await post_status(second.client, device.upper(), 0)  # not a device id as written
    assert r.status_code == 404 and r.json()["code"] == "device.unknown"
    r = await post_status(client, device, 0)
    assert r.status_code == 401
    r = await post_status(leader.client, device, 1, {visit: 2})  # more per visit than in all
    assert r.status_code == 400 and r.json()["code"] == "request.invalid"
    r = await post_status(leader.client, device, 1, {"not-a-visit": 1})
    assert r.status_code == 400
    r = await post_status(leader.client, device, -1)
    assert r.status_code == 400
    rows = await DeviceStatus.select().where(DeviceStatus.device_id == device)
    assert rows[0]["pending"] == 1

    # a revoked device reports no more, and its last report stops counting
    r = await leader.client.post(f"/api/auth/devices/{device}/revoke")
    assert r.status_code == 200, r.text
    r = await post_status(leader.client, device, 5, {visit: 5})
    assert r.status_code == 403 and r.json()["code"] == "auth.device_revoked"
    team = (await leader.client.get(f"/api/visits/{visit}/team")).json()
    assert team["members"][0]["pending"] == 0 and team["members"][0]["devices"] == []


async def test_who_may_see_the_team_view(joint_visit, as_role, make_user, sign_in):  # noqa: F811
    leader, second, member_b = joint_visit.members
    url = f"/api/visits/{joint_visit.visit}/team"
    for who in (leader.client, second.client, member_b.client):
        assert (await who.get(url)).status_code == 200
    assert (await (await as_role(Role.admin)).client.get(url)).status_code == 200
    insider = await as_role(Role.coordinator, department=member_b.department)
    assert (await insider.client.get(url)).status_code == 200
    r = await (await as_role(Role.coordinator)).client.get(url)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    # an inspector of the same department, not in the group
    stranger = await as_role(Role.inspector, department=leader.department)
    assert (await stranger.client.get(url)).status_code == 403
    assert (await stranger.client.get("/api/visits/not-a-uuid/team")).status_code == 404


async def test_the_leader_closes_a_finished_visit_once(joint_visit, as_role, client):  # noqa: F811
    leader, second, member_b = joint_visit.members
    visit = joint_visit.visit
    matter_a, matter_b = (joint_visit.matters[m.department] for m in (leader, member_b))
    team_url, close_url = f"/api/visits/{visit}/team", f"/api/visits/{visit}/close"

    for m, matter in ((leader, matter_a), (second, matter_a), (member_b, matter_b)):
        r = await m.send(
            m.phone.event("checkin", checkin(), visit=visit),
            m.phone.event("item_result", item(matter, 0), visit=visit),
        )
        assert [a["status"] for a in r.json()["acks"]] == ["accepted"] * 2
    current = (await leader.client.get(f"/api/visits/{visit}")).json()["record_hash"]
    refusal = {"record_hash": current, "reason_code": "refused", "reason": "拒绝签字",
               "witness": {"name": "赵敏"}}  # fmt: skip
    await leader.send(leader.phone.event("signature_refused", refusal, visit=visit))
    for m in (leader, member_b):
        pin = {"record_hash": current, "method": "device_pin"}
        await m.send(m.phone.event("record_confirmed", pin, visit=visit))
    r = await post_status(member_b.client, member_b.phone.device_id, 2, {visit: 2})
    assert r.status_code == 200

    team = (await leader.client.get(team_url)).json()
    assert team["status"] == "assigned" and team["record_hash"] == current
    assert [m["inspector"] for m in team["members"]] == [leader.code, second.code, member_b.code]
    assert [m["is_leader"] for m in team["members"]] == [True, False, False]
    assert all(m["checked_in"] and m["answers"] == 1 for m in team["members"])
    assert team["members"][2]["pending"] == 2 and team["members"][2]["reported_ms"] > 0
    assert team["members"][0]["last_received_ms"] > 0
    assert reason_codes(team) == ["visit.unconfirmed", "visit.pending_sync"]

    # nobody but the leader closes: not a member, not a coordinator, not an admin
    for who in (
        second.client,
        member_b.client,
        (await as_role(Role.admin)).client,
        (await as_role(Role.coordinator, department=leader.department)).client,
    ):
        r = await who.post(close_url, json={})
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    assert (await client.post(close_url, json={})).status_code == 401

    r = await leader.client.post(close_url, json={})
    assert r.status_code == 409 and r.json()["code"] == "visit.unconfirmed"
    details = r.json()["details"]
    assert [m["inspector"] for m in details["members"]] == [second.code]
    assert [x["code"] for x in details["reasons"]] == ["visit.unconfirmed", "visit.pending_sync"]

    pin = {"record_hash": current, "method": "device_pin"}
    await second.send(second.phone.event("record_confirmed", pin, visit=visit))
    r = await leader.client.post(close_url, json={})
    assert r.status_code == 409 and r.json()["code"] == "visit.pending_sync"
    assert r.json()["details"]["members"][0]["inspector"] == member_b.code
    await post_status(member_b.client, member_b.phone.device_id, 0, {})

    r = await leader.client.post(close_url, json={"record_hash": "0" * 64})
    assert r.status_code == 409 and r.json()["code"] == "visit.record_changed"
    assert (await Visit.select(Visit.status).where(Visit.id == visit))[0]["status"] != "closed"

    r = await leader.client.post(close_url, json={"record_hash": current})
    assert r.status_code == 200, r.text
    closed = r.json()["closed"]
    assert r.json()["status"] == "closed" and closed["record_hash"] == current
    assert (await Visit.select(Visit.status).where(Visit.id == visit))[0]["status"] == "closed"

    # the close is a server workflow event in the log, signed with the server's event key
    row = await Event.select().where(Event.event_id == closed["event"]).first()
    assert row["device_id"] == "server" and row["event_type"] == "server.visit_closed"
    assert row["visit"] == visit and row["log_index"] == closed["log_index"]
    event = parse_event(bytes(row["envelope"]))
    assert event.body["by"] == leader.user_id and event.body["inspector"] == leader.code
    assert event.body["record_hash"] == current
    assert event.body["signed"]["type"] == "signature_refused"
    assert len(event.body["confirmations"]) == 3
    spki = (
        event_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    verify_event_signature(envelope_bytes=event.raw, signature_b64url=row["sig"], spki_der=spki)
    entries = await client.get(f"/log/entries?start={row['log_index']}&end={row['log_index'] + 1}")
    assert base64.b64decode(entries.json()["entries"][0]).find(row["hash"].encode()) > 0

    r = await leader.client.post(close_url, json={})
    assert r.status_code == 409 and r.json()["code"] == "visit.closed"

    # later events are still accepted as evidence, and shown as after the close
    late = member_b.phone.event("note", {"text": "补充说明"}, visit=visit)
    r = await member_b.send(late)
    assert r.json()["acks"][0]["status"] == "accepted"
    team = (await second.client.get(team_url)).json()
    assert team["status"] == "closed" and team["closable"] is False
    assert reason_codes(team) == ["visit.closed"]
    assert team["closed"]["by"] == leader.user_id and team["closed"]["name"]
    assert team["closed"]["record_changed"] is True  # the note changed the record
    assert [e["event"] for e in team["after_close"]] == [late.id]
    assert [m["after_close"] for m in team["members"]] == [0, 0, 1]
    # the visit's state ignores the server's entry; the whole log still verifies
    state = (await leader.client.get(f"/api/visits/{visit}")).json()["state"]
    assert not [p for p in state["problems"] if p["code"] == "member.unknown"]
    report_ = await verify_all()
    assert report_.ok, [str(f) for f in report_.failures[:5]]


async def test_a_leader_without_an_account_link_cannot_close(joint_visit, sign_in):  # noqa: F811
    """A leader's user closes; a user of the same name or role who is not that inspector does
    not, even with the role `leader`."""
    leader = joint_visit.members[0]
    other = User(name=unique("组长"), role=Role.leader.value)
    await User.insert(other)
    c = await sign_in(str(other.id))
    r = await c.post(f"/api/visits/{joint_visit.visit}/close", json={})
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    assert leader.user_id != str(other.id)
