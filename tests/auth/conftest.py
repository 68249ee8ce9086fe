"""Fixtures of the auth tests: enrolment links for fresh users, a second client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.roles import Role


@dataclass
class Link:
    user_id: str
    token: str


@pytest.fixture
def new_link(make_user):
    """new_link(Role.inspector) → a fresh user and an unused enrolment token."""

    async def make(role: Role = Role.inspector, department: str | None = "new") -> Link:
        if role is Role.admin:
            department = None
        user_id = await make_user(role=role, department=department)
        link = await issue_enrolment(user_id=user_id, created_by="test")
        return Link(user_id, link.token)

    return make


@pytest.fixture
async def fresh_client(app):
    """fresh_client() → another cookie jar on the same app (a second phone)."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        c = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000"
        )
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()
