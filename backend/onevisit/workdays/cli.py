"""`onevisit calendar …` (registered by onevisit.cli.build_parser), as the "cli" actor:

onevisit calendar import FILE     a .csv (date,kind,name) or .json of whole years
onevisit calendar show YEAR       the year's special days, loaded or provisional
onevisit calendar due DATE        the 20th working day after a visit on DATE
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from onevisit.directory.cli import print_row_errors
from onevisit.errors import AppError
from onevisit.workdays import service
from onevisit.workdays.calendar import PUBLISH_WITHIN, Kind
from onevisit.workdays.importing import parse_date

__all__ = ["add_calendar_parser", "run_due", "run_import", "run_show"]

_KIND_ZH = {Kind.holiday: "放假", Kind.workday: "上班"}


async def run_import(*, path: str) -> None:
    file = Path(path)
    try:
        report = await service.import_calendar(
            data=file.read_bytes(), filename=file.name, actor="cli"
        )
    except AppError as exc:
        print_row_errors(exc)
        raise
    for w in report.warnings:
        print(f"warning: row {w['row']}, column {w['column']}: {w['code']} — {w['message']}")
    for y in report.years:
        change = "changed" if y["changed"] else "unchanged"
        print(
            f"{y['year']}: version {y['version']}, {y['holidays']} holidays, "
            f"{y['workdays']} workdays ({change}) — {report.source}"
        )


async def run_show(*, year: int) -> None:
    view = await service.show_year(year=year)
    if not view.loaded:
        print(f"{year}: not loaded — provisional, Monday–Friday assumed / 未导入，按周一至周五暂计")
        return
    print(
        f"{year}: loaded, version {view.version} of {view.versions}, {view.source}, "
        f"at {view.loaded_at:%Y-%m-%d %H:%M:%S%z}"
    )
    for d in view.days:
        print(f"{d.day:%Y-%m-%d} {'一二三四五六日'[d.day.weekday()]} {d.kind.value:<7} "
              f"{_KIND_ZH[d.kind]} {d.name}")  # fmt: skip


async def run_due(*, day: date, n: int = PUBLISH_WITHIN) -> None:
    calendar = await service.get_calendar()
    due, provisional = calendar.due_date(day, n)
    note = " provisional / 暂计（涉及未导入的年份）" if provisional else ""
    print(f"{day:%Y-%m-%d} + {n} working days → due {due:%Y-%m-%d}{note}")


def _date(text: str) -> date:
    try:
        return parse_date(text)
    except AppError as exc:
        raise argparse.ArgumentTypeError(exc.to_body()["message"]) from None


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 366:
        raise argparse.ArgumentTypeError("1-366")
    return int(text)


def add_calendar_parser(sub: argparse._SubParsersAction) -> None:
    from onevisit.cli import _run

    calendar = sub.add_parser("calendar", help="the Chinese working-day calendar (due dates)")
    commands = calendar.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")

    p = commands.add_parser("import", help="import whole years from .csv or .json (all or nothing)")
    p.add_argument("file")
    p.set_defaults(fn=lambda a: _run(run_import, path=a.file))

    p = commands.add_parser("show", help="a year's special days, and whether it is loaded")
    p.add_argument("year", type=int)
    p.set_defaults(fn=lambda a: _run(run_show, year=a.year))

    p = commands.add_parser("due", help="the n-th working day after a visit (default 20)")
    p.add_argument("date", type=_date, help="the visit date, YYYY-MM-DD")
    p.add_argument("-n", type=_positive, default=PUBLISH_WITHIN, help="working days (20)")
    p.set_defaults(fn=lambda a: _run(run_due, day=a.date, n=a.n))
