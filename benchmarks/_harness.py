"""Shared by the benchmarks: each engine is measured in its own child process (piccolo picks
the engine when onevisit is imported, so the environment is set first) against a fresh
database — a temporary SQLite file, or a temporary database on ONEVISIT_TEST_PG_URL — which is
removed afterwards."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ENGINES", "PG_URL", "ROOT", "engines", "run_in_child"]

PG_URL = os.environ.get("ONEVISIT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parents[1]
ENGINES = ["sqlite", "postgres", "both"]


def engines(choice: str) -> tuple[str, ...]:
    return ("sqlite", "postgres") if choice == "both" else (choice,)


def run_in_child(script: str, engine: str, argv: list[str]) -> None:
    """Run `script --child --engine ENGINE *argv` with its own database and var/media dirs."""
    tmp = Path(tempfile.mkdtemp(prefix="onevisit-bench-"))
    env = dict(
        os.environ,
        ONEVISIT_VAR_DIR=str(tmp / "var"),
        ONEVISIT_MEDIA_DIR=str(tmp / "media"),
        PICCOLO_CONF="onevisit.piccolo_conf",
    )
    dbname = None
    if engine == "sqlite":
        env["ONEVISIT_DATABASE_URL"] = f"sqlite://{tmp / 'bench.sqlite3'}"
    else:
        dbname = f"onevisit_bench_{secrets.token_hex(3)}"
        asyncio.run(_pg(f'CREATE DATABASE "{dbname}"'))
        env["ONEVISIT_DATABASE_URL"] = urlunsplit(urlsplit(PG_URL)._replace(path=f"/{dbname}"))
    try:
        cmd = [sys.executable, script, "--child", "--engine", engine, *argv]
        subprocess.run(cmd, env=env, check=True, cwd=ROOT)
    finally:
        if dbname:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        shutil.rmtree(tmp, ignore_errors=True)


async def _pg(sql: str) -> None:
    import asyncpg

    con = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await con.execute(sql)
    finally:
        await con.close()
