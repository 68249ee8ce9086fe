import os

from piccolo.conf.apps import AppConfig

from onevisit.auth import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="auth",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        tables.User,
        tables.Enrolment,
        tables.Passkey,
        tables.WebAuthnChallenge,
        tables.DeviceKey,
        tables.Session,
        tables.DeviceStatus,
    ],
    migration_dependencies=["onevisit.directory.piccolo_app"],
    commands=[],
)
