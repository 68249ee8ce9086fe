"""The test harness: one pytest process per database engine, a fresh database per run.

ONEVISIT_TEST_ENGINE=sqlite (default) uses a new SQLite file; =postgres creates a new database
on the server of ONEVISIT_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test) and
drops it afterwards. REQUIRE_PG=1 turns an unreachable PostgreSQL into a failure, never a skip.
The environment is set here, before onevisit is imported: piccolo picks its engine on import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENGINE = os.environ.get("ONEVISIT_TEST_ENGINE", "sqlite")
PG_URL = os.environ.get("ONEVISIT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RUN_DIR = Path(tempfile.mkdtemp(prefix="onevisit-test-"))
_PG_DB: str | None = None


def _pg_admin_url(dbname: str) -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


async def _pg_create() -> str:
    import asyncpg

    name = f"onevisit_test_{os.getpid()}_{secrets.token_hex(3)}"
    con = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await con.execute(f'CREATE DATABASE "{name}"')
    finally:
        await con.close()
    return name


async def _pg_drop(name: str) -> None:
    import asyncpg

    con = await asyncpg.connect(PG_URL, timeout=5)
    try:
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await con.close()


if ENGINE == "postgres":
    try:
        _PG_DB = asyncio.run(_pg_create())
    except Exception as exc:  # any failure to reach PostgreSQL
        message = f"PostgreSQL at {PG_URL} unavailable: {exc!r}"
        if os.environ.get("REQUIRE_PG") == "1":
            raise pytest.UsageError(message + " (REQUIRE_PG=1)") from exc
        pytest.exit(message + " — skipping the PostgreSQL run", returncode=0)
    os.environ["ONEVISIT_DATABASE_URL"] = _pg_admin_url(_PG_DB)
elif ENGINE == "sqlite":
    os.environ["ONEVISIT_DATABASE_URL"] = f"sqlite://{RUN_DIR / 'test.sqlite3'}"
else:
    raise pytest.UsageError(f"ONEVISIT_TEST_ENGINE must be sqlite or postgres, not {ENGINE!r}")

os.environ["ONEVISIT_VAR_DIR"] = str(RUN_DIR / "var")
os.environ["ONEVISIT_MEDIA_DIR"] = str(RUN_DIR / "media")
os.environ.setdefault("ONEVISIT_ORIGIN", "http://localhost:8000")
os.environ["PICCOLO_CONF"] = "onevisit.piccolo_conf"

logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns failures

pytest_plugins = ["tests.fixtures"]


def pytest_report_header(config: pytest.Config) -> str:
    return f"onevisit engine: {ENGINE} ({os.environ['ONEVISIT_DATABASE_URL']})"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _PG_DB is not None:
        # a leftover is harmless: its name says it is a test database
        with contextlib.suppress(Exception):
            asyncio.run(_pg_drop(_PG_DB))
    shutil.rmtree(RUN_DIR, ignore_errors=True)
