"""Defects found in the acceptance review of the directories, each pinned by a test."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from onevisit.auth.roles import Role
from onevisit.directory import fields as F
from onevisit.directory import uscc
from onevisit.directory.exporting import export_file
from onevisit.directory.importing import import_file
from onevisit.directory.records import clean_matter, clean_subject
from onevisit.directory.subjects import write_subjects
from onevisit.directory.tables import Subject
from onevisit.directory.tabular import read_table, write_table
from onevisit.errors import AppError
from tests.directory.test_api import assert_error, inspector_body, matter_body
from tests.directory.util import SUBJECT_HEADER, csv_bytes, new_uscc, subject_row
from tests.fixtures import unique


async def _row_errors(kind: str, data: bytes, **kw) -> list[tuple]:
    with pytest.raises(AppError) as e:
        await import_file(kind=kind, data=data, actor="t", **kw)
    assert e.value.code == "import.rows_invalid", e.value
    return [(x["row"], x["column"], x["code"]) for x in e.value.details["errors"]]


# --- 1: control characters ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\x01", "\x00", "\x1f", "\x7f", "\n", "\t"])
def test_one_line_text_refuses_control_characters(bad):
    with pytest.raises(F.FieldError) as e:
        F.check_text("name", f"洛阳{bad}商贸", max_len=64)
    assert e.value.code == "import.value_invalid"


def test_multiline_text_keeps_tab_and_newlines_only():
    assert F.check_text("basis", "第一条\r\n\t第二条", max_len=99, multiline=True)
    with pytest.raises(F.FieldError):
        F.check_text("basis", "第一\x0b条", max_len=99, multiline=True)
    matter = {"code": "m1", "department": "d", "name": "n", "category": "key"}
    assert clean_matter({**matter, "content": "甲\n乙", "items": [("项\n目", "")]})
    with pytest.raises(Exception, match="value_invalid"):
        clean_matter({**matter, "items": [("项\x01目", "")]})


async def test_control_characters_are_row_errors_and_400(as_role):
    rows = [
        subject_row(name="洛阳\x01商贸"),
        subject_row(address="西工区\x7f"),
        subject_row(tags="餐饮;重\x02点"),
        subject_row(),
    ]
    errors = await _row_errors("subjects", csv_bytes(SUBJECT_HEADER, rows))
    assert errors == [
        (2, "name", "import.value_invalid"),
        (3, "address", "import.value_invalid"),
        (4, "tags", "import.value_invalid"),
    ]
    admin = await as_role(Role.admin)
    for name in ("a\x01b", "a\x00b"):
        body = {"subject_id": new_uscc(), "name": name, "kind": "enterprise"}
        assert_error(
            await admin.client.post("/api/subjects", json=body), 400, "import.value_invalid"
        )


async def test_xlsx_export_survives_stored_control_characters(as_role):
    """Data stored before the check (or by another path) must never break an export."""
    sid = new_uscc()
    record = list(clean_subject({"subject_id": sid, "name": "旧数据", "kind": "enterprise"}))
    record[2] = "旧\x01数据"
    await write_subjects([tuple(record)], actor="t", source="test")
    admin = await as_role(Role.admin)
    try:
        r = await admin.client.get("/api/exports/subjects.xlsx")
    finally:  # other tests export and import back every subject
        await Subject.delete().where(Subject.subject_id == sid)
    assert r.status_code == 200, r.text
    names = [row[1] for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=1)]
    assert "旧数据" in names
    assert write_table(["h\x02"], [["a\x00b", 1]], "xlsx").startswith(b"PK")


# --- 2: paging and NUL --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "501"},
        {"offset": "-1"},
        {"offset": "1000000001"},
        {"offset": "99999999999999999999"},
        {"limit": "99999999999999999999"},
        {"q": "\x00"},
    ],
)
async def test_bad_paging_and_nul_queries_are_400(as_role, params):
    me = await as_role(Role.inspector)
    r = await me.client.get("/api/subjects", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "request.invalid", r.text


async def test_nul_in_paths_and_empty_department_filter(as_role):
    coordinator = await as_role(Role.coordinator)
    assert_error(await coordinator.client.get("/api/subjects/%00"), 404, "subject.unknown")
    r = await coordinator.client.post("/api/inspectors/a%00b/conflicts", json={"subject_id": "x"})
    assert_error(r, 400, "request.invalid")
    assert_error(
        await coordinator.client.get("/api/matters?department=%00"), 400, "request.invalid"
    )
    r = await coordinator.client.get("/api/inspectors", params={"department": ""})
    assert r.status_code == 200, r.text
    r = await coordinator.client.get("/api/subjects", params={"limit": "500", "offset": "0"})
    assert r.status_code == 200, r.text


# --- 3: formulas without a stored result --------------------------------------------------------


def _formula_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(SUBJECT_HEADER)
    row = subject_row()
    sheet.append([row[h] for h in SUBJECT_HEADER])
    sheet.append([row[h] if h != "name" else '=CONCAT("洛阳","市")' for h in SUBJECT_HEADER])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_formula_without_cached_value_is_a_row_error():
    with pytest.raises(AppError) as e:
        await import_file(kind="subjects", data=_formula_xlsx(), filename="f.xlsx", actor="t")
    assert e.value.code == "import.rows_invalid"
    [error] = e.value.details["errors"]
    assert (error["row"], error["column"], error["code"]) == (3, "name", "import.value_invalid")
    assert error["message"].endswith("公式单元格没有计算结果，请在 Excel 中另存为数值")


def test_files_without_formulas_read_as_before():
    data = write_table(["a", "b"], [["=text", "x"]], "xlsx")  # "=…" written as text, no formula
    assert read_table(data).rows == [(2, ["=text", "x"])]


# --- 4: USCC authorities ------------------------------------------------------------------------


def test_rural_collective_uscc_and_unassigned_authorities():
    body = "N1410302MA9XKQ2R7"
    assert uscc.is_valid_uscc(body + uscc.uscc_check_char(body))
    for authority in "BCDEFG":
        body = f"{authority}1410302MA9XKQ2R7"
        assert not uscc.is_valid_uscc(body + uscc.uscc_check_char(body))
    assert F.check_subject_id("subject_id", uscc.make_uscc("N", "2", "410302", "MA9XKQ2R7"), "")


# --- 5: a coordinator imports the whole matter list back ----------------------------------------


async def test_coordinator_reimports_the_whole_matter_export(make_department):
    mine, other = await make_department(), await make_department()
    for dep in (mine, other):
        await import_file(
            kind="matters",
            data=write_table(*_matter_table(dep, unique("m")), "csv"),
            actor="admin",
        )
    for fmt in ("csv", "xlsx"):
        data = await export_file(kind="matters", fmt=fmt)
        result = await import_file(
            kind="matters", data=data, filename=f"m.{fmt}", actor="c", only_department=mine
        )
        assert (result.created, result.updated) == (0, 0) and result.unchanged >= 2
    # a change to another department's matter stays forbidden
    data = await export_file(kind="matters", fmt="csv")
    text = data.decode("utf-8-sig")
    changed = text.replace(f"{other},食品销售的抽查", f"{other},改过的名称")
    errors = await _row_errors("matters", changed.encode(), only_department=mine)
    assert errors and {code for _, _, code in errors} == {"auth.department_forbidden"}


def _matter_table(dep: str, code: str) -> tuple[list[str], list[list[str]]]:
    header = ["code", "department", "name", "category", "ratio_cap", "item_text"]
    return header, [[code, dep, "食品销售的抽查", "general", "0.05", "是否持证"]]


# --- 6: certificate numbers and ids in bodies ---------------------------------------------------


async def test_duplicate_certificate_numbers(as_role, make_department):
    dep = await make_department()
    admin = await as_role(Role.admin)
    cert = unique("豫执")
    header = ["code", "name", "department", "certificate_no"]
    a, b = [unique("i"), "甲", dep, cert], [unique("i"), "乙", dep, cert]
    errors = await _row_errors("inspectors", csv_bytes(header, [a, b]))
    assert errors == [(3, "certificate_no", "import.duplicate")]
    await import_file(kind="inspectors", data=csv_bytes(header, [a]), actor="t")
    errors = await _row_errors("inspectors", csv_bytes(header, [a, [unique("i"), "丙", dep, cert]]))
    assert errors == [(3, "certificate_no", "import.duplicate")]
    r = await admin.client.post("/api/inspectors", json=inspector_body(dep, certificate_no=cert))
    assert_error(r, 409, "inspector.certificate_taken")
    r = await admin.client.put(
        f"/api/inspectors/{a[0]}", json=inspector_body(dep, code=a[0], certificate_no=cert)
    )
    assert r.status_code == 200, r.text  # keeping one's own certificate


async def test_body_ids_must_match_the_path(as_role, make_department):
    dep = await make_department()
    admin = await as_role(Role.admin)
    body = inspector_body(dep)
    assert (await admin.client.post("/api/inspectors", json=body)).status_code == 201
    r = await admin.client.put(f"/api/inspectors/{body['code']}", json={**body, "code": "other"})
    assert_error(r, 400, "request.invalid")
    # (a department with both matters and inspectors would be eligible for the simulations)
    matter = matter_body(await make_department())
    assert (await admin.client.post("/api/matters", json=matter)).status_code == 201
    r = await admin.client.put(f"/api/matters/{matter['code']}", json={**matter, "code": "x"})
    assert_error(r, 400, "request.invalid")
    sid = new_uscc()
    r = await admin.client.post(
        "/api/subjects", json={"subject_id": sid, "name": "甲", "kind": "enterprise"}
    )
    created = r.json()
    r = await admin.client.put(f"/api/subjects/{sid}", json={**created, "subject_id": new_uscc()})
    assert_error(r, 400, "request.invalid")
    r = await admin.client.put(f"/api/subjects/{sid}", json={**created, "subject_id": sid.lower()})
    assert r.status_code == 200, r.text


# --- 7: CSV injection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["=1+2", "+86", "-x", "@SUM(A1)", "'=x", "''-1", "'plain", "-12.5", "12", "a=b"]
)
def test_csv_formula_escape_round_trips(value):
    data = write_table(["h"], [[value]], "csv")
    cell = data.decode("utf-8-sig").splitlines()[1].strip('"')
    if value in ("=1+2", "+86", "-x", "@SUM(A1)", "'=x", "''-1"):
        assert cell == "'" + value
    else:
        assert cell == value
    assert read_table(data).rows == [(2, [value])]


async def test_csv_export_of_formula_like_text_round_trips():
    rows = [subject_row(name='=HYPERLINK("http://x")', address="@SUM(1)", tags="-x;+y")]
    await import_file(kind="subjects", data=csv_bytes(SUBJECT_HEADER, rows), actor="t")
    data = await export_file(kind="subjects", fmt="csv")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",'@SUM(1)," in text and "'-x;+y" in text
    result = await import_file(kind="subjects", data=data, actor="t")
    assert (result.created, result.updated) == (0, 0)


# --- 8: LIKE wildcards --------------------------------------------------------------------------


async def test_search_wildcards_are_literal(as_role):
    admin = await as_role(Role.admin)
    marker = unique("w")
    names = [f"{marker}50%折扣", f"{marker}5折扣", f"{marker}_x", f"{marker}ax", f"{marker}\\b"]
    for name in names:
        body = {"subject_id": new_uscc(), "name": name, "kind": "enterprise"}
        assert (await admin.client.post("/api/subjects", json=body)).status_code == 201

    async def found(q: str) -> list[str]:
        r = await admin.client.get("/api/subjects", params={"q": q, "limit": 500})
        return sorted(s["name"] for s in r.json()["subjects"] if s["name"].startswith(marker))

    assert await found(f"{marker}5%") == []
    assert await found("0%折") == [f"{marker}50%折扣"]
    assert await found(f"{marker}_") == [f"{marker}_x"]
    assert await found(f"{marker}\\") == [f"{marker}\\b"]
    assert await found(marker.upper()) == sorted(names)


# --- 9: content type ----------------------------------------------------------------------------


async def test_csv_export_content_type(as_role):
    admin = await as_role(Role.admin)
    r = await admin.client.get("/api/exports/subjects.csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
