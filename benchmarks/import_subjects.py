"""Benchmark: import N subjects from a CSV through the domain function, against a raw bulk insert
of the same rows into a fresh copy of the subject table (same columns and indexes).

    .venv/bin/python benchmarks/import_subjects.py [--rows N] [--engine sqlite|postgres|both]

Each engine runs in its own child process: piccolo picks the engine when onevisit is imported,
so the environment is set first. SQLite uses a temporary file; PostgreSQL a temporary database
on ONEVISIT_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test), dropped after.
Goal: (a) the full import runs at ≥ 0.5× the rows/s of (b) the raw insert; each is the best of
REPS runs, alternated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import time

from _harness import ENGINES, engines, run_in_child

REPS = 3


def make_csv(rows: int) -> bytes:
    from onevisit.directory.uscc import make_uscc

    lines = ["统一社会信用代码,名称,类型,地址,纬度,经度,行业代码,行政区划代码,信用风险分类,"
             "经营异常,严重违法失信,最近检查日期,法定代表人,标签"]  # fmt: skip
    for i in range(rows):
        sid = make_uscc("9", "1", "410302", f"B{i:08d}")
        lat, lon = f"34.{600000 + i % 99999:06d}", f"112.{400000 + i % 99999:06d}"
        lines.append(
            f"{sid},洛阳市测试商贸有限公司{i},企业,河南省洛阳市西工区中州中路{i}号,{lat},{lon},"
            f"F5211,410302,{'ABCD'[i % 4]},{'是' if i % 50 == 0 else '否'},否,"
            f"{'2024-05-0' + str(1 + i % 9) if i % 3 else ''},张{i},餐饮;重点"
        )
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


async def copy_table() -> None:
    """subject_bench: an empty copy of subject with the same columns, defaults and indexes."""
    from onevisit.db import engine, is_sqlite

    db = engine()
    if not is_sqlite():
        await db.run_ddl("CREATE TABLE subject_bench (LIKE subject INCLUDING ALL)")
        return
    rows = await db.run_ddl(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'subject' AND sql IS NOT NULL"
    )
    for row in rows:
        sql = (
            row["sql"]
            .replace('"subject"', '"subject_bench"')
            .replace(" subject ", " subject_bench ")
        )
        sql = sql.replace("INDEX subject_", "INDEX subject_bench_")
        await db.run_ddl(sql)


async def empty(table: str) -> None:
    from onevisit.db import engine, is_sqlite

    # TRUNCATE on PostgreSQL: a DELETE would leave 100k dead rows for the next run to wade in
    sql = f'DELETE FROM "{table}"' if is_sqlite() else f'TRUNCATE "{table}" CASCADE'
    await engine().run_ddl(sql)


async def child(rows: int, profile: bool) -> tuple[float, float, float]:
    from datetime import UTC, datetime

    from onevisit.cli import migrate
    from onevisit.db import bulk_insert, engine, is_sqlite, start_pool, write_transaction
    from onevisit.directory.importing import import_file, parse_subjects
    from onevisit.directory.records import stored_subject
    from onevisit.directory.subjects import SUBJECT_COLUMNS
    from onevisit.directory.tabular import read_table

    with contextlib.redirect_stdout(io.StringIO()):  # piccolo's migration banner
        await migrate()
    if not is_sqlite():
        await start_pool()
    data = make_csv(rows)
    await copy_table()

    records, _, rows_ = parse_subjects(read_table(data, "bench.csv"))
    assert not rows_.errors
    # Best of REPS for each side, run alternately: the least disturbed run of each is the
    # closest to its true cost on a shared machine (as timeit takes the minimum).
    a = b = float("inf")
    for rep in range(REPS):
        await empty("subject")
        await empty("subject_bench")
        prof = cProfile.Profile() if profile and rep == 0 else None
        t0 = time.perf_counter()
        with prof or contextlib.nullcontext():
            result = await import_file(
                kind="subjects", data=data, filename="bench.csv", actor="bench"
            )
        a = min(a, time.perf_counter() - t0)
        if prof:
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        assert result.created == rows, result

        now = datetime.now(UTC)
        stored = [(*stored_subject(r), 1, result.revision, now) for r in records]
        t0 = time.perf_counter()
        async with write_transaction():
            await bulk_insert("subject_bench", SUBJECT_COLUMNS, stored)
        b = min(b, time.perf_counter() - t0)

    # (c), for information: a re-import in which every row changed (history + update)
    changed = data.replace("餐饮;重点".encode(), "餐饮".encode())
    t0 = time.perf_counter()
    result = await import_file(kind="subjects", data=changed, filename="bench.csv", actor="bench")
    c = time.perf_counter() - t0
    assert result.updated == rows, result
    if not is_sqlite():
        await engine().close_connection_pool()
    return a, b, c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--engine", choices=ENGINES, default="both")
    parser.add_argument("--profile", action="store_true", help="cProfile of (a)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        a, b, c = asyncio.run(child(args.rows, args.profile))
        n = args.rows
        print(
            f"{args.engine:8} {n} rows: (a) import {a:6.2f} s = {n / a:9,.0f} rows/s | "
            f"(b) raw bulk insert {b:6.2f} s = {n / b:9,.0f} rows/s | "
            f"throughput ratio (a)/(b) = {b / a:.2f}\n"
            f"{'':8} (c) re-import, every row changed: {c:6.2f} s = {n / c:9,.0f} rows/s"
        )
        return
    for name in engines(args.engine):
        argv = ["--rows", str(args.rows)] + (["--profile"] if args.profile else [])
        run_in_child(__file__, name, argv)


if __name__ == "__main__":
    main()
