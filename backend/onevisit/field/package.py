"""The offline visit package (docs/visits.md "The package"): everything a member's phone needs
to carry out a visit with no signal — the visit as GET /api/visits/{id} shows it, the subject's
directory entry, the matters with their legal basis and check items, the departments' names,
every member's registered device keys (to verify events handed over from a colleague's phone),
the notice read to the subject, the caller's 亮证 credential, and the state the server holds.
The phone stores it whole and replaces it whole (pwa/db.js, store `visits`).
"""

from __future__ import annotations

from typing import Any

from onevisit.auth.common import b64url_encode
from onevisit.auth.roles import Caller
from onevisit.auth.tables import DeviceKey
from onevisit.db import read_transaction
from onevisit.directory.records import SUBJECT_FIELDS
from onevisit.directory.tables import CheckItem, Department, Subject
from onevisit.evidence.store import now_ms
from onevisit.field import codes as C
from onevisit.field.credential import credential_for
from onevisit.field.notice import NOTICE
from onevisit.field.service import visit_view
from onevisit.planning.tables import TaskMatter, Visit

__all__ = ["FORMAT", "visit_package"]

FORMAT = "onevisit.visit_package/1"

# The code lists a phone offers and labels (field/codes.py), as [[code, Chinese label], …].
CODE_LISTS = {
    "item_results": C.ITEM_RESULTS,
    "result_codes": C.RESULT_CODES,
    "dispositions": C.DISPOSITIONS,
    "special_outcomes": C.SPECIAL_OUTCOMES,
    "refusal_reasons": C.REFUSAL_REASONS,
    "confirmation_methods": C.CONFIRMATION_METHODS,
    "checkin_sources": C.CHECKIN_SOURCES,
}


def _codes() -> dict[str, Any]:
    lists: dict[str, Any] = {k: [list(pair) for pair in v] for k, v in CODE_LISTS.items()}
    return lists | {"special_outcome_result": dict(C.SPECIAL_OUTCOME_RESULT)}


async def _subject(subject_id: str) -> dict[str, Any] | None:
    """The directory's current entry, with the fields GET /api/subjects/{id} has
    (less its history); None when the directory does not hold the subject."""
    row = (
        await Subject.select(
            *(getattr(Subject, f) for f in (*SUBJECT_FIELDS, "version", "revision"))
        )
        .where(Subject.subject_id == subject_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    out = dict(row)
    for flag in ("abnormal", "serious_violation"):  # SQLite answers 0/1
        out[flag] = bool(row[flag])
    last = row["last_inspected"]
    out["last_inspected"] = last.isoformat() if last is not None else None
    out["tags"] = list(row["tags"] or [])
    return out


async def _matters(task_id: int) -> list[dict[str, Any]]:
    rows = (
        await TaskMatter.select(
            TaskMatter.matter,
            TaskMatter.lead,
            TaskMatter.matter.code.as_alias("code"),
            TaskMatter.matter.name.as_alias("name"),
            TaskMatter.matter.department.code.as_alias("department"),
            TaskMatter.matter.department.name.as_alias("department_name"),
            TaskMatter.matter.category.as_alias("category"),
            TaskMatter.matter.basis.as_alias("legal_basis"),
            TaskMatter.matter.content.as_alias("content"),
            TaskMatter.matter.methods.as_alias("methods"),
        )
        .where(TaskMatter.task == task_id)
        .order_by(TaskMatter.position)
        .output(load_json=True)
    )
    items = (
        await CheckItem.select(
            CheckItem.matter, CheckItem.position, CheckItem.text, CheckItem.basis
        )
        .where(CheckItem.matter.is_in([r["matter"] for r in rows] or [0]))
        .order_by(CheckItem.position)
    )
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "department": r["department"],
            "department_name": r["department_name"],
            "category": r["category"],
            "lead": bool(r["lead"]),
            "legal_basis": r["legal_basis"],
            "content": r["content"],
            "methods": list(r["methods"] or []),
            "items": [
                {"position": i["position"], "text": i["text"], "legal_basis": i["basis"]}
                for i in items
                if i["matter"] == r["matter"]
            ],
        }
        for r in rows
    ]


async def _departments(codes: set[str]) -> list[dict[str, str]]:
    rows = await Department.select(Department.code, Department.name).where(
        Department.code.is_in(sorted(codes) or [""])
    )
    return sorted(({"code": r["code"], "name": r["name"]} for r in rows), key=lambda d: d["code"])


async def _devices(actors: list[str]) -> list[dict[str, str]]:
    """Every device key of these users that is not revoked, in member order."""
    if not actors:
        return []
    rows = await DeviceKey.select(DeviceKey.device_id, DeviceKey.app_user, DeviceKey.spki).where(
        DeviceKey.app_user.is_in(actors) & DeviceKey.revoked_at.is_null()
    )
    order = {a: i for i, a in enumerate(actors)}
    keys = [
        {
            "device_id": r["device_id"],
            "actor": str(r["app_user"]),
            "spki": b64url_encode(bytes(r["spki"])),
        }
        for r in rows
    ]
    return sorted(keys, key=lambda k: (order[k["actor"]], k["device_id"]))


async def visit_package(*, visit_id: str, caller: Caller) -> dict[str, Any]:
    """GET /api/visits/{id}/package, for whoever may see the visit (field.service.visit_view:
    unknown → request.not_found, not theirs → auth.forbidden). `credential` is the caller's
    own, and null for a caller who is not a member of the group (an admin, a coordinator)."""
    async with read_transaction():  # one snapshot on SQLite: the parts agree with each other
        view = await visit_view(visit_id=visit_id, caller=caller)
        info = view.info
        visit = (
            await Visit.select(Visit.task, Visit.status, Visit.batch_order)
            .where(Visit.id == info.visit)
            .first()
        )
        subject = await _subject(info.subject.id)
        matters = await _matters(visit["task"])
        codes = {m.department for m in info.members} | {m.served for m in info.members}
        departments = await _departments(codes | {m["department"] for m in matters})
        devices = await _devices([m.actor for m in info.members if m.actor])
        at_ms = now_ms()
        credential = await credential_for(info, caller, at_ms=at_ms)
    return {
        "format": FORMAT,
        "visit": info.to_json(),
        "status": visit["status"],
        "batch_order": visit["batch_order"],
        "subject": subject,
        "matters": matters,
        "departments": departments,
        "devices": devices,
        "notice": dict(NOTICE),
        "codes": _codes(),
        "credential": credential,
        "state": view.state.to_json(),
        "record_hash": view.record_hash,
        "fetched_ms": at_ms,
    }
