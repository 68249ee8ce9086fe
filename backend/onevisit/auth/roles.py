"""Roles and the signed-in caller that every endpoint's guard looks at."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CLI_CALLER", "Caller", "Role"]


class Role(StrEnum):
    admin = "admin"  # keeps the system: all departments, creates coordinators
    coordinator = "coordinator"  # initiating/joint office staff of one department
    leader = "leader"  # 组长: team leader of joint groups
    inspector = "inspector"  # 执法检查人员


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    name: str
    role: Role
    department: str | None  # department code; None only for admins
    inspector_code: str | None
    session_id: int
    csrf_token: str
    session_method: str = ""  # how the session was opened: passkey | device_pin | cli

    def sees_department(self, department_code: str | None) -> bool:
        """Department-scoped data: admins see all, others their own department only."""
        return self.role is Role.admin or (
            department_code is not None and department_code == self.department
        )


# Who the command line acts as: an admin of no department, named "cli" in every log entry.
CLI_CALLER = Caller(
    user_id="cli", name="命令行", role=Role.admin, department=None, inspector_code=None,
    session_id=0, csrf_token="", session_method="cli",
)  # fmt: skip
