"""OneVisit: field system for joint "double random, one public" (双随机、一公开) inspections."""

import os

# piccolo resolves its engine when a table class is defined, by importing the module that
# PICCOLO_CONF names: point it at ours before any table module is imported.
os.environ.setdefault("PICCOLO_CONF", "onevisit.piccolo_conf")

__version__ = "0.1.0"
