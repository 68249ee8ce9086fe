from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T08:10:24:407974"
VERSION = "1.38.0"
DESCRIPTION = "draw.reveal_by: the deadline for other parties to reveal"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="planning", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Draw",
        tablename="draw",
        column_name="reveal_by",
        db_column_name="reveal_by",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
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
