"""A task's draw on the server, through the real API on both engines: commit → beacon →
reveal → run → swap, every step a server log entry, the public record recomputable offline
(`onevisit draw verify`), visits and groups created from it; and who may do what."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys

import httpx

from onevisit.auth.roles import Role
from onevisit.auth.users import create_user
from onevisit.directory.tables import Department, DepartmentPartner, Inspector
from onevisit.evidence.jcs import canonical
from onevisit.evidence.tables import Event
from onevisit.evidence.verify import verify_all
from onevisit.planning import draw as spec
from onevisit.planning.draws import LONG_UNINSPECTED, stratum_of
from onevisit.planning.tables import Draw, Task, Visit, VisitMember
from onevisit.planning.visits import create_task
from tests.directory.test_api import assert_error
from tests.fixtures import unique
from tests.sync.conftest import _matter

ALL_STRATA = {c: {"count": 1} for c in ("A", "B", "C", "D", LONG_UNINSPECTED)}


def test_stratum_is_the_credit_class_unless_long_uninspected():
    today = dt.date(2026, 12, 3)
    assert stratum_of("C", None, today) == "C"  # never inspected is not "3+ years"
    assert stratum_of("C", dt.date(2024, 1, 1), today) == "C"
    assert stratum_of("A", dt.date(2023, 12, 3), today) == "A"  # exactly three years
    assert stratum_of("A", dt.date(2023, 12, 2), today) == LONG_UNINSPECTED
    assert stratum_of("B", dt.date(2020, 2, 28), dt.date(2024, 2, 29)) == LONG_UNINSPECTED


async def _inspectors(department: str, n: int) -> list[str]:
    dep_id = (await Department.select(Department.id).where(Department.code == department))[0]["id"]
    codes = [unique("i") for _ in range(n)]
    if not codes:
        return codes
    await Inspector.insert(
        *[Inspector(code=c, name=f"检查员{c}", department=dep_id, certificate_no=c) for c in codes]
    )
    return codes


async def _scene(make_department, as_role, *, inspectors=(3, 2), partner: int = 0):
    """Two departments (initiator first) with matters, inspectors, a task, a few subjects,
    and a coordinator of the initiator."""
    deps = [await make_department(), await make_department()]
    ids = {
        r["code"]: r["id"]
        for r in await Department.select(Department.id, Department.code).where(
            Department.code.is_in(deps)
        )
    }
    pool = {d: await _inspectors(d, n) for d, n in zip(deps, inspectors, strict=True)}
    if partner:
        extra = await make_department()
        pool[extra] = await _inspectors(extra, partner)
        extra_id = (await Department.select(Department.id).where(Department.code == extra))[0]
        await DepartmentPartner.insert(
            DepartmentPartner(department=ids[deps[1]], partner=extra_id["id"], position=0)
        )
    matters = [await _matter(ids[d], 2) for d in deps]
    code = unique("T")
    await create_task(code=code, name="联合抽查任务", initiator=deps[0], matters=matters,
                      created_by="test")  # fmt: skip
    coordinator = await as_role(Role.coordinator, department=deps[0])
    for n in range(3):
        r = await coordinator.client.post("/api/subjects", json={
            "subject_id": unique("P-"), "name": f"抽查对象{n}", "kind": "product",
            "credit_class": "ABC"[n],
        })  # fmt: skip
        assert r.status_code == 201, r.text
    return deps, pool, code, coordinator


async def test_a_whole_draw_through_the_api_verifies_offline_and_creates_visits(
    make_department, as_role, client: httpx.AsyncClient, tmp_path
):
    deps, pool, task, coordinator = await _scene(make_department, as_role)
    c = coordinator.client
    notary_secret = bytes(range(32))
    notary = {"name": "公证处", "commit": hashlib.sha256(notary_secret).hexdigest()}
    r = await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA, "parties": [notary]})
    assert r.status_code == 201, r.text
    committed = r.json()
    assert [p["name"] for p in committed["parties"]] == ["server", "公证处"]
    assert committed["departments"][0]["id"] == deps[0] and committed["departments"][0]["need"] == 2
    assert committed["log"]["type"] == "server.draw_committed"
    # not yet: the notary has not revealed
    assert_error(await c.post(f"/api/tasks/{task}/draw/run", json={}), 409, "draw.unrevealed")
    wrong = {"party": "公证处", "secret": "00" * 32}
    r = await c.post(f"/api/tasks/{task}/draw/reveal", json=wrong)
    assert_error(r, 400, "draw.secret_mismatch")
    r = await c.post(f"/api/tasks/{task}/draw/beacon", json={"beacon": "福彩3D 2026330期 517"})
    assert r.status_code == 200, r.text
    r = await c.post(
        f"/api/tasks/{task}/draw/reveal", json={"party": "公证处", "secret": notary_secret.hex()}
    )
    assert r.status_code == 200, r.text
    r = await c.post(f"/api/tasks/{task}/draw/run", json={})
    assert r.status_code == 200, r.text
    ran = r.json()
    assert [e["type"] for e in ran["log"]] == ["server.draw_revealed", "server.draw_result"]
    assert_error(await c.post(f"/api/tasks/{task}/draw/run", json={}), 409, "draw.done")

    # the public record: fixed URL, no session; recomputable from the file alone
    r = await client.get(f"/public/tasks/{task}/draw.json")
    assert r.status_code == 200, r.text
    record = r.json()
    assert spec.verify(record) == []
    assert record["beacon"] == "福彩3D 2026330期 517"
    assert record["parties"][1]["secret"] == notary_secret.hex()
    assert (
        hashlib.sha256(bytes.fromhex(record["parties"][0]["secret"])).hexdigest()
        == (committed["parties"][0]["commit"])
    )
    assert len(record["subjects"]) == sum(
        spec.quota(rule, sum(1 for _, s in record["population"] if s == k))
        for k, rule in record["strata"].items()
    )
    assert (
        ran["record_hash"]
        == hashlib.sha256(
            json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    )
    path = tmp_path / "draw.json"
    path.write_text(r.text, encoding="utf-8")
    cli = [sys.executable, "-m", "onevisit.cli", "draw", "verify", str(path)]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("OK"), done.stdout + done.stderr

    # the coordinators' view names the drawn subjects and every member, and says who began
    status = (await c.get(f"/api/tasks/{task}/draw")).json()
    assert set(status["subject_names"]) == set(record["subjects"])
    members = {m[0] for g in record["groups"] for m in g["members"]}
    assert set(status["inspector_names"]) == members
    assert all(v["name"].startswith("检查员") for v in status["inspector_names"].values())
    assert status["started"] == []
    assert (await c.get(f"/api/tasks/{task}")).json()["may_draw"] is True

    # the list of published tasks, JSON and HTML
    r = await client.get("/public/tasks", headers={"Accept": "application/json"})
    listed = {t["id"]: t for t in r.json()["tasks"]}
    assert listed[task]["record_hash"] == ran["record_hash"]
    assert listed[task]["draw"] == f"/public/tasks/{task}/draw.json"
    page = await client.get("/public/tasks")
    assert page.headers["content-type"].startswith("text/html") and task in page.text

    # visits in batch order with the record's groups; leader from the initiating department
    task_id = (await Task.select(Task.id).where(Task.code == task))[0]["id"]
    visits = (
        await Visit.select(Visit.id, Visit.subject_id, Visit.batch_order)
        .where(Visit.task == task_id)
        .order_by(Visit.batch_order)
    )
    assert [v["subject_id"] for v in visits] == record["subjects"]
    for v, group in zip(visits, record["groups"], strict=True):
        members = (
            await VisitMember.select(
                VisitMember.inspector.code, VisitMember.served.code, VisitMember.is_leader
            )
            .where(VisitMember.visit == v["id"])
            .order_by(VisitMember.position)
        )
        assert [(m["inspector.code"], m["served.code"]) for m in members] == [
            (m[0], m[2]) for m in group["members"]
        ]
        assert [m["inspector.code"] for m in members if m["is_leader"]] == [group["leader"]]
        assert group["leader"] in pool[deps[0]]

    # each step is a server event in the log, and the whole log still verifies
    types = [
        e["event_type"]
        for e in await Event.select(Event.event_type).where(Event.device_id == "server")
        if e["event_type"].startswith("server.draw_")
    ]
    for kind in ("committed", "beacon", "revealed", "result"):
        assert f"server.draw_{kind}" in types
    assert (await verify_all()).ok


async def test_a_swap_is_computed_logged_and_republished(
    make_department, as_role, client: httpx.AsyncClient
):
    _, _, task, coordinator = await _scene(make_department, as_role, inspectors=(4, 3))
    c = coordinator.client
    assert (await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})).status_code == 201
    assert (await c.post(f"/api/tasks/{task}/draw/run", json={})).status_code == 200
    before = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    group = before["groups"][0]
    out = group["leader"]
    asked = {"subject_id": group["subject_id"], "out": out, "reason": "health"}
    r = await c.post(f"/api/tasks/{task}/draw/swaps", json=asked)
    assert r.status_code == 201, r.text
    done = r.json()["swap"]
    assert done["out"] == out and done["in"] not in {m[0] for m in group["members"]}
    assert done["approved_by"] == coordinator.user_id
    after = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    assert spec.verify(after) == []
    assert after["swaps"] == [done]
    assert after["groups"][0]["leader"] == done["in"]  # the leader's place passes on
    task_id = (await Task.select(Task.id).where(Task.code == task))[0]["id"]
    in_task = (Visit.task == task_id) & (Visit.subject_id == group["subject_id"])
    visit = (await Visit.select(Visit.id).where(in_task))[0]["id"]
    leaders = await VisitMember.select(VisitMember.inspector.code).where(
        (VisitMember.visit == visit) & (VisitMember.is_leader == True)  # noqa: E712
    )
    assert [m["inspector.code"] for m in leaders] == [done["in"]]
    bad = {"subject_id": group["subject_id"], "out": "nobody", "reason": "health"}
    assert_error(await c.post(f"/api/tasks/{task}/draw/swaps", json=bad), 400, "swap.invalid")
    bad = {"subject_id": group["subject_id"], "out": done["in"], "reason": "bored"}
    assert_error(await c.post(f"/api/tasks/{task}/draw/swaps", json=bad), 400, "swap.invalid")


async def test_a_department_short_of_inspectors_is_refused_at_commit_naming_it(
    make_department, as_role
):
    deps, _, task, coordinator = await _scene(make_department, as_role, inspectors=(2, 0))
    r = await coordinator.client.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})
    assert_error(r, 409, "draw.short")
    body = r.json()
    assert body["details"]["department_id"] == deps[1]
    assert deps[1] in body["message"]


async def test_a_partner_department_fills_in(make_department, as_role, client):
    deps, pool, task, coordinator = await _scene(
        make_department, as_role, inspectors=(2, 0), partner=2
    )
    c = coordinator.client
    assert (await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})).status_code == 201
    assert (await c.post(f"/api/tasks/{task}/draw/run", json={})).status_code == 200
    record = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    partner = next(d for d in pool if d not in deps)
    assert record["departments"][1]["partners"] == [partner]
    for g in record["groups"]:
        assert [m[1:] for m in g["members"]][-1] == [partner, deps[1]]


async def test_a_party_that_never_reveals_is_recorded_and_replaced_by_zeros(
    make_department, as_role, client
):
    _, _, task, coordinator = await _scene(make_department, as_role)
    c = coordinator.client
    party = {"name": "纪检监察", "commit": hashlib.sha256(b"x" * 32).hexdigest()}
    body = {"strata": ALL_STRATA, "parties": [party], "reveal_hours": 2}
    r = await c.post(f"/api/tasks/{task}/draw", json=body)
    assert r.status_code == 201
    deadline = dt.datetime.fromisoformat(r.json()["reveal_by"])
    assert dt.timedelta(hours=1.9) < deadline - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=2)
    status = (await c.get(f"/api/tasks/{task}/draw")).json()
    assert status["reveal_by"] == r.json()["reveal_by"]
    # before the deadline the party cannot be given up: the coordinator could otherwise
    # compute the give-up's result and choose between it and waiting
    r = await c.post(f"/api/tasks/{task}/draw/run", json={"give_up": ["纪检监察"]})
    assert_error(r, 409, "draw.reveal_pending")
    assert r.json()["details"]["parties"] == ["纪检监察"]
    task_id = (await Task.select(Task.id).where(Task.code == task))[0]["id"]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)  # two hours have gone by
    await Draw.update({Draw.reveal_by: past}).where(Draw.task == task_id)
    late = {"party": "纪检监察", "secret": (b"x" * 32).hex()}  # the right secret, too late
    assert_error(await c.post(f"/api/tasks/{task}/draw/reveal", json=late), 409, "draw.reveal_late")
    r = await c.post(f"/api/tasks/{task}/draw/run", json={"give_up": ["纪检监察"]})
    assert r.status_code == 200, r.text
    assert "server.draw_party_missing" in [e["type"] for e in r.json()["log"]]
    record = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    assert record["parties"][1] == {**party, "secret": "00" * 32, "revealed": False}
    assert spec.verify(record) == []


async def test_a_swap_never_brings_in_someone_who_has_left(
    make_department, as_role, client: httpx.AsyncClient
):
    """The rule picks `in` from the pool fixed at commitment; if that inspector has since
    been deactivated, a second swap ("post_change", same approver) takes them out again."""
    _, _, task, coordinator = await _scene(make_department, as_role, inspectors=(5, 3))
    c = coordinator.client
    assert (await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})).status_code == 201
    assert (await c.post(f"/api/tasks/{task}/draw/run", json={})).status_code == 200
    record = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    group = record["groups"][0]
    out = group["leader"]
    one = {"subject_id": group["subject_id"], "out": out, "reason": "health"}
    asked = {**record, "swaps": [{**one, "approved_by": coordinator.user_id}]}
    would_come = spec.recompute(asked)["swaps"][0]["in"]
    await Inspector.update({Inspector.active: False}).where(Inspector.code == would_come)
    r = await c.post(f"/api/tasks/{task}/draw/swaps", json=one)
    assert r.status_code == 201, r.text
    done = r.json()["swaps"]
    assert [(d["out"], d["reason"]) for d in done] == [(out, "health"), (would_come, "post_change")]
    assert done[1]["in"] != would_come and done[1]["approved_by"] == coordinator.user_id
    after = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    assert spec.verify(after) == [] and after["swaps"] == done
    members = {m[0] for m in after["groups"][0]["members"]}
    assert would_come not in members and out not in members
    assert after["groups"][0]["leader"] == done[1]["in"]
    task_id = (await Task.select(Task.id).where(Task.code == task))[0]["id"]
    in_task = (Visit.task == task_id) & (Visit.subject_id == group["subject_id"])
    visit = (await Visit.select(Visit.id).where(in_task))[0]["id"]
    stored = await VisitMember.select(VisitMember.inspector.code).where(VisitMember.visit == visit)
    assert {m["inspector.code"] for m in stored} == members
    kinds = [e["type"] for e in r.json()["logs"]]
    assert kinds == ["server.draw_swap", "server.draw_swap"]


async def test_bad_inputs_are_refused_and_store_nothing(make_department, as_role, client):
    _, _, task, coordinator = await _scene(make_department, as_role)
    c = coordinator.client
    cases = [
        ({"strata": {"A": {"ratio": "0.5"}}}, "draw.invalid"),  # strata without a rule
        ({"strata": {**ALL_STRATA, "A": {"ratio": "1.5"}}}, "draw.invalid"),
        ({"strata": {**ALL_STRATA, "A": {"ratio": "0.1", "count": 2}}}, "draw.invalid"),
        ({"strata": {**ALL_STRATA, "A": {"ratio": 0.1}}}, "request.invalid"),
        ({"strata": ALL_STRATA, "parties": [{"name": "x", "commit": "zz"}]}, "request.invalid"),
        ({"strata": ALL_STRATA, "needs": {"nope": 1}}, "draw.invalid"),
    ]
    for body, code in cases:
        r = await c.post(f"/api/tasks/{task}/draw", json=body)
        assert r.status_code in (400, 409, 422), (body, r.text)
        assert r.json()["code"] == code, (body, r.text)
    assert (await c.get(f"/api/tasks/{task}/draw")).json()["status"] == "none"
    assert_error(await client.get(f"/public/tasks/{task}/draw.json"), 404, "draw.not_published")
    assert_error(await client.get("/public/tasks/nope/draw.json"), 404, "task.unknown")


async def test_only_the_initiating_departments_coordinators_and_admins_draw(
    make_department, as_role
):
    deps, _, task, _ = await _scene(make_department, as_role)
    other = await as_role(Role.coordinator, department=deps[1])  # a participant, not initiator
    body = {"strata": ALL_STRATA}
    assert_error(
        await other.client.post(f"/api/tasks/{task}/draw", json=body), 403, "auth.forbidden"
    )
    assert_error(await other.client.get(f"/api/tasks/{task}/draw"), 403, "auth.forbidden")
    assert (await other.client.get(f"/api/tasks/{task}")).json()["may_draw"] is False
    for role in (Role.inspector, Role.leader):
        someone = await as_role(role, department=deps[0])
        r = await someone.client.post(f"/api/tasks/{task}/draw", json=body)
        assert r.status_code == 403, r.text
    admin = await as_role(Role.admin)
    assert (await admin.client.post(f"/api/tasks/{task}/draw", json=body)).status_code == 201


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`onevisit draw …` as an operator runs it, on this run's database."""
    return subprocess.run(
        [sys.executable, "-m", "onevisit.cli", "draw", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip


async def test_the_whole_draw_from_the_command_line(make_department, as_role, client):
    deps, _, task, _ = await _scene(make_department, as_role, inspectors=(4, 2))
    secret = bytes(range(1, 33))
    rules = [f"--rule={k}={'0.5' if k in 'AB' else '1'}" for k in ALL_STRATA]
    party = f"--party=公证处={hashlib.sha256(secret).hexdigest()}"
    done = _cli("commit", task, *rules, party, f"--need={deps[1]}=1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["parties"][1]["name"] == "公证处"
    assert _cli("beacon", task, "drand 123456").returncode == 0
    refused = _cli("run", task)
    assert refused.returncode == 2 and "draw.unrevealed" in refused.stderr
    assert _cli("reveal", task, "公证处", secret.hex()).returncode == 0
    ran = _cli("run", task)
    assert ran.returncode == 0, ran.stderr
    record = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    group = record["groups"][0]
    out = group["members"][1][0]
    swapped = _cli("swap", task, group["subject_id"], out, "work_conflict", "--approver=王科长")
    assert swapped.returncode == 0, swapped.stderr
    assert json.loads(swapped.stdout)["swap"]["approved_by"] == "王科长"
    shown = json.loads(_cli("show", task).stdout)
    assert shown["status"] == "drawn" and shown["swaps"][0]["out"] == out
    published = (await client.get(f"/public/tasks/{task}/draw.json")).text
    ok = _cli("verify", "-", stdin=published)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stderr
    tampered = json.loads(published)
    tampered["swaps"][0]["in"] = out
    bad = _cli("verify", "-", stdin=json.dumps(tampered))
    assert bad.returncode == 1 and "swaps" in bad.stderr
    assert _cli("verify", "-", stdin="not json").returncode == 2


async def test_an_inspectors_own_declared_conflict_is_honoured(
    make_department, as_role, sign_in, client
):
    deps, pool, task, coordinator = await _scene(make_department, as_role, inspectors=(3, 2))
    code = pool[deps[0]][0]
    user = await create_user(
        name=f"检查员{code}", role="inspector", department_code=deps[0], inspector_code=code,
        created_by="test",
    )  # fmt: skip
    me = await sign_in(user.id)
    r = await coordinator.client.post("/api/subjects", json={
        "subject_id": unique("P-"), "name": "亲属经营的门店", "kind": "product",
    })  # fmt: skip
    subject = r.json()["subject_id"]
    r = await me.post("/api/me/conflicts", json={"subject_id": subject, "reason": "近亲属经营"})
    assert r.status_code == 201, r.text
    c = coordinator.client
    assert (await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})).status_code == 201
    assert (await c.post(f"/api/tasks/{task}/draw/run", json={})).status_code == 200
    record = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    assert [code, subject] in record["conflicts"]
    for g in record["groups"]:
        if g["subject_id"] == subject:
            assert code not in [m[0] for m in g["members"]]
    # someone without an inspector record cannot declare for anyone
    r = await coordinator.client.post(
        "/api/me/conflicts", json={"subject_id": subject, "reason": "x"}
    )
    assert r.status_code == 403


async def test_a_group_whose_visit_has_begun_is_no_longer_swapped(make_department, as_role, client):
    from onevisit.db import write_transaction
    from onevisit.evidence.log import LogAppender, sign_checkpoint
    from onevisit.evidence.store import now_ms, server_envelope, store_events

    _, _, task, coordinator = await _scene(make_department, as_role, inspectors=(4, 3))
    c = coordinator.client
    assert (await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})).status_code == 201
    assert (await c.post(f"/api/tasks/{task}/draw/run", json={})).status_code == 200
    group = (await client.get(f"/public/tasks/{task}/draw.json")).json()["groups"][0]
    task_id = (await Task.select(Task.id).where(Task.code == task))[0]["id"]
    visit = await Visit.select(Visit.id).where(
        (Visit.task == task_id) & (Visit.subject_id == group["subject_id"])
    )
    async with write_transaction():  # the visit's first entry in the log
        appender = await LogAppender.open()
        event, sig = await server_envelope(
            event_type="test_marker", body={"n": 1}, visit=str(visit[0]["id"])
        )
        await store_events([(event, sig)], appender, received_ms=now_ms())
        await sign_checkpoint(appender)
    assert group["subject_id"] in (await c.get(f"/api/tasks/{task}/draw")).json()["started"]
    asked = {"subject_id": group["subject_id"], "out": group["leader"], "reason": "health"}
    r = await c.post(f"/api/tasks/{task}/draw/swaps", json=asked)
    assert_error(r, 409, "swap.visit_started")
    record = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    assert record["swaps"] == [] and record["groups"][0] == group


async def test_a_run_that_fails_is_final_and_logged(make_department, as_role, client):
    """Cap 1 with the initiator needing both of its two inspectors: the second drawn subject
    cannot get a group. The failure is logged with the server's reveal and the draw is over —
    no later beacon, reveal or run can try another seed."""
    _, _, task, coordinator = await _scene(make_department, as_role, inspectors=(2, 1))
    c = coordinator.client
    rules = {k: {"ratio": "1"} for k in ALL_STRATA}
    r = await c.post(f"/api/tasks/{task}/draw", json={"strata": rules, "cap": 1})
    assert r.status_code == 201, r.text
    assert_error(await c.post(f"/api/tasks/{task}/draw/run", json={}), 409, "draw.short")
    status = (await c.get(f"/api/tasks/{task}/draw")).json()
    assert status["status"] == "failed"
    for path, body in (("run", {}), ("beacon", {"beacon": "再来一次"})):
        assert_error(await c.post(f"/api/tasks/{task}/draw/{path}", json=body), 409, "draw.done")
    assert_error(await client.get(f"/public/tasks/{task}/draw.json"), 404, "draw.not_published")
    kinds = {e["event_type"] for e in await Event.select(Event.event_type)}
    assert {"server.draw_failed", "server.draw_revealed"} <= kinds


async def test_the_draw_cannot_be_steered(make_department, as_role, sign_in):
    deps, pool, task, coordinator = await _scene(make_department, as_role, inspectors=(2, 1))
    c = coordinator.client
    # a declared conflict that would leave a department short for one subject is refused at
    # commit (a run failing only when that subject is drawn would keep it from being drawn)
    code = pool[deps[1]][0]
    user = await create_user(name=f"检查员{code}", role="inspector", department_code=deps[1],
                             inspector_code=code, created_by="test")  # fmt: skip
    me = await sign_in(user.id)
    r = await c.post("/api/subjects", json={"subject_id": unique("P-"), "name": "x",
                                            "kind": "product"})  # fmt: skip
    subject = r.json()["subject_id"]
    assert (
        await me.post("/api/me/conflicts", json={"subject_id": subject, "reason": "亲属"})
    ).status_code == 201
    r = await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})
    assert_error(r, 409, "draw.short")
    assert r.json()["details"] == {"department_id": deps[1], "subject_id": subject, "missing": 1}


async def test_commitments_and_beacons_that_could_be_gamed_are_refused(make_department, as_role):
    _, _, task, coordinator = await _scene(make_department, as_role)
    c = coordinator.client
    commit = hashlib.sha256(b"s" * 32).hexdigest()
    for parties in (
        [{"name": "公证处", "commit": commit}, {"name": " 公证处", "commit": commit}],
        [{"name": "server ", "commit": commit}],
    ):
        r = await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA, "parties": parties})
        assert_error(r, 400, "draw.invalid")
    for body in (
        {"strata": {**ALL_STRATA, "高": {"count": 1}}},  # a stratum no subject is in
        {"strata": ALL_STRATA, "needs": {"x": 0}},
    ):
        r = await c.post(f"/api/tasks/{task}/draw", json=body)
        assert r.status_code == 400, r.text
    secret = b"s" * 32
    notary = [{"name": "公证处", "commit": commit}]
    r = await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA, "parties": notary})
    assert r.status_code == 201, r.text
    r = await c.post(f"/api/tasks/{task}/draw/beacon", json={"beacon": "e\u0301"})  # not NFC
    assert_error(r, 400, "draw.invalid")
    r = await c.post(
        f"/api/tasks/{task}/draw/reveal", json={"party": "公证处", "secret": secret.hex()}
    )
    assert r.status_code == 200, r.text
    # once a secret is out, a beacon could be chosen to suit: refused
    r = await c.post(f"/api/tasks/{task}/draw/beacon", json={"beacon": "drand 99"})
    assert_error(r, 400, "draw.invalid")


async def test_a_drawn_task_has_a_public_page_and_an_undrawn_one_none(
    make_department, as_role, client
):
    deps, _, task, coordinator = await _scene(make_department, as_role)
    c = coordinator.client
    json_accept = {"Accept": "application/json"}
    assert (await c.post(f"/api/tasks/{task}/draw", json={"strata": ALL_STRATA})).status_code == 201
    r = await client.get(f"/public/tasks/{task}", headers=json_accept)
    assert_error(r, 404, "draw.not_published")  # committed is not drawn
    assert (await c.post(f"/api/tasks/{task}/draw/run", json={})).status_code == 200
    page = (await client.get(f"/public/tasks/{task}", headers=json_accept)).json()
    record = (await client.get(f"/public/tasks/{task}/draw.json")).json()
    assert page["id"] == task and page["initiator"] == deps[0]
    assert [m["department"] for m in page["matters"]] == deps  # lead matter first
    draw = page["draw"]
    assert draw["record_url"] == f"/public/tasks/{task}/draw.json"
    assert (draw["seed"], draw["snapshot_hash"]) == (record["seed"], record["snapshot_hash"])
    assert draw["drawn"] == len(record["subjects"])
    assert draw["population"] == len(record["population"])
    assert draw["record_hash"] == hashlib.sha256(canonical(record)).hexdigest()
    html = await client.get(f"/public/tasks/{task}")
    assert html.status_code == 200 and draw["record_hash"] in html.text
    assert "/publicdraw.js" in html.text  # the in-browser check (tests/browser)
    listing = await client.get("/public/tasks")
    assert f"href='/public/tasks/{task}'" in listing.text
    assert_error(await client.get("/public/tasks/NOPE-0", headers=json_accept), 404, "task.unknown")
