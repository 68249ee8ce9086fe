"""An event that references media is accepted only once each original is stored completely,
with the size and type the reference names (docs/sync.md, "Media before the events")."""

from __future__ import annotations

from onevisit.evidence.tables import Event, MediaRef
from tests.media.util import jpeg, png, send, sha, start, upload


def ref(data: bytes, mime: str = "image/jpeg") -> dict:
    return {"sha256": sha(data), "bytes": len(data), "mime": mime}


async def stored(event_id: str) -> bool:
    return await Event.exists().where(Event.event_id == event_id)


async def test_not_uploaded_waits_then_the_same_events_are_accepted(joint_visit):
    leader = joint_visit.members[0]
    data = jpeg(seed=501)
    photo = leader.phone.event("photo", {"media": ref(data), "caption": "门头"},
                               visit=joint_visit.visit)  # fmt: skip
    note = leader.phone.event("note", {"text": "拍照后"}, visit=joint_visit.visit)
    acks = (await leader.send(photo, note)).json()["acks"]
    assert acks[0]["status"] == "rejected" and acks[0]["code"] == "media.not_uploaded"
    assert acks[0]["details"] == {"sha256": sha(data), "missing": [sha(data)]}
    # the chain waits on the photo: the next event is a gap, not stored either
    assert acks[1]["code"] == "chain.gap" and acks[1]["details"]["expected_seq"] == photo.seq
    assert not await stored(photo.id) and not await stored(note.id)
    assert not await MediaRef.exists().where(MediaRef.sha256 == sha(data))

    # the phone uploads, then resends the very same signed events
    assert (await upload(leader.client, data)).status_code == 204
    acks = (await leader.send(photo, note)).json()["acks"]
    assert [a["status"] for a in acks] == ["accepted", "accepted"]


async def test_a_partial_upload_is_not_stored(joint_visit):
    leader = joint_visit.members[0]
    data = jpeg(seed=502)
    created = (await start(leader.client, data)).json()
    r = await send(leader.client, created["upload_id"], 0, data[: len(data) // 2])
    assert r.status_code == 204
    photo = leader.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    ack = (await leader.send(photo)).json()["acks"][0]
    assert (ack["code"], ack["details"]["sha256"]) == ("media.not_uploaded", sha(data))
    r = await send(leader.client, created["upload_id"], len(data) // 2, data[len(data) // 2 :])
    assert r.headers["upload-complete"] == "?1"
    assert (await leader.send(photo)).json()["acks"][0]["status"] == "accepted"


async def test_every_reference_counts_and_all_missing_are_named(joint_visit):
    """A signature names its image and its strokes: both must be stored."""
    leader = joint_visit.members[0]
    image, strokes = png(120, 40), b'{"strokes":[[{"x":1,"y":2,"p":500,"t":0}]]}'
    body = {
        "record_hash": "ab" * 32,
        "signer_name": "陈强",
        "signer_role": "法定代表人",
        "image": ref(image, "image/png"),
        "strokes": ref(strokes, "application/json"),
    }
    signature = leader.phone.event("signature", body, visit=joint_visit.visit)
    ack = (await leader.send(signature)).json()["acks"][0]
    assert ack["details"]["missing"] == [sha(image), sha(strokes)]
    assert (await upload(leader.client, image, mime="image/png", purpose="signature")).is_success
    ack = (await leader.send(signature)).json()["acks"][0]
    assert ack["details"] == {"sha256": sha(strokes), "missing": [sha(strokes)]}
    r = await upload(leader.client, strokes, mime="application/json", purpose="signature")
    assert r.status_code == 204, r.text
    assert (await leader.send(signature)).json()["acks"][0]["status"] == "accepted"


async def test_a_reference_with_another_size_or_type_is_final(joint_visit):
    leader = joint_visit.members[0]
    data = jpeg(seed=503)
    assert (await upload(leader.client, data)).status_code == 204
    for wrong, stored_as in (
        ({**ref(data), "bytes": len(data) + 1}, {"bytes": len(data)}),
        ({**ref(data), "mime": "image/png"}, {"mime": "image/jpeg"}),
    ):
        seq, prev = leader.phone.seq, leader.phone.prev
        photo = leader.phone.event("photo", {"media": wrong}, visit=joint_visit.visit)
        ack = (await leader.send(photo)).json()["acks"][0]
        assert ack["code"] == "media.mismatch"
        assert ack["details"] == {"sha256": sha(data), "stored": stored_as}
        assert not await stored(photo.id)
        leader.phone.rewind(seq=seq, prev=prev)


async def test_a_correction_carries_media_too(joint_visit):
    leader = joint_visit.members[0]
    data = jpeg(seed=504)
    assert (await upload(leader.client, data)).status_code == 204
    photo = leader.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    assert (await leader.send(photo)).json()["acks"][0]["status"] == "accepted"
    other = jpeg(seed=505)
    fix = {"supersedes": photo.id, "reason": "换一张", "body": {"media": ref(other)}}
    seq, prev = leader.phone.seq, leader.phone.prev
    ack = (await leader.send(leader.phone.event("correction", fix, visit=joint_visit.visit))).json()
    assert ack["acks"][0]["code"] == "media.not_uploaded"
    leader.phone.rewind(seq=seq, prev=prev)
    # the inner body is not shape-checked before the projection: a malformed reference is final
    bad = {**fix, "body": {"media": {"sha256": 7, "bytes": 1, "mime": "image/jpeg"}}}
    ack = (await leader.send(leader.phone.event("correction", bad, visit=joint_visit.visit))).json()
    assert ack["acks"][0]["code"] == "event.body_invalid"


async def test_naming_someone_elses_hash_before_it_is_stored_grants_nothing(joint_visit):
    """Media read access follows accepted references: a reference to an original that is not
    stored yet is refused, so it cannot wait in the log for the owner's upload."""
    leader, _, member_b = joint_visit.members
    data = jpeg(seed=506)
    photo = member_b.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    assert (await member_b.send(photo)).json()["acks"][0]["code"] == "media.not_uploaded"
    assert (await upload(leader.client, data)).status_code == 204  # the owner's original
    assert (await member_b.client.get(f"/api/media/{sha(data)}")).status_code == 404
