"""A batch's signatures are verified by a worker process while the server parses the rest and
does the batch's database work (sync/checks.Signatures, sync/ingest.ingest_batch); a signature
that fails rolls that work back and the batch is checked again in order. Every answer must be
the one the plain in-order checks give, item by item, and nothing of a rejected event stored.
Here every batch takes the worker path (chunks of one event), and the sync and chain tests
run again under it."""

from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures import Future

import pytest

from onevisit import workers
from onevisit.evidence.errors import SignatureInvalid
from onevisit.evidence.tables import Checkpoint, LogLeaf
from onevisit.simulate.phone import Phone
from onevisit.sync import checks
from onevisit.sync.checks import SignatureJob, Signatures, signature_failures
from tests.sync import test_chain_api, test_sync
from tests.sync.test_sync import stored_count

pytestmark = pytest.mark.skipif(workers.worker_count() < 1, reason="one CPU: no worker process")


@pytest.fixture(autouse=True)
def in_a_worker(monkeypatch):
    """Chunks of one event, so every batch hands its signatures over; records what went."""
    monkeypatch.setattr(Signatures, "CHUNK", 1)
    handed = []
    submit = workers.submit

    def spy(function, *args):
        if function is signature_failures:
            handed.extend(job.position for job in args[0])
        return submit(function, *args)

    monkeypatch.setattr(workers, "submit", spy)
    return handed


# the sync and chain tests, again with every batch's signatures verified beside the database work
for _module in (test_sync, test_chain_api):
    for _name in dir(_module):
        if _name.startswith("test_"):
            globals()[_name] = getattr(_module, _name)


async def test_every_item_gets_the_answer_of_the_in_order_checks(joint_visit, in_a_worker):
    leader, second, _ = joint_visit.members
    v = joint_visit.visit
    stranger = Phone(actor=leader.user_id)
    good = [leader.phone.event("note", {"text": f"第{i}条"}, visit=v) for i in range(4)]
    forged = second.phone.event("note", {"text": "x"}, visit=None)  # another device's signature
    spaced = good[1].envelope.replace(",", ", ", 1)
    leaves, checkpoints = await LogLeaf.count(), await Checkpoint.count()
    batch = [
        good[0].wire(),
        {"envelope": good[1].envelope, "sig": forged.sig},  # sig.invalid: the work is redone
        stranger.event("note", {"text": "陌生"}, visit=None).wire(),  # device.unknown
        {"envelope": spaced, "sig": good[1].sig},  # event.not_canonical
        good[1].wire(),  # the chain goes on after good[0]
        {"envelope": "{]", "sig": "x"},  # not JSON
        good[3].wire(),  # a gap: good[2] is missing
        good[2].wire(),
    ]
    acks = (await leader.client.post("/api/sync", json={"events": batch})).json()["acks"]
    assert [(a["status"], a.get("code")) for a in acks] == [
        ("accepted", None),
        ("rejected", "sig.invalid"),
        ("rejected", "device.unknown"),
        ("rejected", "event.not_canonical"),
        ("accepted", None),
        ("rejected", "json.invalid"),
        ("rejected", "chain.gap"),
        ("accepted", None),
    ]
    assert 1 in in_a_worker  # the forged signature was the worker's to find
    assert [await stored_count(e.id) for e in good] == [1, 1, 1, 0]
    # the rolled-back attempt left nothing: three leaves and one checkpoint more, no more
    assert await LogLeaf.count() == leaves + 3
    assert await Checkpoint.count() == checkpoints + 1
    indexes = [a["log_index"] for a in acks if a["status"] == "accepted"]
    assert indexes == list(range(leaves, leaves + 3))
    again = (await leader.send(good[3])).json()["acks"]
    assert again[0]["status"] == "accepted"


async def test_a_forged_duplicate_is_still_refused(joint_visit):
    """A resend is checked like any event: the same id and bytes with a bad signature is
    sig.invalid, not a duplicate, and the good events beside it are stored once."""
    leader, second, _ = joint_visit.members
    first = leader.phone.event("note", {"text": "首条"}, visit=joint_visit.visit)
    assert (await leader.send(first)).json()["acks"][0]["status"] == "accepted"
    other = second.phone.event("note", {"text": "x"}, visit=None)
    nxt = leader.phone.event("note", {"text": "次条"}, visit=joint_visit.visit)
    batch = [{"envelope": first.envelope, "sig": other.sig}, nxt.wire()]
    acks = (await leader.client.post("/api/sync", json={"events": batch})).json()["acks"]
    assert [(a["status"], a.get("code")) for a in acks] == [
        ("rejected", "sig.invalid"),
        ("accepted", None),
    ]
    assert await stored_count(first.id) == 1 and await stored_count(nxt.id) == 1


async def test_a_dead_worker_costs_nothing_but_time(joint_visit, in_a_worker):
    leader = joint_visit.members[0]
    first = leader.phone.event("note", {"text": "起"}, visit=joint_visit.visit)
    assert (await leader.send(first)).json()["acks"][0]["status"] == "accepted"
    executor = workers.pool()
    assert executor is not None and in_a_worker
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    events = [
        leader.phone.event("note", {"text": f"{i}"}, visit=joint_visit.visit) for i in range(3)
    ]
    acks = (await leader.send(*events)).json()["acks"]
    assert [a["status"] for a in acks] == ["accepted"] * 3  # verified here instead
    assert workers._executor is not executor  # dropped: the next batch starts a new pool
    more = leader.phone.event("note", {"text": "续"}, visit=joint_visit.visit)
    assert (await leader.send(more)).json()["acks"][0]["status"] == "accepted"


def _jobs(count: int, bad: set[int]) -> list[SignatureJob]:
    phone, other = Phone(actor="a"), Phone(actor="a")
    jobs = []
    for i in range(count):
        event = phone.event("note", {"text": f"{i}"}, visit=None)
        sig = other.event("note", {"text": "x"}, visit=None).sig if i in bad else event.sig
        jobs.append(SignatureJob(i, event.envelope.encode(), sig, phone.spki))
    return jobs


async def test_two_chunks_at_a_time_and_the_rest_verified_here(monkeypatch):
    """The worker holds two chunks at a time; each one it finishes brings the next over (also
    while this process is busy elsewhere); when the answers are wanted, this process verifies
    the chunks the worker has not got. Every failure is found, in position order. The worker's
    futures are completed by the test, to see each step."""
    monkeypatch.setattr(Signatures, "CHUNK", 4)
    handed: list[tuple[list[SignatureJob], Future]] = []

    def submit(function, jobs):
        handed.append((jobs, Future()))
        return handed[-1][1]

    monkeypatch.setattr(workers, "submit", submit)
    jobs = _jobs(40, bad={0, 13, 39})
    signatures = Signatures(expected=len(jobs))
    for job in jobs:
        signatures.add(job)
    assert [len(j) for j, _ in handed] == [4, 4]  # the other eight chunks wait here

    first, done = handed[0]
    done.set_result(signature_failures(first))
    await asyncio.sleep(0)  # its callback reaches the event loop
    assert len(handed) == 3 and handed[2][0][0].position == 8  # the next chunk went over

    answer = asyncio.create_task(signatures.failures())
    while not answer.done():  # the worker answers whatever it holds
        for held, future in handed:
            if not future.done():
                future.set_result(signature_failures(held))
        await asyncio.sleep(0)
    failed = answer.result()
    assert list(failed) == [0, 13, 39]
    assert all(isinstance(e, SignatureInvalid) for e in failed.values())
    verified_there = {job.position for held, _ in handed for job in held}
    assert len(verified_there) < len(jobs) and 39 not in verified_there  # the last: here


async def test_a_small_batch_is_verified_in_process(monkeypatch):
    monkeypatch.setattr(Signatures, "CHUNK", 32)
    calls = []
    monkeypatch.setattr(workers, "submit", lambda *a: calls.append(a))
    jobs = _jobs(Signatures.CHUNK - 1, bad={2})
    signatures = Signatures(expected=len(jobs))
    for job in jobs:
        signatures.add(job)
    assert list(await signatures.failures()) == [2] and calls == []


def test_signature_failures_names_each_bad_one():
    jobs = _jobs(5, bad={1, 4})
    failed = signature_failures(jobs)
    assert sorted(failed) == [1, 4]
    assert checks.signature_failures(jobs[:1]) == {}
