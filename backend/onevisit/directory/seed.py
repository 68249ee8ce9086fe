"""Load the demo directories through the same clean-record and write paths as an import, so a
second run finds every row unchanged and writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

import msgspec

from onevisit.directory.departments import ensure_departments
from onevisit.directory.inspectors import write_inspectors
from onevisit.directory.matters import write_matters
from onevisit.directory.records import FieldErrors, clean_inspector, clean_matter, clean_subject
from onevisit.directory.schemas import DepartmentIn
from onevisit.directory.subjects import write_subjects
from onevisit.errors import AppError

__all__ = ["load_directory"]


def _clean(clean: Callable[[dict], Any], items: Iterable[Any]) -> list[Any]:
    out = []
    for item in items:
        try:
            out.append(clean(asdict(item)))
        except FieldErrors as exc:  # the demo data set itself is wrong: a bug, say where
            raise AppError("import.value_invalid", f"demo {item!r}: {exc}") from None
    return out


async def load_directory(dataset: Any, *, actor: str = "demo") -> dict[str, Any]:
    """Departments, subjects, matters, inspectors (conflicts name subjects, so last)."""
    changed = await ensure_departments(
        departments=[
            DepartmentIn(code=d.code, name=d.name, partners=list(d.partners))
            for d in dataset.departments
        ]
    )
    kw = {"actor": actor, "source": "demo", "note": "demo data set"}
    results = {
        "subjects": await write_subjects(_clean(clean_subject, dataset.subjects), **kw),
        "matters": await write_matters(_clean(clean_matter, dataset.matters), **kw),
        "inspectors": await write_inspectors(_clean(clean_inspector, dataset.inspectors), **kw),
    }
    return {"departments": changed, **{k: msgspec.structs.asdict(v) for k, v in results.items()}}
