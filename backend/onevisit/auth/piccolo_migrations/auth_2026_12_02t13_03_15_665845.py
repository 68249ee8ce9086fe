"""Hand-written: each passkey keeps the WebAuthn relying party it was registered for (RP ID and
origin), so `onevisit verify` checks a record confirmation against the relying party it was
made for, not the current ONEVISIT_ORIGIN (EVIDENCE.md §5-§6). Nullable: passkeys registered
before this migration have none, and verify falls back to the current settings for them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T13:03:15:665845"
VERSION = "1.38.0"
DESCRIPTION = "passkey relying party"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="auth", description=DESCRIPTION)
    for column in ("rp_id", "origin"):
        manager.add_column(
            table_class_name="Passkey",
            tablename="passkey",
            column_name=column,
            db_column_name=column,
            column_class_name="Varchar",
            column_class=Varchar,
            params={
                "length": 255,
                "default": None,
                "null": True,
                "primary_key": False,
                "unique": False,
                "index": False,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )
    return manager
