import os

from piccolo.conf.apps import AppConfig

from onevisit.directory import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="directory",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        tables.Department,
        tables.DepartmentPartner,
        tables.Matter,
        tables.CheckItem,
        tables.DirectoryRevision,
        tables.Subject,
        tables.SubjectHistory,
        tables.Inspector,
        tables.InspectorConflict,
    ],
    migration_dependencies=[],
    commands=[],
)
