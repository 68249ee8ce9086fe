"""The columns of the import/export files of each directory, with their Chinese aliases.

Exports use the English names below (first in each list); imports accept any alias, in any
order and case; unknown columns (a 序号 column, notes) are ignored. docs/directory.md lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from onevisit.errors import AppError

__all__ = ["COLUMNS", "Column", "export_header", "map_header"]


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    export: bool = True  # alternative input forms (lat_e6) are read but not written


SUBJECT = (
    Column(
        "subject_id",
        ("统一社会信用代码", "主体标识", "统一社会信用代码/主体标识", "注册号", "信用代码", "id"),
        required=True,
    ),
    Column("name", ("名称", "主体名称", "企业名称"), required=True),
    Column("kind", ("类型", "主体类型", "对象类型"), required=True),
    Column("address", ("地址", "住所", "经营场所", "住所/经营场所")),
    Column("lat", ("纬度", "latitude")),
    Column("lon", ("经度", "longitude", "lng")),
    Column("lat_e6", (), export=False),
    Column("lon_e6", (), export=False),
    Column("industry_code", ("行业代码", "国民经济行业代码")),
    Column("region_code", ("行政区划代码", "区划代码")),
    Column("credit_class", ("信用风险分类", "信用风险等级", "风险分类")),
    Column("abnormal", ("经营异常", "经营异常名录", "列入经营异常名录")),
    Column("serious_violation", ("严重违法失信", "严重违法失信名单")),
    Column("last_inspected", ("最近检查日期", "上次检查日期", "最近一次检查日期")),
    Column("legal_representative", ("法定代表人", "负责人", "经营者", "法定代表人/负责人")),
    Column("tags", ("标签",)),
)

INSPECTOR = (
    Column("code", ("编号", "人员编号", "执法人员编号"), required=True),
    Column("name", ("姓名",), required=True),
    Column("department", ("部门", "部门编码", "所属部门"), required=True),
    Column("certificate_no", ("执法证号", "执法证件号", "证件号"), required=True),
    Column("post", ("岗位", "职务")),
    Column("expertise", ("专业特长", "专长", "业务专长")),
    Column("active", ("在岗", "有效", "启用")),
    Column("conflicts", ("回避对象", "回避主体", "利益冲突")),
)

# One row per check item; see importing.py for how rows of one matter are grouped.
MATTER = (
    Column("code", ("事项编码", "编码"), required=True),
    Column("department", ("部门", "部门编码", "实施部门"), required=True),
    Column("name", ("事项名称", "抽查事项"), required=True),
    Column("category", ("事项类别", "类别"), required=True),
    Column("ratio_cap", ("抽查比例上限", "比例上限")),
    Column("basis", ("抽查依据", "依据")),
    Column("content", ("抽查内容",)),
    Column("methods", ("检查方式", "抽查方式")),
    Column("subject_kinds", ("检查对象类型", "对象类型", "抽查对象")),
    Column("active", ("启用",)),
    Column("item_text", ("检查项目", "检查项", "检查内容"), required=True),
    Column("item_basis", ("检查项目依据", "检查依据", "检查项依据")),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    "subjects": SUBJECT,
    "inspectors": INSPECTOR,
    "matters": MATTER,
}

_DECORATION = re.compile(r"[*＊]|[(（]必填[)）]")


def _norm(name: str) -> str:
    return _DECORATION.sub("", name).strip().lower().replace(" ", "_")


_LOOKUP = {
    kind: {_norm(alias): c.field for c in cols for alias in (c.field, *c.aliases)}
    for kind, cols in COLUMNS.items()
}


def export_header(kind: str) -> list[str]:
    return [c.field for c in COLUMNS[kind] if c.export]


def map_header(kind: str, header: list[str]) -> dict[str, int]:
    """field → column index. Raises import.columns for missing or doubled required columns."""
    lookup = _LOOKUP[kind]
    found: dict[str, int] = {}
    doubled: list[str] = []
    for index, name in enumerate(header):
        field = lookup.get(_norm(name))
        if field is None:
            continue
        if field in found:
            doubled.append(name)
        found[field] = index
    missing = [c.field for c in COLUMNS[kind] if c.required and c.field not in found]
    if missing or doubled:
        raise AppError(
            "import.columns",
            ("缺少必需的列：" + "、".join(missing)) if missing else "列重复：" + "、".join(doubled),
            missing=missing,
            doubled=doubled,
            expected=export_header(kind),
        )
    return found
