"""A realistic day for the verifier: three phones sync checkins, item results, notes, a photo
whose JPEG went through the real upload API, a passkey confirmation (a software authenticator
enrolled through the real ceremony) and a PIN confirmation; a workflow event of device
"server"; then one phone's key is revoked (its history must still verify)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import httpx

from onevisit.auth.enrolment import issue_enrolment
from onevisit.db import write_transaction
from onevisit.evidence.log import LogAppender, sign_checkpoint
from onevisit.evidence.store import now_ms, server_envelope, store_events
from tests.auth.flows import register_passkey
from tests.auth.softauthn import SoftAuthenticator, b64url
from tests.media.util import jpeg, sha, upload

RECORD_HASH = hashlib.sha256(b"the inspection record of the verify tests").hexdigest()


@dataclass
class Scenario:
    visit: str
    authn: SoftAuthenticator
    ids: dict[str, str] = field(default_factory=dict)  # name → event id
    photo_sha: str = ""


def item(matter: str, position: int) -> dict:
    return {"matter": matter, "item": position, "result": "compliant"}


def confirmation(authn: SoftAuthenticator, record_hash: str, **get_kw) -> dict:
    """A record_confirmed body: an assertion whose challenge is the record hash (§5)."""
    options = {"rpId": "localhost", "challenge": b64url(bytes.fromhex(record_hash))}
    assertion = authn.get(options, **get_kw)
    return {"record_hash": record_hash, "method": "webauthn", "assertion": assertion}


async def accepted(member, *events) -> list[dict]:
    r = await member.send(*events)
    assert r.status_code == 200, r.text
    acks = r.json()["acks"]
    assert [a["status"] for a in acks] == ["accepted"] * len(events), acks
    return acks


async def leader_passkey(joint_visit, app) -> SoftAuthenticator:
    """A software passkey registered for the visit's leader, to confirm records with."""
    authn = SoftAuthenticator(origin="http://localhost:8000")
    link = await issue_enrolment(user_id=joint_visit.members[0].user_id, created_by="test")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as c:
        r = await register_passkey(c, link.token, authn)
        assert r.status_code == 200, r.text
    return authn


async def build(joint_visit, app) -> Scenario:
    leader, second, member_b = joint_visit.members
    visit = joint_visit.visit
    authn = await leader_passkey(joint_visit, app)
    s = Scenario(visit, authn)

    photo = jpeg(seed=7)
    r = await upload(leader.client, photo)
    assert r.status_code in (200, 201, 204), r.text
    s.photo_sha = sha(photo)
    ref = {"sha256": s.photo_sha, "bytes": len(photo), "mime": "image/jpeg"}

    checkin = {"lat_e6": 34_669_900, "lon_e6": 112_442_100, "accuracy_m": 12}
    for m in joint_visit.members:
        matter = joint_visit.matters[m.department]
        await accepted(
            m,
            m.phone.event("checkin", checkin, visit=visit),
            *[m.phone.event("item_result", item(matter, i), visit=visit) for i in range(3)],
            m.phone.event("note", {"text": f"记录 {m.code}"}, visit=visit),
        )
    photo_event = leader.phone.event("photo", {"media": ref, "caption": "门头"}, visit=visit)
    confirm = leader.phone.event("record_confirmed", confirmation(authn, RECORD_HASH), visit=visit)
    await accepted(leader, photo_event, confirm)
    s.ids.update(photo=photo_event.id, confirm=confirm.id)
    pin = {"record_hash": RECORD_HASH, "method": "device_pin"}
    await accepted(member_b, member_b.phone.event("record_confirmed", pin, visit=visit))
    await accepted(second, second.phone.event("note", {"text": "补充"}, visit=visit))

    async with write_transaction():  # a workflow entry of device "server" (§4)
        appender = await LogAppender.open()
        event, sig = await server_envelope(event_type="test_marker", body={"n": 1}, visit=visit)
        await store_events([(event, sig)], appender, received_ms=now_ms())
        await sign_checkpoint(appender)
    s.ids["server"] = event.id

    r = await second.client.post(f"/api/auth/devices/{second.phone.device_id}/revoke")
    assert r.status_code == 200, r.text
    return s
