"""Set-wise reads and updates on the current write transaction's own connection (imports, sync).

piccolo builds SQL row by row in Python; at 100k rows that dominates an import. These helpers
complement `onevisit.db.bulk_insert` with the engines' fast paths: one query with a single
array/JSON parameter for lookups (PostgreSQL allows only 32,767 parameters), executemany on
SQLite and COPY into a temporary table plus one UPDATE … FROM on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Sequence
from typing import Any

from onevisit.db import is_sqlite, transaction_connection

__all__ = ["bulk_update", "copy_rows", "fetch", "fetch_by_keys"]


def _quoted(names: Sequence[str], table: str = "") -> str:
    prefix = f"{table}." if table else ""
    return ", ".join(f'{prefix}"{n}"' for n in names)


async def fetch(sql_sqlite: str, sql_pg: str, *args: Any) -> list[tuple]:
    """Rows as tuples, from the transaction's connection (one statement per engine dialect)."""
    con = transaction_connection()
    if is_sqlite():
        async with con.execute(sql_sqlite, args) as cursor:
            rows = await cursor.fetchall()
        # piccolo installs a dict row factory on its SQLite connections
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows]
    return [tuple(r) for r in await con.fetch(sql_pg, *args)]


async def fetch_by_keys(
    table: str, columns: Sequence[str], key: str, keys: Sequence[str]
) -> list[tuple]:
    """The rows whose `key` is in `keys`, in one query whatever the number of keys."""
    if not keys:
        return []
    cols = _quoted(columns)
    return await fetch(
        f'SELECT {cols} FROM "{table}" WHERE "{key}" IN (SELECT value FROM json_each(?))',
        # a join of the distinct keys: one probe of the key's unique index per key, whatever
        # the table's statistics (a sync batch looks up 200 ids in a table that grows fast)
        f"SELECT {_quoted(columns, 't')} FROM (SELECT DISTINCT unnest($1::text[]) AS v) AS k "
        f'JOIN "{table}" AS t ON t."{key}" = k.v',
        json.dumps(list(keys)) if is_sqlite() else list(keys),
    )


async def bulk_update(
    table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """UPDATE `columns` of the rows matched by `key`; each row is (*column values, key value)."""
    if not rows:
        return 0
    con = transaction_connection()
    if is_sqlite():
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        await con.executemany(f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?', rows)
        return len(rows)
    tmp = f"_bulk_{table}"
    await con.execute(
        f'DROP TABLE IF EXISTS "{tmp}"; CREATE TEMP TABLE "{tmp}" ON COMMIT DROP AS '
        f'SELECT {_quoted([*columns, key])} FROM "{table}" WITH NO DATA'
    )
    await con.copy_records_to_table(tmp, records=rows, columns=[*columns, key])
    sets = ", ".join(f'"{c}" = u."{c}"' for c in columns)
    await con.execute(
        f'UPDATE "{table}" AS t SET {sets} FROM "{tmp}" AS u WHERE t."{key}" = u."{key}"'
    )
    return len(rows)


async def copy_rows(table: str, columns: Sequence[str], rows: AsyncIterable[Sequence[Any]]) -> None:
    """PostgreSQL: one COPY of rows produced while it runs. asyncpg sends each 512 kB of them
    as it fills; the server inserts what it has while the producer makes the next ones. An
    exception from `rows` aborts the COPY (CopyFail) and is raised here."""
    if is_sqlite():
        raise RuntimeError("copy_rows is for PostgreSQL")
    con = transaction_connection()
    await con.copy_records_to_table(table, records=rows, columns=list(columns))
