"""Field rules of the directories: pure parsers (file cell → value) and checks (value → clean
value), shared by the importer, the API and the demo loader. No I/O.

A failed check raises FieldError(field, code, detail); the importer turns it into a row error,
the API into an AppError with the same code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from onevisit.directory import uscc
from onevisit.errors import AppError

__all__ = [
    "CREDIT_CLASSES",
    "MARKET_KINDS",
    "METHODS",
    "PLAIN_KINDS",
    "SUBJECT_KINDS",
    "FieldError",
    "as_date",
    "check_code",
    "check_e6",
    "check_subject_id",
    "check_text",
    "degrees_from_e6",
    "has_control",
    "normalise_subject_id",
    "parse_bool",
    "parse_category",
    "parse_date",
    "parse_degrees_e6",
    "parse_degrees_e6_column",
    "parse_int",
    "parse_kind",
    "parse_list",
    "parse_methods",
]

MARKET_KINDS = ("enterprise", "individual", "cooperative", "organisation")
PLAIN_KINDS = ("product", "project", "behaviour")  # identified by a plain id (002:4)
SUBJECT_KINDS = MARKET_KINDS + PLAIN_KINDS
CREDIT_CLASSES = ("A", "B", "C", "D")
METHODS = ("on_site", "documentary", "online", "commissioned")
CATEGORIES = ("key", "general")

KIND_ALIASES = {
    "企业": "enterprise",
    "个体工商户": "individual",
    "个体": "individual",
    "农民专业合作社": "cooperative",
    "合作社": "cooperative",
    "其他组织": "organisation",
    "社会组织": "organisation",
    "组织": "organisation",
    "organization": "organisation",
    "产品": "product",
    "项目": "project",
    "行为": "behaviour",
    "behavior": "behaviour",
}
METHOD_ALIASES = {
    "现场检查": "on_site",
    "书面检查": "documentary",
    "网络监测": "online",
    "网络检查": "online",
    "委托检查": "commissioned",
    "委托第三方": "commissioned",
}
CATEGORY_ALIASES = {
    "重点": "key",
    "重点检查事项": "key",
    "一般": "general",
    "一般检查事项": "general",
}
_TRUE = frozenset({"1", "true", "yes", "y", "是", "有", "t"})
_FALSE = frozenset({"", "0", "false", "no", "n", "否", "无", "f"})
_LIST_SPLIT = re.compile(r"[;；,，、|\n]")
_SPACES = re.compile(r"\s+")
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
# Plain decimal degrees with at most six decimals: micro-degrees by moving the point (exact).
_PLAIN_DEGREES = re.compile(r"(-?[0-9]{1,3})(?:\.([0-9]{1,6}))?")
_SIX_DECIMALS = re.compile(r"-?[0-9]{1,3}\.[0-9]{6}(?:\n-?[0-9]{1,3}\.[0-9]{6})*")
# C0 control characters and DEL: never in one-line text; multi-line text keeps tab and newlines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_E6 = 1_000_000
_MICRO = Decimal("0.000001")


class FieldError(Exception):
    def __init__(self, field: str, code: str, detail: str = "") -> None:
        super().__init__(f"{field}: {code} {detail}")
        self.field = field
        self.code = code
        self.detail = detail

    def to_app_error(self) -> AppError:
        return AppError(self.code, self.detail or None, field=self.field)


# --- parsers: a file cell (already a stripped str) to a typed value ---------------------------


def parse_bool(field: str, cell: str) -> bool:
    value = cell.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise FieldError(field, "import.value_invalid", f"“{cell}” 不是是/否")


def parse_date(field: str, cell: str) -> date | None:
    if not cell:
        return None
    try:
        return date.fromisoformat(cell[:10] if "T" in cell or " " in cell else cell)
    except ValueError:
        raise FieldError(field, "import.value_invalid", f"“{cell}” 不是 YYYY-MM-DD 日期") from None


def parse_int(field: str, cell: str) -> int | None:
    if not cell:
        return None
    try:
        return int(cell)
    except ValueError:
        raise FieldError(field, "import.value_invalid", f"“{cell}” 不是整数") from None


def parse_degrees_e6(field: str, cell: str) -> int | None:
    """Decimal degrees to integer micro-degrees, exactly (Decimal, never float); more than six
    decimals are rounded half-up, i.e. to ~0.1 m."""
    if not cell:
        return None
    plain = _PLAIN_DEGREES.fullmatch(cell)
    if plain:  # the common case, without Decimal
        return int(plain[1] + (plain[2] or "").ljust(6, "0"))
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise FieldError(field, "subject.coordinates_invalid", f"“{cell}” 不是数字") from None
    if not value.is_finite():
        raise FieldError(field, "subject.coordinates_invalid", f"“{cell}” 不是数字")
    return int((value * _E6).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_degrees_e6_column(cells: Sequence[str]) -> list[int] | None:
    """parse_degrees_e6 of a whole column in one pass (C loops), when every cell has exactly
    six decimals (the export format): moving the point is then the exact conversion."""
    text = "\n".join(cells)
    if not _SIX_DECIMALS.fullmatch(text):
        return None
    return list(map(int, text.replace(".", "").split("\n")))


def degrees_from_e6(value: int | None) -> str:
    """The exact decimal-degree text of micro-degrees (the export format)."""
    if value is None:
        return ""
    return str((Decimal(value) * _MICRO).quantize(_MICRO))


def parse_list(cell: str) -> list[str]:
    """'a; b、c' → ['a', 'b', 'c']: any of ; ； , ， 、 | or a newline separates."""
    if not cell:
        return []
    out: list[str] = []
    for part in _LIST_SPLIT.split(cell):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def parse_kind(field: str, cell: str) -> str:
    value = KIND_ALIASES.get(cell, cell.lower())
    if value not in SUBJECT_KINDS:
        raise FieldError(field, "subject.kind_invalid", f"“{cell}”")
    return value


def parse_category(field: str, cell: str) -> str:
    value = CATEGORY_ALIASES.get(cell, cell.lower())
    if value not in CATEGORIES:
        raise FieldError(field, "matter.invalid", f"事项类别“{cell}”须为 key/重点 或 general/一般")
    return value


def parse_methods(field: str, cell: str) -> list[str]:
    return [METHOD_ALIASES.get(m, m.lower()) for m in parse_list(cell)]


# --- checks: typed values (from a file, JSON or the demo) to clean values ---------------------


def has_control(text: str, *, multiline: bool = False) -> bool:
    """Whether text holds a control character (C0 or DEL; multi-line text may hold tab, CR and
    LF). They break .xlsx files and PostgreSQL text (NUL), so no directory text keeps one."""
    return (_CONTROL_MULTILINE if multiline else _CONTROL).search(text) is not None


def check_text(
    field: str, value: Any, *, max_len: int, required: bool = False, multiline: bool = False
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(field, "import.value_invalid", "须为文本")
    value = value.strip()
    if has_control(value, multiline=multiline):
        raise FieldError(field, "import.value_invalid", "含有不可见的控制字符")
    if required and not value:
        raise FieldError(field, "import.required", field)
    if len(value) > max_len:
        raise FieldError(field, "import.value_invalid", f"超过 {max_len} 个字符")
    return value


def check_code(field: str, value: Any, *, code: str) -> str:
    """Codes of departments, matters and inspectors: 1–32 of A-Z a-z 0-9 _ . -"""
    value = check_text(field, value, max_len=32, required=True)
    if not _CODE.fullmatch(value):
        raise FieldError(field, code, f"编码“{value}”只能含字母、数字、_ . -")
    return value


def normalise_subject_id(value: str) -> str:
    """Upper case, no spaces, full-width forms (pasted from Chinese documents) as ASCII."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    # isalnum(): no whitespace at all, the common case (the regex costs more than upper())
    return value.upper() if value.isalnum() else _SPACES.sub("", value).upper()


_ID_KIND_TEXT = {k: k.value for k in uscc.IdKind}


def check_subject_id(field: str, subject_id: str, kind: str) -> str:
    """The id kind (uscc | regno | other) of a normalised id, after checking it.

    Market entities must carry a USCC (or an old 15-digit registration number); products,
    projects and behaviours may use a plain id instead."""
    if not subject_id:
        raise FieldError(field, "import.required", field)
    id_kind = uscc.classify_subject_id(subject_id)
    if id_kind is uscc.IdKind.uscc:
        if not uscc.is_valid_uscc(subject_id):
            raise FieldError(field, "subject.uscc_invalid", subject_id)
    elif id_kind is uscc.IdKind.regno:
        if not uscc.is_valid_regno(subject_id):
            raise FieldError(field, "subject.regno_invalid", subject_id)
    elif kind in MARKET_KINDS:
        raise FieldError(field, "subject.uscc_invalid", subject_id)
    elif not _PLAIN_ID.fullmatch(subject_id):
        raise FieldError(field, "subject.id_invalid", subject_id)
    return _ID_KIND_TEXT[id_kind]  # the plain str (Enum.value is a slow property)


def check_e6(lat_e6: Any, lon_e6: Any) -> tuple[int | None, int | None]:
    if lat_e6 is None and lon_e6 is None:
        return None, None
    for field, value, limit in (("lat", lat_e6, 90), ("lon", lon_e6, 180)):
        if value is None:
            raise FieldError(field, "subject.coordinates_invalid", "经纬度须成对填写")
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > limit * _E6:
            raise FieldError(field, "subject.coordinates_invalid", f"{value / _E6}° 超出范围")
    return lat_e6, lon_e6


def as_date(field: str, value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        return parse_date(field, value.strip())
    raise FieldError(field, "import.value_invalid", "须为 YYYY-MM-DD 日期")
