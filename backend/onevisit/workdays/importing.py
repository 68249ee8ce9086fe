"""Read a calendar file, pure (no I/O): every row checked, every problem reported, or the
special days of whole years.

Formats (docs/calendar.md):
- CSV with a header `date,kind,name` (or 日期,类型,名称), UTF-8 (a BOM is fine) or GB18030;
  `row` in a report is the file's line (header = 1), as a spreadsheet shows it.
- JSON: a list of {"date", "kind", "name"} objects, or {"days": [...]} holding that list;
  `row` is the object's position in the list (first = 1).

kind: `holiday` / 休 (a weekday off) or `workday` / 班 (a Saturday or Sunday worked).

Rules. Errors (nothing is imported while any is left):
- a date that is not YYYY-MM-DD, or a year outside 2000–2099;
- an unknown kind; an empty or over-long name;
- a `workday` on a weekday: make-up working days are weekends by definition, so the kind is
  wrong (often holiday and workday swapped);
- the same date twice;
- a year with fewer than 10 weekday holidays. A file covers whole years: each year it
  touches is replaced by what the file says about it. Every year 2004–2026 had 16 or more
  weekday holidays, so fewer is a fragment — typically the December days that next year's
  notice lists (2019's notice made 2018-12-29 a workday and 2018-12-31 a holiday); as a
  year of its own it would wipe the rest of that year. Put such days into the file of their
  own year, complete.
Warnings (imported anyway): a `holiday` on a Saturday or Sunday changes nothing, since
weekends are off already; notices list the whole span (国庆节 1–7 October), so it is kept
as written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from onevisit.errors import CATALOGUE, AppError
from onevisit.workdays.calendar import Kind, SpecialDay

__all__ = [
    "MAX_YEAR",
    "MIN_WEEKDAY_HOLIDAYS",
    "MIN_YEAR",
    "WARNINGS",
    "ParsedFile",
    "parse_calendar_file",
    "parse_date",
]

MIN_YEAR, MAX_YEAR = 2000, 2099
MIN_WEEKDAY_HOLIDAYS = 10
MAX_NAME = 64
COLUMNS = ("date", "kind", "name")
_HEADER_ALIASES = {"日期": "date", "类型": "kind", "名称": "name", "节日": "name"}
_KINDS = {"holiday": Kind.holiday, "休": Kind.holiday, "workday": Kind.workday, "班": Kind.workday}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Control characters (NUL above all: PostgreSQL text cannot hold it) are in no name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

WARNINGS = {
    "calendar.holiday_weekend": (
        "周末本就休息，此放假日不影响工作日计算（按原样保存）",
        "A holiday on a weekend changes nothing (kept as written)",
    ),
}


@dataclass
class ParsedFile:
    years: dict[int, list[SpecialDay]]  # each year the file covers → its days, by date
    warnings: list[dict[str, Any]] = field(default_factory=list)


def parse_date(text: str) -> date:
    """A YYYY-MM-DD date within MIN_YEAR..MAX_YEAR, or AppError (calendar.date_invalid /
    calendar.year_invalid)."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        raise AppError("calendar.date_invalid", text[:40])
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise AppError("calendar.date_invalid", text) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise AppError("calendar.year_invalid", text)
    return day


class _Report:
    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []

    @staticmethod
    def _entry(row: int, column: str, code: str, message: str, detail: str) -> dict[str, Any]:
        return {
            "row": row,
            "column": column,
            "code": code,
            "message": message + (f"：{detail}" if detail else ""),
        }

    def error(self, row: int, column: str, code: str, detail: str = "") -> None:
        self.errors.append(self._entry(row, column, code, CATALOGUE[code].zh, detail))

    def warn(self, row: int, column: str, code: str, detail: str = "") -> None:
        self.warnings.append(self._entry(row, column, code, WARNINGS[code][0], detail))


def parse_calendar_file(data: bytes, filename: str = "") -> ParsedFile:
    """The special days of the years the file covers; AppError calendar.bad_file for a file
    that cannot be read, calendar.rows_invalid (details.errors: every problem) for bad rows."""
    rows = _json_rows(data) if _looks_json(data, filename) else _csv_rows(data)
    if not rows:
        raise AppError("calendar.bad_file", "文件中没有数据行")
    report = _Report()
    seen: dict[date, int] = {}
    years: dict[int, list[SpecialDay]] = {}
    first_row: dict[int, int] = {}
    for number, cells in rows:
        special = _parse_row(report, number, cells)
        if special is None:
            continue
        if special.day in seen:
            report.error(number, "date", "calendar.duplicate_date", f"同第 {seen[special.day]} 行")
            continue
        seen[special.day] = number
        years.setdefault(special.day.year, []).append(special)
        first_row.setdefault(special.day.year, number)
    for year, days in years.items():
        off = sum(1 for s in days if s.kind is Kind.holiday and s.day.weekday() < 5)
        if off < MIN_WEEKDAY_HOLIDAYS:
            detail = f"{year} 年仅 {off} 个"
            report.error(first_row[year], "date", "calendar.year_partial", detail)
    if report.errors:
        report.errors.sort(key=lambda e: e["row"])
        raise AppError(
            "calendar.rows_invalid", f"{len(report.errors)} 处错误", errors=report.errors
        )
    for days in years.values():
        days.sort(key=lambda s: s.day)
    return ParsedFile(dict(sorted(years.items())), report.warnings)


def _parse_row(report: _Report, number: int, cells: dict[str, str]) -> SpecialDay | None:
    day = kind = None
    try:
        day = parse_date(cells.get("date", ""))
    except AppError as exc:
        report.error(number, "date", exc.code, exc.detail or "")
    kind_text = cells.get("kind", "").strip()
    kind = _KINDS.get(kind_text.lower())
    if kind is None:
        report.error(number, "kind", "calendar.kind_invalid", kind_text[:40])
    name = cells.get("name", "").strip()
    if not name or len(name) > MAX_NAME or _CONTROL.search(name):
        report.error(number, "name", "calendar.name_invalid")
        name = ""
    if day is None or kind is None or not name:
        return None
    weekend = day.weekday() >= 5
    if kind is Kind.workday and not weekend:
        report.error(number, "kind", "calendar.workday_weekday", f"{day} 是{_weekday(day)}")
        return None
    if kind is Kind.holiday and weekend:
        report.warn(number, "kind", "calendar.holiday_weekend", f"{day} 是{_weekday(day)}")
    return SpecialDay(day, kind, name)


def _weekday(day: date) -> str:
    return "星期" + "一二三四五六日"[day.weekday()]


# --- the two formats: (row number, {column: text}) -----------------------------------------
def _looks_json(data: bytes, filename: str) -> bool:
    if filename.lower().endswith(".json"):
        return True
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{")


def _json_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise AppError("calendar.bad_file", "JSON 无法解析") from None
    if isinstance(doc, dict):
        doc = doc.get("days")
    if not isinstance(doc, list):
        raise AppError("calendar.bad_file", "JSON 须为日期对象的列表，或含 days 列表的对象")
    rows = []
    for number, item in enumerate(doc, start=1):
        if not isinstance(item, dict):
            item = {}  # every field then reports itself as missing or bad
        rows.append((number, {k: _text(item.get(k)) for k in COLUMNS}))
    return rows


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value))


def _csv_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    if b"\x00" in data:  # UTF-16 or a binary file: neither is a CSV we read
        raise AppError("calendar.bad_file", "无法识别的 CSV 编码（请使用 UTF-8 或 GB18030）")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Chinese Windows saves CSV in the ANSI code page (GBK ⊂ GB18030)
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise AppError("calendar.bad_file", "无法识别的文本编码") from None
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise AppError("calendar.bad_file", f"CSV 格式错误：{exc}") from None
    if not lines:
        raise AppError("calendar.bad_file", "文件为空")
    header = [_HEADER_ALIASES.get(c.strip(), c.strip().lower()) for c in lines[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise AppError("calendar.bad_file", f"缺少列：{', '.join(missing)}", columns=list(COLUMNS))
    index = {c: header.index(c) for c in COLUMNS}
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines (a trailing one above all) are no rows
        rows.append((number, {c: cells[i] if i < len(cells) else "" for c, i in index.items()}))
    return rows
