"""Shared fixtures: a migrated database, the real app over httpx, users and signed-in clients."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from onevisit.app import create_app
from onevisit.auth.guards import CSRF_HEADER
from onevisit.auth.roles import Role
from onevisit.auth.sessions import SESSION_COOKIE, start_session
from onevisit.auth.tables import User
from onevisit.cli import migrate
from onevisit.directory.tables import Department

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A code no other test uses in this run (tests share one database per run)."""
    return f"{prefix}{next(_counter):05d}"


@pytest.fixture(scope="session", autouse=True)
async def migrated() -> None:
    await migrate()


@pytest.fixture(scope="session")
async def app(migrated: None) -> AsyncIterator[object]:
    """The real app with its lifespan entered in one dedicated task (pytest-asyncio runs
    fixture setup and teardown in different tasks, which a lifespan context cannot span)."""
    application = create_app()
    ready, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with application.lifespan():
            ready.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    await ready.wait()
    yield application
    stop.set()
    await task


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as c:
        yield c


@dataclass
class SignedIn:
    """A user with a live session, and a client that sends its cookie and CSRF token."""

    user_id: str
    role: Role
    department: str | None
    client: httpx.AsyncClient


@pytest.fixture
async def make_department():
    async def make(code: str | None = None, name: str | None = None) -> str:
        code = code or unique("dep")
        await Department.insert(Department(code=code, name=name or f"测试部门{code}"))
        return code

    return make


@pytest.fixture
async def make_user(make_department):
    async def make(
        role: Role = Role.coordinator, department: str | None = "new", name: str | None = None
    ) -> str:
        dep_id = None
        if department == "new":
            department = await make_department()
        if department is not None:
            dep_id = (
                await Department.select(Department.id).where(Department.code == department).first()
            )["id"]
        user = User(name=name or unique("用户"), role=role.value, department=dep_id)
        await User.insert(user)
        return str(user.id)

    return make


@pytest.fixture
async def sign_in(app: object) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def sign(user_id: str) -> httpx.AsyncClient:
        session = await start_session(user_id=user_id, method="cli")
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        c = httpx.AsyncClient(
            transport=transport,
            base_url="http://localhost:8000",
            cookies={SESSION_COOKIE: session.token},
            headers={CSRF_HEADER: session.csrf_token},
        )
        clients.append(c)
        return c

    yield sign
    for c in clients:
        await c.aclose()


@pytest.fixture
async def as_role(make_user, sign_in):
    """as_role(Role.coordinator) → SignedIn of a fresh user in a fresh department."""

    async def make(role: Role, department: str | None = "new") -> SignedIn:
        if role is Role.admin and department == "new":
            department = None
        user_id = await make_user(role=role, department=department)
        row = await User.select(User.department.code.as_alias("dep")).where(User.id == user_id)
        return SignedIn(user_id, role, row[0]["dep"], await sign_in(user_id))

    return make
