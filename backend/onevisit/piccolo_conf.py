"""piccolo's configuration module (named by PICCOLO_CONF, set in onevisit/__init__.py)."""

from piccolo.conf.apps import AppRegistry

from onevisit.db import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "onevisit.directory.piccolo_app",
        "onevisit.auth.piccolo_app",
        "onevisit.media.piccolo_app",
        "onevisit.planning.piccolo_app",
        "onevisit.evidence.piccolo_app",
        "onevisit.results.piccolo_app",
        "onevisit.followup.piccolo_app",
        "onevisit.workdays.piccolo_app",
    ]
)
