import os

from piccolo.conf.apps import AppConfig

from onevisit.followup import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="followup",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.FollowUp, tables.FollowUpStep],
    migration_dependencies=["onevisit.results.piccolo_app"],
    commands=[],
)
