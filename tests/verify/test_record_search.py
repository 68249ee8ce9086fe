"""Which state of a visit a record hash is found in (field/public.py, pure): the current record;
the log just before the act naming it; a view that missed a few events synced just before the
act; never one further back than the bounded search, nor one only a non-member's act names."""

from __future__ import annotations

from onevisit.field.projection import project_visit
from onevisit.field.public import SEARCH_BACK, _find_in_visit
from tests.field.factory import Log, Phone, visit_info

INFO = visit_info()
CHECKIN = {"lat_e6": 30_274_084, "lon_e6": 120_155_070, "accuracy_m": 5}


def _hash(log: Log, n: int | None = None) -> str:
    entries = log.entries if n is None else log.entries[:n]
    return project_visit(visit=INFO, events=entries, now_ms=0).record_hash


def _confirm(phone: Phone, record_hash: str):
    return phone.make("record_confirmed", {"record_hash": record_hash, "method": "device_pin"})


def _start() -> tuple[Log, Phone, Phone]:
    log, leader, other = Log(), Phone("u1"), Phone("u3")
    log.add(leader.make("checkin", CHECKIN))
    for i in range(3):
        log.add(leader.make("item_result", {"matter": "SC-01", "item": i, "result": "compliant"}))
    return log, leader, other


def test_the_current_record_and_an_earlier_one_are_found():
    log, leader, other = _start()
    first = _hash(log)
    confirm = log.add(_confirm(leader, first))
    found = _find_in_visit(INFO, log.entries, first)
    assert found is not None and found.current
    assert [r.event.hash for r in found.acts] == [confirm.hash]
    assert len(found.behind) == 4  # the check-in and three results; not the act
    log.add(other.make("note", {"text": "后来的备注"}))
    found = _find_in_visit(INFO, log.entries, first)
    assert found is not None and not found.current
    assert len(found.behind) == 4 and found.record["notes"] == []


def test_a_view_that_missed_events_synced_just_before_the_act():
    log, leader, other = _start()
    seen = _hash(log)  # what the leader's phone showed
    for i in range(SEARCH_BACK):  # the other phone syncs first
        log.add(other.make("note", {"text": f"另一台手机的备注{i}"}))
    log.add(_confirm(leader, seen))
    found = _find_in_visit(INFO, log.entries, seen)
    assert found is not None and len(found.behind) == 4


def test_a_view_staler_than_the_search_is_not_found():
    log, leader, other = _start()
    seen = _hash(log)
    for i in range(SEARCH_BACK + 1):
        log.add(other.make("note", {"text": f"另一台手机的备注{i}"}))
    log.add(_confirm(leader, seen))
    assert _find_in_visit(INFO, log.entries, seen) is None


def test_acts_of_non_members_and_hashes_never_a_state_find_nothing():
    log, leader, _ = _start()
    record = _hash(log)
    log.add(_confirm(Phone("stranger"), record))
    assert _find_in_visit(INFO, log.entries, record) is None  # only a stranger named it
    log.add(_confirm(leader, "ab" * 32))
    assert _find_in_visit(INFO, log.entries, "ab" * 32) is None
