"""Fixtures reused: the sync tests' joint visit (three inspectors with registered phones) and
the browser tests' live server and Chromium tabs (for the record screen's PDF link)."""

from tests.browser.conftest import browser, live_server, make_tab  # noqa: F401
from tests.sync.conftest import joint_visit  # noqa: F401
