"""Hand-written: the evidence tables are append-only, enforced by the database (EVIDENCE.md §3),
and the pairs piccolo cannot declare are unique: one event per (device, seq), one node per
(level, idx). Its ID sorts after the migration that creates the tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-25T05:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "evidence tables append-only; unique (device, seq) and (level, idx)"

TABLES = ("event", "log_leaf", "merkle_node", "checkpoint")
UNIQUE = [
    "CREATE UNIQUE INDEX event_device_seq ON event (device_id, seq)",
    "CREATE UNIQUE INDEX merkle_node_position ON merkle_node (level, idx)",
]
DROP_UNIQUE = ["DROP INDEX event_device_seq", "DROP INDEX merkle_node_position"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evidence", description=DESCRIPTION)

    async def up():
        from onevisit.db import append_only_ddl, is_sqlite, run_ddl_statements

        ddl = [s for t in TABLES for s in append_only_ddl(t, sqlite=is_sqlite())]
        await run_ddl_statements(UNIQUE + ddl)

    async def down():
        from onevisit.db import drop_append_only_ddl, is_sqlite, run_ddl_statements

        ddl = [s for t in TABLES for s in drop_append_only_ddl(t, sqlite=is_sqlite())]
        await run_ddl_statements(ddl + DROP_UNIQUE)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
