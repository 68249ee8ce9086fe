import os

from piccolo.conf.apps import AppConfig

from onevisit.results import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="results",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.Result, tables.ResultVersion, tables.ResultStep],
    migration_dependencies=["onevisit.planning.piccolo_app"],
    commands=[],
)
