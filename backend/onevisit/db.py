"""The database engine and the few engine-specific paths (write transactions, bulk inserts).

SQLite is the embedded default, PostgreSQL the production engine; everything above this
module is engine-neutral.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from onevisit.config import get_settings

__all__ = [
    "append_only_ddl",
    "bulk_insert",
    "drop_append_only_ddl",
    "enable_sqlite_wal",
    "engine",
    "is_sqlite",
    "make_engine",
    "read_transaction",
    "run_ddl_statements",
    "start_pool",
    "transaction_connection",
    "write_transaction",
]

SQLITE_BUSY_TIMEOUT_S = 30
PG_MAX_PARAMS = 32767


def make_engine() -> Engine:
    settings = get_settings()
    if settings.is_sqlite:
        _create_private(settings.sqlite_path)
        # timeout = busy timeout: concurrent writers wait instead of failing at once.
        return SQLiteEngine(path=str(settings.sqlite_path), timeout=SQLITE_BUSY_TIMEOUT_S)
    return PostgresEngine(config={"dsn": settings.database_url})


def _create_private(path: Path) -> None:
    """The database holds session and PIN hashes: readable by the server's user only.
    SQLite gives its -wal and -shm files the permissions of the main file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def engine() -> Engine:
    from onevisit.piccolo_conf import DB

    return DB


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


async def start_pool() -> None:
    """PostgreSQL's connection pool (SQLite has none). piccolo takes a pooled connection for
    each query outside a transaction; asyncpg then resets the session on release with one more
    round trip (RESET ALL, UNLISTEN, CLOSE, advisory unlock) — a tenth of a sync batch's time.
    We keep no session state to reset: no SET, LISTEN, cursors, session locks or temporary
    tables outside a transaction (the write lock and the bulk tables end with it). asyncpg
    still rolls back a transaction left open before a connection returns to the pool.

    Plans are made for each execution's own parameters (plan_cache_mode): a generic plan
    chosen while the event table was empty kept scanning all of it as it grew (a 200-id
    lookup reached 38 ms at 20,000 events before autovacuum's next ANALYZE); planning anew
    costs a tenth of a millisecond."""
    await engine().start_connection_pool(
        max_size=10, reset=_keep_session, server_settings={"plan_cache_mode": "force_custom_plan"}
    )


async def _keep_session(_connection: Any) -> None:
    return None


# Any constant: the key of the one advisory lock all PostgreSQL write transactions take.
WRITE_LOCK_KEY = 0x0E7151


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """A transaction for writes, one writer at a time on both engines.

    On SQLite it is IMMEDIATE: it takes the write lock at BEGIN, so two writers never deadlock
    on a lock upgrade (they wait for the busy timeout). On PostgreSQL it takes one
    transaction-scoped advisory lock, the same semantics: what a writer read stays true until
    it commits, directory revisions commit in the order of their numbers (a draw names a
    snapshot by number), and log appends never interleave.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate) as tx:
            yield tx
        return
    async with db.transaction() as tx:
        await tx.connection.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
        yield tx


@asynccontextmanager
async def read_transaction() -> AsyncIterator[Any]:
    """Several reads on one SQLite connection, taking no write lock. piccolo opens a new SQLite
    connection (a thread, the file, a pragma) for every query outside a transaction, ~3 ms each;
    a DEFERRED transaction reads one snapshot on one connection, beside the writer (WAL). On
    PostgreSQL each query takes a pooled connection already; BEGIN and COMMIT would only add
    round trips."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.deferred) as tx:
            yield tx
        return
    yield None


async def enable_sqlite_wal() -> None:
    """WAL lets readers run while one writer writes; the mode is stored in the file."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode=WAL")


def transaction_connection() -> Any:
    """The driver connection (aiosqlite / asyncpg) of the current write transaction, for the
    engines' fast paths that piccolo does not offer."""
    tx = engine().current_transaction.get()
    if tx is None:
        raise RuntimeError("this must run inside write_transaction()")
    return tx.connection


async def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert many rows through the engine's own fast path, inside the current transaction.

    piccolo's Table.insert spends its time building SQL in Python (~15-19k rows/s); the
    engines' own paths are 10-20x faster. Must be called inside write_transaction().
    """
    db = engine()
    connection = transaction_connection()
    rows = list(rows)
    if not rows:
        return 0
    if isinstance(db, SQLiteEngine):
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})'
        await connection.executemany(sql, rows)
    else:
        await connection.copy_records_to_table(table, records=rows, columns=list(columns))
    return len(rows)


def append_only_ddl(table: str, *, sqlite: bool) -> list[str]:
    """Triggers that make `table` append-only at the database level (evidence and history
    tables): UPDATE and DELETE — and TRUNCATE on PostgreSQL — fail with a clear message, so not
    even a stray SQL session can rewrite what was recorded. Used by migrations."""
    message = f"{table} is append-only: UPDATE and DELETE are refused"
    if sqlite:
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            for op in ("UPDATE", "DELETE")
        ]
    return [
        f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{message} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$""",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
    ]


def drop_append_only_ddl(table: str, *, sqlite: bool) -> list[str]:
    if sqlite:
        return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]
    return [
        f"DROP TRIGGER {table}_no_change ON {table}",
        f"DROP TRIGGER {table}_no_truncate ON {table}",
        f"DROP FUNCTION {table}_append_only()",
    ]


async def run_ddl_statements(statements: Iterable[str]) -> None:
    db = engine()
    for sql in statements:
        await db.run_ddl(sql)
