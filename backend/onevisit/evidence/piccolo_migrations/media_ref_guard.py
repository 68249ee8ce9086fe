"""Hand-written: media_ref is append-only like the rest of the evidence (EVIDENCE.md §3).
Its ID sorts after the migration that creates the table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T05:48:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "media_ref append-only"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evidence", description=DESCRIPTION)

    async def up():
        from onevisit.db import append_only_ddl, is_sqlite, run_ddl_statements

        await run_ddl_statements(append_only_ddl("media_ref", sqlite=is_sqlite()))

    async def down():
        from onevisit.db import drop_append_only_ddl, is_sqlite, run_ddl_statements

        await run_ddl_statements(drop_append_only_ddl("media_ref", sqlite=is_sqlite()))

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
