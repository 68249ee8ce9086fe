"""Hand-written: follow_up_step is append-only, enforced by the database (a step is recorded
once and never rewritten; the item's state is the only thing that changes).

Its ID must sort after the migration that creates the table: if that one is ever
regenerated, give this file a later ID.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-03T08:36:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "follow_up_step append-only"

TABLE = "follow_up_step"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="followup", description=DESCRIPTION)

    async def up():
        from onevisit.db import append_only_ddl, is_sqlite, run_ddl_statements

        await run_ddl_statements(append_only_ddl(TABLE, sqlite=is_sqlite()))

    async def down():
        from onevisit.db import drop_append_only_ddl, is_sqlite, run_ddl_statements

        await run_ddl_statements(drop_append_only_ddl(TABLE, sqlite=is_sqlite()))

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
