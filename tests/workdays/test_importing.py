"""Reading calendar files: every bad row reported with row, column, code and message; whole
years only; warnings that do not stop an import."""

from __future__ import annotations

from datetime import date

import pytest

from onevisit.errors import AppError
from onevisit.workdays.calendar import Kind
from onevisit.workdays.importing import parse_calendar_file
from tests.workdays.util import DAYS_2027, csv_file, json_file, whole_year


def _errors(data: bytes, filename: str = "c.csv") -> list[tuple[int, str, str]]:
    with pytest.raises(AppError) as caught:
        parse_calendar_file(data, filename)
    assert caught.value.code == "calendar.rows_invalid"
    errors = caught.value.details["errors"]
    assert all(e["message"] for e in errors)
    return [(e["row"], e["column"], e["code"]) for e in errors]


def test_a_whole_year_in_csv_and_json_reads_the_same():
    from_csv = parse_calendar_file(csv_file(DAYS_2027), "2027.csv")
    from_json = parse_calendar_file(json_file(DAYS_2027), "2027.json")
    wrapped = parse_calendar_file(json_file(DAYS_2027, wrap=True), "upload")
    assert from_csv.years == from_json.years == wrapped.years
    assert list(from_csv.years) == [2027]
    days = from_csv.years[2027]
    assert len(days) == len(DAYS_2027) and days[0].day == date(2027, 1, 1)
    assert [d.day for d in days if d.kind is Kind.workday] == [
        date(2027, 2, 13), date(2027, 5, 9), date(2027, 10, 9),
    ]  # fmt: skip
    assert from_csv.warnings == []


def test_chinese_headers_kinds_gb18030_and_a_bom():
    rows = [(d, {"holiday": "休", "workday": "班"}[k], n) for d, k, n in DAYS_2027]
    data = csv_file(rows, header=("日期", "类型", "名称"), encoding="gb18030")
    assert len(parse_calendar_file(data).years[2027]) == len(DAYS_2027)
    bom = b"\xef\xbb\xbf" + csv_file(DAYS_2027)
    assert len(parse_calendar_file(bom, "x.csv").years[2027]) == len(DAYS_2027)


def test_every_bad_row_is_reported():
    rows = [
        *DAYS_2027,
        ("2027-02-30", "holiday", "春节"),  # row 20: no such date
        ("27/03/2027", "holiday", "x"),  # 21: not ISO
        ("2027-03-01", "off", "x"),  # 22: unknown kind
        ("2027-03-02", "holiday", ""),  # 23: no name
        ("2027-03-03", "workday", "调休"),  # 24: a Wednesday marked workday
        ("2027-10-04", "holiday", "国庆节"),  # 25: the same date as row 15
        ("2027-03-04", "holiday", "x" * 65),  # 26: name too long
        ("1999-03-04", "holiday", "x"),  # 27: year out of range
        ("", "", ""),  # blank line: skipped, no error
    ]
    assert _errors(csv_file(rows)) == [
        (20, "date", "calendar.date_invalid"),
        (21, "date", "calendar.date_invalid"),
        (22, "kind", "calendar.kind_invalid"),
        (23, "name", "calendar.name_invalid"),
        (24, "kind", "calendar.workday_weekday"),
        (25, "date", "calendar.duplicate_date"),
        (26, "name", "calendar.name_invalid"),
        (27, "date", "calendar.year_invalid"),
    ]


def test_json_rows_are_numbered_from_one_and_wrong_types_are_row_errors():
    days = [{"date": d, "kind": k, "name": n} for d, k, n in DAYS_2027]
    days[2] = {"date": 20270208, "kind": "holiday", "name": "春节"}
    days[3] = "2027-02-09"
    days[4] = {"date": "2027-02-10", "kind": "holiday", "name": "a\x00b"}
    import json

    data = json.dumps(days).encode()
    assert _errors(data, "c.json") == [
        (3, "date", "calendar.date_invalid"),
        (4, "date", "calendar.date_invalid"),
        (4, "kind", "calendar.kind_invalid"),
        (4, "name", "calendar.name_invalid"),
        (5, "name", "calendar.name_invalid"),
    ]


def test_a_file_must_cover_whole_years():
    # the 2028 notice's December days alone would replace all of 2027
    fragment = [("2027-12-31", "holiday", "元旦"), ("2027-12-26", "workday", "元旦")]
    rows = [*whole_year(2028), *fragment]
    assert _errors(csv_file(rows)) == [(len(whole_year(2028)) + 2, "date", "calendar.year_partial")]
    # a year with weekend holidays only is no whole year either
    few = [(f"2031-02-{d:02d}", "holiday", "春节") for d in range(3, 10)]  # 5 weekdays
    assert _errors(csv_file(few)) == [(2, "date", "calendar.year_partial")]
    # two whole years in one file are fine
    both = parse_calendar_file(csv_file([*whole_year(2031), *whole_year(2032)]))
    assert list(both.years) == [2031, 2032]


def test_a_weekend_holiday_is_kept_with_a_warning():
    rows = [*DAYS_2027, ("2027-10-02", "holiday", "国庆节")]  # a Saturday of the 国庆 span
    parsed = parse_calendar_file(csv_file(rows))
    assert date(2027, 10, 2) in {d.day for d in parsed.years[2027]}
    assert [(w["row"], w["column"], w["code"]) for w in parsed.warnings] == [
        (len(rows) + 1, "kind", "calendar.holiday_weekend")
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"date,kind,name\n",  # a header only
        b"day,type\n2027-01-01,holiday\n",  # columns missing
        b"\xff\xfe2\x000\x002\x007\x00",  # UTF-16
        b"[1, 2",  # broken JSON
        b'{"year": 2027}',  # JSON without a days list
        b"[]",
        b"\x81\x30",  # neither UTF-8 nor GB18030
        b'date,kind,name\n"2027-01-01,holiday,x\n',  # an unclosed quote
    ],
)
def test_unreadable_files(data):
    with pytest.raises(AppError) as caught:
        parse_calendar_file(data, "c.csv")
    assert caught.value.code == "calendar.bad_file"
