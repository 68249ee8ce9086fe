"""Matters (one row per check item) and inspectors from files; the demo loader; the CLI."""

import pytest

from onevisit.directory.cli import run_export, run_import
from onevisit.directory.exporting import export_file
from onevisit.directory.importing import import_file
from onevisit.directory.inspectors import list_inspectors
from onevisit.directory.matters import list_matters
from onevisit.directory.seed import load_directory
from onevisit.errors import AppError
from tests.directory.util import SUBJECT_HEADER, csv_bytes, subject_row, xlsx_bytes
from tests.fixtures import unique

MATTER_HEADER = [
    "事项编码",
    "部门",
    "事项名称",
    "事项类别",
    "抽查比例上限",
    "检查方式",
    "检查对象类型",
    "检查项目",
    "检查项目依据",
]


def matter_rows(dep: str, code: str) -> list[list[str]]:
    """A matter's first row carries its columns; continuation rows leave them blank."""
    return [
        [
            code,
            dep,
            "食品销售的抽查",
            "一般",
            "5%",
            "现场检查、书面检查",
            "企业;个体工商户",
            "是否持有有效食品经营许可证",
            "《食品安全法》第三十五条",
        ],
        ["", "", "", "", "", "", "", "是否建立进货查验记录", "第五十三条"],
        [code, "", "", "", "", "", "", "是否存在超过保质期的食品", ""],
    ]


async def _matters(rows, only=None, fmt="csv"):
    data = csv_bytes(MATTER_HEADER, rows) if fmt == "csv" else None
    return await import_file(kind="matters", data=data, actor="t", only_department=only)


async def test_matters_file(make_department):
    dep, code, key = await make_department(), unique("m"), unique("m")
    rows = [
        *matter_rows(dep, code),
        [key, dep, "特种设备抽查", "重点", "", "现场检查", "企业", "", ""],
    ]
    result = await _matters(rows)
    assert (result.created, result.updated) == (2, 0)
    found = {m.code: m for m in await list_matters(department=dep)}
    m = found[code]
    assert (m.category, m.ratio_cap, m.methods) == ("general", "0.05", ["on_site", "documentary"])
    assert m.subject_kinds == ["enterprise", "individual"]
    assert [(i.position, i.text) for i in m.items] == [
        (0, "是否持有有效食品经营许可证"),
        (1, "是否建立进货查验记录"),
        (2, "是否存在超过保质期的食品"),
    ]
    assert (found[key].ratio_cap, found[key].items) == (None, [])
    # unchanged, then one item changed
    assert (await _matters(rows)).unchanged == 2
    rows[1][7] = "是否建立并执行进货查验记录制度"
    result = await _matters(rows)
    assert (result.updated, result.unchanged) == (1, 1)
    m = next(m for m in await list_matters(department=dep) if m.code == code)
    assert m.items[1].text == "是否建立并执行进货查验记录制度" and len(m.items) == 3


async def test_bad_matter_rows(make_department):
    dep, code = await make_department(), unique("m")
    rows = matter_rows(dep, code)
    rows[1][3] = "重点"  # disagrees with the first row of the matter
    rows.append([unique("m"), unique("nodep"), "x", "一般", "2", "", "", "项", ""])
    rows.append([code, dep, "again", "一般", "0.1", "", "", "项", ""])  # not contiguous
    with pytest.raises(AppError) as e:
        await _matters(rows)
    assert [(x["row"], x["column"], x["code"]) for x in e.value.details["errors"]] == [
        (3, "事项类别", "import.value_invalid"),
        (5, "抽查比例上限", "matter.invalid"),
        (5, "部门", "department.unknown"),
        (6, "事项编码", "import.duplicate"),
    ]
    assert [m for m in await list_matters(department=dep)] == []


async def test_coordinator_matters_other_department(make_department):
    mine, other = await make_department(), await make_department()
    with pytest.raises(AppError) as e:
        await _matters(matter_rows(other, unique("m")), only=mine)
    assert {x["code"] for x in e.value.details["errors"]} == {"auth.department_forbidden"}


async def test_inspectors_file_with_conflicts(make_department):
    dep = await make_department()
    subject = subject_row()
    await import_file(kind="subjects", data=csv_bytes(SUBJECT_HEADER, [subject]), actor="t")
    header = ["编号", "姓名", "部门", "执法证号", "岗位", "专业特长", "在岗", "回避对象"]
    code = unique("i")
    rows = [
        {
            "编号": code,
            "姓名": "李四",
            "部门": dep,
            "执法证号": "豫A001",
            "岗位": "科员",
            "专业特长": "食品、药品",
            "在岗": "是",
            "回避对象": subject["subject_id"].lower(),
        }
    ]
    data = xlsx_bytes(header, rows)
    result = await import_file(kind="inspectors", data=data, filename="i.xlsx", actor="t")
    assert result.created == 1
    [i] = await list_inspectors(department=dep)
    assert (i.expertise, i.active, i.conflicts) == (["食品", "药品"], True, [subject["subject_id"]])
    assert (await import_file(kind="inspectors", data=data, actor="t")).unchanged == 1
    rows.append({**rows[0]})
    rows[1]["回避对象"] = "91410302MA9XKQ2R7X"
    with pytest.raises(AppError) as e:
        await import_file(kind="inspectors", data=xlsx_bytes(header, rows), actor="t")
    assert {(x["row"], x["code"]) for x in e.value.details["errors"]} == {
        (3, "import.duplicate"),
        (3, "subject.unknown"),
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_matters_round_trip(make_department, fmt):
    dep = await make_department()
    await _matters(matter_rows(dep, unique("m")))
    data = await export_file(kind="matters", fmt=fmt)
    result = await import_file(kind="matters", data=data, filename=f"m.{fmt}", actor="t")
    assert (result.created, result.updated) == (0, 0) and result.unchanged >= 1


async def test_demo_directory_loads_idempotently():
    from onevisit.demo.dataset import build_demo_dataset

    dataset = build_demo_dataset()
    await load_directory(dataset)
    again = await load_directory(dataset)
    assert again["departments"] == 0
    for kind in ("subjects", "matters", "inspectors"):
        assert (again[kind]["created"], again[kind]["updated"]) == (0, 0)
        assert again[kind]["unchanged"] == len(getattr(dataset, kind))


async def test_cli_import_and_export(tmp_path, capsys):
    good = tmp_path / "s.csv"
    good.write_bytes(csv_bytes(SUBJECT_HEADER, [subject_row()]))
    await run_import(kind="subjects", path=str(good))
    assert "created 1" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(SUBJECT_HEADER, [subject_row(credit_class="Q")]))
    with pytest.raises(AppError):
        await run_import(kind="subjects", path=str(bad))
    err = capsys.readouterr().err
    assert "row 2, column credit_class: subject.credit_class_invalid — " in err
    out = tmp_path / "export.xlsx"
    await run_export(kind="subjects", path=str(out))
    assert out.read_bytes().startswith(b"PK")
