"""Benchmark: the PWA in the field, in real Chromium against the real server (`onevisit serve`):
opening a downloaded visit offline at 4x CPU throttling (budget 1 s), and a tick stored in
IndexedDB (budget 50 ms), each against a baseline measured in the same page and process.

    .venv/bin/python benchmarks/pwa_field.py [--engine sqlite|postgres|both] [--runs N]
                                             [--ticks N] [--raw]

Set-up (in-process, as tests/browser/test_field_flow.py does, with the steps of
tests/browser/visitflow.py): a joint visit of two departments, two matters each (8-12 check
items), three inspectors; the first is enrolled with a passkey (CDP virtual authenticator) in a
360x640 phone context and downloads the visit on "我的检查任务". The context then goes offline
(`set_offline`) and stays so: the service worker serves the shell, the page reads IndexedDB.
Times come from the page's Performance API only.

(1) Open: a reload of #/visit/<id> at `Emulation.setCPUThrottlingRate {rate: 4}`, timed from the
navigation's time origin to the frame after #checkin and #matters exist (a MutationObserver and a
requestAnimationFrame injected with add_init_script; no PWA file changed). Baseline: the same
reload of the home screen (#/, ready when #me-name exists) — the same boot (service worker, shell,
modules, offline session, IndexedDB), so the ratio is the visit screen's own cost. RUNS opens of
each, alternated; median and best. Measured on the visit as downloaded, and again mid-visit
(after the ticks below: a check-in and 2 x TICKS signed events to fold and hash).

(2) Tick: on #/visit/<id>/matter/<code>, a click on an item's radio; pwa/ui/matter.js wraps the
signing and storing of the answer (device key and checkpoint read, JCS, SHA-256, ECDSA P-256,
chain head compare-and-set + outbox row in one transaction) in performance.measure
('onevisit.tick'). Baseline, in the same page right after each tick: one IndexedDB put of a copy
of the outbox row just stored (new id) into a store with the outbox's key and indexes, in its own
database, timed to the transaction's `complete` — what storing alone costs. TICKS ticks at 1x and
TICKS at 4x, alternated item by item; median and p95 (nearest rank).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import math
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from _harness import ENGINES, ROOT, engines, run_in_child

THROTTLE = 4
OPEN_BUDGET_MS = 1000
TICK_BUDGET_MS = 50
# Check items per matter: department A (the enrolled inspector's) and department B. The demo's
# matters have 5-12 items.
ITEMS_A = (10, 12)
ITEMS_B = (8, 11)
PAUSE_S = 0.05  # between actions: a person taps far less often; lets the fire-and-forget sync end

# Runs before every page script of the context: marks when a screen's DOM is there, and the
# animation frame after (the frame that paints it), on the page's Performance timeline.
READY_SCRIPT = """(() => {
  const screens = {'bench.visit': ['#checkin', '#matters'], 'bench.home': ['#me-name']};
  const seen = () => Object.entries(screens)
    .find(([, sel]) => sel.every((s) => document.querySelector(s)));
  const observer = new MutationObserver(() => {
    const hit = seen();
    if (!hit) return;
    observer.disconnect();
    performance.mark(hit[0]);
    requestAnimationFrame(() => performance.mark(`${hit[0]}.frame`));
  });
  observer.observe(document, {childList: true, subtree: true});
})();"""

OPENED = """(name) => {
  const [dom] = performance.getEntriesByName(name);
  const [frame] = performance.getEntriesByName(`${name}.frame`);
  return frame ? {dom: dom.startTime, frame: frame.startTime} : null;
}"""
# After the timing: the shell came from the service worker and the server is out of reach.
FIELD_LIKE = """async () => ({
  controlled: !!navigator.serviceWorker.controller,
  offline: await fetch('/api/health', {cache: 'no-store'}).then(() => false, () => true),
})"""

# One put of a copy of the newest outbox row (a fresh id) into bench database's `rows` store,
# which has the outbox's keyPath and indexes (db.js); timed to the transaction's complete.
BARE_PUT = """async (visit) => {
  const b = (window.__bench ??= {});
  b.db ??= await new Promise((resolve, reject) => {
    const req = indexedDB.open('onevisit-bench', 1);
    req.onupgradeneeded = () => {
      const rows = req.result.createObjectStore('rows', {keyPath: 'id'});
      rows.createIndex('queue', ['state', 'device', 'seq']);
      rows.createIndex('visit', 'visit');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const {outbox} = await import('/db.js');
  const rows = await outbox.ofVisit(visit);
  const last = rows.reduce((a, r) => (r.created_at >= (a?.created_at ?? -Infinity) ? r : a), null);
  const row = {...structuredClone(last), id: crypto.randomUUID()};
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const tx = b.db.transaction('rows', 'readwrite');
    tx.objectStore('rows').put(row);
    tx.oncomplete = resolve;
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
  performance.measure('bench.put', {start: started, end: performance.now()});
  return JSON.stringify(row).length;
}"""

DURATIONS = "(name) => performance.getEntriesByName(name).map((e) => e.duration)"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# --- set-up: the real server and a downloaded joint visit -------------------------------------


@contextlib.asynccontextmanager
async def live_server(tmp: Path, base: str, port: int):
    """`onevisit serve` on `port`, as tests/browser/conftest.py's live_server starts it."""
    from tests.browser.conftest import _wait_healthy

    env = {**os.environ, "ONEVISIT_ORIGIN": base}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "backend"), env.get("PYTHONPATH")) if p
    )
    cmd = [sys.executable, "-m", "onevisit.cli", "serve", "--no-migrate",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        await _wait_healthy(proc, f"http://127.0.0.1:{port}/api/health", log)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _matter(department: str, items: int) -> str:
    from onevisit.directory.tables import CheckItem, Department, Matter
    from tests.fixtures import unique

    dep = await Department.select(Department.id).where(Department.code == department).first()
    code = unique("m")
    matter = Matter(code=code, department=dep["id"], name=f"事项{code}", category="key")
    await Matter.insert(matter)
    await CheckItem.insert(
        *[
            CheckItem(
                matter=matter.id,
                position=i,
                text=f"检查项{i}：经营者是否按规定公示证照、落实进货查验",
            )
            for i in range(items)
        ]
    )
    return code


async def field_visit(browser, base: str):
    """(inspector with a downloaded visit, visit, [(matter, item count)] the inspector answers)."""
    from onevisit.directory.schemas import SubjectIn
    from onevisit.directory.subjects import create_subject
    from onevisit.planning.visits import create_task, create_visit
    from tests.browser.conftest import _new_tab
    from tests.browser.helpers import new_department, new_inspector
    from tests.browser.visitflow import Visit, _inspector, download
    from tests.fixtures import unique

    dep_a, dep_b = await new_department("市场监管局"), await new_department("卫健委")
    mine = [(await _matter(dep_a, n), n) for n in ITEMS_A]
    theirs = [(await _matter(dep_b, n), n) for n in ITEMS_B]

    async def make_tab():
        tab = await _new_tab(browser, base)
        await tab.context.add_init_script(READY_SCRIPT)
        return tab

    me = await _inspector(make_tab, dep_a, name=unique("组长"))
    mate, other = await new_inspector(dep_a), await new_inspector(dep_b)
    subject = unique("CP-")
    await create_subject(
        data=SubjectIn(
            subject_id=subject, name="某某餐饮有限公司", kind="product",
            address="洛阳市西工区某路1号", lat_e6=34_660_100, lon_e6=112_430_100,
            credit_class="C", abnormal=True, last_inspected=date(2024, 5, 6),
        ),
        actor="bench",
    )  # fmt: skip
    task = await create_task(
        code=unique("task"), name="食品经营联合抽查", initiator=dep_a,
        matters=[m for m, _ in mine + theirs], created_by="bench",
    )  # fmt: skip
    visit = Visit(
        await create_visit(
            task_id=task,
            subject_id=subject,
            members=[(me.code, dep_a), (mate, dep_a), (other, dep_b)],
        ),
        {dep_a: mine[0][0], dep_b: theirs[0][0]},
        subject,
    )
    await download(me, visit)
    # The shell must come from the service worker, as on a phone in the field.
    await me.tab.page.wait_for_function("() => !!navigator.serviceWorker.controller")
    return me, visit, mine


# --- (1) opening offline -------------------------------------------------------------------


async def open_once(tab, route: str, name: str) -> float:
    """Reload `route` (throttled, offline); ms from the time origin to the frame after ready."""
    page = tab.page
    if await page.evaluate("() => location.hash") != route:
        await page.evaluate("(r) => { location.hash = r; }", route)
    await page.reload(wait_until="commit")
    handle = await page.wait_for_function(OPENED, arg=name, timeout=30_000)
    got = await handle.json_value()
    state = await page.evaluate(FIELD_LIKE)
    assert state["controlled"] and state["offline"], state
    return got["frame"]


async def opens(tab, visit_id: str, runs: int) -> dict[str, list[float]]:
    await tab.cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    out: dict[str, list[float]] = {"home": [], "visit": []}
    try:
        for _ in range(runs):
            out["home"].append(await open_once(tab, "#/", "bench.home"))
            out["visit"].append(await open_once(tab, f"#/visit/{visit_id}", "bench.visit"))
    finally:
        await tab.cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    return out


# --- (2) ticks ------------------------------------------------------------------------------


async def ticks(tab, visit_id: str, mine: list[tuple[str, int]], count: int) -> dict:
    """`count` ticks at 1x and `count` at 4x, alternated, each followed by a bare put."""
    page = tab.page
    items = [(code, pos) for code, n in mine for pos in range(n)]
    answer: dict[tuple[str, int], str] = {}
    at = {1: {"tick": [], "put": []}, THROTTLE: {"tick": [], "put": []}}
    row_bytes: list[int] = []
    shown = None
    for k in range(count):
        code, pos = items[k % len(items)]
        if code != shown:  # a hash change: the app routes to the matter screen in this document
            await page.evaluate(
                "(r) => { location.hash = r; }", f"#/visit/{visit_id}/matter/{code}"
            )
            await page.wait_for_function(
                """(code) => document.querySelector('#items li') && [...document
                  .querySelectorAll('#view p.muted')].some((p) => p.textContent.startsWith(code))
                """,
                arg=code,
            )
            shown = code
        for rate in (1, THROTTLE):
            await tab.cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
            # A radio fires `change` only when the choice changes: alternate two answers.
            value = "not_applicable" if answer.get((code, pos)) == "compliant" else "compliant"
            answer[(code, pos)] = value
            before = len(await page.evaluate(DURATIONS, "onevisit.tick"))
            await page.check(f"li[data-item='{pos}'] input[value='{value}']")
            await page.wait_for_function(
                "(n) => performance.getEntriesByName('onevisit.tick').length > n", arg=before
            )
            at[rate]["tick"].append((await page.evaluate(DURATIONS, "onevisit.tick"))[-1])
            await asyncio.sleep(PAUSE_S)
            row_bytes.append(await page.evaluate(BARE_PUT, visit_id))
            at[rate]["put"].append((await page.evaluate(DURATIONS, "bench.put"))[-1])
            await asyncio.sleep(PAUSE_S)
    await tab.cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    return {"at": at, "row_bytes": statistics.median(row_bytes)}


# --- the run and the table ------------------------------------------------------------------


def _open_lines(label: str, got: dict[str, list[float]]) -> list[str]:
    home, visit = got["home"], got["visit"]
    med_v, med_h, best_v, best_h = (statistics.median(visit), statistics.median(home),
                                    min(visit), min(home))  # fmt: skip
    verdict = "met" if med_v < OPEN_BUDGET_MS else "NOT met"
    return [
        f"  {label:27} {med_v:7.0f} {best_v:7.0f} | {med_h:7.0f} {best_h:7.0f} | "
        f"{med_v / med_h:5.2f} {best_v / best_h:5.2f} | {med_v / OPEN_BUDGET_MS:5.2f} ({verdict})"
    ]


def _tick_lines(got: dict) -> list[str]:
    lines = []
    for rate, series in got["at"].items():
        t, p = series["tick"], series["put"]
        med_t, med_p = statistics.median(t), statistics.median(p)
        verdict = "met" if p95(t) < TICK_BUDGET_MS else "NOT met"
        lines.append(
            f"  {f'{rate}x CPU, {len(t)} ticks':27} {med_t:7.1f} {p95(t):7.1f} | {med_p:7.1f} "
            f"{p95(p):7.1f} | {med_t / med_p:5.2f} {p95(t) / p95(p):5.2f} | "
            f"{p95(t) / TICK_BUDGET_MS:5.2f} ({verdict})"
        )
    return lines


def _head(spread: str, budget: str) -> str:
    return (f"  {'':27} {'median':>7} {spread:>7} | {'median':>7} {spread:>7} | "
            f"{'med':>5} {spread:>5} | {budget}")  # fmt: skip


async def child(engine: str, runs: int, count: int, raw: bool) -> None:
    from tests.browser.conftest import _free_port

    port = _free_port()
    base = f"http://localhost:{port}"
    os.environ["ONEVISIT_ORIGIN"] = base  # before onevisit is imported: settings read it once

    from playwright.async_api import async_playwright

    from onevisit.cli import migrate
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.visitflow import check_in

    with contextlib.redirect_stdout(io.StringIO()):  # piccolo's migration banner
        await migrate()
    with tempfile.TemporaryDirectory(prefix="onevisit-bench-pwa-") as tmp:
        async with live_server(Path(tmp), base, port), async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            me, visit, mine = await field_visit(browser, base)
            tab = me.tab
            await tab.context.set_offline(True)  # no signal on site, from here on
            fresh = await opens(tab, visit.id, runs)
            await tab.open(f"#/visit/{visit.id}")
            await check_in(me)
            ticked = await ticks(tab, visit.id, mine, count)
            mid = await opens(tab, visit.id, runs)
            errors = tab.page_errors
            version = browser.version
            await browser.close()
    assert not errors, errors
    items = ", ".join(str(n) for n in ITEMS_A + ITEMS_B)
    print(
        f"pwa_field {engine}: Chromium {version}, 360x640, offline (service worker shell); "
        f"visit of 2 departments x 2 matters ({items} items)"
    )
    print(f"(1) open offline at {THROTTLE}x CPU, ms from navigation start to the painted frame, "
          f"{runs} runs each, alternated")  # fmt: skip
    print(f"  {'':27} {'visit':>15} | {'baseline: home':>15} | {'ratio':>11} | budget 1 s")
    print(_head("best", "median/1000"))
    print("\n".join(_open_lines("as downloaded (0 events)", fresh)))
    events = 1 + 2 * count
    print("\n".join(_open_lines(f"mid-visit ({events} events)", mid)))
    print(f"(2) tick stored in IndexedDB, ms (performance.measure 'onevisit.tick'); baseline: bare "
          f"put of the same row (≈{ticked['row_bytes']:.0f} B as JSON)")  # fmt: skip
    print(f"  {'':27} {'tick':>15} | {'baseline: put':>15} | {'ratio':>11} | budget 50 ms")
    print(_head("p95", "p95/50"))
    print("\n".join(_tick_lines(ticked)))
    if raw:
        ms = lambda xs: " ".join(f"{x:.1f}" for x in xs)  # noqa: E731
        for label, got in (("fresh", fresh), ("mid-visit", mid)):
            for screen, xs in got.items():
                print(f"raw open {label} {screen}: {ms(xs)}")
        for rate, series in ticked["at"].items():
            for kind, xs in series.items():
                print(f"raw {kind} {rate}x: {ms(xs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=ENGINES, default="sqlite")
    parser.add_argument("--runs", type=int, default=7, help="opens of each screen per phase (≥ 5)")
    parser.add_argument("--ticks", type=int, default=20, help="ticks at each CPU rate (≥ 20)")
    parser.add_argument("--raw", action="store_true", help="also print every sample (ms)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.INFO)
        sys.path.insert(0, str(ROOT))  # tests.browser.* (the browser harness is reused)
        asyncio.run(child(args.engine, args.runs, args.ticks, args.raw))
        return
    for name in engines(args.engine):
        argv = ["--runs", str(args.runs), "--ticks", str(args.ticks)]
        run_in_child(__file__, name, argv + (["--raw"] if args.raw else []))


if __name__ == "__main__":
    main()
