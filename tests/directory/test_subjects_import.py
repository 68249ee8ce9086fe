"""Subject import: all or nothing, every bad row reported, history kept, snapshots by revision."""

import pytest

from onevisit.directory.exporting import export_file
from onevisit.directory.importing import import_file
from onevisit.directory.subjects import get_subject, subjects_as_of
from onevisit.directory.tables import Subject, SubjectHistory
from onevisit.errors import AppError
from tests.directory.util import SUBJECT_HEADER, csv_bytes, new_uscc, subject_row, xlsx_bytes


async def _import(rows, header=SUBJECT_HEADER, **kw):
    return await import_file(kind="subjects", data=csv_bytes(header, rows, **kw), actor="test")


async def _rows_error(rows, header=SUBJECT_HEADER) -> list[dict]:
    with pytest.raises(AppError) as e:
        await _import(rows, header)
    assert e.value.code == "import.rows_invalid"
    assert e.value.status == 422
    return e.value.details["errors"]


@pytest.fixture
async def stored():
    """One subject already in the directory; bad files must leave it exactly as it was."""
    row = subject_row(name="原有主体")
    await _import([row])
    before = await get_subject(subject_id=row["subject_id"])

    async def unchanged(*absent: str) -> None:
        assert await get_subject(subject_id=row["subject_id"]) == before
        for sid in absent:
            assert not await Subject.exists().where(Subject.subject_id == sid)

    return row, unchanged


async def test_import_creates_and_counts():
    rows = [subject_row() for _ in range(3)]
    result = await _import(rows)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    s = await get_subject(subject_id=rows[0]["subject_id"])
    assert (s.version, s.revision, s.id_kind) == (1, result.revision, "uscc")
    assert (s.lat_e6, s.lon_e6) == (34_669_900, 112_442_100)
    assert s.tags == ["餐饮", "重点"] and s.credit_class == "B"


async def test_chinese_headers_gb18030_and_normalised_ids():
    sid = new_uscc()
    header = [
        "统一社会信用代码",
        "名称",
        "类型",
        "纬度",
        "经度",
        "信用风险分类",
        "经营异常",
        "严重违法失信",
        "最近检查日期",
        "法定代表人",
        "行政区划代码",
        "标签",
    ]
    row = [
        f" {sid.lower()} ",
        "老城区个体户",
        "个体工商户",
        "34.68",
        "112.47",
        "d",
        "是",
        "否",
        "2024-06-30",
        "王五",
        "410302",
        "小餐饮、学校周边",
    ]
    result = await import_file(
        kind="subjects", data=csv_bytes(header, [row], encoding="gb18030"), actor="test"
    )
    assert result.created == 1
    s = await get_subject(subject_id=sid)
    assert (s.kind, s.credit_class, s.abnormal, s.serious_violation) == (
        "individual",
        "D",
        True,
        False,
    )
    assert str(s.last_inspected) == "2024-06-30" and s.tags == ["小餐饮", "学校周边"]


async def test_xlsx_import():
    rows = [subject_row(), subject_row(kind="product", subject_id="PRD-" + new_uscc()[-8:])]
    result = await import_file(
        kind="subjects", data=xlsx_bytes(SUBJECT_HEADER, rows), filename="s.xlsx", actor="test"
    )
    assert result.created == 2
    assert (await get_subject(subject_id=rows[1]["subject_id"])).id_kind == "other"


async def test_invalid_uscc_rows_all_reported(stored):
    row, unchanged = stored
    good = subject_row()
    bad1 = subject_row(new_uscc()[:-1] + "I")
    valid = new_uscc()
    bad2 = subject_row(valid[:-1] + ("0" if valid[-1] != "0" else "1"))  # wrong check char
    errors = await _rows_error([{**row, "name": "改名"}, good, bad1, bad2])
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [
        (4, "subject_id", "subject.uscc_invalid"),
        (5, "subject_id", "subject.uscc_invalid"),
    ]
    assert errors[0]["message"].startswith("统一社会信用代码校验不通过")
    await unchanged(good["subject_id"])


async def test_several_errors_in_one_row(stored):
    _, unchanged = stored
    bad = subject_row(credit_class="E", lat="95.5", kind="公司")
    errors = await _rows_error([bad])
    assert {(e["row"], e["column"], e["code"]) for e in errors} == {
        (2, "kind", "subject.kind_invalid"),
        (2, "credit_class", "subject.credit_class_invalid"),
        (2, "lat", "subject.coordinates_invalid"),
    }
    await unchanged(bad["subject_id"])


@pytest.mark.parametrize(
    ("over", "column", "code"),
    [
        ({"credit_class": "X"}, "credit_class", "subject.credit_class_invalid"),
        ({"lat": "90.000001"}, "lat", "subject.coordinates_invalid"),
        ({"lon": "-180.5"}, "lon", "subject.coordinates_invalid"),
        ({"lon": ""}, "lon", "subject.coordinates_invalid"),  # unpaired
        ({"lat": "北纬34"}, "lat", "subject.coordinates_invalid"),
        ({"name": ""}, "name", "import.required"),
        ({"kind": "company"}, "kind", "subject.kind_invalid"),
    ],
)
async def test_bad_values(stored, over, column, code):
    row, unchanged = stored
    bad = subject_row(**over)
    errors = await _rows_error([{**row, "name": "改名"}, bad])
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [(3, column, code)]
    await unchanged(bad["subject_id"])


async def test_bad_date_and_flag(stored):
    _, unchanged = stored
    header = [*SUBJECT_HEADER, "last_inspected", "abnormal"]
    bad = subject_row(last_inspected="2024-13-01", abnormal="maybe")
    errors = await _rows_error([bad], header)
    assert {(e["column"], e["code"]) for e in errors} == {
        ("last_inspected", "import.value_invalid"),
        ("abnormal", "import.value_invalid"),
    }
    await unchanged(bad["subject_id"])


async def test_duplicate_ids_in_file(stored):
    row, unchanged = stored
    other = subject_row()
    dup = {**other, "subject_id": other["subject_id"].lower()}  # the same id once normalised
    errors = await _rows_error([{**row, "name": "改名"}, other, dup])
    assert [(e["row"], e["code"]) for e in errors] == [(4, "import.duplicate")]
    assert "第 3 行" in errors[0]["message"]
    await unchanged(other["subject_id"])


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"\x00\x01\x02garbage", "s.csv", "import.format"),
        (b"not a zip at all", "s.xlsx", "import.format"),
        ("名称,地址\n某公司,某地\n".encode(), "s.csv", "import.columns"),
        (b"subject_id,name,kind\n", "s.csv", "import.empty"),
        ("subject_id,name,名称,kind\nx,y,z,w\n".encode(), "s.csv", "import.columns"),
    ],
)
async def test_unreadable_and_wrong_columns(stored, data, filename, code):
    _, unchanged = stored
    with pytest.raises(AppError) as e:
        await import_file(kind="subjects", data=data, filename=filename, actor="test")
    assert e.value.code == code
    await unchanged()


async def test_missing_required_columns_are_named(stored):
    with pytest.raises(AppError) as e:
        await import_file(kind="subjects", data="名称\n甲\n".encode(), actor="test")
    assert e.value.details["missing"] == ["subject_id", "kind"]


async def test_reimport_keeps_history_and_leaves_unchanged_rows():
    rows = [subject_row() for _ in range(3)]
    first = await _import(rows)
    rows[0]["name"] = "新名称"
    rows[1]["credit_class"] = "C"
    second = await _import(rows)
    assert (second.created, second.updated, second.unchanged) == (0, 2, 1)
    assert second.revision > first.revision
    changed = await get_subject(subject_id=rows[0]["subject_id"])
    assert (changed.version, changed.revision, changed.name) == (2, second.revision, "新名称")
    assert [(h.version, h.revision, h.name) for h in changed.history] == [
        (1, first.revision, "洛阳测试商贸有限公司")
    ]
    same = await get_subject(subject_id=rows[2]["subject_id"])
    assert (same.version, same.revision, same.history) == (1, first.revision, [])
    third = await _import(rows)  # nothing changed: no new revision
    assert (third.created, third.updated, third.unchanged, third.revision) == (
        0,
        0,
        3,
        second.revision,
    )


async def test_absent_optional_columns_keep_stored_values():
    row = subject_row()
    await _import([row])
    result = await _import([{**row, "name": "只改名称"}], ["subject_id", "name", "kind"])
    assert result.updated == 1
    s = await get_subject(subject_id=row["subject_id"])
    assert (s.name, s.tags, s.lat_e6, s.address) == (
        "只改名称",
        ["餐饮", "重点"],
        34_669_900,
        row["address"],
    )


async def test_subjects_as_of_revision():
    a, b = subject_row(name="甲"), subject_row(name="乙")
    r1 = (await _import([a])).revision
    r2 = (await _import([{**a, "name": "甲二"}, b])).revision
    r3 = (await _import([{**a, "name": "甲三"}, b])).revision

    def names(snapshot):
        mine = {a["subject_id"], b["subject_id"]}
        return {s.subject_id: (s.name, s.version) for s in snapshot if s.subject_id in mine}

    assert names(await subjects_as_of(r1 - 1)) == {}
    assert names(await subjects_as_of(r1)) == {a["subject_id"]: ("甲", 1)}
    assert names(await subjects_as_of(r2)) == {
        a["subject_id"]: ("甲二", 2),
        b["subject_id"]: ("乙", 1),
    }
    assert names(await subjects_as_of(r3)) == {
        a["subject_id"]: ("甲三", 3),
        b["subject_id"]: ("乙", 1),
    }
    everything = await subjects_as_of(r3)
    assert len({s.subject_id for s in everything}) == len(everything)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE subject_history SET name = 'forged'",
        "DELETE FROM subject_history",
    ],
)
async def test_history_is_append_only(sql):
    row = subject_row()
    await _import([row])
    await _import([{**row, "name": "第二版"}])
    before = await SubjectHistory.count()
    with pytest.raises(Exception, match="append-only"):
        await SubjectHistory.raw(sql)
    assert await SubjectHistory.count() == before
    assert (await get_subject(subject_id=row["subject_id"])).history[0].name != "forged"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_export_then_import_changes_nothing(fmt):
    await _import([subject_row(), subject_row(lat="", lon="", tags="")])
    data = await export_file(kind="subjects", fmt=fmt)
    result = await import_file(kind="subjects", data=data, filename=f"s.{fmt}", actor="test")
    assert (result.created, result.updated) == (0, 0)
    assert result.unchanged == await Subject.count()
