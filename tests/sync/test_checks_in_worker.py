"""A large sync batch is parsed and its signatures verified partly in a worker process
(sync/ingest.authenticate, sync/checks.check_share): every answer is the one the in-process
path gives, item by item. Here every batch takes that path (PARALLEL_MIN_EVENTS = 1), and the
sync and chain tests run again under it."""

from __future__ import annotations

import os
import signal

import pytest

from onevisit import workers
from onevisit.simulate.phone import Phone
from onevisit.sync import ingest
from onevisit.sync.checks import check_share
from tests.sync import test_chain_api, test_sync
from tests.sync.test_sync import stored_count

pytestmark = pytest.mark.skipif(workers.worker_count() < 1, reason="one CPU: no worker process")


@pytest.fixture(autouse=True)
def in_a_worker(monkeypatch):
    monkeypatch.setattr(ingest, "PARALLEL_MIN_EVENTS", 1)
    monkeypatch.setattr(ingest, "WORKER_SHARE", 0.5)
    shared = []
    submit = workers.submit

    def spy(function, *args):
        if function is check_share:
            shared.append(len(args[0]))
        return submit(function, *args)

    monkeypatch.setattr(workers, "submit", spy)
    return shared


# the sync and chain tests, again with the worker taking a share of every batch
for _module in (test_sync, test_chain_api):
    for _name in dir(_module):
        if _name.startswith("test_"):
            globals()[_name] = getattr(_module, _name)


async def test_every_item_gets_the_answer_of_the_in_process_path(joint_visit, in_a_worker):
    leader, second, _ = joint_visit.members
    v = joint_visit.visit
    stranger = Phone(actor=leader.user_id)
    good = [leader.phone.event("note", {"text": f"第{i}条"}, visit=v) for i in range(4)]
    forged = second.phone.event("note", {"text": "x"}, visit=None)  # another device's signature
    spaced = good[1].envelope.replace(",", ", ", 1)
    batch = [
        good[0].wire(),  # worker's share
        {"envelope": good[1].envelope, "sig": forged.sig},  # worker's: sig.invalid
        stranger.event("note", {"text": "陌生"}, visit=None).wire(),  # worker's: device.unknown
        {"envelope": spaced, "sig": good[1].sig},  # worker's: event.not_canonical
        good[1].wire(),  # worker's share, the chain goes on
        {"envelope": "{]", "sig": "x"},  # own share: not JSON
        good[3].wire(),  # own share: a gap (good[2] is missing)
        good[2].wire(),  # own share
    ]
    acks = (await leader.client.post("/api/sync", json={"events": batch})).json()["acks"]
    assert in_a_worker == [4]
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
    assert [await stored_count(e.id) for e in good] == [1, 1, 1, 0]
    again = (await leader.send(good[3])).json()["acks"]
    assert again[0]["status"] == "accepted"


async def test_a_dead_worker_costs_nothing_but_time(joint_visit, in_a_worker):
    leader = joint_visit.members[0]
    executor = workers.pool()
    assert executor is not None
    first = leader.phone.event("note", {"text": "起"}, visit=joint_visit.visit)
    assert (await leader.send(first)).json()["acks"][0]["status"] == "accepted"
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    events = [
        leader.phone.event("note", {"text": f"{i}"}, visit=joint_visit.visit) for i in range(3)
    ]
    acks = (await leader.send(*events)).json()["acks"]
    assert [a["status"] for a in acks] == ["accepted"] * 3  # checked here instead
    assert workers._executor is not executor  # dropped: the next batch starts a new pool
    more = leader.phone.event("note", {"text": "续"}, visit=joint_visit.visit)
    assert (await leader.send(more)).json()["acks"][0]["status"] == "accepted"


async def test_envelopes_naming_many_devices_are_checked_in_process(joint_visit, in_a_worker):
    """Device ids are found in the envelopes before they are parsed, so any text counts: a
    batch naming more devices than a phone would is not split, and reads only the keys its
    parsed events name."""
    leader = joint_visit.members[0]
    many = ",".join(f'"device":"{i:064x}"' for i in range(ingest.MAX_NAMED_DEVICES + 1))
    good = leader.phone.event("note", {"text": "正常"}, visit=joint_visit.visit)
    batch = [{"envelope": "{" + many + "}", "sig": "x"}, good.wire()]
    acks = (await leader.client.post("/api/sync", json={"events": batch})).json()["acks"]
    assert [(a["status"], a.get("code")) for a in acks] == [
        ("rejected", "json.duplicate_key"),
        ("accepted", None),
    ]
    assert in_a_worker == []  # not handed to the worker
