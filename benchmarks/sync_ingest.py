"""Benchmark: sync ingest of N signed events through the real app over HTTP, against the raw
limit in the same process (ECDSA verify of the same events + bulk insert of the same event rows
and log leaves into empty copies of the tables).

    .venv/bin/python benchmarks/sync_ingest.py [--events N] [--engine sqlite|postgres|both]
                                               [--profile]

"Over HTTP" is in-process: httpx.AsyncClient with httpx.ASGITransport against create_app(),
the app's lifespan entered (the full request path: routing, msgspec, guards, session lookup,
ingest; no socket). Each engine runs in its own child process (piccolo picks the engine when
onevisit is imported): SQLite in a temporary file, PostgreSQL in a temporary database on
ONEVISIT_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test), dropped after.
Events: 8 devices (2 per member of one joint visit), item results and notes, batches of 200.
Goal: (a) ≥ 0.5 × the events/s of (b); each is the best of REPS runs (of N events each),
alternated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import time

from _harness import ENGINES, engines, run_in_child

BATCH = 200
REPS = 5
DEVICES_PER_MEMBER = 2


async def copy_tables(names: list[str]) -> None:
    """<name>_bench: empty copies with the same columns and indexes (no triggers)."""
    from onevisit.db import engine, is_sqlite

    db = engine()
    for name in names:
        if not is_sqlite():
            await db.run_ddl(f'CREATE TABLE "{name}_bench" (LIKE "{name}" INCLUDING ALL)')
            continue
        rows = await db.run_ddl(
            f"SELECT type, name, sql FROM sqlite_master WHERE tbl_name = '{name}' "
            "AND sql IS NOT NULL AND type IN ('table', 'index') ORDER BY type DESC"
        )
        for row in rows:
            sql = row["sql"].replace(f'"{name}"', f'"{name}_bench"')
            sql = sql.replace(f" {name} ", f" {name}_bench ").replace(
                f" {name}(", f" {name}_bench("
            )
            sql = sql.replace(f'"{row["name"]}"', f'"{row["name"]}_bench"')
            sql = sql.replace(f"INDEX {row['name']} ", f"INDEX {row['name']}_bench ")
            await db.run_ddl(sql)


async def build(app, events: int):
    """Phones of one joint visit (device keys registered over HTTP) and N pre-signed events,
    as batches of one device each, devices interleaved."""
    import httpx

    from onevisit.auth.guards import CSRF_HEADER
    from onevisit.auth.sessions import SESSION_COOKIE
    from onevisit.simulate.phone import Phone
    from onevisit.simulate.setup import prepare

    plan = await prepare(phones=4, visits=1, seed=1)
    visit = plan.visits[0]
    transport = httpx.ASGITransport(app=app)
    devices = []  # (client, phone, matter, items)
    for index in visit.members:
        m = plan.members[index]
        client = httpx.AsyncClient(
            transport=transport, base_url="http://localhost:8000",
            cookies={SESSION_COOKIE: m.token}, headers={CSRF_HEADER: m.csrf},
        )  # fmt: skip
        for _ in range(DEVICES_PER_MEMBER):
            phone = Phone(actor=m.user_id)
            r = await client.post("/api/auth/devices", json={"spki": phone.spki_b64url})
            assert r.status_code == 201, r.text
            matter = plan.matters[m.department]
            devices.append((client, phone, matter, plan.items[matter]))
    per_device = [[] for _ in devices]
    at = int(time.time() * 1000) - 3_600_000
    for i in range(events):
        d = i % len(devices)
        _, phone, matter, n_items = devices[d]
        if i % 5 == 4:
            body = {"text": f"现场记录第{i}条：经营者配合检查。", "matter": matter}
            per_device[d].append(phone.event("note", body, visit=visit.visit, at=at + i))
        else:
            result = "non_compliant" if i % 7 == 0 else "compliant"
            body = {"matter": matter, "item": i % n_items, "result": result}
            if result == "non_compliant":
                body["note"] = "台账记录不完整"
            per_device[d].append(phone.event("item_result", body, visit=visit.visit, at=at + i))
    batches = []
    for start in range(0, max(len(e) for e in per_device), BATCH):
        for d, evs in enumerate(per_device):
            if evs[start : start + BATCH]:
                batches.append((devices[d][0], evs[start : start + BATCH]))
    spki = {phone.device_id: phone.spki for _, phone, _, _ in devices}
    return batches, spki, [c for c, _, _, _ in devices[::DEVICES_PER_MEMBER]]


async def via_http(batches) -> float:
    t0 = time.perf_counter()
    for client, evs in batches:
        r = await client.post("/api/sync", json={"events": [e.wire() for e in evs]})
        acks = r.json()["acks"]
        assert all(a["status"] == "accepted" for a in acks), acks[:3]
    return time.perf_counter() - t0


async def raw_limit(batches, spki, first_index: int) -> float:
    import json

    from onevisit.db import bulk_insert, write_transaction
    from onevisit.evidence.events import leaf_input, verify_event_signature
    from onevisit.evidence.store import EVENT_COLUMNS

    prepared = []
    index = first_index  # leaves of the copy: any distinct indexes
    for _, evs in batches:
        rows, leaves = [], []
        for e in evs:
            env = json.loads(e.envelope)
            rows.append((e.id, e.hash, env["device"], e.seq, env["prev"], env["actor"],
                         env["visit"], env["type"], env["at"], e.envelope.encode(), e.sig,
                         0, index))  # fmt: skip
            leaves.append((index, leaf_input(event_hash=e.hash, sig=e.sig, receipt_ms=0), e.hash))
            index += 1
        prepared.append((evs, rows, leaves))
    t0 = time.perf_counter()
    for evs, rows, leaves in prepared:
        for e, row in zip(evs, rows, strict=True):
            verify_event_signature(envelope_bytes=row[9], signature_b64url=e.sig,
                                   spki_der=spki[row[2]])  # fmt: skip
        async with write_transaction():
            await bulk_insert("event_bench", EVENT_COLUMNS, rows)
            await bulk_insert("log_leaf_bench", ("idx", "leaf_input", "event_hash"), leaves)
    return time.perf_counter() - t0


def _count(batches) -> int:
    return sum(len(evs) for _, evs in batches)


async def child(events: int, profile: bool) -> tuple[float, float]:
    """(a) and (b) in seconds for `events` events (each run's time scaled to that count)."""
    from onevisit.app import create_app
    from onevisit.cli import migrate

    with contextlib.redirect_stdout(io.StringIO()):  # piccolo's migration banner
        await migrate()
    await copy_tables(["event", "log_leaf"])
    app = create_app()
    async with app.lifespan():
        batches, spki, clients = await build(app, events * REPS)
        # Best of REPS for each side, run alternately on successive fifths of the devices'
        # chains: the least disturbed run of each is the closest to its true cost on a shared
        # machine (as timeit takes the minimum). Both sides' tables grow alike from run to run.
        per_run = -(-len(batches) // REPS)
        a = b = float("inf")
        for rep in range(REPS):
            part = batches[rep * per_run : (rep + 1) * per_run]
            if profile and rep == 0:
                import cProfile
                import pstats

                prof = cProfile.Profile()
                prof.enable()
                a = min(a, await via_http(part) * events / _count(part))
                prof.disable()
                stats = pstats.Stats(prof)
                stats.sort_stats("cumulative").print_stats(r"onevisit|rfc8785|piccolo", 30)
                stats.sort_stats("tottime").print_stats(20)
            else:
                a = min(a, await via_http(part) * events / _count(part))
            b = min(b, await raw_limit(part, spki, 10_000_000 * (rep + 1)) * events / _count(part))
        for c in clients:
            await c.aclose()
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--engine", choices=ENGINES, default="both")
    parser.add_argument("--profile", action="store_true", help="cProfile of (a)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.INFO)
        a, b = asyncio.run(child(args.events, args.profile))
        n = args.events
        print(
            f"{args.engine:8} {n} events: (a) sync via HTTP {a:6.2f} s = {n / a:8,.0f} events/s | "
            f"(b) verify + bulk insert {b:6.2f} s = {n / b:8,.0f} events/s | "
            f"ratio (a)/(b) = {b / a:.2f}"
        )
        return
    for name in engines(args.engine):
        run_in_child(
            __file__, name, ["--events", str(args.events)] + (["--profile"] if args.profile else [])
        )


if __name__ == "__main__":
    main()
