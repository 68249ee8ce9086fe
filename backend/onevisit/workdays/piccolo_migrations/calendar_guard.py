"""Hand-written: calendar_year and calendar_day are append-only, enforced by the database
(a correction is a new version of the year, never an edit), and their unique keys, which
piccolo cannot declare (several columns).

Its ID must sort after the migration that creates the tables: if that one is ever
regenerated, give this file a later ID.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T08:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "calendar tables append-only; unique year versions and days"

TABLES = ("calendar_year", "calendar_day")
UNIQUE = [
    "CREATE UNIQUE INDEX calendar_year_version ON calendar_year (year, version)",
    "CREATE UNIQUE INDEX calendar_day_version_day ON calendar_day (year, version, day)",
]
DROP_UNIQUE = ["DROP INDEX calendar_year_version", "DROP INDEX calendar_day_version_day"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workdays", description=DESCRIPTION)

    async def up():
        from onevisit.db import append_only_ddl, is_sqlite, run_ddl_statements

        ddl = [sql for table in TABLES for sql in append_only_ddl(table, sqlite=is_sqlite())]
        await run_ddl_statements(UNIQUE + ddl)

    async def down():
        from onevisit.db import drop_append_only_ddl, is_sqlite, run_ddl_statements

        ddl = [sql for t in TABLES for sql in drop_append_only_ddl(t, sqlite=is_sqlite())]
        await run_ddl_statements(ddl + DROP_UNIQUE)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
