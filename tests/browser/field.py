"""A joint visit with a signed-in inspector in the page, and steps that drive pwa/outbox.js.

Shared by the outbox and media tests. The fixture `field` is defined as `field_fixture`:
import that into a test module (`# noqa: F401`) and name `field` as a test argument.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import expect

from onevisit.auth.enrolment import issue_enrolment
from onevisit.auth.users import create_user
from onevisit.planning.visits import create_task, create_visit
from tests.browser.helpers import enrol_with_passkey, new_department, new_inspector, new_matter
from tests.fixtures import unique

__all__ = ["Field", "field_fixture", "record", "run", "status", "sync", "until"]

# Every snippet runs with `o` = outbox.js, `db` = db.js, `dk` = devicekey.js, `api`, `me`
# (the signed-in user), `key` (arg.user's device key record, if arg.user is given) and `arg`.
PRELUDE = """const o = await import('/outbox.js'); const db = await import('/db.js');
const dk = await import('/devicekey.js'); const {api} = await import('/api.js');
const me = (await api('/api/auth/me').catch(() => null))?.user;
const key = arg?.user ? (await db.keys.all()).find((k) => k.user_id === arg.user) : null;"""


async def run(page, body: str, arg: Any = None, *, prelude: str = PRELUDE) -> Any:
    return await page.evaluate(f"async (arg) => {{ {prelude}\n{body} }}", arg)


@dataclass
class Field:
    visit: str
    other_visit: str  # a visit the user is not a member of
    matter: str
    user: str


async def _visit(members: list[tuple[str, str]], matters: list[str], initiator: str) -> str:
    task = await create_task(
        code=unique("task"),
        name="联合抽查",
        initiator=initiator,
        matters=matters,
        created_by="test",
    )
    return await create_visit(task_id=task, subject_id=unique("CP-"), members=members)


@pytest.fixture(name="field")
async def field_fixture(page_with_authenticator) -> Field:
    """A joint visit of two departments; its first inspector enrolled in the page."""
    dep_a, dep_b = await new_department("甲局"), await new_department("乙局")
    matter_a, matter_b = await new_matter(dep_a), await new_matter(dep_b)
    me, mate, other = (
        await new_inspector(dep_a),
        await new_inspector(dep_a),
        await new_inspector(dep_b),
    )
    visit = await _visit([(me, dep_a), (mate, dep_a), (other, dep_b)], [matter_a, matter_b], dep_a)
    other_visit = await _visit([(mate, dep_a), (other, dep_b)], [matter_a, matter_b], dep_a)
    user = await create_user(
        name=unique("检查员"), role="inspector", department_code=dep_a,
        inspector_code=me, created_by="test",
    )  # fmt: skip
    enrolment = await issue_enrolment(user_id=user.id, created_by="test")
    await enrol_with_passkey(page_with_authenticator, enrolment.token, user.name)
    await expect(page_with_authenticator.page.locator("#device-key")).not_to_have_text("…")
    # These tests drive the outbox step by step: the app's automatic sync (on start, on
    # `online`, after backoff) would race them, so it is switched off as a user can on home.
    await run(page_with_authenticator.page, "await db.meta.set('autosync', false); o.stop();")
    return Field(visit, other_visit, matter_a, user.id)


RECORD = """const ids = [];
for (const e of arg.events) {
  const s = await o.record(key, {actor: arg.user, visit: e.visit, type: e.type, body: e.body});
  ids.push(s.id);
}
return ids;"""


async def record(page, f: Field, events: list[dict]) -> list[str]:
    """Sign and queue events ({type, body, visit}) with the field user's device key: their ids."""
    return await run(page, RECORD, {"user": f.user, "events": events})


async def sync(page) -> dict:
    return await run(page, "return o.sync();")


async def status(page) -> dict:
    return await run(page, "return o.status();")


async def until(page, ok, timeout: float = 10) -> dict:
    """Poll the outbox status() until ok(status) (wait_for_function does not await a promise)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not ok(st := await status(page)):
        assert asyncio.get_running_loop().time() < deadline, st
        await asyncio.sleep(0.05)
    return st
