import os

from piccolo.conf.apps import AppConfig

from onevisit.media import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="media",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[tables.MediaObject, tables.MediaUpload],
    migration_dependencies=["onevisit.auth.piccolo_app"],
    commands=[],
)
