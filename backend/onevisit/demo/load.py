"""`onevisit demo`: load the demo data set, idempotently (a second run changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from onevisit.auth.roles import CLI_CALLER, Role
from onevisit.auth.tables import User
from onevisit.auth.users import create_user
from onevisit.demo.dataset import DemoDataset, build_demo_dataset
from onevisit.directory.seed import load_directory
from onevisit.field.team import close_visit
from onevisit.planning.tables import Visit, VisitMember
from onevisit.results.review import approve, intake_closed_visits, publish
from onevisit.results.tables import Result

__all__ = ["DEMO_TASK_CODE", "DemoSummary", "load_demo"]

DEMO_ACTOR = "demo"
DEMO_SEED = 20261125
# The demo's own joint task, recognised by this code (unique) and created_by == DEMO_ACTOR:
# never by who ran the phones, since `onevisit simulate` makes tasks of the same kind.
DEMO_TASK_CODE = "DEMO-JOINT-VISITS"
# Open visits for the demo's own leader and inspectors (enrol them with `onevisit demo
# --enrol`), so a new user can do a whole joint visit on a phone from `make run`.
DEMO_FIELD_TASK_CODE = "DEMO-FIELD-VISITS"
DEMO_FIELD_GROUP = (("scjg-i01", "scjg"), ("scjg-i02", "scjg"), ("wsjk-i01", "wsjk"))
# A joint task of three departments drawn the verifiable way (DRAW.md), with a swap: its
# record is public at /public/tasks/DEMO-DRAW-2026Q4/draw.json.
DEMO_DRAW_TASK_CODE = "DEMO-DRAW-2026Q4"
DEMO_DRAW_DEPARTMENTS = ("scjg", "wsjk", "yjgl")
DEMO_PARTY = "洛阳市纪委监委派驻纪检监察组"
DEMO_PLAN_CODE = "DEMO-PLAN"


@dataclass
class DemoSummary:
    directory: dict[str, object]
    users_created: list[str] = field(default_factory=list)
    users_existing: int = 0
    # demo users of an inspector who already has an account made by someone else (e.g. by
    # `onevisit simulate`): not created, since an inspector signs in with one account only
    users_skipped: list[str] = field(default_factory=list)
    visits_completed: int = 0
    visits_open: int = 0
    visits_drawn: int = 0

    def text(self) -> str:
        parts = ", ".join(f"{k}: {v}" for k, v in self.directory.items())
        skipped = (
            f" (not created, the inspector has an account: {', '.join(self.users_skipped)})"
            if self.users_skipped
            else ""
        )
        return (
            f"demo data loaded ({parts}); users created: {len(self.users_created)}, "
            f"already present: {self.users_existing}{skipped}; "
            f"completed visits simulated: {self.visits_completed}; "
            f"open visits for the demo group: {self.visits_open}; "
            f"visits from the demo draw: {self.visits_drawn}"
        )


async def load_demo(dataset: DemoDataset | None = None) -> DemoSummary:
    dataset = dataset or build_demo_dataset()
    summary = DemoSummary(directory=await load_directory(dataset, actor=DEMO_ACTOR))
    existing = {
        row["name"] for row in await User.select(User.name).where(User.created_by == DEMO_ACTOR)
    }
    with_account = {
        row["code"]
        for row in await User.select(User.inspector.code.as_alias("code")).where(
            User.inspector.is_not_null()
        )
    }
    for user in dataset.users:
        if user.name in existing:
            summary.users_existing += 1
            continue
        if user.inspector_code in with_account:
            summary.users_skipped.append(user.name)
            continue
        await create_user(
            name=user.name,
            role=user.role,
            department_code=user.department,
            inspector_code=user.inspector_code,
            created_by=DEMO_ACTOR,
        )
        summary.users_created.append(user.name)
    summary.visits_completed = await _completed_visits()
    summary.visits_open = await _open_visits(dataset)
    summary.visits_drawn = await _drawn_task(dataset)
    return summary


async def _open_visits(dataset: DemoDataset) -> int:
    """Two open joint visits of the demo leader (市场监管) with a colleague and an inspector of
    卫生健康, one lead matter of each department, at subjects with a registered location.
    Once only, like the completed ones."""
    from onevisit.planning.tables import Task
    from onevisit.planning.visits import create_task, create_visit

    if await Task.exists().where(Task.code == DEMO_FIELD_TASK_CODE):
        return 0
    departments = {dept for _, dept in DEMO_FIELD_GROUP}
    first = {}
    for m in dataset.matters:
        if m.department in departments and m.category == "key" and m.items:
            first.setdefault(m.department, m.code)
    task = await create_task(
        code=DEMO_FIELD_TASK_CODE, name="演示：食品经营场所联合检查",
        initiator=DEMO_FIELD_GROUP[0][1], matters=[first[d] for d in ("scjg", "wsjk")],
        created_by=DEMO_ACTOR,
    )  # fmt: skip
    located = [s for s in dataset.subjects if s.lat_e6 is not None and s.kind == "enterprise"][:2]
    for order, subject in enumerate(located):
        await create_visit(
            task_id=task, subject_id=subject.subject_id, members=DEMO_FIELD_GROUP,
            batch_order=order,
        )  # fmt: skip
    return len(located)


async def _drawn_task(dataset: DemoDataset) -> int:
    """A "1+X" task of 市场监管 (lead), 卫生健康 and 应急管理, drawn with a second committing
    party and a beacon, then one swap — through the same functions a coordinator's screens
    call. Once only (found by its code). The party's secret is derived from a fixed phrase:
    this is demo data, and anyone may recompute it."""
    import hashlib

    from onevisit.planning.cli import CLI_CALLER
    from onevisit.planning.draws import commit_draw, reveal, run_draw, set_beacon, swap
    from onevisit.planning.tables import Task
    from onevisit.planning.visits import create_task

    if await Task.exists().where(Task.code == DEMO_DRAW_TASK_CODE):
        return 0
    lead: dict[str, str] = {}
    for m in dataset.matters:
        if m.department in DEMO_DRAW_DEPARTMENTS and m.category == "key" and m.items:
            lead.setdefault(m.department, m.code)
    matters = [lead[d] for d in DEMO_DRAW_DEPARTMENTS]
    await _plan(matters)
    task_id = await create_task(
        code=DEMO_DRAW_TASK_CODE, name="演示：2026年第四季度食品经营与安全生产联合双随机抽查",
        initiator=DEMO_DRAW_DEPARTMENTS[0], matters=matters, created_by=DEMO_ACTOR,
    )  # fmt: skip
    await Task.update({Task.plan_code: DEMO_PLAN_CODE, Task.plan_line: 1}).where(Task.id == task_id)
    secret = hashlib.sha256("OneVisit 演示承诺方秘密值".encode()).digest()
    rules = {"A": {"count": 1}, "B": {"count": 2}, "C": {"count": 2}, "D": {"count": 1},
             "3y+": {"count": 1}}  # fmt: skip
    await commit_draw(
        caller=CLI_CALLER, task_code=DEMO_DRAW_TASK_CODE, strata=rules,
        parties=[{"name": DEMO_PARTY, "commit": hashlib.sha256(secret).hexdigest()}],
    )  # fmt: skip
    await set_beacon(caller=CLI_CALLER, task_code=DEMO_DRAW_TASK_CODE, beacon="演示信标 2026-12-01")
    await reveal(caller=CLI_CALLER, task_code=DEMO_DRAW_TASK_CODE, party=DEMO_PARTY,
                 secret=secret.hex())  # fmt: skip
    drawn = await run_draw(caller=CLI_CALLER, task_code=DEMO_DRAW_TASK_CODE)
    from onevisit.planning.draws import public_record

    first = (await public_record(DEMO_DRAW_TASK_CODE))["groups"][0]
    await swap(
        caller=CLI_CALLER, task_code=DEMO_DRAW_TASK_CODE, subject_id=first["subject_id"],
        out=first["members"][-1][0], reason="health", approver="演示：部门负责人",
    )  # fmt: skip
    return int(drawn["subjects"])


async def _plan(matters: list[str]) -> None:
    """This year's joint plan of the demo: published, then adjusted once with a reason, so
    /public/plans shows both versions. Its first line is the demo draw's task."""
    import datetime as dt

    from onevisit.planning.cli import CLI_CALLER
    from onevisit.planning.plans import adjust_plan, create_plan
    from onevisit.planning.tables import Plan

    if await Plan.exists().where(Plan.code == DEMO_PLAN_CODE):
        return
    year = dt.date.today().year

    def line(name: str, xs: list[str], ratio: str, start: str) -> dict[str, object]:
        return {"task_name": name, "lead": matters[0], "matters": xs, "ratio": ratio,
                "scope": {"kinds": ["enterprise", "individual"]},
                "schedule": {"start": f"{year}-{start}", "end": f"{year}-12-31"}}  # fmt: skip

    first = [line("食品经营与安全生产联合抽查", matters[1:2], "0.03", "10-01")]
    await create_plan(
        caller=CLI_CALLER, code=DEMO_PLAN_CODE, year=year, initiator=DEMO_DRAW_DEPARTMENTS[0],
        name=f"演示：洛阳市{year}年度部门联合双随机抽查计划", lines=first,
    )  # fmt: skip
    await adjust_plan(
        caller=CLI_CALLER, code=DEMO_PLAN_CODE,
        reason="第四季度调整：应急管理局加入，抽查比例提高至5%",
        lines=[line("食品经营与安全生产联合抽查", matters[1:], "0.05", "10-01")],
    )  # fmt: skip


async def _completed_visits() -> int:
    """Three finished joint visits (check-ins, every item, photos, signature, confirmations),
    made by simulated phones through the real app in-process, so the demo shows evidence, the
    log and visit records from the start. Once only: later runs find the demo's own task (by
    DEMO_TASK_CODE) and add nothing; other tasks, e.g. of `onevisit simulate`, do not count."""
    import httpx

    from onevisit.app import create_app
    from onevisit.evidence.store import now_ms
    from onevisit.planning.tables import Task
    from onevisit.simulate.run import simulate
    from onevisit.simulate.setup import prepare

    demo_task = (Task.code == DEMO_TASK_CODE) & (Task.created_by == DEMO_ACTOR)
    if await Task.exists().where(demo_task):
        return 0
    phones, visits = 4, 3
    plan = await prepare(phones=phones, visits=visits, seed=DEMO_SEED)
    # mark the task as the demo's before any phone sees it (its code is in the visit records)
    await Task.update({Task.code: DEMO_TASK_CODE, Task.created_by: DEMO_ACTOR}).where(
        Task.id == plan.task
    )
    report = None
    try:
        app = create_app()
        async with app.lifespan():
            report = await simulate(
                phones=phones,
                visits=visits,
                seed=DEMO_SEED,
                transport=httpx.ASGITransport(app=app),
                offline_rate=0.3,
                duplicate_rate=0.1,
                fault_rate=0.0,
                plan=plan,
            )
    finally:
        if report is None or not report.ok:  # unmark: the next run makes a complete set
            await Task.update({Task.code: f"DEMO-FAILED-{now_ms()}"}).where(Task.id == plan.task)
    if not report.ok:
        raise RuntimeError("the demo's simulated visits failed:\n" + report.text())
    await _close_and_publish(plan.task)
    return len(report.checks)


async def _close_and_publish(task_id: int) -> None:
    """Each completed visit closed by its leader, as on the phone; the results of the first
    reviewed and published by its departments, so the public site shows them; the others wait
    for review (检查结果与公示) with their 20-working-day clock."""
    visits = await Visit.select(Visit.id).where(Visit.task == task_id).order_by(Visit.batch_order)
    for v in visits:
        leader = (
            await VisitMember.select(VisitMember.inspector)
            .where(
                (VisitMember.visit == v["id"]) & (VisitMember.is_leader == True)  # noqa: E712
            )
            .first()
        )
        user = (
            await User.select(User.id, User.name)
            .where(User.inspector == leader["inspector"])
            .first()
        )
        leader_caller = replace(CLI_CALLER, user_id=str(user["id"]), name=user["name"],
                                role=Role.leader)  # fmt: skip
        await close_visit(visit_id=str(v["id"]), caller=leader_caller)
    await intake_closed_visits()
    if not visits:
        return
    desk = replace(CLI_CALLER, user_id=DEMO_ACTOR, name="演示公示")  # an admin, as the CLI
    for r in await Result.select(Result.id).where(Result.visit == visits[0]["id"]):
        await approve(caller=desk, result_id=r["id"])
        await publish(caller=desk, result_id=r["id"])
