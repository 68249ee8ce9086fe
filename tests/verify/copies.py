"""Copies of the test database to tamper with: the evidence tables refuse UPDATE and DELETE, so
each tamper case works on its own copy with the triggers dropped, and runs `onevisit verify`
against it in a subprocess (the same var/ keys, the same or a copied media directory).

SQLite: a snapshot made with the backup API (it includes the WAL), copied per case.
PostgreSQL: a snapshot database loaded with pg_dump | psql (the app's pool keeps connections
open to the test database, which CREATE DATABASE … TEMPLATE refuses), then one
CREATE DATABASE … TEMPLATE snapshot per case.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from onevisit.db import drop_append_only_ddl

EVIDENCE_TABLES = ("event", "log_leaf", "merkle_node", "checkpoint", "record_ref")
URL = os.environ["ONEVISIT_DATABASE_URL"]
SQLITE = URL.startswith("sqlite://")


def _pg_url(name: str) -> str:
    return urlunsplit(urlsplit(URL)._replace(path=f"/{name}"))


def _drop_triggers() -> list[str]:
    return [
        s
        for t in EVIDENCE_TABLES
        for s in drop_append_only_ddl(t, sqlite=SQLITE)
        if not s.startswith("DROP FUNCTION")
    ]


class Snapshot:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.name = f"{urlsplit(URL).path.lstrip('/')}_snap" if not SQLITE else ""
        self.path = workdir / "snapshot.sqlite3"

    async def take(self) -> None:
        if SQLITE:
            src = sqlite3.connect(URL.removeprefix("sqlite://"))
            dst = sqlite3.connect(self.path)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
            return
        await _admin(f'CREATE DATABASE "{self.name}"')
        dump = f"pg_dump --no-owner {URL} | psql -q -v ON_ERROR_STOP=1 {_pg_url(self.name)}"
        await asyncio.to_thread(subprocess.run, dump, shell=True, check=True, capture_output=True)

    async def drop(self) -> None:
        if not SQLITE:
            await _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @asynccontextmanager
    async def copy(self) -> AsyncIterator[Copy]:
        """A fresh copy with the append-only triggers dropped."""
        tag = secrets.token_hex(3)
        if SQLITE:
            path = self.workdir / f"case_{tag}.sqlite3"
            src, dst = sqlite3.connect(self.path), sqlite3.connect(path)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
            cp = Copy(f"sqlite://{path}", self.workdir)
        else:
            name = f"{self.name}_{tag}"
            await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
            cp = Copy(_pg_url(name), self.workdir)
        try:
            await cp.execute(*_drop_triggers())
            yield cp
        finally:
            if not SQLITE:
                await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Copy:
    def __init__(self, url: str, workdir: Path) -> None:
        self.url, self.workdir = url, workdir
        self.media_dir = Path(os.environ["ONEVISIT_MEDIA_DIR"])

    async def execute(self, *statements: str | tuple[str, tuple[Any, ...]]) -> None:
        """Run statements (SQL, or (SQL with ? marks, params)) in one transaction."""
        items = [(s, ()) if isinstance(s, str) else s for s in statements]
        if self.url.startswith("sqlite://"):
            con = sqlite3.connect(self.url.removeprefix("sqlite://"))
            with con:
                for sql, params in items:
                    con.execute(sql, params)
            con.close()
            return
        import asyncpg

        con = await asyncpg.connect(self.url)
        try:
            async with con.transaction():
                for sql, params in items:
                    for n in range(1, len(params) + 1):
                        sql = sql.replace("?", f"${n}", 1)
                    await con.execute(sql, *params)
        finally:
            await con.close()

    async def verify(self) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "ONEVISIT_DATABASE_URL": self.url,
            "ONEVISIT_MEDIA_DIR": str(self.media_dir),
        }
        cmd = [sys.executable, "-m", "onevisit.cli", "verify", "--show", "1000"]
        return await asyncio.to_thread(
            subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=120
        )


async def _admin(sql: str) -> None:
    import asyncpg

    con = await asyncpg.connect(URL)  # any database of the server will do
    try:
        await con.execute(sql)
    finally:
        await con.close()


@asynccontextmanager
async def fresh_database(workdir: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database on the test engine (not migrated), dropped after."""
    tag = secrets.token_hex(3)
    if SQLITE:
        yield f"sqlite://{workdir / f'fresh_{tag}.sqlite3'}"
        return
    name = f"{urlsplit(URL).path.lstrip('/')}_fresh_{tag}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_module(module: str, url: str, media_dir: Path | None = None, *args: str):
    """`python -m <module> args…` from the repository root, on the database at `url`."""
    env = {**os.environ, "ONEVISIT_DATABASE_URL": url}
    if media_dir is not None:
        env["ONEVISIT_MEDIA_DIR"] = str(media_dir)
    root = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, "-m", module, *args]
    return subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=300)
