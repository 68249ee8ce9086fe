"""The PWA's app shell on the wire: every HTML, JS and CSS file the service worker caches,
gzip-compressed (level 6, what a server sends), against the issue's budget of 60 KB.

    .venv/bin/python benchmarks/pwa_shell.py [--list]

Prints the total and its ratio to the budget (≤ 1.0 meets it). Sizes, not times: the machine's
noise does not enter. Icons and the manifest are not counted (the budget is HTML + JS + CSS).
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[1] / "pwa"
BUDGET = 60 * 1000  # bytes, gzip
COUNTED = (".html", ".js", ".css")


def shell_files() -> list[Path]:
    """The files sw.js caches, plus sw.js itself (the browser fetches it too)."""
    block = re.search(r"const SHELL = \[(.*?)\];", (PWA / "sw.js").read_text(), re.S)
    urls = re.findall(r"'([^']+)'", block.group(1)) if block else []
    files = {PWA / "index.html" if u == "/" else PWA / u.lstrip("/") for u in urls}
    files.add(PWA / "sw.js")
    return sorted(f for f in files if f.suffix in COUNTED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="one line per file")
    args = parser.parse_args()
    raw = packed = 0
    for f in shell_files():
        data = f.read_bytes()
        size = len(gzip.compress(data, compresslevel=6, mtime=0))
        raw, packed = raw + len(data), packed + size
        if args.list:
            print(f"{size:>7,} B gzip  {len(data):>8,} B  {f.relative_to(PWA)}")
    count = len(shell_files())
    print(f"app shell: {count} files, {raw / 1000:.1f} KB raw, {packed / 1000:.1f} KB gzip")
    verdict = "met" if packed <= BUDGET else "NOT met"
    print(f"ratio to the 60 KB budget: {packed / BUDGET:.2f} ({verdict})")


if __name__ == "__main__":
    main()
