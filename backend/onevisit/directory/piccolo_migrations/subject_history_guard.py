"""Hand-written: subject_history is append-only, enforced by the database itself.

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) with a clear message, so not
even a stray SQL session can rewrite a superseded version a draw may have used. Also unique
indexes that piccolo cannot declare (pairs of columns).

Its ID must sort after the migration that creates the directory tables: if that one is ever
regenerated, give this file a later ID.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "subject_history append-only triggers; unique pairs"

UNIQUE_PAIRS = [
    "CREATE UNIQUE INDEX inspector_conflict_pair ON inspector_conflict (inspector, subject_id)",
    "CREATE UNIQUE INDEX department_partner_pair ON department_partner (department, partner)",
    "CREATE UNIQUE INDEX check_item_position ON check_item (matter, position)",
    "CREATE UNIQUE INDEX subject_history_version ON subject_history (subject_id, version)",
]
DROP_PAIRS = [
    "DROP INDEX inspector_conflict_pair",
    "DROP INDEX department_partner_pair",
    "DROP INDEX check_item_position",
    "DROP INDEX subject_history_version",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)

    async def up():
        from onevisit.db import append_only_ddl, is_sqlite, run_ddl_statements

        ddl = append_only_ddl("subject_history", sqlite=is_sqlite())
        await run_ddl_statements(UNIQUE_PAIRS + ddl)

    async def down():
        from onevisit.db import drop_append_only_ddl, is_sqlite, run_ddl_statements

        ddl = drop_append_only_ddl("subject_history", sqlite=is_sqlite())
        await run_ddl_statements(ddl + DROP_PAIRS)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
