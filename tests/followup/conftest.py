"""A closed joint visit with its results (tests/results/conftest.py): department B's result
found a problem pending follow-up, so B's coordinator follows it up."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from onevisit.auth.roles import Role
from onevisit.auth.users import create_user
from onevisit.directory.tables import Department, Inspector
from tests.fixtures import SignedIn, unique
from tests.results.conftest import Closed, closed_visit  # noqa: F401  (the fixture)
from tests.sync.conftest import joint_visit  # noqa: F401  (the fixture)


@dataclass
class FollowingUp:
    closed: Closed
    result_b: int  # department B's result (pending follow-up)
    result_a: int  # department A's result (no problem)
    coord_a: SignedIn
    coord_b: SignedIn

    @property
    def member_b(self) -> httpx.AsyncClient:  # served B in the visit
        return self.closed.member_b.client

    @property
    def leader(self) -> httpx.AsyncClient:  # served A in the visit
        return self.closed.leader.client


async def result_ids(closed: Closed, client: httpx.AsyncClient) -> dict[str, int]:
    r = await client.get("/api/results")
    assert r.status_code == 200, r.text
    return {x["department"]: x["id"] for x in r.json()["results"] if x["visit"] == closed.visit}


@pytest.fixture
async def following(closed_visit, as_role) -> FollowingUp:  # noqa: F811
    dep_a, dep_b = closed_visit.deps
    coord_a = await as_role(Role.coordinator, department=dep_a)
    coord_b = await as_role(Role.coordinator, department=dep_b)
    a = (await result_ids(closed_visit, coord_a.client))[dep_a]
    b = (await result_ids(closed_visit, coord_b.client))[dep_b]
    return FollowingUp(closed_visit, b, a, coord_a, coord_b)


@pytest.fixture
async def outsider(sign_in):
    """An inspector of a department who was not in the visit."""

    async def make(department: str) -> httpx.AsyncClient:
        dep = await Department.select(Department.id).where(Department.code == department).first()
        code = unique("i")
        await Inspector.insert(
            Inspector(code=code, name=f"检查员{code}", department=dep["id"], certificate_no=code)
        )
        user = await create_user(
            name=f"检查员{code}", role="inspector", department_code=department,
            inspector_code=code, created_by="test",
        )  # fmt: skip
        return await sign_in(user.id)

    return make
