"""The simulation in-process against the real app (ASGI transport): phones with offline gaps,
duplicate resends and scenario faults; nothing is lost and every visit ends signed and
confirmed by all its members."""

from __future__ import annotations

import httpx

from onevisit.evidence.tables import Event
from onevisit.simulate.run import simulate


async def test_four_phones_two_visits_lose_nothing(app):
    report = await simulate(
        phones=4, visits=2, seed=7, offline_rate=0.3, duplicate_rate=0.3, fault_rate=0.1,
        photos=True, transport=httpx.ASGITransport(app=app),
    )  # fmt: skip
    print(report.text())
    t = report.tally
    assert report.lost == [] and t.unexpected == [], report.text()
    assert t.accepted == t.made - t.faults
    assert t.duplicate_resends > 0 and t.duplicate > 0  # resends acknowledged as duplicates
    assert t.offline_gaps > 0
    assert set(t.rejected) <= {"matter.not_served", "chain.gap"}
    assert t.rejected["matter.not_served"] == t.faults > 0 and t.resigned > 0
    assert report.media.uploaded >= 4 and report.media.chunks >= 2 * report.media.uploaded
    assert len(report.checks) == 2
    for check in report.checks:
        assert check.two_present and check.all_answered, check
        assert check.signature_current, check
        assert check.confirmed_by == check.members == 4, check
    # every accepted event is stored exactly once
    assert await Event.count().where(Event.event_type == "record_confirmed") >= 8


async def test_same_seed_same_scenario(app):
    kw = dict(phones=4, visits=1, offline_rate=0.3, duplicate_rate=0.2, fault_rate=0.1,
              photos=False, transport=httpx.ASGITransport(app=app))  # fmt: skip
    a = await simulate(seed=11, **kw)
    b = await simulate(seed=11, **kw)
    assert a.ok and b.ok, a.text() + "\n" + b.text()
    fields = ("made", "sent", "batches", "accepted", "duplicate", "faults", "offline_gaps")
    assert [getattr(a.tally, f) for f in fields] == [getattr(b.tally, f) for f in fields]
