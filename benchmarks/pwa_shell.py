"""The PWA's app shell as the server sends it: every HTML, JS and CSS file the service worker
caches at install (plus sw.js), fetched from the real app with `Accept-Encoding: gzip`, against
the issue's budget of 60 KB. The files a field phone only loads when first opened (English
strings, the coordinators' desk screens, enrolment: sw.js ON_DEMAND) are printed apart.

    .venv/bin/python benchmarks/pwa_shell.py [--list]

The app runs in-process (create_app() over httpx's ASGI transport; no database is touched),
so the figure is what `onevisit serve` puts on the wire: the response bodies' bytes as sent
(minified and gzip-compressed by backend/onevisit/pwa_assets.py; headers not counted).
ONEVISIT_PWA_MINIFY=0 in the environment measures the sources served unminified. Prints
the sources' size, the served size, and the ratio to the budget (≤ 1.0 meets it). Sizes,
not times: the machine's noise does not enter. Icons and the manifest are not counted (the
budget is HTML + JS + CSS); `/` and `/index.html` are one file.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PWA = ROOT / "pwa"
BUDGET = 60 * 1000  # bytes, gzip
COUNTED = (".html", ".js", ".css")


def shell_files(listed: str = "SHELL") -> dict[str, Path]:
    """URL → file for what sw.js caches at install (SHELL, plus sw.js itself: the browser
    fetches it too) or keeps once used (ON_DEMAND); one URL per file."""
    block = re.search(rf"const {listed} = \[(.*?)\];", (PWA / "sw.js").read_text(), re.S)
    urls = re.findall(r"'([^']+)'", block.group(1)) if block else []
    files: dict[Path, str] = {}
    for url in [*urls, "/sw.js"] if listed == "SHELL" else urls:
        path = PWA / "index.html" if url == "/" else PWA / url.lstrip("/")
        if path.suffix in COUNTED:
            files.setdefault(path, url)
    return {url: path for path, url in sorted(files.items())}


@dataclass
class Served:
    url: str
    source: bytes
    wire: int  # body bytes as sent
    encoding: str
    body: bytes  # decoded


async def fetch_all(files: dict[str, Path]) -> list[Served]:
    import httpx

    from onevisit.app import create_app

    app = create_app()
    out = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as client:
        for url, path in files.items():
            headers = {"accept-encoding": "gzip"}
            async with client.stream("GET", url, headers=headers) as r:
                r.raise_for_status()
                raw = b"".join([chunk async for chunk in r.aiter_raw()])
            encoding = r.headers.get("content-encoding", "identity")
            body = gzip.decompress(raw) if encoding == "gzip" else raw
            out.append(Served(url, path.read_bytes(), len(raw), encoding, body))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="one line per file")
    args = parser.parse_args()

    # a throw-away var/ and database: create_app() reads settings, serving files needs neither
    tmp = Path(tempfile.mkdtemp(prefix="onevisit-bench-"))
    os.environ.update(
        ONEVISIT_VAR_DIR=str(tmp / "var"),
        ONEVISIT_MEDIA_DIR=str(tmp / "media"),
        ONEVISIT_DATABASE_URL=f"sqlite://{tmp / 'bench.sqlite3'}",
        PICCOLO_CONF="onevisit.piccolo_conf",
    )
    sys.path.insert(0, str(ROOT / "backend"))
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    try:
        served = asyncio.run(fetch_all(shell_files()))
        on_demand = asyncio.run(fetch_all(shell_files("ON_DEMAND")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    raw = sum(len(s.source) for s in served)
    raw_gzip = sum(len(gzip.compress(s.source, compresslevel=6, mtime=0)) for s in served)
    body = sum(len(s.body) for s in served)
    wire = sum(s.wire for s in served)
    if args.list:
        print(f"{'wire':>8}  {'enc':<8} {'served':>8}  {'source':>8}")
        for s in served:
            as_written = "  (as written)" if s.body == s.source else ""
            print(
                f"{s.wire:>8,}  {s.encoding:<8} {len(s.body):>8,}  {len(s.source):>8,}  "
                f"{s.url}{as_written}"
            )
    minify = os.environ.get("ONEVISIT_PWA_MINIFY", "1").strip() or "1"
    print(
        f"app shell: {len(served)} files; sources {raw / 1000:.1f} KB "
        f"({raw_gzip / 1000:.1f} KB gzip -6 each)"
    )
    print(
        f"served (ONEVISIT_PWA_MINIFY={minify}): {body / 1000:.1f} KB, "
        f"{wire / 1000:.1f} KB on the wire with Accept-Encoding: gzip"
    )
    verdict = "met" if wire <= BUDGET else "NOT met"
    print(f"ratio to the 60 KB budget: {wire / BUDGET:.2f} ({verdict})")
    later = sum(s.wire for s in on_demand)
    print(
        f"not in the shell, loaded when first opened (sw.js ON_DEMAND): {len(on_demand)} files, "
        f"{later / 1000:.1f} KB on the wire ({', '.join(s.url for s in on_demand)})"
    )


if __name__ == "__main__":
    main()
