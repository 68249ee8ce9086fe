"""Static checks of the PWA files (no browser): the worker's shell list matches the files, and
nothing inline would be blocked by the CSP (script-src 'self')."""

from __future__ import annotations

import json
import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"


def _listed(name: str) -> list[str]:
    block = re.search(rf"const {name} = \[(.*?)\];", (PWA / "sw.js").read_text(), re.S)
    assert block, f"sw.js must declare const {name} = [...]"
    return re.findall(r"'([^']+)'", block.group(1))


def test_worker_lists_every_file_once_and_only_existing_ones():
    shell, on_demand = _listed("SHELL"), _listed("ON_DEMAND")
    assert on_demand, "English and the desk screens load on demand"
    assert set(shell) & set(on_demand) == set(), "a file is either in the shell or on demand"
    for url in shell + on_demand:
        if url != "/":
            assert (PWA / url.lstrip("/")).is_file(), f"sw.js lists missing {url}"
    served = {
        "/" + str(p.relative_to(PWA)) for p in PWA.rglob("*") if p.is_file() and p.name != "sw.js"
    }
    assert served - set(shell) - set(on_demand) == set(), "files the offline app would miss"


def test_shell_never_imports_an_on_demand_file_statically():
    """A static import from the shell would pull an on-demand file into every start (and,
    offline before it was ever cached, break the whole shell). On-demand screens may import
    each other's parts: they load together."""
    on_demand = {url.rsplit("/", 1)[1] for url in _listed("ON_DEMAND")}
    shell = [PWA / url.lstrip("/") for url in _listed("SHELL") if url.endswith(".js")]
    assert PWA / "app.js" in shell
    pattern = r"^\s*import\b[^'\"]*['\"]([^'\"]+)['\"]"
    for path in [*shell, PWA / "sw.js"]:
        for spec in re.findall(pattern, path.read_text(), re.M):
            assert spec.rsplit("/", 1)[-1] not in on_demand, f"{path.name}: static {spec}"
    assert "import('./i18n-en.js')" in (PWA / "i18n.js").read_text()


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
