"""An empty log (before the first sync) answers /log/checkpoint with a signed size-0 checkpoint
(root SHA-256 of the empty string, RFC 6962 §2.1), and `onevisit verify` accepts it and the
checkpoints after it. On a new database of the test engine, in a subprocess (the shared test
database is never empty)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tests.verify.copies import fresh_database, run_module


async def test_an_empty_log_answers_a_signed_size_0_checkpoint(tmp_path):
    async with fresh_database(tmp_path) as url:
        result = await asyncio.to_thread(run_module, "tests.verify.empty_log", url)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        assert result.stdout.rstrip().endswith("empty log: OK")
        cmd = [sys.executable, "-m", "onevisit.cli", "verify"]
        env = {**os.environ, "ONEVISIT_DATABASE_URL": url}
        cli = await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert cli.stdout.startswith("verify: OK — 1 events from 1 devices, 1 leaves"), cli.stdout
    assert "2 checkpoints (latest size 1)" in cli.stdout, cli.stdout
