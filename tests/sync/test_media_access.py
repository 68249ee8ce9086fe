"""Who may read a photo: its uploader, admins, and whoever may see a visit whose accepted
events reference it — not every signed-in user."""

from __future__ import annotations

from onevisit.auth.roles import Role
from onevisit.evidence.events import media_hashes
from tests.media.util import jpeg, sha, upload


def test_media_hashes_finds_every_reference():
    ref = {"sha256": "a" * 64, "bytes": 1, "mime": "image/png"}
    body = {"image": ref, "media": [{"sha256": "b" * 64, "bytes": 2, "mime": "image/jpeg"}, ref]}
    assert media_hashes(body) == ["a" * 64, "b" * 64]
    assert media_hashes({"sha256": "c" * 64}) == []  # not a media reference without bytes/mime


async def test_photo_readable_by_the_group_after_it_is_referenced(joint_visit, as_role):
    leader, _, member_b = joint_visit.members
    data = jpeg(seed=77)
    digest = sha(data)
    assert (await upload(leader.client, data)).status_code == 204
    url = f"/api/media/{digest}"
    assert (await member_b.client.get(url)).status_code == 404  # not referenced by a visit yet

    ref = {"sha256": digest, "bytes": len(data), "mime": "image/jpeg"}
    photo = leader.phone.event("photo", {"media": ref, "caption": "门头"}, visit=joint_visit.visit)
    assert (await leader.send(photo)).json()["acks"][0]["status"] == "accepted"

    assert (await member_b.client.get(url)).status_code == 200  # a member of the group
    insider = await as_role(Role.coordinator, department=member_b.department)
    assert (await insider.client.get(f"{url}/thumb")).status_code == 200
    outsider = await as_role(Role.coordinator)
    assert (await outsider.client.get(url)).status_code == 404
