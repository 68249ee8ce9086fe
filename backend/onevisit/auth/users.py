"""Users: creation, lookup, listing, and who may manage whom.

Admins manage everyone. A coordinator manages coordinators, leaders and inspectors of their
own department only (DOMAIN.md, roles). Users are never deleted: they are deactivated.
"""

from __future__ import annotations

from typing import Any

import msgspec

from onevisit.auth.common import parse_uuid
from onevisit.auth.roles import Caller, Role
from onevisit.auth.tables import User
from onevisit.directory.tables import Department, Inspector
from onevisit.errors import AppError

__all__ = [
    "UserOut",
    "UserRow",
    "check_may_manage",
    "create_user",
    "get_user",
    "list_users",
    "parse_role",
]

NAME_MAX = 64


class UserOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str
    department: str | None  # department code; None for admins
    department_name: str | None
    inspector_code: str | None


class UserRow(UserOut, frozen=True):
    """A user as listed for managers: with the active flag."""

    active: bool


_COLUMNS = (
    User.id,
    User.name,
    User.role,
    User.department.code.as_alias("department"),
    User.department.name.as_alias("department_name"),
    User.inspector.code.as_alias("inspector_code"),
)


def _out(row: dict[str, Any]) -> UserOut:
    return UserOut(
        id=str(row["id"]),
        name=row["name"],
        role=row["role"],
        department=row["department"],
        department_name=row["department_name"],
        inspector_code=row["inspector_code"],
    )


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise AppError("auth.role_invalid", role=role, allowed=[r.value for r in Role]) from exc


async def get_user(*, user_id: str) -> UserOut:
    uid = parse_uuid(user_id)
    row = None if uid is None else await User.select(*_COLUMNS).where(User.id == uid).first()
    if row is None:
        raise AppError("user.unknown", user_id=user_id)
    return _out(row)


async def list_users(*, caller: Caller) -> list[UserRow]:
    """Admins see every user; coordinators the users of their own department."""
    query = User.select(*_COLUMNS, User.active).order_by(User.created_at)
    if caller.role is not Role.admin:
        query = query.where(User.department.code == caller.department)
    return [
        UserRow(**msgspec.structs.asdict(_out(row)), active=row["active"]) for row in await query
    ]


def check_may_manage(caller: Caller, *, role: Role, department_code: str | None) -> None:
    """May `caller` create (or issue a link for) a user with this role in this department?"""
    if caller.role is Role.admin:
        return
    if caller.role is not Role.coordinator or role is Role.admin:
        raise AppError("auth.forbidden", role=caller.role.value, target_role=role.value)
    if department_code != caller.department:
        raise AppError("auth.department_forbidden", department=department_code)


async def create_user(
    *,
    name: str,
    role: str | Role,
    department_code: str | None,
    inspector_code: str | None = None,
    created_by: str,
) -> UserOut:
    """Create a user (no credential yet: issue an enrolment link next).

    `department_code` may be left out for an inspector account: it is then the department of
    the inspector named by `inspector_code`. Everyone but an admin needs a department.
    `created_by` is the actor (a user id, "cli" or "demo"). Runs in the caller's transaction
    if there is one.
    """
    role = parse_role(role) if isinstance(role, str) else role
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise AppError("request.invalid", f"name must be 1-{NAME_MAX} characters")
    inspector_id = None
    if inspector_code:
        found = (
            await Inspector.select(Inspector.id, Inspector.department.code.as_alias("dep"))
            .where(Inspector.code == inspector_code)
            .first()
        )
        if found is None:
            raise AppError("inspector.unknown", inspector_code=inspector_code)
        department_code = department_code or found["dep"]
        if found["dep"] != department_code:
            raise AppError(
                "inspector.invalid", "检查人员不属于该部门", inspector_code=inspector_code
            )
        inspector_id = found["id"]
        # one account per inspector: sync and the visit views map the group's inspectors to
        # accounts, and a second account would see visits the first one was drawn for
        taken = await User.select(User.id).where(User.inspector == inspector_id).first()
        if taken is not None:
            raise AppError(
                "inspector.account_exists", inspector_code=inspector_code, user=str(taken["id"])
            )
    department_id = None
    if department_code and role is Role.admin:  # admins keep the system: no department
        raise AppError("auth.role_invalid", "管理员不属于任何部门", department=department_code)
    if department_code:
        dep = (
            await Department.select(Department.id).where(Department.code == department_code).first()
        )
        if dep is None:
            raise AppError("department.unknown", department=department_code)
        department_id = dep["id"]
    elif role is not Role.admin:
        raise AppError("auth.department_required", role=role.value)
    user = User(
        name=name,
        role=role.value,
        department=department_id,
        inspector=inspector_id,
        created_by=created_by[:64],
    )
    await User.insert(user)
    return await get_user(user_id=str(user.id))
