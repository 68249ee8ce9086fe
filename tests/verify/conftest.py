"""The joint visit of the sync tests, reused: three inspectors with registered phones."""

from tests.sync.conftest import joint_visit  # noqa: F401
