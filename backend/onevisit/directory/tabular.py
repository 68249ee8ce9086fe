"""Tables in files: read .csv (UTF-8 with or without BOM, else GB18030) and .xlsx (first sheet)
into text cells, and write them back. Pure apart from the bytes given or returned."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import compress, repeat, zip_longest
from typing import Any

from onevisit.errors import CATALOGUE, AppError

__all__ = ["Table", "is_xlsx", "read_csv_text", "read_table", "write_table"]

_ZIP_MAGIC = b"PK\x03\x04"
# Whitespace (as str.strip() sees it) other than line breaks: a file without any, and without
# a line break next to a quote (which may be inside a quoted cell), has no cell to strip.
# (One character class scans at C speed; a pattern for "whitespace next to a separator"
# costs more than the stripping it would spare.) The characters are listed: a class of
# them scans 10 MB in two thirds of the time [^\S\r\n] takes (a test checks the list).
_WHITESPACE = (
    "\t\x0b\x0c\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SPACE = re.compile(f"[{_WHITESPACE}]")


def _needs_strip(text: str) -> bool:
    if _SPACE.search(text):
        return True
    return '"' in text and any(q in text for q in ('"\n', '\n"', '"\r', '\r"'))


class Table:
    """A header and the non-blank data rows, each with its 1-based line (header = line 1).

    Held as rows (`rows`: (line, cells) pairs) or as columns (`numbers`, the lines, and
    `columns`, one sequence of cells per column, short rows padded with ""): each view is built
    from the other on first use. The subject importer reads columns (100,000 rows are
    checked column by column), the others read rows."""

    __slots__ = ("_columns", "_numbers", "_rows", "header")

    def __init__(
        self,
        header: list[str],
        rows: list[tuple[int, list[str]]] | None = None,
        *,
        numbers: list[int] | None = None,
        columns: list[Sequence[str]] | None = None,
    ) -> None:
        self.header = header
        self._rows = rows
        self._numbers = numbers
        self._columns = columns

    @property
    def rows(self) -> list[tuple[int, list[str]]]:
        if self._rows is None:
            cells = map(list, zip(*self.columns, strict=True))
            self._rows = list(zip(self.numbers, cells, strict=True))
        return self._rows

    @property
    def numbers(self) -> list[int]:
        if self._numbers is None:
            self._numbers = [number for number, _ in self.rows]
        return self._numbers

    @property
    def columns(self) -> list[Sequence[str]]:
        if self._columns is None:
            self._columns = list(zip_longest(*(cells for _, cells in self.rows), fillvalue=""))
        return self._columns


def read_table(data: bytes, filename: str = "") -> Table:
    if is_xlsx(data, filename):
        return _table(_xlsx_lines(data))
    return read_csv_text(_decode(data))


def is_xlsx(data: bytes, filename: str = "") -> bool:
    return data.startswith(_ZIP_MAGIC) or filename.lower().endswith(".xlsx")


def read_csv_text(text: str) -> Table:
    """The table of a decoded CSV text."""
    simple = _simple_csv(text)
    return simple if simple is not None else _table(_csv_lines(text))


def _table(lines: Iterable[list[str]]) -> Table:
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(lines, start=1):
        if header is None:
            header = _header(cells)
            continue
        if any(cells):
            rows.append((number, cells))
    if header is None or not any(header):
        raise AppError("import.empty", "文件为空")
    if not rows:
        raise AppError("import.empty")
    return Table(header, rows)


def _header(cells: list[str]) -> list[str]:
    return [c.strip().lstrip("\ufeff") for c in cells]


def _decode(data: bytes) -> str:
    if b"\x00" in data[:65536]:  # UTF-16 or a binary file: neither is a CSV we read
        raise AppError("import.format", "无法识别的 CSV 编码（请使用 UTF-8 或 GB18030）")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Chinese Windows saves CSV in the ANSI code page (GBK ⊂ GB18030)
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise AppError("import.format", "无法识别的文本编码") from None


def _simple_csv(text: str) -> Table | None:
    """The table the csv module reads from a text without any quote, built column by column in
    C loops (the csv module and a transposition of its rows cost a third of an import): without
    quotes no cell holds a comma or a line break, so each line splits at its commas. None when
    the text is not that simple — quotes, a lone CR, data lines of another width than the first
    one, a line longer than the csv module's field limit, no data — and the csv module reads it.
    """
    if '"' in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:  # a line break of its own to the csv module
            return None
    lines = text.split("\n")
    if len(lines) < 2:
        return None
    if not lines[-1]:  # the last line's break
        lines.pop()
    header, data = [c.strip() for c in lines[0].split(",")], lines[1:]
    if "'" in text:
        header = list(map(_csv_unescape, header))
    header = _header(header)
    if not any(header) or not data or max(map(len, data)) > csv.field_size_limit():
        return None
    numbers = list(range(2, len(data) + 2))
    if "" in data:  # an empty line: no cell at all to the csv module
        filled = list(map(bool, data))
        numbers, data = list(compress(numbers, filled)), list(compress(data, filled))
    commas = set(map(str.count, data, repeat(",")))
    if len(commas) != 1:  # rows of different widths: the csv module pads them
        return None
    width = commas.pop() + 1
    strip = _needs_strip(text)
    # A line whose cells are all blank (after strip) is skipped, as read_table does; without
    # whitespace in the text that is a line of commas only.
    commas_only = "," * (width - 1)
    filled = None
    if strip:
        filled = list(map(bool, map(str.strip, map(str.replace, data, repeat(","), repeat("")))))
    elif commas_only in data:
        filled = list(map(commas_only.__ne__, data))
    if filled is not None and not all(filled):
        numbers, data = list(compress(numbers, filled)), list(compress(data, filled))
    if not data:
        return None
    cells = ",".join(data).split(",")
    columns: list[Sequence[str]] = [cells[i::width] for i in range(width)]
    if strip:
        columns = [list(map(str.strip, column)) for column in columns]
    if "'" in text:  # exported cells that would start a formula carry a leading '
        columns = [
            list(map(_csv_unescape, column)) if "'" in "".join(column) else column
            for column in columns
        ]
    return Table(header, numbers=numbers, columns=columns)


def _csv_lines(text: str | bytes) -> list[list[str]]:
    if isinstance(text, bytes):
        text = _decode(text)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        if _needs_strip(text):
            rows = [list(map(str.strip, row)) for row in reader]
        else:  # no cell starts or ends with whitespace: stripping would change nothing …
            rows = list(reader)
            if rows:  # … but for a quote left open, which runs to the end of the text
                rows[-1] = list(map(str.strip, rows[-1]))
    except csv.Error as exc:
        raise AppError("import.format", f"CSV 格式错误：{exc}") from None
    if "'" in text:  # exported cells that would start a formula carry a leading '
        rows = [list(map(_csv_unescape, row)) for row in rows]
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 12 as 12.0
    return str(value).strip()


_NO_RESULT = "公式单元格没有计算结果，请在 Excel 中另存为数值"
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of an .xlsx holds a formula (<f> element): cheap, so that only such
    files are read a second time."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(
                _FORMULA_TAG.search(z.read(name))
                for name in z.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False


def _xlsx_rows(data: bytes, *, data_only: bool) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise AppError("import.format", f"无法读取 .xlsx 文件：{type(exc).__name__}") from None
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    except Exception as exc:  # any corrupt part of the zip is a format error
        raise AppError("import.format", f"无法读取 .xlsx 文件：{type(exc).__name__}") from None
    finally:
        book.close()


def _xlsx_lines(data: bytes) -> list[list[str]]:
    """The cells' values as Excel last computed them. A formula without a stored result (files
    made by programs, not by Excel) is a row error: its value is unknown, never blank."""
    rows = _xlsx_rows(data, data_only=True)
    if _has_formulas(data):
        formulas = _xlsx_rows(data, data_only=False)
        missing = [
            (number, col)
            for number, (row, raw) in enumerate(zip(rows, formulas, strict=False), start=1)
            for col, (value, formula) in enumerate(zip(row, raw, strict=False))
            if value is None and isinstance(formula, str) and formula.startswith("=")
        ]
        if missing:
            header = [_cell(v) for v in rows[0]] if rows else []
            message = CATALOGUE["import.value_invalid"].zh + "：" + _NO_RESULT
            errors = [
                {
                    "row": number,
                    "column": header[col] if col < len(header) and header[col] else str(col + 1),
                    "code": "import.value_invalid",
                    "message": message,
                }
                for number, col in missing
            ]
            raise AppError("import.rows_invalid", f"{len(errors)} 处错误", errors=errors)
    return [[_cell(v) for v in row] for row in rows]


# A CSV cell starting with one of these is a formula to a spreadsheet (CSV injection): exports
# put a ' before it (and before such a cell that already starts with quotes), imports drop it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _csv_escape(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value.lstrip("'").startswith(_FORMULA_START)
        and not _NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def _csv_unescape(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell.lstrip("'").startswith(_FORMULA_START) else cell


def write_table(header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> bytes:
    """CSV is written UTF-8 with a BOM so that Excel opens Chinese text correctly."""
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([list(map(_csv_escape, row)) for row in rows])
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        book = Workbook(write_only=True)
        sheet = book.create_sheet()

        def text(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            # characters a workbook cannot hold (C0 controls) are dropped, never an error
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            # openpyxl turns a str starting with "=" into a formula: keep it as text
            if value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                return cell
            return value

        sheet.append([text(v) for v in header])
        for row in rows:
            sheet.append([text(v) for v in row])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    raise AppError("import.format", f"不支持的格式 {fmt}")
