"""Departments and their ordered partner departments (matching falls back to a same-industry
or neighbouring department when one is short of inspectors, 001:二(四))."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onevisit.db import write_transaction
from onevisit.directory.fields import FieldError, check_code, check_text
from onevisit.directory.schemas import DepartmentIn, DepartmentOut
from onevisit.directory.tables import Department, DepartmentPartner
from onevisit.errors import AppError

__all__ = [
    "create_department",
    "department_ids",
    "ensure_departments",
    "list_departments",
    "require_department",
]


async def department_ids() -> dict[str, int]:
    """code → id of every department (a few dozen rows: importers resolve codes with it)."""
    rows = await Department.select(Department.id, Department.code)
    return {r["code"]: r["id"] for r in rows}


async def require_department(code: str) -> int:
    row = await Department.select(Department.id).where(Department.code == code).first()
    if row is None:
        raise AppError("department.unknown", code, department=code)
    return row["id"]


async def list_departments() -> list[DepartmentOut]:
    departments = await Department.select().order_by(Department.code)
    links = await DepartmentPartner.select(
        DepartmentPartner.department.code.as_alias("dep"),
        DepartmentPartner.partner.code.as_alias("partner"),
    ).order_by(DepartmentPartner.position)
    partners: dict[str, list[str]] = {}
    for link in links:
        partners.setdefault(link["dep"], []).append(link["partner"])
    return [
        DepartmentOut(
            code=d["code"],
            name=d["name"],
            region_code=d["region_code"],
            partners=partners.get(d["code"], []),
            active=d["active"],
        )
        for d in departments
    ]


def _clean(data: DepartmentIn) -> dict[str, Any]:
    try:
        code = check_code("code", data.code, code="department.invalid")
        name = check_text("name", data.name, max_len=128, required=True)
        region = check_text("region_code", data.region_code, max_len=12)
    except FieldError as exc:
        raise exc.to_app_error() from None
    partners = [p.strip() for p in data.partners]
    if code in partners or len(set(partners)) != len(partners):
        raise AppError("department.invalid", "协作部门不能重复，也不能是本部门", partners=partners)
    return {"code": code, "name": name, "region_code": region, "partners": partners}


async def _set_partners(dep_id: int, partners: Sequence[str], ids: dict[str, int]) -> None:
    unknown = [p for p in partners if p not in ids]
    if unknown:
        raise AppError("department.unknown", "、".join(unknown), departments=unknown)
    await DepartmentPartner.delete().where(DepartmentPartner.department == dep_id)
    if partners:
        await DepartmentPartner.insert(
            *[
                DepartmentPartner(department=dep_id, partner=ids[p], position=i)
                for i, p in enumerate(partners)
            ]
        )


async def create_department(*, data: DepartmentIn) -> DepartmentOut:
    clean = _clean(data)
    async with write_transaction():
        ids = await department_ids()
        if clean["code"] in ids:
            raise AppError("department.exists", clean["code"], department=clean["code"])
        inserted = await Department.insert(
            Department(code=clean["code"], name=clean["name"], region_code=clean["region_code"])
        ).returning(Department.id)
        ids[clean["code"]] = inserted[0]["id"]
        await _set_partners(ids[clean["code"]], clean["partners"], ids)
    return DepartmentOut(**clean, active=True)


async def ensure_departments(*, departments: Sequence[DepartmentIn]) -> int:
    """Create or update many departments (the demo); partners may name departments of the same
    batch, so all rows exist before partners are linked. Returns how many changed."""
    cleans = [_clean(d) for d in departments]
    current = {d.code: d for d in await list_departments()}
    changed: set[str] = set()
    async with write_transaction():
        ids = await department_ids()
        for c in cleans:
            old = current.get(c["code"])
            if old is None:
                inserted = await Department.insert(
                    Department(code=c["code"], name=c["name"], region_code=c["region_code"])
                ).returning(Department.id)
                ids[c["code"]] = inserted[0]["id"]
                changed.add(c["code"])
            elif (old.name, old.region_code) != (c["name"], c["region_code"]):
                await Department.update(
                    {Department.name: c["name"], Department.region_code: c["region_code"]}
                ).where(Department.code == c["code"])
                changed.add(c["code"])
        for c in cleans:
            old = current.get(c["code"])
            if old is None or old.partners != c["partners"]:
                await _set_partners(ids[c["code"]], c["partners"], ids)
                changed.add(c["code"])
    return len(changed)
