import os

from piccolo.conf.apps import AppConfig

from onevisit.planning import tables

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="planning",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[
        tables.Task,
        tables.TaskMatter,
        tables.Visit,
        tables.VisitMember,
        tables.Draw,
        tables.DrawSwap,
        tables.Plan,
        tables.PlanVersion,
    ],
    migration_dependencies=["onevisit.directory.piccolo_app"],
    commands=[],
)
