"""`onevisit demo`: load the demo data set, idempotently (a second run changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from onevisit.auth.tables import User
from onevisit.auth.users import create_user
from onevisit.demo.dataset import DemoDataset, build_demo_dataset
from onevisit.directory.seed import load_directory

__all__ = ["DemoSummary", "load_demo"]

DEMO_ACTOR = "demo"


DEMO_SEED = 20261125


@dataclass
class DemoSummary:
    directory: dict[str, object]
    users_created: list[str] = field(default_factory=list)
    users_existing: int = 0
    visits_completed: int = 0

    def text(self) -> str:
        parts = ", ".join(f"{k}: {v}" for k, v in self.directory.items())
        return (
            f"demo data loaded ({parts}); users created: {len(self.users_created)}, "
            f"already present: {self.users_existing}; "
            f"completed visits simulated: {self.visits_completed}"
        )


async def load_demo(dataset: DemoDataset | None = None) -> DemoSummary:
    dataset = dataset or build_demo_dataset()
    summary = DemoSummary(directory=await load_directory(dataset, actor=DEMO_ACTOR))
    existing = {
        row["name"] for row in await User.select(User.name).where(User.created_by == DEMO_ACTOR)
    }
    for user in dataset.users:
        if user.name in existing:
            summary.users_existing += 1
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
    return summary


async def _completed_visits() -> int:
    """Three finished joint visits (check-ins, every item, photos, signature, confirmations),
    made by simulated phones through the real app in-process, so the demo shows evidence, the
    log and visit records from the start. Once only: later runs find them and add nothing."""
    import httpx

    from onevisit.app import create_app
    from onevisit.planning.tables import Task
    from onevisit.simulate.run import simulate
    from onevisit.simulate.setup import ACTOR

    if await Task.exists().where(Task.created_by == ACTOR):
        return 0
    app = create_app()
    async with app.lifespan():
        report = await simulate(
            phones=4,
            visits=3,
            seed=DEMO_SEED,
            transport=httpx.ASGITransport(app=app),
            offline_rate=0.3,
            duplicate_rate=0.1,
            fault_rate=0.0,
        )
    if not report.ok:
        raise RuntimeError("the demo's simulated visits failed:\n" + report.text())
    return len(report.checks)
