"""Static checks of the PWA files (no browser): the worker's shell list matches the files, and
nothing inline would be blocked by the CSP (script-src 'self')."""

from __future__ import annotations

import json
import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"


def _shell() -> list[str]:
    block = re.search(r"const SHELL = \[(.*?)\];", (PWA / "sw.js").read_text(), re.S)
    assert block, "sw.js must declare const SHELL = [...]"
    return re.findall(r"'([^']+)'", block.group(1))


def test_shell_lists_every_file_and_only_existing_ones():
    shell = _shell()
    for url in shell:
        if url != "/":
            assert (PWA / url.lstrip("/")).is_file(), f"sw.js lists missing {url}"
    served = {
        "/" + str(p.relative_to(PWA)) for p in PWA.rglob("*") if p.is_file() and p.name != "sw.js"
    }
    assert served - set(shell) == set(), "files the offline shell would miss"


def test_no_inline_script_or_handlers():
    for path in PWA.rglob("*.html"):
        html = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline script in {path.name}: {tag}"
        assert not re.search(r"\son[a-z]+\s*=", html), f"inline handler in {path.name}"
    for path in PWA.rglob("*.js"):
        code = path.read_text()
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML", code), (
            f"{path.name}: build nodes with dom.js (data must never become markup)"
        )


def test_manifest_is_valid_json_with_icons():
    manifest = json.loads((PWA / "manifest.webmanifest").read_text())
    assert manifest["lang"] == "zh-CN" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        png = (PWA / icon["src"].lstrip("/")).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]
