"""In-process setup of a simulation, on the same database as the server it will talk to: the
demo directory (loaded if missing), a joint task "模拟联合抽查" of three departments, visits,
one user + session per simulated inspector. Everything after this goes through HTTP."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from onevisit.auth.sessions import start_session
from onevisit.auth.tables import User
from onevisit.auth.users import create_user
from onevisit.directory.tables import CheckItem, Department, Inspector, Matter, Subject
from onevisit.evidence.store import now_ms
from onevisit.planning.visits import create_task, create_visit

__all__ = ["INITIATOR", "TASK_NAME", "Member", "Plan", "PlannedVisit", "prepare"]

INITIATOR = "scjg"  # 市场监管: the initiating department, first matter
TASK_NAME = "模拟联合抽查"
ACTOR = "simulate"


@dataclass(frozen=True, slots=True)
class Member:
    """One simulated inspector: the phone's owner and its HTTP session."""

    index: int
    inspector: str  # inspector code
    name: str
    department: str  # served department code
    user_id: str
    token: str  # session cookie value
    csrf: str


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    index: int
    visit: str  # visit id
    subject_id: str
    subject_name: str
    signer: str  # the subject's legal representative (signs the record)
    lat_e6: int
    lon_e6: int
    members: tuple[int, ...]  # Member.index, leader first


@dataclass
class Plan:
    task: int
    matters: dict[str, str]  # department code → matter code (initiator first)
    items: dict[str, int]  # matter code → number of check items
    members: list[Member]
    visits: list[PlannedVisit] = field(default_factory=list)
    demo_loaded: bool = False


async def _ensure_directory() -> bool:
    if await Department.exists().where(Department.code == INITIATOR):
        return False
    from onevisit.demo.load import load_demo

    await load_demo()
    return True


async def _pick_matters(rng: random.Random, phones: int) -> tuple[dict[str, str], dict[str, int]]:
    """One active matter with check items for the initiator and two other departments that
    have enough active inspectors for their share of the phones (see _departments_of_phones);
    other data in the database (tests share it) never makes a department too small to pick."""
    rows = await Matter.select(
        Matter.id, Matter.code, Matter.department.code.as_alias("dep")
    ).where(Matter.active == True)  # noqa: E712
    counted = await CheckItem.select(CheckItem.matter).where(
        CheckItem.matter.is_in([r["id"] for r in rows] or [0])
    )
    n_items: dict[int, int] = {}
    for r in counted:
        n_items[r["matter"]] = n_items.get(r["matter"], 0) + 1
    by_dep: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["code"]):
        if n_items.get(r["id"]):
            by_dep.setdefault(r["dep"], []).append(r)
    staff: dict[str, int] = {}
    for r in await Inspector.select(Inspector.department.code.as_alias("dep")).where(
        Inspector.active == True  # noqa: E712
    ):
        staff[r["dep"]] = staff.get(r["dep"], 0) + 1
    need = (phones + 3) // 4  # phones of each non-initiating department
    others = sorted(d for d in by_dep if d != INITIATOR and staff.get(d, 0) >= need)
    if INITIATOR not in by_dep or len(others) < 2:
        raise RuntimeError("the directory needs matters of scjg and two other departments")
    chosen = [INITIATOR, *rng.sample(others, 2)]
    matters = {d: rng.choice(by_dep[d]) for d in chosen}
    return (
        {d: m["code"] for d, m in matters.items()},
        {m["code"]: n_items[m["id"]] for m in matters.values()},
    )


def _departments_of_phones(deps: list[str], phones: int) -> list[str]:
    """Phone i's department, cycling in the shape of a group (2 initiator + 1 + 1): every four
    phones make a full group, and the initiator — the largest department — gets half."""
    shape = [deps[0], deps[0], deps[1], deps[2]]
    return [shape[i % 4] for i in range(phones)]


async def _user_for(inspector: dict) -> str:
    row = await User.select(User.id).where(User.inspector == inspector["id"]).first()
    if row is not None:
        return str(row["id"])
    user = await create_user(
        name=inspector["name"], role="inspector", department_code=None,
        inspector_code=inspector["code"], created_by=ACTOR,
    )  # fmt: skip
    return user.id


async def _members(deps: list[str], phones: int) -> list[Member]:
    wanted = _departments_of_phones(deps, phones)
    rows = (
        await Inspector.select(
            Inspector.id, Inspector.code, Inspector.name, Inspector.department.code.as_alias("dep")
        )
        .where(Inspector.active == True)  # noqa: E712
        .where(Inspector.department.code.is_in(deps))
        .order_by(Inspector.code)
    )
    pools = {d: [r for r in rows if r["dep"] == d] for d in deps}
    taken: dict[str, int] = {}
    members = []
    for i, dep in enumerate(wanted):
        pool = pools[dep]
        if not pool:
            raise RuntimeError(f"no active inspector in department {dep}")
        n = taken.get(dep, 0)
        taken[dep] = n + 1
        if n >= len(pool):
            raise RuntimeError(f"department {dep} has only {len(pool)} active inspectors")
        ins = pool[n]
        user_id = await _user_for(ins)
        session = await start_session(user_id=user_id, method="cli", user_agent="simulate")
        members.append(
            Member(i, ins["code"], ins["name"], dep, user_id, session.token, session.csrf_token)
        )
    return members


def _groups(members: list[Member], deps: list[str], visits: int) -> list[tuple[int, ...]]:
    """Visit v: 2 initiator inspectors + 1 of each other department, cycling through phones."""
    by_dep = {d: [m.index for m in members if m.department == d] for d in deps}
    groups = []
    for v in range(visits):
        a = by_dep[deps[0]]
        first, second = a[(2 * v) % len(a)], a[(2 * v + 1) % len(a)]
        b, c = by_dep[deps[1]], by_dep[deps[2]]
        groups.append((first, second, b[v % len(b)], c[v % len(c)]))
    return groups


async def prepare(*, phones: int, visits: int, seed: int) -> Plan:
    if phones < 4:
        raise ValueError("a joint visit needs 4 phones (2 initiator + 1 + 1)")
    rng = random.Random(seed)
    loaded = await _ensure_directory()
    matters, items = await _pick_matters(rng, phones)
    deps = list(matters)
    members = await _members(deps, phones)
    task = await create_task(
        code=f"SIM{now_ms()}", name=TASK_NAME, initiator=INITIATOR,
        matters=list(matters.values()), created_by=ACTOR,
    )  # fmt: skip
    subjects = (
        await Subject.select(
            Subject.subject_id,
            Subject.name,
            Subject.legal_representative,
            Subject.lat_e6,
            Subject.lon_e6,
        )
        .where(Subject.lat_e6.is_not_null())
        .where(Subject.kind.is_in(["enterprise", "individual"]))  # places one can visit
        .order_by(Subject.subject_id)
    )
    if len(subjects) < visits:
        raise RuntimeError(f"only {len(subjects)} subjects with a location")
    plan = Plan(task, matters, items, members, demo_loaded=loaded)
    for v, (subject, group) in enumerate(
        zip(rng.sample(subjects, visits), _groups(members, deps, visits), strict=True)
    ):
        visit = await create_visit(
            task_id=task, subject_id=subject["subject_id"],
            members=[(members[i].inspector, members[i].department) for i in group],
            batch_order=v,
        )  # fmt: skip
        plan.visits.append(
            PlannedVisit(
                v,
                visit,
                subject["subject_id"],
                subject["name"],
                subject["legal_representative"] or "负责人",
                subject["lat_e6"],
                subject["lon_e6"],
                group,
            )
        )
    return plan
