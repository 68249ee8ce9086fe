"""A task's draw on the server: commit → (beacon) → reveal → draw → swaps, each step a server
log entry (EVIDENCE.md §4), the published record recomputable by anyone (DRAW.md).

- **Commit** fixes every input: the eligible population from the directory as it stands (its
  revision number is kept), the strata rules, the departments with their partners and needs,
  the active inspector pool, declared conflicts, the cap, and each party's commitment. The
  server's own secret is drawn here (CSPRNG) and only its hash is logged.
- **Beacon** (optional): a public string entered after the commitment, before the draw.
- **Reveal**: each other party brings its secret; it must hash to its commitment.
- **Draw**: the server reveals its secret; parties that did not reveal are recorded as such
  and stand in with 32 zero bytes; the record is computed by planning/draw.py, logged by its
  hash, published, and the visits with their joint groups are created in batch order.
- **Swap**: recomputed by the spec's rule (the caller names who goes and why, never who comes).

Domain logic only; planning/api.py is the HTTP face, cli.py the command line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import anyio

from onevisit.auth.roles import Caller
from onevisit.db import read_transaction, write_transaction
from onevisit.directory.tables import (
    Department,
    DepartmentPartner,
    DirectoryRevision,
    Inspector,
    InspectorConflict,
    Subject,
)
from onevisit.errors import AppError
from onevisit.evidence.jcs import canonical
from onevisit.evidence.store import append_server_entry
from onevisit.evidence.tables import Event
from onevisit.planning import draw as spec
from onevisit.planning.tables import Draw, DrawSwap, Task, TaskMatter, Visit, VisitMember
from onevisit.planning.tasks import may_draw, names_nothing
from onevisit.results.credit import latest_inspections, linked, risk_levels
from onevisit.results.review import intake_closed_visits
from onevisit.results.tables import Result

__all__ = [
    "DEFAULT_REVEAL_HOURS",
    "LONG_UNINSPECTED",
    "MAX_REVEAL_HOURS",
    "commit_draw",
    "draw_status",
    "eligible",
    "public_record",
    "public_task",
    "public_tasks",
    "reveal",
    "run_draw",
    "set_beacon",
    "stratum_of",
    "swap",
]

COMMITTED, DRAWN, FAILED = "committed", "drawn", "failed"
LONG_UNINSPECTED = "3y+"  # the "not inspected for 3+ years" stratum (DOMAIN.md step 3)
STRATA = ("A", "B", "C", "D", LONG_UNINSPECTED)
MAX_PARTIES = 8
DEFAULT_REVEAL_HOURS, MAX_REVEAL_HOURS = 48, 720  # other parties' time to reveal
MAX_NEED = 20
MAX_LOG_BODY = 60_000  # bytes of a log entry's body; envelopes stay under EVIDENCE.md's 64 KiB
SERVER_PARTY = "server"


def stratum_of(credit_class: str, last_inspected: dt.date | None, today: dt.date) -> str:
    """A subject's stratum: its credit risk class A–D, unless it was last inspected more than
    three years ago — then the boosted stratum. Never inspected is not "3+ years" (a business
    registered last month has never been inspected either)."""
    if last_inspected is not None:
        try:
            limit = today.replace(year=today.year - 3)
        except ValueError:  # 29 February
            limit = today.replace(year=today.year - 3, day=28)
        if last_inspected < limit:
            return LONG_UNINSPECTED
    return credit_class


def eligible(
    credit_class: str, last_inspected: dt.date | None, today: dt.date, has_key_matter: bool
) -> bool:
    """The exclusion rules (DOMAIN.md step 3): a subject inspected this year is not drawn
    again — low-risk (A) ones never (at most once a year), others unless the task checks a
    key matter. (The directory keeps one last-inspected date, not one per department.)"""
    if last_inspected is None or last_inspected.year != today.year:
        return True
    return has_key_matter and credit_class != "A"


async def _off_loop(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record computed in a worker thread (and, for large draws, worker processes). A
    worker process that died (e.g. killed for memory) is an accident of this machine, not of
    the draw: the same inputs are computed once more on a fresh pool — the result is a pure
    function of them, so a second try can never give a different draw."""
    try:
        return await anyio.to_thread.run_sync(spec.recompute, record)
    except spec.DrawWorkerError:
        return await anyio.to_thread.run_sync(spec.recompute, record)


def _nfc(text: str, what: str) -> None:
    """Log entries are NFC (EVIDENCE.md §1): a text that would change there is refused, so
    what is hashed into the seed is what the log shows."""
    if not unicodedata.is_normalized("NFC", text):
        raise AppError("draw.invalid", f"{what} is not in Unicode NFC form")


def _hash(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def _may_run(caller: Caller, initiator: str) -> None:
    """Coordinators of the initiating department (and admins) run its tasks' draws."""
    if not may_draw(caller, initiator):
        raise AppError("auth.forbidden", "only the initiating department's coordinators draw")


async def _task(code: str) -> dict[str, Any]:
    names_nothing(code, "task.unknown")
    rows = (
        await Task.select(
            Task.id, Task.code, Task.name, Task.initiator.code, Task.kind, Task.trigger
        )
        .where(Task.code == code)
        .output(load_json=True)
    )
    if not rows:
        raise AppError("task.unknown", code)
    row = rows[0]
    return {
        "id": row["id"],
        "code": row["code"],
        "name": row["name"],
        "initiator": row["initiator.code"],
        "kind": row["kind"],
        "trigger": row["trigger"],
    }


async def _draw_row(task_id: int) -> dict[str, Any] | None:
    rows = await Draw.select().where(Draw.task == task_id).output(load_json=True)
    return rows[0] if rows else None


async def _log(event_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """A server log entry (inside the caller's write transaction), checkpoint signed."""
    if len(canonical(body)) > MAX_LOG_BODY:
        raise AppError("draw.invalid", "too much to log in one entry (strata, parties, scope)")
    return await append_server_entry(event_type, body)


# --- commit ---------------------------------------------------------------------------------


async def _departments(task: dict[str, Any], needs: Mapping[str, int]) -> list[dict[str, Any]]:
    """Initiator first, then the other departments whose matters the task holds (in the
    task's matter order), each with its partners in order."""
    rows = (
        await TaskMatter.select(TaskMatter.matter.department.code)
        .where(TaskMatter.task == task["id"])
        .order_by(TaskMatter.position)
    )
    order = list(dict.fromkeys([task["initiator"], *(r["matter.department.code"] for r in rows)]))
    for code, need in needs.items():
        if isinstance(need, bool) or not isinstance(need, int) or not 1 <= need <= MAX_NEED:
            # 0 would leave a department's matters unserved (or a group without a leader)
            raise AppError("draw.invalid", f"need of {code} is 1-{MAX_NEED}")
    unknown = sorted(set(needs) - set(order))
    if unknown:
        raise AppError("draw.invalid", f"{unknown[0]} takes no part in this task")
    partner_rows = await DepartmentPartner.select(
        DepartmentPartner.department.code, DepartmentPartner.partner.code
    ).order_by(DepartmentPartner.position)
    partners: dict[str, list[str]] = {}
    for r in partner_rows:
        partners.setdefault(r["department.code"], []).append(r["partner.code"])
    return [
        {
            "id": code,
            "need": needs.get(code, 2 if code == task["initiator"] else 1),
            "partners": [p for p in partners.get(code, []) if p != code],
        }
        for code in order
    ]


def _trigger_summary(trigger: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a log entry says of a trigger (a log entry stays small: subjects by hash)."""
    if trigger is None:
        return None
    out = {"kind": trigger["kind"], "reference": trigger["reference"]}
    if "subjects" in trigger:
        out["subjects"] = len(trigger["subjects"])
        out["subjects_hash"] = _hash(sorted(trigger["subjects"]))
    if "scope" in trigger:
        out["scope"] = trigger["scope"]
    return out


def in_scope(row: Mapping[str, Any], scope: Mapping[str, Any]) -> bool:
    """A directional population (triggered tasks): every given filter holds — kind among
    `kinds`, region and industry codes starting with `region` / `industry`, a tag in `tags`."""
    if "kinds" in scope and row["kind"] not in scope["kinds"]:
        return False
    if "region" in scope and not row["region_code"].startswith(scope["region"]):
        return False
    if "industry" in scope and not row["industry_code"].startswith(scope["industry"]):
        return False
    return "tags" not in scope or bool(set(scope["tags"]) & set(row["tags"] or []))


class Population(NamedTuple):
    rows: list[list[str]]  # eligible [subject_id, stratum], sorted
    revision: int  # the directory revision it is from
    excluded: int  # subjects left out by the exclusion rules
    risk_raised: int  # subjects whose class the results or the directory's lists raised


async def _population(
    today: dt.date,
    has_key_matter: bool,
    trigger: Mapping[str, Any] | None = None,
    kinds: Sequence[str] = (),
) -> Population:
    """The eligible population of a draw and how it was formed.
    Only subjects of the kinds the lead matter applies to (when it names any) are drawable:
    a food-business check does not visit a product. A triggered task draws among the
    subjects its trigger names, or its directional scope, and the once-a-year exclusions do
    not apply to it (DOMAIN.md step 3)."""
    query = Subject.select(
        Subject.subject_id, Subject.credit_class, Subject.last_inspected, Subject.kind,
        Subject.region_code, Subject.industry_code, Subject.tags, Subject.abnormal,
        Subject.serious_violation,
    ).output(load_json=True)  # fmt: skip
    if trigger is not None and "subjects" in trigger:
        query = query.where(Subject.subject_id.is_in(trigger["subjects"]))
    rows = await query
    if kinds:
        rows = [r for r in rows if r["kind"] in kinds]
    if trigger is not None:
        if "subjects" not in trigger and "scope" not in trigger:
            raise AppError(
                "draw.invalid", "this triggered task names no subjects or scope: assign directly"
            )
        scope = trigger.get("scope", {})
        rows = [r for r in rows if in_scope(r, scope)]
    revision = (
        await DirectoryRevision.select(DirectoryRevision.id)
        .order_by(DirectoryRevision.id, ascending=False)
        .limit(1)
    )
    # credit linkage (002:24): published problems and the directory's lists raise the class,
    # inspections here count as inspections (results/credit.py)
    levels, inspections = await risk_levels(today), await latest_inspections()
    subjects = [(r["subject_id"], *linked(r, levels, inspections)) for r in rows]
    population = sorted(
        [sid, stratum_of(risk, last, today)]
        for sid, risk, last in subjects
        if trigger is not None or eligible(risk, last, today, has_key_matter)
    )
    raised = sum(1 for (_, risk, _), r in zip(subjects, rows, strict=True)
                 if risk != r["credit_class"])  # fmt: skip
    return Population(
        population, revision[0]["id"] if revision else 0, len(rows) - len(population), raised
    )


async def _pool(
    departments: Sequence[Mapping[str, Any]],
) -> tuple[list[list[str]], list[list[str]]]:
    codes = sorted({d["id"] for d in departments} | {p for d in departments for p in d["partners"]})
    rows = await Inspector.select(Inspector.code, Inspector.department.code).where(
        (Inspector.active == True) & Inspector.department.code.is_in(codes)  # noqa: E712
    )
    inspectors = sorted([r["code"], r["department.code"]] for r in rows)
    pool = [i for i, _ in inspectors] or [""]
    declared = await InspectorConflict.select(
        InspectorConflict.inspector.code, InspectorConflict.subject_id
    ).where(InspectorConflict.inspector.code.is_in(pool))
    conflicts = sorted({(r["inspector.code"], r["subject_id"]) for r in declared})
    return inspectors, [list(c) for c in conflicts]


async def commit_draw(
    *,
    caller: Caller,
    task_code: str,
    strata: Mapping[str, Mapping[str, Any]],
    needs: Mapping[str, int] | None = None,
    cap: int | None = None,
    parties: Sequence[Mapping[str, str]] = (),
    today: dt.date | None = None,
    reveal_hours: int | None = None,
) -> dict[str, Any]:
    """Fix the draw's inputs and log the commitments. `parties`: other committing parties,
    each {name, commit} (hex SHA-256 of its secret), in commitment order after the server;
    they reveal within `reveal_hours` (logged with the commitments), after which the draw
    may run without them and no later secret is taken."""
    if reveal_hours is None:
        reveal_hours = DEFAULT_REVEAL_HOURS
    await intake_closed_visits()  # every closed visit's results count for the credit linkage
    if (
        isinstance(reveal_hours, bool)
        or not isinstance(reveal_hours, int)
        or not (1 <= reveal_hours <= MAX_REVEAL_HOURS)
    ):
        raise AppError("draw.invalid", f"reveal_hours is 1-{MAX_REVEAL_HOURS}")
    async with write_transaction():
        task = await _task(task_code)
        _may_run(caller, task["initiator"])
        if await _draw_row(task["id"]):
            raise AppError("draw.exists", task_code)
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise AppError("draw.invalid", "cap is a positive integer or none")
        if await Visit.exists().where(Visit.task == task["id"]):
            raise AppError("draw.invalid", "this task already has visits (assigned directly)")
        departments = await _departments(task, needs or {})
        caps = await _general_caps(task["id"])
        kinds = await _lead_kinds(task["id"])
        population, revision, excluded, raised = await _population(
            today or dt.date.today(), has_key_matter=caps is None, trigger=task["trigger"],
            kinds=kinds,
        )  # fmt: skip
        if task["trigger"] is not None:
            caps = None  # a triggered task draws among the subjects concerned, not a sample
        inspectors, conflicts = await _pool(departments)
        secret = secrets.token_bytes(32)
        committed = [{"name": SERVER_PARTY, "commit": hashlib.sha256(secret).hexdigest()}]
        if len(parties) > MAX_PARTIES:
            raise AppError("draw.invalid", f"at most {MAX_PARTIES} other committing parties")
        for party in parties:
            name, commit = party.get("name"), party.get("commit")
            name = name.strip() if isinstance(name, str) else ""
            if not name or len(name) > 64 or name in {p["name"] for p in committed}:
                raise AppError("draw.invalid", "every party has its own non-empty name")
            _nfc(name, "a party's name")
            if not isinstance(commit, str) or len(commit) != 64 or commit.strip("0123456789abcdef"):
                raise AppError("draw.invalid", f"{name}: commit is 64 lowercase hex characters")
            committed.append({"name": name, "commit": commit})
        unknown_strata = sorted(set(strata) - set(STRATA))
        if unknown_strata:
            raise AppError("draw.invalid", f"strata are {', '.join(STRATA)}",
                           strata=unknown_strata[:10])  # fmt: skip
        if not population:
            raise AppError("draw.invalid", "no subject of the directory is eligible for this task")
        for rule in strata.values():
            spec.quota(rule, 0)  # refuse a malformed rule now, not at the draw
        missing = sorted({s for _, s in population} - set(strata))
        if missing:
            raise AppError(
                "draw.invalid", f"no ratio or count for stratum {missing[0]}", strata=missing
            )
        _enough_inspectors(departments, inspectors)
        _groups_possible(task_code, population, departments, inspectors, conflicts)
        _within_caps(population, strata, caps or {})
        reveal_by = _now() + dt.timedelta(hours=reveal_hours) if parties else None
        inputs = {
            "v": spec.FORMAT_VERSION,
            "task_id": task_code,
            "population": population,
            "snapshot_hash": spec.snapshot_hash(population),
            "strata": {k: dict(v) for k, v in sorted(strata.items())},
            "parties": committed,
            "departments": departments,
            "inspectors": inspectors,
            "conflicts": conflicts,
            "cap": cap,
        }
        logged = await _log(
            "draw_committed",
            {
                "task": task_code,
                "snapshot_hash": inputs["snapshot_hash"],
                "population": len(population),
                "excluded": excluded,
                "risk_raised": raised,
                "subject_kinds": kinds,
                "directory_revision": revision,
                "trigger": _trigger_summary(task["trigger"]),
                "strata": inputs["strata"],
                "departments": departments,
                "inspectors_hash": _hash(inspectors),
                "conflicts_hash": _hash(conflicts),
                "cap": cap,
                "parties": committed,
                "reveal_by": reveal_by and reveal_by.isoformat(timespec="seconds"),
            },
        )
        await Draw.insert(
            Draw(
                task=task["id"],
                status=COMMITTED,
                inputs=inputs,
                server_secret=secret.hex(),
                reveals={},
                directory_revision=revision,
                created_by=caller.user_id,
                reveal_by=reveal_by,
            )
        )
    return {
        "task": task_code,
        "status": COMMITTED,
        "log": logged,
        "excluded": excluded,
        "risk_raised": raised,
        "reveal_by": reveal_by and reveal_by.isoformat(timespec="seconds"),
        **_summary(inputs),
    }


async def _lead_kinds(task_id: int) -> list[str]:
    """The subject kinds the task's lead matter applies to (empty: any)."""
    rows = await (
        TaskMatter.select(TaskMatter.matter.subject_kinds)
        .where((TaskMatter.task == task_id) & (TaskMatter.lead == True))  # noqa: E712
        .output(load_json=True)
    )
    return sorted(rows[0]["matter.subject_kinds"] or []) if rows else []


async def _general_caps(task_id: int) -> dict[str, Fraction] | None:
    """Ratio caps of the task's general matters (matter code → cap); None when the task checks
    a key matter (a key matter has no cap, and keeps its subjects drawable this year)."""
    rows = await TaskMatter.select(
        TaskMatter.matter.code, TaskMatter.matter.category, TaskMatter.matter.ratio_cap
    ).where(TaskMatter.task == task_id)
    if any(r["matter.category"] == "key" for r in rows):
        return None
    return {r["matter.code"]: Fraction(r["matter.ratio_cap"]) for r in rows
            if r["matter.ratio_cap"]}  # fmt: skip


def _within_caps(
    population: Sequence[Sequence[str]],
    strata: Mapping[str, Mapping[str, Any]],
    caps: Mapping[str, Fraction],
) -> None:
    """General matters cap the share of the population drawn (000:二(二), 002:9)."""
    if not caps or not population:
        return
    sizes: dict[str, int] = {}
    for _, stratum in population:
        sizes[stratum] = sizes.get(stratum, 0) + 1
    drawn = sum(spec.quota(strata[k], n) for k, n in sizes.items())
    share = Fraction(drawn, len(population))
    matter, cap = min(caps.items(), key=lambda kv: kv[1])
    if share > cap:
        raise AppError(
            "draw.ratio_cap",
            f"{matter}: {drawn}/{len(population)} > {cap.numerator}/{cap.denominator}",
            matter=matter, drawn=drawn, eligible=len(population), cap=str(cap),
        )  # fmt: skip


def _enough_inspectors(
    departments: Sequence[Mapping[str, Any]], inspectors: Sequence[Sequence[str]]
) -> None:
    """A department that cannot fill one group even with all its partners fails now, naming
    it, before anything is committed (conflicts and the cap can still fail the draw later)."""
    count: dict[str, int] = {}
    for _, department in inspectors:
        count[department] = count.get(department, 0) + 1
    for d in departments:
        available = sum(count.get(source, 0) for source in dict.fromkeys([d["id"], *d["partners"]]))
        if available < d["need"]:
            raise AppError(
                "draw.short", d["id"], department_id=d["id"], need=d["need"], available=available
            )
    if sum(d["need"] for d in departments) < 2:  # 002:17: at least two inspectors on site
        raise AppError("draw.invalid", "a visit needs at least two inspectors in all")


def _groups_possible(
    task_code: str,
    population: Sequence[Sequence[str]],
    departments: Sequence[Mapping[str, Any]],
    inspectors: Sequence[Sequence[str]],
    conflicts: Sequence[Sequence[str]],
) -> None:
    """Before anything is committed: a group can be formed for a subject without conflicts,
    and for every subject of the population with declared conflicts, whatever the seed
    (the cap aside). Otherwise a run could fail only when a certain subject is drawn — a
    way to keep it from being drawn. `spec.match` raises draw.short naming the department."""
    ids = {sid for sid, _ in population}
    conflicted = sorted({sid for _, sid in conflicts if sid in ids})
    probe = "#any-subject"  # no subject id has a "#" (directory/fields.py)
    pool = [spec.Department(d["id"], d["need"], tuple(d["partners"])) for d in departments]
    spec.match(bytes(32), task_code, [probe, *conflicted], pool, inspectors, conflicts, None)


def _summary(inputs: Mapping[str, Any]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for _, stratum in inputs["population"]:
        counts[stratum] = counts.get(stratum, 0) + 1
    return {
        "snapshot_hash": inputs["snapshot_hash"],
        "population": len(inputs["population"]),
        "strata": {
            k: {"rule": r, "eligible": counts.get(k, 0), "drawn": spec.quota(r, counts.get(k, 0))}
            for k, r in inputs["strata"].items()
        },
        "parties": [{"name": p["name"], "commit": p["commit"]} for p in inputs["parties"]],
        "departments": inputs["departments"],
        "inspectors": len(inputs["inspectors"]),
        "cap": inputs["cap"],
    }


# --- beacon and reveals ---------------------------------------------------------------------


async def _open_draw(caller: Caller, task_code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    task = await _task(task_code)
    _may_run(caller, task["initiator"])
    row = await _draw_row(task["id"])
    if row is None:
        raise AppError("draw.not_committed", task_code)
    if row["status"] != COMMITTED:
        raise AppError("draw.done", f"{task_code}（{row['status']}）", status=row["status"])
    return task, row


async def set_beacon(*, caller: Caller, task_code: str, beacon: str) -> dict[str, Any]:
    if not isinstance(beacon, str) or not beacon.strip() or len(beacon) > 1000:
        raise AppError(
            "draw.invalid", "the beacon is a non-empty string of at most 1000 characters"
        )
    _nfc(beacon, "the beacon")
    async with write_transaction():
        _, row = await _open_draw(caller, task_code)
        if row["beacon_set"]:
            raise AppError("draw.invalid", "the beacon is already set")
        if row["reveals"]:
            # once a secret is out, whoever knows the server's could pick a beacon to suit
            raise AppError("draw.invalid", "the beacon is set before any party reveals")
        logged = await _log("draw_beacon", {"task": task_code, "beacon": beacon})
        await Draw.update({Draw.beacon: beacon, Draw.beacon_set: True}).where(Draw.id == row["id"])
    return {"task": task_code, "beacon": beacon, "log": logged}


async def reveal(*, caller: Caller, task_code: str, party: str, secret: str) -> dict[str, Any]:
    """Another party's secret; it must hash to that party's commitment."""
    async with write_transaction():
        _, row = await _open_draw(caller, task_code)
        committed = {p["name"]: p["commit"] for p in row["inputs"]["parties"]}
        if party == SERVER_PARTY or party not in committed:
            raise AppError("draw.invalid", f"{party} is not a committing party")
        if party in row["reveals"]:
            raise AppError("draw.invalid", f"{party} has already revealed")
        if row["reveal_by"] is not None and _now() >= row["reveal_by"]:
            # after the deadline the outcome is fixed (zero bytes stand in): a late secret
            # would let whoever holds it choose between two known results
            raise AppError("draw.reveal_late", party, party=party,
                           reveal_by=row["reveal_by"].isoformat())  # fmt: skip
        try:
            raw = bytes.fromhex(secret) if isinstance(secret, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != 32 or secret != raw.hex():
            raise AppError("draw.invalid", "a secret is 64 lowercase hex characters")
        if hashlib.sha256(raw).hexdigest() != committed[party]:
            raise AppError("draw.secret_mismatch", party, party=party)
        logged = await _log("draw_revealed", {"task": task_code, "party": party, "secret": secret})
        await Draw.update({Draw.reveals: {**row["reveals"], party: secret}}).where(
            Draw.id == row["id"]
        )
    return {"task": task_code, "party": party, "log": logged}


# --- the draw -------------------------------------------------------------------------------


async def run_draw(
    *, caller: Caller, task_code: str, give_up: Sequence[str] = ()
) -> dict[str, Any]:
    """Reveal the server's secret, compute and publish the record, create the visits. Every
    other party must have revealed, or be named in `give_up` once its reveal deadline has
    passed (it did not reveal in time: the record says so and 32 zero bytes stand in — a draw
    is never re-run).

    The record is computed before the write transaction (seconds for a million subjects: the
    write lock would stop every sync meanwhile) and written only if the draw's state is still
    the one it was computed from; a reveal that came in between means computing again."""
    for _ in range(3):
        task, row = await _open_draw(caller, task_code)
        parties = _revealed_parties(row, give_up)
        try:
            record, failure = (
                await _off_loop(
                    {**row["inputs"], "parties": parties, "beacon": row["beacon"], "swaps": []}
                ),
                None,
            )
        except AppError as exc:
            record, failure = None, exc
        async with write_transaction():
            _, now = await _open_draw(caller, task_code)
            if (now["reveals"], now["beacon"]) != (row["reveals"], row["beacon"]):
                continue
            _revealed_parties(now, give_up)  # the deadline may have been checked just before it
            logs = [await _log("draw_revealed", {
                "task": task_code, "party": SERVER_PARTY, "secret": row["server_secret"],
            })]  # fmt: skip
            for p in parties:
                if p.get("revealed") is False:
                    logs.append(
                        await _log("draw_party_missing", {"task": task_code, "party": p["name"]})
                    )
            if failure is not None:
                # The server's secret is out: this draw is over, whatever failed. It is
                # recorded as failed and never run again (DRAW.md), so no one can learn a
                # subject from the error and try another seed (a later beacon or give-up).
                logs.append(await _log("draw_failed", {
                    "task": task_code, "code": failure.code,
                    "detail": (failure.detail or "")[:500],
                }))  # fmt: skip
                await Draw.update({Draw.status: FAILED}).where(Draw.id == row["id"])
            else:
                record_hash = _hash(record)
                logs.append(await _log("draw_result", {
                    "task": task_code, "seed": record["seed"], "record_hash": record_hash,
                    "subjects": len(record["subjects"]), "groups": len(record["groups"]),
                }))  # fmt: skip
                await Draw.update(
                    {
                        Draw.status: DRAWN,
                        Draw.record: record,
                        Draw.record_hash: record_hash,
                        Draw.drawn_at: dt.datetime.now(dt.UTC),
                    }
                ).where(Draw.id == row["id"])
                await _create_visits(task["id"], record["groups"])
        if failure is not None:
            raise failure
        return {
            "task": task_code,
            "status": DRAWN,
            "record_hash": record_hash,
            "log": logs,
            "subjects": len(record["subjects"]),
            "seed": record["seed"],
        }
    raise AppError("draw.busy", task_code)


def _revealed_parties(row: Mapping[str, Any], give_up: Sequence[str]) -> list[dict[str, Any]]:
    """The record's parties with their secrets: the server's, each revealed one, and 32 zero
    bytes (marked "revealed": false) for those given up — only once their deadline passed,
    so no one can weigh a give-up's known result against waiting for the secret."""
    others = [p["name"] for p in row["inputs"]["parties"][1:]]
    unknown = sorted(set(give_up) - set(others))
    if unknown:
        raise AppError("draw.invalid", f"{unknown[0]} is not a committing party")
    waiting = [p for p in others if p not in row["reveals"] and p not in give_up]
    if waiting:
        raise AppError("draw.unrevealed", "、".join(waiting), parties=waiting)
    given_up = [p for p in others if p not in row["reveals"]]
    deadline = row.get("reveal_by")
    if given_up and deadline is not None and _now() < deadline:
        raise AppError(
            "draw.reveal_pending",
            f"{'、'.join(given_up)}：{deadline.isoformat(timespec='minutes')}",
            parties=given_up,
            reveal_by=deadline.isoformat(),
        )
    parties = []
    for p in row["inputs"]["parties"]:
        if p["name"] == SERVER_PARTY:
            parties.append({**p, "secret": row["server_secret"]})
        elif p["name"] in row["reveals"]:
            parties.append({**p, "secret": row["reveals"][p["name"]]})
        else:
            parties.append({**p, "secret": spec.ZERO_SECRET.hex(), "revealed": False})
    return parties


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _ids(groups: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """Database ids of the inspectors and departments the groups name."""
    members = [m for g in groups for m in g["members"]]
    inspectors = await Inspector.select(Inspector.id, Inspector.code).where(
        Inspector.code.is_in(sorted({m[0] for m in members}) or [""])
    )
    departments = await Department.select(Department.id, Department.code).where(
        Department.code.is_in(sorted({d for m in members for d in m[1:]}) or [""])
    )
    return {r["code"]: r["id"] for r in inspectors}, {r["code"]: r["id"] for r in departments}


async def _create_visits(
    task_id: int, groups: Sequence[Mapping[str, Any]], first_order: int = 0, note: str = ""
) -> None:
    """One visit per subject, in batch order, its members in the order taken."""
    inspectors, departments = await _ids(groups)
    for order, group in enumerate(groups, start=first_order):
        visit = Visit(task=task_id, subject_id=group["subject_id"], batch_order=order, note=note)
        await Visit.insert(visit)
        await VisitMember.insert(
            *[
                VisitMember(
                    visit=visit.id,
                    inspector=inspectors[i],
                    department=departments[own],
                    served=departments[served],
                    position=n,
                    is_leader=i == group["leader"],
                )
                for n, (i, own, served) in enumerate(group["members"])
            ]
        )


# --- swaps ----------------------------------------------------------------------------------


async def swap(
    *,
    caller: Caller,
    task_code: str,
    subject_id: str,
    out: str,
    reason: str,
    approver: str | None = None,
) -> dict[str, Any]:
    """Replace `out` in the group of `subject_id` by the spec's rule; the caller (a
    coordinator of the initiating department) is the approver unless one is named (the
    command line names the department leader who approved). Only before the visit began:
    once its group has recorded anything, the group is evidence.

    The rule takes `in` from the pool fixed at the commitment; one who has left since (no
    longer active) cannot go, so that person is swapped out at once in a second swap, for
    the reason "post_change" with the same approver — both in the record, both verifiable.
    The record is recomputed outside the write lock and written only if no other swap came
    in between (otherwise computed again)."""
    if approver is not None and not (0 < len(approver.strip()) <= 64):
        raise AppError("swap.invalid", "the approver is named in 1-64 characters")
    approved_by = approver or caller.user_id
    for _ in range(3):
        _, row, visit_id = await _swappable(caller, task_code, subject_id)
        record = row["record"]
        asked = [{"subject_id": subject_id, "out": out, "reason": reason,
                  "approved_by": approved_by}]  # fmt: skip
        updated = await _off_loop({**record, "swaps": [*record["swaps"], *asked]})
        while (gone := updated["swaps"][-1]["in"]) in await _inactive([gone]):
            asked.append({"subject_id": subject_id, "out": gone, "reason": "post_change",
                          "approved_by": approved_by})  # fmt: skip
            updated = await _off_loop({**record, "swaps": [*record["swaps"], *asked]})
        async with write_transaction():
            _, now, _ = await _swappable(caller, task_code, subject_id)
            if now["record_hash"] != row["record_hash"]:
                continue
            done = updated["swaps"][len(record["swaps"]) :]
            record_hash = _hash(updated)
            logged = []
            for n, one in enumerate(done, start=len(record["swaps"])):
                logged.append(await _log("draw_swap", {"task": task_code, **one,
                                                        "record_hash": record_hash}))  # fmt: skip
                await DrawSwap.insert(
                    DrawSwap(
                        draw=row["id"], position=n, subject_id=subject_id, outgoing=one["out"],
                        incoming=one["in"], reason=one["reason"], approved_by=approved_by,
                    )
                )  # fmt: skip
            await Draw.update({Draw.record: updated, Draw.record_hash: record_hash}).where(
                Draw.id == row["id"]
            )
            await _replace_members(visit_id, updated, subject_id)
        return {"task": task_code, "swap": done[0], "swaps": done, "record_hash": record_hash,
                "log": logged[0], "logs": logged}  # fmt: skip
    raise AppError("draw.busy", task_code)


async def _swappable(
    caller: Caller, task_code: str, subject_id: str
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The task, its drawn draw and the subject's visit, if that visit may still change."""
    task = await _task(task_code)
    _may_run(caller, task["initiator"])
    row = await _draw_row(task["id"])
    if row is None or row["status"] != DRAWN:
        raise AppError("draw.not_drawn", task_code)
    visits = await Visit.select(Visit.id).where(
        (Visit.task == task["id"]) & (Visit.subject_id == subject_id)
    )
    if not visits:
        raise AppError("swap.invalid", f"{subject_id} was not drawn", subject_id=subject_id)
    visit_id = visits[0]["id"]
    if await Event.exists().where(Event.visit == str(visit_id)):
        raise AppError("swap.visit_started", subject_id, subject_id=subject_id)
    return task, row, visit_id


async def _inactive(codes: Sequence[str]) -> set[str]:
    rows = await Inspector.select(Inspector.code).where(
        Inspector.code.is_in(list(codes)) & (Inspector.active == False)  # noqa: E712
    )
    return {r["code"] for r in rows}


async def _replace_members(visit_id: int, record: Mapping[str, Any], subject_id: str) -> None:
    """The visit's members as the record's group has them after its swaps (position by
    position: `in` takes `out`'s place)."""
    group = next(g for g in record["groups"] if g["subject_id"] == subject_id)
    inspectors, departments = await _ids([group])
    for position, (inspector, own, _) in enumerate(group["members"]):
        await VisitMember.update(
            {
                VisitMember.inspector: inspectors[inspector],
                VisitMember.department: departments[own],
                VisitMember.is_leader: group["leader"] == inspector,
            }
        ).where((VisitMember.visit == visit_id) & (VisitMember.position == position))


# --- reading --------------------------------------------------------------------------------


async def draw_status(*, caller: Caller, task_code: str) -> dict[str, Any]:
    """Where the task's draw stands (for its coordinators): inputs summarised, who revealed,
    and once drawn the record's hash and URL. Secrets only as the published record has them."""
    async with read_transaction():
        task = await _task(task_code)
        _may_run(caller, task["initiator"])
        row = await _draw_row(task["id"])
        swaps = (
            await DrawSwap.select().where(DrawSwap.draw == row["id"]).order_by(DrawSwap.position)
            if row
            else []
        )
    out: dict[str, Any] = {
        "task": task_code,
        "name": task["name"],
        "initiator": task["initiator"],
        "status": "none",
    }
    if row is None:
        return out
    out.update(_summary(row["inputs"]))
    out.update(
        status=row["status"],
        directory_revision=row["directory_revision"],
        beacon=row["beacon"] if row["beacon_set"] else None,
        revealed=sorted(row["reveals"]),
        reveal_by=row["reveal_by"] and row["reveal_by"].isoformat(timespec="seconds"),
    )
    if row["status"] == DRAWN:
        out.update(await _names_and_progress(task["id"], row["record"]))
        out.update(
            record_hash=row["record_hash"],
            record_url=f"/public/tasks/{task_code}/draw.json",
            seed=row["record"]["seed"],
            subjects=row["record"]["subjects"],
            groups=row["record"]["groups"],
            swaps=[
                {
                    "subject_id": w["subject_id"],
                    "out": w["outgoing"],
                    "in": w["incoming"],
                    "reason": w["reason"],
                    "approved_by": w["approved_by"],
                }
                for w in swaps
            ],
        )
    return out


def _chunks(values: Sequence[str], size: int = 10_000) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


async def _names_and_progress(task_id: int, record: Mapping[str, Any]) -> dict[str, Any]:
    """For the screens: names of the drawn subjects and of every group member (lent ones
    too), and which groups' visits have begun (a swap is refused for those)."""
    subjects = []
    for part in _chunks(record["subjects"]):  # PostgreSQL takes ≤ 32767 parameters a query
        subjects += await Subject.select(Subject.subject_id, Subject.name, Subject.address).where(
            Subject.subject_id.is_in(part)
        )
    codes = sorted({m[0] for g in record["groups"] for m in g["members"]})
    inspectors = await Inspector.select(
        Inspector.code, Inspector.name, Inspector.department.name
    ).where(Inspector.code.is_in(codes or [""]))
    visits = await Visit.select(Visit.id, Visit.subject_id).where(Visit.task == task_id)
    begun = set()
    for part in _chunks([str(v["id"]) for v in visits]):
        begun |= {
            r["visit"] for r in await Event.select(Event.visit).where(Event.visit.is_in(part))
        }
    return {
        "subject_names": {r["subject_id"]: {"name": r["name"], "address": r["address"]}
                          for r in subjects},
        "inspector_names": {r["code"]: {"name": r["name"],
                                        "department": r["department.name"]}
                            for r in inspectors},
        "started": sorted(v["subject_id"] for v in visits if str(v["id"]) in begun),
    }  # fmt: skip


async def public_tasks() -> list[dict[str, Any]]:
    """Every drawn task, newest first, for /public/tasks."""
    async with read_transaction():
        rows = (
            await Draw.select(
                Draw.task.code,
                Draw.task.name,
                Draw.task.initiator.code,
                Draw.task.initiator.name,
                Draw.record_hash,
                Draw.drawn_at,
            )
            .where(Draw.status == DRAWN)
            .order_by(Draw.drawn_at, ascending=False)
        )
    return [
        {
            "id": r["task.code"],
            "name": r["task.name"],
            "initiator": r["task.initiator.code"],
            "initiator_name": r["task.initiator.name"],
            "drawn_at": r["drawn_at"].isoformat() if r["drawn_at"] else None,
            "record_hash": r["record_hash"],
            "draw": f"/public/tasks/{r['task.code']}/draw.json",
        }
        for r in rows
    ]


async def public_record(task_code: str) -> dict[str, Any]:
    """The published draw record (DRAW.md format); 404 until the task is drawn."""
    async with read_transaction():
        task = await _task(task_code)
        row = await _draw_row(task["id"])
    if row is None or row["status"] != DRAWN:
        raise AppError("draw.not_published", task_code)
    return row["record"]


async def public_task(task_code: str) -> dict[str, Any]:
    """A task's public page: what it checks, the plan line it runs, and its draw —
    commitments, beacon, seed, counts and the record's URL and hash (the record itself is at
    draw.json). Public once drawn, or once a result of it is published (a visit assigned
    directly has no draw: `draw` is null and the page says so). Triggers by kind only: a
    complaint's reference is not the public's business."""
    async with read_transaction():
        task = await _task(task_code)
        row = await _draw_row(task["id"])
        if row is not None and row["status"] != DRAWN:
            row = None
        if row is None and not await Result.exists().where(
            (Result.task == task_code) & Result.published_version.is_not_null()
        ):
            raise AppError("draw.not_published", task_code)
        extra = (
            await Task.select(Task.initiator.name, Task.plan_code, Task.plan_line)
            .where(Task.id == task["id"])
            .first()
        )
        matters = await TaskMatter.select(
            TaskMatter.matter.code, TaskMatter.matter.name, TaskMatter.matter.department.code,
            TaskMatter.matter.department.name,
        ).where(TaskMatter.task == task["id"]).order_by(TaskMatter.position)  # fmt: skip
    plan = None
    if extra["plan_code"]:
        plan = {"code": extra["plan_code"], "line": extra["plan_line"],
                "url": f"/public/plans/{extra['plan_code']}"}  # fmt: skip
    return {
        "id": task_code, "name": task["name"], "kind": task["kind"],
        "trigger": (task["trigger"] or {}).get("kind"),
        "initiator": task["initiator"], "initiator_name": extra["initiator.name"],
        "matters": [{"code": m["matter.code"], "name": m["matter.name"],
                     "department": m["matter.department.code"],
                     "department_name": m["matter.department.name"]} for m in matters],
        "plan": plan,
        "draw": row and _draw_summary(task_code, row),
    }  # fmt: skip


def _draw_summary(task_code: str, row: Mapping[str, Any]) -> dict[str, Any]:
    record = row["record"]
    return {
        "drawn_at": row["drawn_at"].isoformat() if row["drawn_at"] else None,
        "record_hash": row["record_hash"], "record_url": f"/public/tasks/{task_code}/draw.json",
        "snapshot_hash": record["snapshot_hash"], "population": len(record["population"]),
        "drawn": len(record["subjects"]), "seed": record["seed"], "beacon": record["beacon"],
        "parties": [{"name": p["name"], "commit": p["commit"],
                     "revealed": p.get("revealed", True)} for p in record["parties"]],
        "swaps": len(record["swaps"]),
    }  # fmt: skip


# --- triggered tasks: direct assignment ----------------------------------------------------


async def assign_directly(
    *,
    caller: Caller,
    task_code: str,
    subject_id: str,
    members: Sequence[tuple[str, str]],
    reason: str,
) -> dict[str, Any]:
    """A triggered task's visit with inspectors named, not drawn (seed 003: a complaint or a
    referral is handled by the department concerned) — recorded as such in the log. The
    group still obeys the matching rules: at least two inspectors, each active, serving a
    department of the task from its own department or one of that department's partners, no
    declared conflict with the subject; the first member serving the initiator leads."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise AppError("task.invalid", "a direct assignment gives its reason")
    async with write_transaction():
        task = await _task(task_code)
        _may_run(caller, task["initiator"])
        if task["kind"] != "triggered":
            raise AppError("task.invalid", "only a triggered task assigns inspectors directly")
        if {"subjects", "scope"} & set(task["trigger"] or {}):
            raise AppError("task.invalid", "this trigger names its population: it is drawn")
        if await _draw_row(task["id"]):
            raise AppError("task.invalid", "this task is drawn: its groups come from the draw")
        if not await Subject.exists().where(Subject.subject_id == subject_id):
            raise AppError("subject.unknown", subject_id)
        if await Visit.exists().where(
            (Visit.task == task["id"]) & (Visit.subject_id == subject_id)
        ):
            raise AppError("task.invalid", f"{subject_id} already has a visit in this task")
        departments = {d["id"]: d for d in await _departments(task, {})}
        inspectors, conflicts = await _pool(list(departments.values()))
        own = dict(inspectors)
        conflicted = {tuple(c) for c in conflicts}
        codes = [m[0] for m in members]
        if len(members) < 2 or len(set(codes)) != len(codes):
            raise AppError("inspector.invalid", "a visit needs at least two different inspectors")
        for inspector, served in members:
            if served not in departments:
                raise AppError("task.invalid", f"{served} takes no part in this task")
            if inspector not in own:
                raise AppError("inspector.unknown", inspector)
            if own[inspector] not in (served, *departments[served]["partners"]):
                raise AppError("task.invalid", f"{inspector} cannot serve {served}")
            if (inspector, subject_id) in conflicted:
                raise AppError("task.invalid", f"{inspector} declared a conflict with {subject_id}")
        leader = next((i for i, served in members if served == task["initiator"]), None)
        if leader is None:
            raise AppError("task.invalid", "a member must serve the initiating department")
        group = {
            "subject_id": subject_id,
            "leader": leader,
            "members": [[i, own[i], served] for i, served in members],
        }
        order = await Visit.count().where(Visit.task == task["id"])
        logged = await _log("task_assigned", {
            "task": task_code, "trigger": _trigger_summary(task["trigger"]), **group,
            "reason": reason.strip(), "assigned_by": caller.user_id,
        })  # fmt: skip
        await _create_visits(task["id"], [group], first_order=order, note=f"直接指派：{reason}")
    names = await Inspector.select(Inspector.code, Inspector.name).where(
        Inspector.code.is_in(codes)
    )
    subject = await Subject.select(Subject.name).where(Subject.subject_id == subject_id)
    return {
        "task": task_code, **group, "log": logged, "subject_name": subject[0]["name"],
        "inspector_names": {r["code"]: r["name"] for r in names},
    }  # fmt: skip
