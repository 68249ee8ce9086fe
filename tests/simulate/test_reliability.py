"""Issue 3, reliability: SIGKILL the server in the middle of a 20-device simulated sync, restart
it, let the phones resend. Nothing is lost, nothing is stored twice, `onevisit verify` passes
and every checkpoint stays consistent with the log (verify recomputes them all).

The setup (demo directory, task, visits, sessions) runs first, so that the events counted are
the phones' alone: the kill lands while they are syncing, not while the demo is being loaded.
The server's start and death are waited for in threads, so the phones keep running (and
retrying against the dead server) meanwhile."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from onevisit.simulate.run import simulate
from onevisit.simulate.setup import prepare

pytestmark = pytest.mark.slow

SCENARIO = dict(phones=20, visits=6, seed=20261125)
KILL_AFTER = 40  # events the phones have stored when the server is killed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, log) -> subprocess.Popen:
    """Blocking: run it in a thread (asyncio.to_thread), never on the phones' event loop."""
    env = dict(os.environ, ONEVISIT_ORIGIN=f"http://localhost:{port}")
    cmd = [sys.executable, "-m", "onevisit.cli", "serve", "--no-migrate", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise RuntimeError("the server did not start (see server.log)")


async def _kill(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGKILL)
    await asyncio.to_thread(server.wait)


async def test_sigkill_mid_sync_loses_nothing(tmp_path, migrated):
    port = _free_port()
    log = open(tmp_path / "server.log", "ab")  # noqa: SIM115 - held across the restart
    server = await asyncio.to_thread(_start, port, log)
    try:
        plan = await prepare(**SCENARIO)  # in-process writes (the demo's events) end here
        before = await Event.count()
        run = asyncio.create_task(
            simulate(
                base_url=f"http://127.0.0.1:{port}",
                **SCENARIO,
                offline_rate=0.3,
                duplicate_rate=0.1,
                fault_rate=0.0,
                photos=False,
                plan=plan,
            )
        )
        while await Event.count() < before + KILL_AFTER and not run.done():
            await asyncio.sleep(0.02)
        assert not run.done(), "the simulation ended before the kill: make it longer"
        await _kill(server)
        stored_at_kill = await Event.count() - before
        # the phones hit the dead server meanwhile (and while it restarts), and back off
        await asyncio.sleep(0.3)
        server = await asyncio.to_thread(_start, port, log)
        report = await asyncio.wait_for(run, timeout=120)
    finally:
        await _kill(server)
        log.close()

    print(report.text())
    print(f"killed with {stored_at_kill} phone events stored; {report.tally.retries} retries")
    assert stored_at_kill < report.tally.made, "the kill came after the phones were done"
    assert report.tally.retries > 0, "the kill should have interrupted some sends"
    assert report.lost == [] and report.tally.unexpected == [], report.text()
    assert report.ok, report.text()
    # every event the phones made is stored exactly once (ids are unique, none missing)
    assert await Event.count() - before == report.tally.made
    result = await verify_all()
    assert result.ok, [str(f) for f in result.failures[:5]]
