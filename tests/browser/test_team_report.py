"""pwa/outbox.js reports the phone's backlog after a sync run (docs/visits.md "Team view"),
in real Chromium against the real server: what reaches the server's team view, what happens
offline, and that a failing or hanging report neither breaks nor delays the sync."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os

import pytest

from onevisit.auth.tables import DeviceStatus
from tests.browser.field import (
    field_fixture,  # noqa: F401 (the `field` fixture)
    record,
    run,
    status,
    sync,
)

pytestmark = pytest.mark.browser
STATUS = "**/api/devices/*/status"


async def stored(user: str) -> list[dict]:
    return await DeviceStatus.select().where(DeviceStatus.app_user == user).output(load_json=True)


async def fresh(page, user: str) -> None:
    """The app reported once at start (a first report is never known delivered): let it land,
    then forget it on both sides so each test starts from no report."""
    await run(page, "await o.reported(); await db.meta.set('backlog_report', null);")
    await DeviceStatus.delete().where(DeviceStatus.app_user == user)


def note(visit: str, text: str) -> dict:
    return {"type": "note", "visit": visit, "body": {"text": text}}


def unuploaded_photo(visit: str) -> dict:
    """A photo event naming bytes this phone never stored: the server answers
    media.not_uploaded (retryable), so the row stays queued after a run that reached it."""
    sha = hashlib.sha256(os.urandom(16)).hexdigest()
    media = {"sha256": sha, "bytes": 1234, "mime": "image/jpeg"}
    return {"type": "photo", "visit": visit, "body": {"media": media}}


async def test_the_backlog_reaches_the_team_view(field, page_with_authenticator):
    tab = page_with_authenticator
    page = tab.page
    await fresh(page, field.user)

    # offline: the run reaches nothing, so nothing is reported
    await tab.context.set_offline(True)
    await record(page, field, [note(field.visit, "离线笔记")])
    got = await sync(page)
    assert got["error"] == "network.unreachable" and got["reached"] is False
    assert await run(page, "return o.reported();") is False
    assert await stored(field.user) == []
    await tab.context.set_offline(False)

    # back online: all verified, and a report of an empty backlog
    got = await sync(page)
    assert got["reached"] is True and got["verified"] == 1, got
    assert await run(page, "return o.reported();") is True
    (row,) = await stored(field.user)
    assert (row["pending"], row["visits"], row["rejected"]) == (0, {}, 0)
    assert row["last_ok_ms"] == (await status(page))["last_ok_ms"]

    # one event waits on its photo: the report counts it for its visit
    await record(page, field, [unuploaded_photo(field.visit)])
    got = await sync(page)
    assert got["reached"] is True and got["waiting"], got
    assert await run(page, "return o.reported();") is True
    (row,) = await stored(field.user)
    assert row["pending"] == 1 and row["visits"] == {field.visit: 1}, row
    team = await run(page, "return api(`/api/visits/${arg}/team`);", field.visit)
    me = team["members"][0]
    assert me["actor"] == field.user and me["is_leader"] is True
    assert me["pending"] == 1 and me["reported_ms"] == row["reported_ms"]
    assert "visit.pending_sync" in [r["code"] for r in team["reasons"]]


async def test_a_failing_or_hanging_report_never_holds_up_sync(field, page_with_authenticator):
    page = page_with_authenticator.page
    await fresh(page, field.user)

    # the report fails: the sync is not affected, and the next run (with nothing to send)
    # makes the lost report good
    await page.route(STATUS, lambda route: route.fulfill(status=500, body="{}"))
    await record(page, field, [note(field.visit, "一")])
    got = await sync(page)
    assert got["verified"] == 1 and got["error"] is None, got
    assert await run(page, "return o.reported();") is False
    assert await stored(field.user) == []
    await page.unroute(STATUS)
    got = await sync(page)
    assert got["sent"] == 0 and got["reached"] is False
    assert await run(page, "return o.reported();") is True
    (row,) = await stored(field.user)
    assert row["pending"] == 0
    # and once delivered, a run with nothing new sends nothing more
    await sync(page)
    assert await run(page, "return o.reported();") is False

    # the report hangs: sync() still resolves at once, and only one report per run is made
    calls: list[str] = []
    hold = asyncio.Event()

    async def hang(route) -> None:
        calls.append(route.request.url)
        await hold.wait()
        with contextlib.suppress(Exception):  # unroute() may have settled it first
            await route.abort()

    await page.route(STATUS, hang)
    await record(page, field, [note(field.visit, "二")])
    got = await asyncio.wait_for(sync(page), timeout=5)
    assert got["verified"] == 1, got
    assert (await status(page))["queued"] == 0
    assert len(calls) == 1
    hold.set()
    await page.unroute(STATUS)
