"""`onevisit simulate`: N phones doing joint visits through the real HTTP API.

    report = await simulate(base_url="http://127.0.0.1:8000", phones=6, visits=3, seed=1)
    report = await simulate(transport=httpx.ASGITransport(app=app), ...)   # in-process

Setup (directory, task, visits, users, sessions) runs in this process on the same database
(the same ONEVISIT_* environment as the server); the phones then only speak HTTP. A caller may
run it first (`plan = await prepare(phones=…, visits=…, seed=…)`, e.g. to tell the demo's
writes from the phones') and pass `plan=plan` with the same phones, visits and seed.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from onevisit.auth.guards import CSRF_HEADER
from onevisit.auth.sessions import SESSION_COOKIE
from onevisit.evidence.store import now_ms
from onevisit.simulate.device import SimPhone, Tally
from onevisit.simulate.media import UploadStats
from onevisit.simulate.setup import Plan, prepare
from onevisit.simulate.visit import VisitRun, do_visit

__all__ = ["SimReport", "VisitCheck", "simulate"]

HOUR = 3_600_000


@dataclass
class VisitCheck:
    visit: str
    subject: str
    two_present: bool
    answered: str  # "answered/total" over all matters
    all_answered: bool
    signature_current: bool
    confirmed_by: int
    members: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return (self.two_present and self.all_answered and self.signature_current
                and self.confirmed_by == self.members)  # fmt: skip


@dataclass
class SimReport:
    seed: int
    phones: int
    visits: int
    tally: Tally
    media: UploadStats
    elapsed_s: float
    checks: list[VisitCheck] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    demo_loaded: bool = False

    @property
    def ok(self) -> bool:
        return not self.lost and not self.tally.unexpected and all(c.ok for c in self.checks)

    def text(self) -> str:
        t, m = self.tally, self.media
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(t.rejected.items())) or "none"
        refused = ", ".join(f"{k} {v}" for k, v in sorted((m.refused or {}).items())) or "none"
        lines = [
            f"simulate: {self.phones} phones, {self.visits} visits, seed {self.seed}"
            + (" (demo data loaded)" if self.demo_loaded else ""),
            f"events: made {t.made}, sent {t.sent} in {t.batches} batches, "
            f"accepted {t.accepted}, duplicate {t.duplicate} "
            f"({t.duplicate_resends} batches resent), lost {len(self.lost)}",
            f"rejected: {rejected} (scenario faults {t.faults}; re-signed after rewind "
            f"{t.resigned}); offline gaps {t.offline_gaps}",
            f"media: uploaded {m.uploaded}, already stored {m.already}, resumed {m.resumed}, "
            f"{m.chunks} chunks, {m.bytes / 1e6:.1f} MB; refused: {refused}"
            + (
                " (signature strokes: application/json is not an accepted media type)"
                if (m.refused or {}).get("media.mime_unsupported")
                else ""
            ),
            f"elapsed {self.elapsed_s:.2f} s, {t.sent / self.elapsed_s:.0f} events/s sent, "
            f"{t.accepted / self.elapsed_s:.0f} accepted/s",
        ]
        for c in self.checks:
            lines.append(
                f"visit {c.visit} {c.subject}: {'OK' if c.ok else 'FAILED'} — two_present "
                f"{c.two_present}, answered {c.answered}, signature current "
                f"{c.signature_current}, confirmed {c.confirmed_by}/{c.members}"
                + (f", problems: {', '.join(sorted(set(c.problems)))}" if c.problems else "")
            )
        lines += [f"UNEXPECTED: {u}" for u in self.tally.unexpected]
        lines += [f"LOST: {e}" for e in self.lost[:20]]
        lines.append("result: OK" if self.ok else "result: FAILED")
        return "\n".join(lines)


def _client(
    base_url: str, transport: httpx.AsyncBaseTransport | None, token: str, csrf: str
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, transport=transport, cookies={SESSION_COOKIE: token},
        headers={CSRF_HEADER: csrf}, timeout=60,
    )  # fmt: skip


async def _check(client: httpx.AsyncClient, plan: Plan, run: VisitRun) -> VisitCheck:
    view: dict[str, Any] = (await client.get(f"/api/visits/{run.visit.visit}")).json()
    state, current = view["state"], view["record_hash"]
    answered = sum(m["answered"] for m in state["matters"])
    total = sum(m["total"] for m in state["matters"])
    signature = state["signature"]
    actors = {plan.members[i].user_id for i in run.visit.members}
    confirmed = {
        c["actor"]
        for c in state["confirmations"]
        if c["record_hash"] == current and not c["stale"] and c["method"] == "device_pin"
    }
    return VisitCheck(
        visit=run.visit.visit,
        subject=run.visit.subject_name,
        two_present=state["two_present"],
        answered=f"{answered}/{total}",
        all_answered=answered == total > 0,
        signature_current=bool(signature)
        and signature["record_hash"] == current
        and not signature["stale"],
        confirmed_by=len(confirmed & actors),
        members=len(actors),
        problems=[p["code"] for p in state["problems"]],
    )


async def simulate(
    *,
    base_url: str = "http://localhost:8000",
    phones: int = 6,
    visits: int = 3,
    seed: int | None = None,
    offline_rate: float = 0.3,
    duplicate_rate: float = 0.1,
    fault_rate: float = 0.05,
    photos: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
    plan: Plan | None = None,
) -> SimReport:
    if plan is None:
        seed = random.randrange(2**31) if seed is None else seed
        plan = await prepare(phones=phones, visits=visits, seed=seed)
    elif seed is None or (len(plan.members), len(plan.visits)) != (phones, visits):
        raise ValueError("a prepared plan needs the seed, phones and visits it was made with")
    tally, media = Tally(), UploadStats()
    started = time.perf_counter()
    clients = [_client(base_url, transport, m.token, m.csrf) for m in plan.members]
    try:
        sims = [
            SimPhone(m, c, tally, rng=random.Random(f"{seed}:phone:{m.index}"),
                     offline_rate=offline_rate, duplicate_rate=duplicate_rate)
            for m, c in zip(plan.members, clients, strict=True)
        ]  # fmt: skip
        await asyncio.gather(*(s.register() for s in sims))
        day_end = now_ms() - 10 * 60_000
        runs = [
            VisitRun(plan, v, day_end - (visits - v.index) * 2 * HOUR,
                     asyncio.Barrier(len(v.members)), seed, photos, fault_rate, media, {})
            for v in plan.visits
        ]  # fmt: skip

        async def phone_day(sim: SimPhone) -> None:
            for run in runs:  # one global order: barriers can never wait in a cycle
                if sim.member.index in run.visit.members:
                    await do_visit(sim, run)

        await asyncio.gather(*(phone_day(s) for s in sims))
        elapsed = time.perf_counter() - started
        leader_client = {run.visit.visit: clients[run.visit.members[0]] for run in runs}
        checks = [await _check(leader_client[r.visit.visit], plan, r) for r in runs]
        for run in runs:
            if len(set(run.record_hashes.values()) | {run.signed_hash}) != 1:
                tally.unexpected.append(f"visit {run.visit.visit}: members saw other hashes")
        lost = [f"{s.member.inspector}: {i}" for s in sims for i in s.lost()]
    finally:
        for c in clients:
            await c.aclose()
    return SimReport(seed, phones, visits, tally, media, elapsed, checks, lost, plan.demo_loaded)
