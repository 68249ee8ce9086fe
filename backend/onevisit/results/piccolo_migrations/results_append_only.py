"""Hand-written: result_version and result_step are append-only, enforced by the database (a
version or a step is recorded once; a correction is a new version; only the result row's
working state changes).

Its ID must sort after the migration that creates the tables: if that one is ever
regenerated, give this file a later ID.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T08:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "result_version and result_step append-only"

TABLES = ("result_version", "result_step")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="results", description=DESCRIPTION)

    async def up():
        from onevisit.db import append_only_ddl, is_sqlite, run_ddl_statements

        for table in TABLES:
            await run_ddl_statements(append_only_ddl(table, sqlite=is_sqlite()))

    async def down():
        from onevisit.db import drop_append_only_ddl, is_sqlite, run_ddl_statements

        for table in TABLES:
            await run_ddl_statements(drop_append_only_ddl(table, sqlite=is_sqlite()))

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
