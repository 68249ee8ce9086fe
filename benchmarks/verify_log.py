"""Benchmark: `onevisit verify` (evidence.verify.verify_all) over a log of N events, against the
raw limit in the same process: read the same envelopes and signatures back in one streaming
query, ECDSA-verify each (evidence.events.verify_event_signature) and SHA-256 it, nothing else.

    .venv/bin/python benchmarks/verify_log.py [--events N] [--engine sqlite|postgres|both]
                                              [--profile]

The log is built fast, without HTTP: 50 simulated phones (one user, their device keys written
straight into device_key) sign N small "note" events, which go through the real store path
exactly as sync stores them (one write transaction per batch of 2,000: LogAppender.open,
store_events, and sign_checkpoint every 10,000 events), so the log has leaves, nodes and
checkpoints as in production. Each engine runs in its own child process (piccolo picks the
engine when onevisit is imported): SQLite (the default) in a temporary file; PostgreSQL works
too (--engine postgres), in a temporary database on ONEVISIT_TEST_PG_URL (default
postgresql://postgres@127.0.0.1:5432/test), dropped after. 1,000,000 events on SQLite take
several minutes (build included). Goal: (a) ≥ 0.5 × the events/s of (b).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import resource
import sys
import time

from _harness import ENGINES, engines, run_in_child

PHONES = 50
BATCH = 2000  # events per write transaction
CHECKPOINT_EVERY = 10_000  # events between signed checkpoints


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def build(events: int) -> float:
    """N signed events from PHONES phones, stored through the real store path (no HTTP)."""
    from onevisit.auth.tables import DeviceKey
    from onevisit.auth.users import create_user
    from onevisit.db import write_transaction
    from onevisit.evidence.events import parse_event
    from onevisit.evidence.log import LogAppender, sign_checkpoint
    from onevisit.evidence.store import now_ms, store_events
    from onevisit.simulate.phone import Phone

    t0 = time.perf_counter()
    user = await create_user(name="bench", role="admin", department_code=None, created_by="cli")
    phones = [Phone(actor=user.id) for _ in range(PHONES)]
    await DeviceKey.insert(
        *[DeviceKey(device_id=p.device_id, app_user=user.id, spki=p.spki) for p in phones]
    )
    at = now_ms() - 86_400_000
    next_checkpoint = CHECKPOINT_EVERY
    for start in range(0, events, BATCH):
        items = []
        for i in range(start, min(start + BATCH, events)):
            body = {"text": f"现场记录第{i}条：经营者配合检查。"}
            signed = phones[i % PHONES].event("note", body, visit=None, at=at + i)
            items.append((parse_event(signed.envelope.encode()), signed.sig))
        async with write_transaction():
            appender = await LogAppender.open()
            await store_events(items, appender, received_ms=now_ms())
            if appender.size >= next_checkpoint or appender.size == events:
                await sign_checkpoint(appender)
                next_checkpoint += CHECKPOINT_EVERY
        done = start + len(items)
        if done % 100_000 == 0 and done < events:
            rate = done / (time.perf_counter() - t0)
            print(f"  built {done:,} events ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    return time.perf_counter() - t0


async def via_verify(events: int, profile: bool) -> float:
    from onevisit.evidence.verify import verify_all

    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    report = await verify_all()
    a = time.perf_counter() - t0
    if prof is not None:
        import pstats

        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(r"onevisit|piccolo|aiosqlite|asyncpg", 30)
        stats.sort_stats("tottime").print_stats(25)
    assert report.ok, report.summary()
    assert report.counts.events == events, report.summary()
    print(f"  {report.summary()}", file=sys.stderr, flush=True)
    return a


async def raw_limit(events: int) -> float:
    """Read (envelope, sig, device) in log order in one streaming query; per event the ECDSA
    verify (raw r||s → DER) and SHA-256 of the envelope, nothing else."""
    import hashlib

    from onevisit.auth.tables import DeviceKey
    from onevisit.config import get_settings
    from onevisit.db import is_sqlite
    from onevisit.evidence.events import verify_event_signature

    sql = "SELECT envelope, sig, device_id FROM event ORDER BY log_index"
    t0 = time.perf_counter()
    rows = await DeviceKey.select(DeviceKey.device_id, DeviceKey.spki)
    keys = {r["device_id"]: bytes(r["spki"]) for r in rows}
    n = 0
    if is_sqlite():
        import sqlite3

        con = sqlite3.connect(get_settings().sqlite_path)
        try:
            for envelope, sig, device in con.execute(sql):
                verify_event_signature(
                    envelope_bytes=envelope, signature_b64url=sig, spki_der=keys[device]
                )
                hashlib.sha256(envelope).digest()
                n += 1
        finally:
            con.close()
    else:
        import asyncpg

        con = await asyncpg.connect(get_settings().database_url)
        try:
            async with con.transaction():
                async for envelope, sig, device in con.cursor(sql, prefetch=5000):
                    verify_event_signature(
                        envelope_bytes=envelope, signature_b64url=sig, spki_der=keys[device]
                    )
                    hashlib.sha256(envelope).digest()
                    n += 1
        finally:
            await con.close()
    assert n == events, n
    return time.perf_counter() - t0


async def child(events: int, profile: bool) -> None:
    from onevisit.cli import migrate

    with contextlib.redirect_stdout(io.StringIO()):  # piccolo's migration banner
        await migrate()
    built = await build(events)
    rss_built = peak_rss_mb()
    a = await via_verify(events, profile)
    rss_a = peak_rss_mb()
    b = await raw_limit(events)
    rss_b = peak_rss_mb()
    name = "sqlite" if "sqlite" in os.environ["ONEVISIT_DATABASE_URL"] else "postgres"
    print(
        f"{name:8} {events:,} events, {PHONES} devices, built without HTTP through the real "
        f"store path in {built:.1f} s ({events / built:,.0f} events/s)\n"
        f"{'':8} (a) verify_all {a:7.2f} s = {events / a:8,.0f} events/s | "
        f"(b) read + ECDSA verify + SHA-256 {b:7.2f} s = {events / b:8,.0f} events/s | "
        f"ratio (a)/(b) = {b / a:.2f}\n"
        f"{'':8} peak RSS: {rss_built:.0f} MB after build, {rss_a:.0f} MB after (a), "
        f"{rss_b:.0f} MB after (b)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=ENGINES, default="sqlite")
    parser.add_argument("--profile", action="store_true", help="cProfile of (a)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.INFO)
        asyncio.run(child(args.events, args.profile))
        return
    print(
        "log built without HTTP: signed envelopes stored through store_events + "
        "sign_checkpoint, as sync does",
        file=sys.stderr,
        flush=True,
    )
    for name in engines(args.engine):
        run_in_child(
            __file__, name, ["--events", str(args.events)] + (["--profile"] if args.profile else [])
        )


if __name__ == "__main__":
    main()
