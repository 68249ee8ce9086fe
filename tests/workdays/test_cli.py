"""`onevisit calendar import | show | due` (both engines)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from onevisit.cli import build_parser
from onevisit.errors import AppError
from onevisit.workdays.cli import run_due, run_import, run_show
from onevisit.workdays.tables import CalendarYear
from tests.workdays.util import csv_file, fresh_year, whole_year


async def _in_thread(argv: list[str]) -> None:
    """As `onevisit ARGV` would, but awaited in the test's event loop (the command itself calls
    asyncio.run, and PostgreSQL's pool belongs to this loop): the parsed arguments name the
    function and its arguments."""
    args = build_parser().parse_args(argv)
    if args.calendar_command == "import":
        await run_import(path=args.file)
    elif args.calendar_command == "show":
        await run_show(year=args.year)
    else:
        await run_due(day=args.date, n=args.n)


async def test_due_and_show(capsys):
    await _in_thread(["calendar", "due", "2026-09-25"])
    assert capsys.readouterr().out.strip() == "2026-09-25 + 20 working days → due 2026-10-29"
    await _in_thread(["calendar", "due", "2026-12-15"])
    out = capsys.readouterr().out
    assert "due 2027-01-1" in out  # 12 (provisional) or 13 (2027 imported by another test)
    assert ("provisional" in out) == ("due 2027-01-12" in out)
    await _in_thread(["calendar", "due", "2026-09-18", "-n", "1"])
    assert "due 2026-09-20" in capsys.readouterr().out  # the make-up Sunday

    await _in_thread(["calendar", "show", "2026"])
    out = capsys.readouterr().out
    assert out.startswith("2026: loaded, version 1 of 1, chinese-calendar 1.11.0")
    assert "2026-10-10 六 workday 上班 国庆节" in out
    await _in_thread(["calendar", "show", "2098"])
    assert "not loaded — provisional" in capsys.readouterr().out


async def test_import_then_show(tmp_path, capsys):
    year = fresh_year()
    file = tmp_path / f"{year}.csv"
    file.write_bytes(csv_file(whole_year(year)))
    await _in_thread(["calendar", "import", str(file)])
    out = capsys.readouterr().out
    assert f"{year}: version 1, 12 holidays, 1 workdays (changed) — import:{year}.csv" in out
    await _in_thread(["calendar", "show", str(year)])
    out = capsys.readouterr().out
    assert f"{year}: loaded, version 1 of 1, import:{year}.csv" in out
    assert out.count("春节") == 13
    row = await CalendarYear.select().where(CalendarYear.year == year).first()
    assert row["actor"] == "cli"


async def test_a_bad_file_prints_every_row_and_exits_2(tmp_path, capsys):
    year = fresh_year()
    file = tmp_path / "bad.csv"
    file.write_bytes(csv_file([*whole_year(year), (f"{year}-13-01", "holiday", "x")]))
    with pytest.raises(AppError) as caught:  # onevisit.cli._run prints it and exits 2
        await _in_thread(["calendar", "import", str(file)])
    assert caught.value.code == "calendar.rows_invalid"
    assert caught.value.details == {"errors": 1}  # the rows went to stderr one by one
    err = capsys.readouterr().err
    assert "row 15, column date: calendar.date_invalid" in err
    assert not await CalendarYear.exists().where(CalendarYear.year == year)


def _command(*args: str) -> subprocess.CompletedProcess:
    """`onevisit …` as an operator runs it, in its own process, on this run's database."""
    return subprocess.run(
        [sys.executable, "-m", "onevisit.cli", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip


def test_the_command_runs_and_exits_2_on_a_bad_file(tmp_path):
    """The whole command, in its own process (both engines)."""
    file = tmp_path / "bad.csv"
    file.write_bytes(b"date,kind,name\n2031-02-30,holiday,x\n")
    done = _command("calendar", "import", str(file))
    assert done.returncode == 2
    assert "[calendar.rows_invalid]" in done.stderr and "row 2, column date" in done.stderr
    done = _command("calendar", "import", str(tmp_path / "none.csv"))  # said, no traceback
    assert done.returncode == 2 and "none.csv" in done.stderr and "Traceback" not in done.stderr
    done = _command("calendar", "due", "2026-09-25")
    assert done.returncode == 0 and "due 2026-10-29" in done.stdout


def test_a_bad_date_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["calendar", "due", "2026-02-30"])
    assert exited.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
