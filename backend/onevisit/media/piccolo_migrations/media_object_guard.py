"""Hand-written: media_object is evidence, append-only, enforced by the database itself.

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) with a clear message: the row
that says "these bytes, this hash, this uploader" is never rewritten (EVIDENCE.md §3).
media_upload is bookkeeping and stays mutable.

Its ID must sort after the migration that creates the media tables: if that one is ever
regenerated, give this file a later ID.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-25T04:53:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "media_object append-only triggers"

MESSAGE = "media_object is append-only: UPDATE and DELETE are refused"

SQLITE = [
    f"""CREATE TRIGGER media_object_no_update BEFORE UPDATE ON media_object
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER media_object_no_delete BEFORE DELETE ON media_object
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]

POSTGRES = [
    f"""CREATE FUNCTION media_object_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """CREATE TRIGGER media_object_no_change BEFORE UPDATE OR DELETE ON media_object
    FOR EACH ROW EXECUTE FUNCTION media_object_append_only()""",
    """CREATE TRIGGER media_object_no_truncate BEFORE TRUNCATE ON media_object
    FOR EACH STATEMENT EXECUTE FUNCTION media_object_append_only()""",
]

DROP_SQLITE = [
    "DROP TRIGGER media_object_no_update",
    "DROP TRIGGER media_object_no_delete",
]
DROP_POSTGRES = [
    "DROP TRIGGER media_object_no_change ON media_object",
    "DROP TRIGGER media_object_no_truncate ON media_object",
    "DROP FUNCTION media_object_append_only()",
]


async def _run(statements):
    from onevisit.db import engine

    for sql in statements:
        await engine().run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="media", description=DESCRIPTION)

    async def up():
        from onevisit.db import engine

        await _run(SQLITE if isinstance(engine(), SQLiteEngine) else POSTGRES)

    async def down():
        from onevisit.db import engine

        await _run(DROP_SQLITE if isinstance(engine(), SQLiteEngine) else DROP_POSTGRES)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
