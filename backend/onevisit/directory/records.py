"""Clean records of the three directories, built from loosely typed values (a parsed file row,
a JSON body, a demo object). Pure: every path that writes a directory row goes through here.

A record that fails raises FieldErrors with every failed field, so an import can report all
problems of a row at once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import repeat
from typing import Any, TypeVar

from onevisit.directory.fields import (
    CREDIT_CLASSES,
    METHODS,
    SUBJECT_KINDS,
    FieldError,
    as_date,
    check_code,
    check_e6,
    check_subject_id,
    check_text,
    has_control,
    normalise_subject_id,
    parse_category,
    parse_kind,
)

__all__ = [
    "SUBJECT_CHECKS",
    "SUBJECT_FIELDS",
    "SUBJECT_TEXTS",
    "FieldErrors",
    "RecordColumns",
    "clean_inspector",
    "clean_matter",
    "clean_subject",
    "stored_subject",
    "stored_subject_rows",
    "tags_json",
]

T = TypeVar("T")

# The stored fields of a subject, in the order of a subject record (a tuple: cheap at 100k rows).
SUBJECT_FIELDS = (
    "subject_id",
    "id_kind",
    "name",
    "kind",
    "address",
    "lat_e6",
    "lon_e6",
    "industry_code",
    "region_code",
    "credit_class",
    "abnormal",
    "serious_violation",
    "last_inspected",
    "legal_representative",
    "tags",
)


class RecordColumns(Sequence[tuple]):
    """Clean records held column by column (one sequence per field, SUBJECT_FIELDS order), as the
    importer checks them: a file's 100,000 records go to the engines without being built into
    tuples and taken apart again. Reads as a sequence of record tuples where one is needed."""

    __slots__ = ("columns",)

    def __init__(self, columns: Sequence[Sequence[Any]]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(zip(*(c[index] for c in self.columns), strict=True))
        return tuple(c[index] for c in self.columns)

    def __iter__(self) -> Iterator[tuple]:
        return zip(*self.columns, strict=True)


class FieldErrors(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class _Collect:
    """Runs field checks and keeps every failure instead of stopping at the first."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def __call__(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T | None:
        try:
            return fn(*args, **kw)
        except FieldError as exc:
            self.errors.append(exc)
            return None

    def done(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


def _flag(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise FieldError(field, "import.value_invalid", "须为 true/false")


def _str_list(
    field: str, value: Any, *, allowed: tuple[str, ...] | None = None, code: str = ""
) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise FieldError(field, "import.value_invalid", "须为文本列表")
    out: list[str] = []
    for item in value:
        item = item.strip()
        if has_control(item):
            raise FieldError(field, "import.value_invalid", "含有不可见的控制字符")
        if allowed is not None and item not in allowed:
            detail = f"“{item}”不在 {', '.join(allowed)}"
            raise FieldError(field, code or "import.value_invalid", detail)
        if item and item not in out:
            out.append(item)
    return out


def _credit(value: Any) -> str:
    text = (value or "B").strip().upper() if isinstance(value, str) or value is None else None
    if text not in CREDIT_CLASSES:
        raise FieldError("credit_class", "subject.credit_class_invalid", f"“{value}”")
    return text


def _kind(value: Any) -> str:
    return parse_kind("kind", value.strip() if isinstance(value, str) else "")


# GB/T 2260 division codes: county level 6 digits; the statistical codes below it 9 or 12.
_REGION = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")
# GB/T 4754 industries: a section letter A–T, optionally with its 2–4 digit class; or the digits.
_INDUSTRY = re.compile(r"[A-T](?:[0-9]{2,4})?|[0-9]{2,4}")


def _code_check(field: str, pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = check_text(field, value, max_len=16)
        if not text.isascii():  # full-width digits pasted from a Chinese document
            text = unicodedata.normalize("NFKC", text)
        text = text.upper()
        if text and not pattern.fullmatch(text):
            raise FieldError(field, "import.value_invalid", f"{what}“{text[:20]}”格式不正确")
        return text

    return check


# The checks of the subject fields that stand alone (value → clean value, or FieldError), in the
# order clean_subject reports them; None marks where the subject id (it depends on the kind) and
# the coordinates (a pair) are checked. The importer memoises these per distinct cell.
SUBJECT_CHECKS: tuple[tuple[str, Callable[[Any], Any] | None], ...] = (
    ("name", partial(check_text, "name", max_len=256, required=True)),
    ("address", partial(check_text, "address", max_len=512)),
    ("industry_code", _code_check("industry_code", _INDUSTRY, "行业代码（GB/T 4754）")),
    ("region_code", _code_check("region_code", _REGION, "行政区划代码（GB/T 2260）")),
    ("legal_representative", partial(check_text, "legal_representative", max_len=64)),
    ("kind", _kind),
    ("subject_id", None),
    ("lat_e6", None),
    ("credit_class", _credit),
    ("abnormal", partial(_flag, "abnormal")),
    ("serious_violation", partial(_flag, "serious_violation")),
    ("last_inspected", partial(as_date, "last_inspected")),
    ("tags", partial(_str_list, "tags")),
)
# The text fields: their check of a stripped text depends on its length and on whether it holds a
# control character only.
SUBJECT_TEXTS = frozenset(
    f for f, c in SUBJECT_CHECKS if isinstance(c, partial) and c.func is check_text
)
_ABSENT = {"abnormal": False, "serious_violation": False}  # value of a field not given


def clean_subject(v: Mapping[str, Any]) -> tuple:
    """A subject record (SUBJECT_FIELDS order); id upper-cased with spaces removed."""
    errors: list[FieldError] = []
    clean: dict[str, Any] = {"lat_e6": None, "lon_e6": None}
    for field, check in SUBJECT_CHECKS:
        try:
            if check is not None:
                clean[field] = check(v.get(field, _ABSENT.get(field)))
            elif field == "subject_id":
                raw = v.get("subject_id")
                subject_id = normalise_subject_id(raw) if isinstance(raw, str) else ""
                clean["subject_id"] = subject_id
                clean["id_kind"] = check_subject_id("subject_id", subject_id, clean.get("kind", ""))
            else:
                clean["lat_e6"], clean["lon_e6"] = check_e6(v.get("lat_e6"), v.get("lon_e6"))
        except FieldError as exc:
            errors.append(exc)
    if errors:
        raise FieldErrors(errors)
    return tuple(clean[f] for f in SUBJECT_FIELDS)


def clean_inspector(v: Mapping[str, Any]) -> dict[str, Any]:
    c = _Collect()
    out = {
        "code": c(check_code, "code", v.get("code"), code="inspector.invalid"),
        "name": c(check_text, "name", v.get("name"), max_len=64, required=True),
        "department": c(check_text, "department", v.get("department"), max_len=32, required=True),
        "certificate_no": c(
            check_text, "certificate_no", v.get("certificate_no"), max_len=64, required=True
        ),
        "post": c(check_text, "post", v.get("post"), max_len=64),
        "expertise": c(_str_list, "expertise", v.get("expertise")),
        "active": c(_flag, "active", v.get("active", True)),
        "conflicts": [
            normalise_subject_id(s) for s in c(_str_list, "conflicts", v.get("conflicts")) or []
        ],
    }
    c.done()
    return out


def _ratio_cap(category: str | None, value: Any) -> str | None:
    """Key matters have no cap; general ones must have 0 < cap <= 1 (000:二(二), 002:9).
    Accepts '0.05' or '5%'; stored as a normalised decimal string, never a float."""
    text = "" if value is None else str(value).strip()
    if category == "key":
        if text:
            raise FieldError("ratio_cap", "matter.invalid", "重点检查事项不设抽查比例上限")
        return None
    if not text:
        raise FieldError("ratio_cap", "matter.invalid", "一般检查事项须填抽查比例上限")
    try:
        cap = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        raise FieldError("ratio_cap", "matter.invalid", f"比例“{text}”不是数字") from None
    if not (cap.is_finite() and 0 < cap <= 1):
        raise FieldError("ratio_cap", "matter.invalid", f"比例“{text}”须大于 0 且不超过 1")
    return format(cap.normalize(), "f")


def _items(value: Any) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for item in value or []:
        text, basis = (item.get("text"), item.get("basis")) if isinstance(item, Mapping) else item
        items.append(
            (
                check_text("item_text", text, max_len=2000, required=True, multiline=True),
                check_text("item_basis", basis, max_len=2000, multiline=True),
            )
        )
    return items


def clean_matter(v: Mapping[str, Any]) -> dict[str, Any]:
    c = _Collect()
    raw_category = v.get("category")
    category = c(parse_category, "category", raw_category if isinstance(raw_category, str) else "")
    out = {
        "code": c(check_code, "code", v.get("code"), code="matter.invalid"),
        "department": c(check_text, "department", v.get("department"), max_len=32, required=True),
        "name": c(check_text, "name", v.get("name"), max_len=256, required=True),
        "category": category,
        "ratio_cap": c(_ratio_cap, category, v.get("ratio_cap")),
        "basis": c(check_text, "basis", v.get("basis"), max_len=20000, multiline=True),
        "content": c(check_text, "content", v.get("content"), max_len=20000, multiline=True),
        "methods": c(
            _str_list, "methods", v.get("methods"), allowed=METHODS, code="matter.invalid"
        ),
        "subject_kinds": c(
            _str_list,
            "subject_kinds",
            v.get("subject_kinds"),
            allowed=SUBJECT_KINDS,
            code="matter.invalid",
        ),
        "active": c(_flag, "active", v.get("active", True)),
        "items": c(_items, v.get("items")),
    }
    c.done()
    return out


# --- subject records as the engines store them ------------------------------------------------
_TAGS = SUBJECT_FIELDS.index("tags")  # the last field


def tags_json(tags: list[str], _memo: dict[tuple, str] = {}) -> str:  # noqa: B006
    """Tags as the engines take them (JSON text). The few distinct tag lists of a directory are
    encoded once (memo bounded below)."""
    key = tuple(tags)
    text = _memo.get(key)
    if text is None:
        text = json.dumps(tags, ensure_ascii=False)
        if len(_memo) < 10_000:
            _memo[key] = text
    return text


def stored_subject(record: tuple) -> tuple:
    """A subject record as the engines take it."""
    return (*record[:_TAGS], tags_json(record[_TAGS]))


def stored_subject_rows(records: Sequence[tuple], *extra: Any) -> list[tuple]:
    """stored_subject(record) + extra of each record, built column by column (loops in C): an
    import writes 100,000 of these."""
    if not records:
        return []
    columns: list[Any]
    if isinstance(records, RecordColumns):
        columns = list(records.columns)
    else:
        columns = list(zip(*records, strict=True))
    columns[_TAGS] = list(map(tags_json, columns[_TAGS]))
    return list(zip(*columns, *(repeat(v, len(records)) for v in extra), strict=True))
