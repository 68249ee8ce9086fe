"""`onevisit enrol`: the first admin's link, new links, the demo users' links."""

from __future__ import annotations

import pytest

from onevisit.auth.cli import enrol, print_demo_enrolments
from onevisit.auth.roles import Role
from onevisit.auth.tables import User
from onevisit.auth.users import create_user
from onevisit.errors import AppError
from tests.auth.flows import register_passkey
from tests.auth.softauthn import SoftAuthenticator
from tests.fixtures import unique


def _token(output: str) -> str:
    line = next(x for x in output.splitlines() if "enrolment link" in x)
    return line.rsplit("/", 1)[1]


async def test_enrol_admin_prints_link_and_qr(capsys, client):
    name = unique("管理员")
    await enrol(admin=name, user=None, qr=True)
    out = capsys.readouterr().out
    assert "http://localhost:8000/#/enrol/" in out and "expires at" in out
    assert "▀" in out or "▄" in out
    admins = await User.select(User.id).where((User.name == name) & (User.role == "admin"))
    assert len(admins) == 1

    # run again before the link was used: the same admin, a new link
    await enrol(admin=name, user=None, qr=False)
    out = capsys.readouterr().out
    assert "▀" not in out
    assert await User.count().where(User.name == name) == 1
    r = await register_passkey(client, _token(out), SoftAuthenticator())
    assert r.status_code == 200, r.text
    assert r.json()["user"]["role"] == "admin"

    # with a passkey registered, a further run still issues a link for the same admin (a
    # lost phone), never a second account; the first passkey stays registered
    await enrol(admin=name, user=None, qr=False)
    out = capsys.readouterr().out
    assert await User.count().where(User.name == name) == 1
    r = await client.get(f"/api/auth/enrol/{_token(out)}")
    assert r.status_code == 200 and r.json()["user"]["role"] == "admin"


async def test_enrol_existing_user(capsys, make_user, client):
    user_id = await make_user(role=Role.inspector)
    await enrol(admin=None, user=user_id, qr=False)
    out = capsys.readouterr().out
    assert user_id in out
    r = await client.get(f"/api/auth/enrol/{_token(out)}")
    assert r.status_code == 200
    with pytest.raises(AppError) as err:
        await enrol(admin=None, user="nobody", qr=False)
    assert err.value.code == "user.unknown"


async def test_demo_enrolments(capsys, make_department):
    dep = await make_department()
    admin = await create_user(
        name=unique("演示管理员"), role="admin", department_code=None, created_by="demo"
    )
    inspectors = [
        await create_user(
            name=unique("演示检查员"), role="inspector", department_code=dep, created_by="demo"
        )
        for _ in range(2)
    ]
    await print_demo_enrolments()
    out = capsys.readouterr().out
    assert all(u.name in out for u in (admin, *inspectors))
    assert out.index(admin.name) < out.index(inspectors[0].name)  # admin first
    # One QR code per role (the first user of each), plain links for the rest.
    roles = {
        line.split("（", 1)[1].split("，", 1)[0] for line in out.splitlines() if "user id" in line
    }
    qr_codes = [line for line in out.splitlines() if line and set(line) == {"▀"}]
    assert len(qr_codes) == len(roles) >= 2
    links = out.count("enrolment link:")
    assert links > len(qr_codes)
