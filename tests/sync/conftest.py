"""A joint visit of two departments with three inspectors, each signed in with a phone whose
device key is registered through the real API."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from onevisit.auth.users import create_user
from onevisit.directory.tables import CheckItem, Department, Inspector, Matter
from onevisit.planning.visits import create_task, create_visit
from onevisit.simulate.phone import Phone
from tests.fixtures import unique


@dataclass
class Inspecting:
    code: str
    department: str
    user_id: str
    client: httpx.AsyncClient
    phone: Phone

    async def send(self, *events) -> httpx.Response:
        return await self.client.post("/api/sync", json={"events": [e.wire() for e in events]})


@dataclass
class JointVisit:
    visit: str
    matters: dict[str, str]  # department code → matter code
    members: list[Inspecting]  # [leader (A), second of A, member of B]


async def _matter(department_id: int, items: int) -> str:
    code = unique("m")
    matter = Matter(code=code, department=department_id, name=f"事项{code}", category="key")
    await Matter.insert(matter)
    await CheckItem.insert(
        *[CheckItem(matter=matter.id, position=i, text=f"检查项目{i + 1}") for i in range(items)]
    )
    return code


@pytest.fixture
async def joint_visit(make_department, sign_in) -> JointVisit:
    deps = [await make_department(), await make_department()]
    dep_ids = {
        r["code"]: r["id"]
        for r in await Department.select(Department.id, Department.code).where(
            Department.code.is_in(deps)
        )
    }
    matters = {d: await _matter(dep_ids[d], 3) for d in deps}
    members = []
    for dep in (deps[0], deps[0], deps[1]):
        code = unique("i")
        await Inspector.insert(
            Inspector(code=code, name=f"检查员{code}", department=dep_ids[dep], certificate_no=code)
        )
        user = await create_user(
            name=f"检查员{code}", role="inspector", department_code=dep,
            inspector_code=code, created_by="test",
        )  # fmt: skip
        client = await sign_in(user.id)
        phone = Phone(actor=user.id)
        r = await client.post("/api/auth/devices", json={"spki": phone.spki_b64url, "label": "t"})
        assert r.status_code == 201, r.text
        members.append(Inspecting(code, dep, user.id, client, phone))
    task = await create_task(
        code=unique("task"), name="联合抽查", initiator=deps[0],
        matters=[matters[deps[0]], matters[deps[1]]], created_by="test",
    )  # fmt: skip
    visit = await create_visit(
        task_id=task, subject_id=unique("CP-"),
        members=[(m.code, m.department) for m in members],
    )  # fmt: skip
    return JointVisit(visit, matters, members)
