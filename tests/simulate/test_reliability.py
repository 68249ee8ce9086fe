"""Issue 3, reliability: SIGKILL the server in the middle of a 20-device simulated sync, restart
it, let the phones resend. Nothing is lost, nothing is stored twice, `onevisit verify` passes
and every checkpoint stays consistent with the log (verify recomputes them all)."""

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

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, log) -> subprocess.Popen:
    env = dict(os.environ, ONEVISIT_ORIGIN=f"http://localhost:{port}")
    cmd = [sys.executable, "-m", "onevisit.cli", "serve", "--no-migrate", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


async def test_sigkill_mid_sync_loses_nothing(tmp_path, migrated):
    port = _free_port()
    log = open(tmp_path / "server.log", "ab")  # noqa: SIM115 - held across the restart
    server = _start(port, log)
    before = await Event.count()
    try:
        run = asyncio.create_task(
            simulate(
                base_url=f"http://127.0.0.1:{port}",
                phones=20,
                visits=6,
                seed=20261125,
                offline_rate=0.3,
                duplicate_rate=0.1,
                fault_rate=0.0,
                photos=False,
            )
        )
        while await Event.count() < before + 40 and not run.done():  # the sync is under way
            await asyncio.sleep(0.02)
        assert not run.done(), "the simulation ended before the kill: make it longer"
        server.send_signal(signal.SIGKILL)
        server.wait()
        await asyncio.sleep(0.3)  # phones hit a dead server meanwhile, and back off
        server = _start(port, log)
        report = await asyncio.wait_for(run, timeout=240)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
        log.close()

    assert report.tally.retries > 0, "the kill should have interrupted some sends"
    assert report.lost == [] and report.tally.unexpected == [], report.text()
    assert report.ok, report.text()
    # every event the phones made is stored exactly once (ids are unique, none missing)
    assert await Event.count() - before == report.tally.made
    result = await verify_all()
    assert result.ok, [str(f) for f in result.failures[:5]]
