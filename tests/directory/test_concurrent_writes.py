"""Writers run one at a time on both engines (db.write_transaction): concurrent edits never
collide, and a revision's snapshot never changes after it was answered."""

import asyncio

from onevisit.auth.roles import Role
from onevisit.directory.importing import import_file
from onevisit.directory.subjects import subjects_as_of
from tests.directory.util import SUBJECT_HEADER, csv_bytes, new_uscc, subject_row


async def test_concurrent_edits_of_one_subject_all_succeed(as_role):
    admin = await as_role(Role.admin)
    sid = new_uscc()
    body = {"subject_id": sid, "name": "洛阳并发测试有限公司", "kind": "enterprise"}
    r = await admin.client.post("/api/subjects", json=body)
    assert r.status_code == 201, r.text

    async def rename(i: int):
        return await admin.client.put(
            f"/api/subjects/{sid}", json={"name": f"并发改名{i}", "kind": "enterprise"}
        )

    answers = await asyncio.gather(*(rename(i) for i in range(16)))
    assert [a.status_code for a in answers] == [200] * 16, [a.text for a in answers]
    versions = sorted(a.json()["version"] for a in answers)
    assert versions == list(range(2, 18))  # each answer is the version that edit wrote
    detail = (await admin.client.get(f"/api/subjects/{sid}")).json()
    assert len(detail["history"]) == 16


async def test_snapshot_of_a_revision_never_changes():
    big = [subject_row() for _ in range(3000)]
    small = [subject_row()]

    async def run(rows):
        data = csv_bytes(SUBJECT_HEADER, rows)
        return await import_file(kind="subjects", data=data, filename="f.csv", actor="test")

    first, second = await asyncio.gather(run(big), run(small))
    early, late = sorted([(first, big), (second, small)], key=lambda p: p[0].revision)
    before = {s.subject_id for s in await subjects_as_of(early[0].revision)}
    assert {r["subject_id"] for r in early[1]} <= before
    assert not ({r["subject_id"] for r in late[1]} & before)  # the later batch is not in it
