"""`onevisit enrol`: the first admin's link (there is nobody yet to issue one), new links for
existing users, and the demo users' links. Prints to the terminal; the token is never stored."""

from __future__ import annotations

from onevisit.auth.enrolment import EnrolmentOut, issue_enrolment
from onevisit.auth.qr import qr_terminal
from onevisit.auth.roles import Role
from onevisit.auth.tables import User
from onevisit.auth.users import UserOut, create_user, get_user
from onevisit.db import write_transaction

__all__ = ["enrol", "print_demo_enrolments"]

ROLE_ZH = {"admin": "管理员", "coordinator": "协调员", "leader": "组长", "inspector": "检查人员"}


def _print_link(user: UserOut, link: EnrolmentOut, *, qr: bool) -> None:
    where = user.department_name or "全部部门"
    print(f"{user.name}（{ROLE_ZH.get(user.role, user.role)}，{where}）  user id {user.id}")
    print(f"  注册链接 / enrolment link: {link.url}")
    print(f"  有效期至 / expires at:     {link.expires_at.isoformat(timespec='seconds')}")
    if qr:
        print(qr_terminal(link.url))


async def _admin_named(name: str) -> UserOut:
    """The active admin of this exact name (the oldest), else a new one: re-running the
    command (every `make run` does) issues a new link instead of piling up accounts. Someone
    who can run this command on the server may already do anything an admin can; a new link
    is also how an admin who lost their phone gets back in (old passkeys stay valid)."""
    row = (
        await User.select(User.id)
        .where((User.name == name.strip()) & (User.role == Role.admin.value) & User.active.eq(True))
        .order_by(User.created_at)
        .first()
    )
    if row is not None:
        return await get_user(user_id=str(row["id"]))
    return await create_user(name=name, role=Role.admin, department_code=None, created_by="cli")


async def enrol(*, admin: str | None, user: str | None, qr: bool) -> None:
    async with write_transaction():
        target = await _admin_named(admin) if admin else await get_user(user_id=user or "")
        link = await issue_enrolment(user_id=target.id, created_by="cli")
    _print_link(target, link, qr=qr)
    print("在手机上打开链接或扫描二维码，注册通行密钥（或设备密钥 + PIN）。链接仅可使用一次。")


async def print_demo_enrolments() -> None:
    """A fresh link for each active demo user (created_by == "demo"); a QR code for the first
    user of each role (admin, a coordinator, the leader, an inspector), links for the rest."""
    rank = {role.value: i for i, role in enumerate(Role)}  # admin first, inspectors last
    rows = (
        await User.select(User.id, User.role)
        .where((User.created_by == "demo") & User.active.eq(True))
        .order_by(User.created_at)
    )
    rows.sort(key=lambda r: rank.get(r["role"], len(rank)))
    shown: set[str] = set()
    for row in rows:
        target = await get_user(user_id=str(row["id"]))
        link = await issue_enrolment(user_id=target.id, created_by="cli")
        _print_link(target, link, qr=target.role not in shown)
        shown.add(target.role)
