"""Hand-written: subject_history is append-only, enforced by the database itself.

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) with a clear message, so not
even a stray SQL session can rewrite a superseded version a draw may have used. Also unique
indexes that piccolo cannot declare (pairs of columns).

Its ID must sort after the migration that creates the directory tables: if that one is ever
regenerated, give this file a later ID.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-25T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "subject_history append-only triggers; unique pairs"

MESSAGE = "subject_history is append-only: UPDATE and DELETE are refused"

UNIQUE_PAIRS = [
    "CREATE UNIQUE INDEX inspector_conflict_pair ON inspector_conflict (inspector, subject_id)",
    "CREATE UNIQUE INDEX department_partner_pair ON department_partner (department, partner)",
    "CREATE UNIQUE INDEX check_item_position ON check_item (matter, position)",
    "CREATE UNIQUE INDEX subject_history_version ON subject_history (subject_id, version)",
]

SQLITE = [
    f"""CREATE TRIGGER subject_history_no_update BEFORE UPDATE ON subject_history
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER subject_history_no_delete BEFORE DELETE ON subject_history
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]

POSTGRES = [
    f"""CREATE FUNCTION subject_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """CREATE TRIGGER subject_history_no_change BEFORE UPDATE OR DELETE ON subject_history
    FOR EACH ROW EXECUTE FUNCTION subject_history_append_only()""",
    """CREATE TRIGGER subject_history_no_truncate BEFORE TRUNCATE ON subject_history
    FOR EACH STATEMENT EXECUTE FUNCTION subject_history_append_only()""",
]

DROP_SQLITE = [
    "DROP TRIGGER subject_history_no_update",
    "DROP TRIGGER subject_history_no_delete",
]
DROP_POSTGRES = [
    "DROP TRIGGER subject_history_no_change ON subject_history",
    "DROP TRIGGER subject_history_no_truncate ON subject_history",
    "DROP FUNCTION subject_history_append_only()",
]
DROP_PAIRS = [
    "DROP INDEX inspector_conflict_pair",
    "DROP INDEX department_partner_pair",
    "DROP INDEX check_item_position",
    "DROP INDEX subject_history_version",
]


async def _run(statements):
    from onevisit.db import engine

    for sql in statements:
        await engine().run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)

    async def up():
        from onevisit.db import engine

        sqlite = isinstance(engine(), SQLiteEngine)
        await _run(UNIQUE_PAIRS + (SQLITE if sqlite else POSTGRES))

    async def down():
        from onevisit.db import engine

        sqlite = isinstance(engine(), SQLiteEngine)
        await _run((DROP_SQLITE if sqlite else DROP_POSTGRES) + DROP_PAIRS)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
