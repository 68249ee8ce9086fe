import os

from piccolo.conf.apps import AppConfig

from onevisit.workdays import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="workdays",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.CalendarYear, tables.CalendarDay],
    migration_dependencies=[],
    commands=[],
)
