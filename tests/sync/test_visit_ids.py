"""A visit id that is not a UUID is an unknown visit (a coded rejection), on both engines."""

from __future__ import annotations

from onevisit.auth.roles import Role
from onevisit.simulate.phone import Phone


async def test_a_visit_id_that_is_no_uuid_is_unknown(make_user, sign_in):
    user_id = await make_user(role=Role.inspector)
    client = await sign_in(user_id)
    phone = Phone(actor=user_id)
    r = await client.post("/api/auth/devices", json={"spki": phone.spki_b64url})
    assert r.status_code == 201, r.text
    for visit in ("not-a-uuid", "0" * 64, "01937000-0000-7000-8000-00000000000Z"):
        seq, prev = phone.seq, phone.prev
        event = phone.event("note", {"text": "x"}, visit=visit)
        r = await client.post("/api/sync", json={"events": [event.wire()]})
        assert r.status_code == 200, r.text
        ack = r.json()["acks"][0]
        assert ack["status"] == "rejected" and ack["code"] == "visit.unknown", ack
        phone.rewind(seq=seq, prev=prev)  # nothing of a rejected event is stored


async def test_reading_a_visit_by_a_malformed_id_is_not_found(make_user, sign_in):
    client = await sign_in(await make_user(role=Role.inspector))
    for visit in ("not-a-uuid", "01937000-0000-7000-8000-00000000000Z", "x" * 300):
        r = await client.get(f"/api/visits/{visit}")
        assert r.status_code == 404 and r.json()["code"] == "request.not_found", r.text
