"""An event may point at an original only if its actor sent those bytes (a complete upload of
their own) or an accepted event of the same visit points at it already: knowing a hash, its size
and its type (a published record lists them) is not enough (docs/sync.md, "Media before the
events"; docs/media.md, "Who holds an object")."""

from __future__ import annotations

from onevisit.auth.roles import Role
from onevisit.planning.visits import create_task, create_visit
from tests.fixtures import unique
from tests.media.util import jpeg, send, sha, start, upload


def ref(data: bytes, mime: str = "image/jpeg") -> dict:
    return {"sha256": sha(data), "bytes": len(data), "mime": mime}


async def test_a_known_hash_without_the_bytes_grants_nothing(joint_visit, as_role):
    """Someone outside the visit stored a photo; a member learns its hash, size and type."""
    owner = await as_role(Role.inspector)
    member = joint_visit.members[2]
    data = jpeg(seed=601)
    assert (await upload(owner.client, data)).status_code == 204
    url = f"/api/media/{sha(data)}"

    created = (await start(member.client, data)).json()
    assert (created["complete"], created["offset"]) == (False, 0)
    photo = member.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    ack = (await member.send(photo)).json()["acks"][0]
    assert ack["status"] == "rejected" and ack["code"] == "media.not_uploaded"
    assert ack["details"] == {"sha256": sha(data), "missing": [sha(data)]}
    assert (await member.client.get(url)).status_code == 404

    # wrong bytes are refused as before and prove nothing
    r = await send(member.client, created["upload_id"], 0, b"\xff" * len(data))
    assert r.status_code == 422 and r.json()["code"] == "media.hash_mismatch"
    assert (await member.send(photo)).json()["acks"][0]["code"] == "media.not_uploaded"

    # every byte, from the member's own phone: the same signed event is accepted now
    r = await send(member.client, created["upload_id"], 0, data)
    assert r.status_code == 204 and r.headers["upload-complete"] == "?1"
    assert (await member.send(photo)).json()["acks"][0]["status"] == "accepted"
    assert (await member.client.get(url)).content == data


async def test_a_stored_size_or_type_is_not_disclosed_to_a_non_holder(joint_visit, as_role):
    owner = await as_role(Role.inspector)
    member = joint_visit.members[2]
    data = jpeg(seed=602)
    assert (await upload(owner.client, data)).status_code == 204
    wrong = {**ref(data), "bytes": len(data) + 1}
    photo = member.phone.event("photo", {"media": wrong}, visit=joint_visit.visit)
    ack = (await member.send(photo)).json()["acks"][0]
    assert ack["code"] == "media.not_uploaded"  # like a missing object, not media.mismatch


async def test_a_co_members_upload_alone_does_not_count(joint_visit):
    """The leader's upload may belong to another visit: only a reference of this visit makes
    it this visit's."""
    leader, _, member_b = joint_visit.members
    data = jpeg(seed=603)
    assert (await upload(leader.client, data)).status_code == 204
    photo = member_b.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    assert (await member_b.send(photo)).json()["acks"][0]["code"] == "media.not_uploaded"
    assert (await member_b.client.get(f"/api/media/{sha(data)}")).status_code == 404


async def test_one_photographs_another_references(joint_visit):
    """Once the leader's photo event is accepted, everyone who may see the visit may read the
    photo: another member's event may name it too, without uploading it."""
    leader, second, member_b = joint_visit.members
    data = jpeg(seed=604)
    assert (await upload(leader.client, data)).status_code == 204
    early = second.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    assert (await second.send(early)).json()["acks"][0]["code"] == "media.not_uploaded"

    photo = leader.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    assert (await leader.send(photo)).json()["acks"][0]["status"] == "accepted"
    assert (await second.send(early)).json()["acks"][0]["status"] == "accepted"  # the resend
    again = member_b.phone.event(
        "photo", {"media": ref(data), "caption": "同一张"}, visit=joint_visit.visit
    )
    assert (await member_b.send(again)).json()["acks"][0]["status"] == "accepted"


async def test_a_reference_in_another_visit_does_not_count(joint_visit):
    """The leader's photo named in a visit member B is not part of stays out of B's reach."""
    leader, second, member_b = joint_visit.members
    own_dep = leader.department
    task = await create_task(
        code=unique("task"), name="单部门检查", initiator=own_dep,
        matters=[joint_visit.matters[own_dep]], created_by="test",
    )  # fmt: skip
    elsewhere = await create_visit(
        task_id=task, subject_id=unique("CP-"),
        members=[(leader.code, own_dep), (second.code, own_dep)],
    )  # fmt: skip
    data = jpeg(seed=605)
    assert (await upload(leader.client, data)).status_code == 204
    photo = leader.phone.event("photo", {"media": ref(data)}, visit=elsewhere)
    assert (await leader.send(photo)).json()["acks"][0]["status"] == "accepted"
    other = member_b.phone.event("photo", {"media": ref(data)}, visit=joint_visit.visit)
    assert (await member_b.send(other)).json()["acks"][0]["code"] == "media.not_uploaded"
    assert (await member_b.client.get(f"/api/media/{sha(data)}")).status_code == 404
    # the second inspector of that visit may read it, and so name it there
    assert (await second.client.get(f"/api/media/{sha(data)}")).status_code == 200
