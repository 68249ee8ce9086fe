"""Browser harness: the real server in a subprocess, one headless Chromium per session, a fresh
context (cookies, IndexedDB, service worker) per test, and a CDP virtual authenticator.

The server process gets the same environment as this one (tests/conftest.py chose the
database), so tests prepare users and directory rows in-process and the browser sees them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 640}
# CTAP2 platform authenticator that verifies the user without a prompt (STACK.md).
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
async def live_server(migrated: None, tmp_path_factory) -> AsyncIterator[str]:
    """The real app (`onevisit serve`) on a free port; yields http://localhost:<port>.

    The origin is "localhost", not 127.0.0.1: WebAuthn needs a domain as RP id, and
    http://localhost counts as a secure context."""
    port = _free_port()
    base = f"http://localhost:{port}"
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "ONEVISIT_ORIGIN": base}
    paths = [str(ROOT / "backend"), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    cmd = [
        sys.executable,
        "-m",
        "onevisit.cli",
        "serve",
        "--no-migrate",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        await _wait_healthy(proc, f"http://127.0.0.1:{port}/api/health", log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if proc.poll() is not None:
                output = log.read_text(errors="replace")
                pytest.fail(f"server exited with {proc.returncode}:\n{output}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                proc.kill()
                output = log.read_text(errors="replace")
                pytest.fail(f"server not healthy after {timeout}s:\n{output}")
            await asyncio.sleep(0.1)


@pytest.fixture(scope="session")
async def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " and REQUIRE_BROWSER=1", pytrace=False)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    pw = await async_playwright().start()
    chromium = await pw.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    await chromium.close()
    await pw.stop()


@dataclass
class Tab:
    """A page in its own context, and what the page reported while the test ran."""

    page: object
    context: object
    base: str
    cdp: object | None = None
    authenticator_id: str | None = None
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    async def open(self, hash_route: str = "#/") -> None:
        await self.page.goto(f"{self.base}/{hash_route}")


async def _new_tab(browser, base: str, *, init_script: str | None = None) -> Tab:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", base_url=base)
    if init_script:
        await context.add_init_script(init_script)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    tab = Tab(page=page, context=context, base=base)
    page.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    page.on("pageerror", lambda e: tab.page_errors.append(str(e)))
    return tab


async def _close(tab: Tab) -> None:
    await tab.context.close()
    if tab.page_errors:
        pytest.fail(
            "uncaught errors in the page:\n"
            + "\n".join(tab.page_errors)
            + ("\nconsole errors:\n" + "\n".join(tab.console_errors) if tab.console_errors else ""),
            pytrace=False,
        )


@pytest.fixture
async def page_with_authenticator(browser, live_server) -> AsyncIterator[Tab]:
    """A phone-sized page with a virtual passkey authenticator attached."""
    tab = await _new_tab(browser, live_server)
    tab.cdp = await tab.context.new_cdp_session(tab.page)
    await tab.cdp.send("WebAuthn.enable", {"enableUI": False})
    added = await tab.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    tab.authenticator_id = added["authenticatorId"]
    yield tab
    await _close(tab)


@pytest.fixture
async def make_tab(browser, live_server) -> AsyncIterator:
    """make_tab(init_script=None) → a phone-sized Tab; the script runs before page scripts."""
    tabs: list[Tab] = []

    async def make(init_script: str | None = None) -> Tab:
        tabs.append(await _new_tab(browser, live_server, init_script=init_script))
        return tabs[-1]

    yield make
    for tab in tabs:
        await _close(tab)


@pytest.fixture
async def page_without_webauthn(make_tab) -> Tab:
    """A phone-sized page whose browser has no WebAuthn at all (older Android WebViews)."""
    return await make_tab("delete window.PublicKeyCredential")
