"""DRAW.md conformance, checked the way an outside verifier would check it.

The first part of this file is an INDEPENDENT minimal reference implementation of
../shared/specs/DRAW.md, written from the spec text alone: keys are SHA-256 digests read with
`int.from_bytes(..., "big")`, orders are plain `sorted()`, quotas are `math.ceil` of a
`Fraction`, JCS is the `rfc8785` package. planning/draw.py is then checked against it on
hand-made cases with literal expected outputs, on many random small cases, rule by rule, on
the statistics of the selection, on `verify()` against tampering, and through the CLI
`onevisit draw verify` on the vectors of tests/vectors/draw/.

Regenerate the vectors (from the reference, not from draw.py):
    cd /work/main && PYTHONPATH=backend:. .venv/bin/python -m tests.planning.test_draw_spec
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from onevisit.errors import AppError
from onevisit.planning import draw

ROOT = Path(__file__).resolve().parents[2]
VECTOR_DIR = ROOT / "tests" / "vectors" / "draw"

# =============================================================================================
# The reference implementation (from DRAW.md only)
# =============================================================================================

REF_REASONS = ("conflict_of_interest", "post_change", "work_conflict", "health")
ZEROS = bytes(32)
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


class RefError(Exception):
    """A draw the spec refuses: code as in the catalogue, and the department it names."""

    def __init__(self, code: str, department: str | None = None, subject: str | None = None):
        super().__init__(code, department, subject)
        self.code, self.department, self.subject = code, department, subject


def _u(text: str) -> bytes:
    return text.encode("utf-8")


def _sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def ref_snapshot_hash(population: Sequence[Sequence[str]]) -> str:
    """SHA-256(JCS(sorted list of [subject_id, stratum]))."""
    rows = sorted([sid, stratum] for sid, stratum in population)
    return hashlib.sha256(rfc8785.dumps(rows)).hexdigest()


def ref_quota(rule: dict[str, Any], n: int) -> int:
    """ceil(ratio × n) capped at n, or the count capped at n; ratios are decimal strings."""
    if set(rule) == {"count"}:
        count = rule["count"]
        if type(count) is not int or count < 0:
            raise RefError("draw.invalid")
        return min(count, n)
    if set(rule) == {"ratio"}:
        ratio = rule["ratio"]
        if not isinstance(ratio, str) or not _DECIMAL.fullmatch(ratio):
            raise RefError("draw.invalid")
        exact = Fraction(ratio)
        if exact > 1:
            raise RefError("draw.invalid")
        return min(math.ceil(exact * n), n)
    raise RefError("draw.invalid")


def ref_seed(secrets: Sequence[bytes], beacon: str) -> bytes:
    return _sha(*secrets, _u(beacon))


def ref_key(seed: bytes, task_id: str, subject_id: str) -> int:
    return int.from_bytes(_sha(seed, b"\x00", _u(task_id), b"\x00", _u(subject_id)), "big")


def ref_key1(seed: bytes, task_id: str, s: str, d: str, i: str) -> int:
    digest = _sha(seed, b"\x01", _u(task_id), b"\x00", _u(s), b"\x00", _u(d), b"\x00", _u(i))
    return int.from_bytes(digest, "big")


def ref_select(
    seed: bytes, task_id: str, population: Sequence[Sequence[str]], strata: dict[str, Any]
) -> list[str]:
    ids = [sid for sid, _ in population]
    if len(set(ids)) != len(ids):
        raise RefError("draw.invalid")
    members: dict[str, list[str]] = {}
    for sid, stratum in population:
        members.setdefault(stratum, []).append(sid)
    if set(members) - set(strata):
        raise RefError("draw.invalid")

    def key(sid: str) -> int:
        return ref_key(seed, task_id, sid)

    chosen: list[str] = []
    for stratum, rule in strata.items():
        group = members.get(stratum, [])
        chosen += sorted(group, key=key)[: ref_quota(rule, len(group))]
    return sorted(chosen, key=key)


def ref_need(department: dict[str, Any], position: int) -> int:
    return department.get("need", 2 if position == 0 else 1)


class RefPool:
    """Who can be taken: inspectors by department, conflicts, cap and loads of this draw."""

    def __init__(self, inspectors, conflicts, cap: int | None):
        self.of: dict[str, list[str]] = {}
        for inspector, department in inspectors:
            self.of.setdefault(department, []).append(inspector)
        self.conflicts = {(i, s) for i, s in conflicts}
        self.cap = cap
        self.load = {inspector: 0 for inspector, _ in inspectors}

    def candidates(self, source: str, s: str, excluded: set[str]) -> list[str]:
        return [
            i
            for i in self.of.get(source, [])
            if i not in excluded
            and (i, s) not in self.conflicts
            and (self.cap is None or self.load[i] < self.cap)
        ]


def ref_match(seed, task_id, subjects, departments, pool: RefPool) -> list[dict[str, Any]]:
    groups = []
    for s in subjects:
        group: list[list[str]] = []  # [inspector, own department, served department]
        leader = None
        for position, D in enumerate(departments):
            need, got = ref_need(D, position), 0
            for source in [D["id"], *D.get("partners", [])]:
                if got >= need:  # partners only while short
                    break
                in_group = {m[0] for m in group}
                cands = sorted(
                    pool.candidates(source, s, in_group),
                    key=lambda i, source=source: ref_key1(seed, task_id, s, source, i),
                )
                for i in cands[: need - got]:
                    group.append([i, source, D["id"]])
                    pool.load[i] += 1
                    got += 1
                    if position == 0 and leader is None:
                        leader = i
            if got < need:
                raise RefError("draw.short", D["id"], s)
        if len(group) < 2:
            raise RefError("draw.short", departments[0]["id"], s)
        groups.append({"subject_id": s, "leader": leader, "members": group})
    return groups


def ref_swaps(seed, task_id, groups, departments, pool: RefPool, swaps) -> list[dict[str, Any]]:
    partners = {D["id"]: D.get("partners", []) for D in departments}
    by_subject = {g["subject_id"]: g for g in groups}
    gone: dict[str, set[str]] = {}
    done = []
    for swap in swaps:
        s, out = swap.get("subject_id"), swap.get("out")
        group = by_subject.get(s)
        if group is None:
            raise RefError("swap.invalid")
        names = [m[0] for m in group["members"]]
        if out not in names or swap.get("reason") not in REF_REASONS:
            raise RefError("swap.invalid")
        if not isinstance(swap.get("approved_by"), str) or not swap["approved_by"]:
            raise RefError("swap.invalid")
        place = names.index(out)
        _, own, served = group["members"][place]
        gone.setdefault(s, set()).add(out)
        excluded = set(names) | gone[s]
        chosen = None
        for source in [own, *partners.get(served, [])]:
            cands = pool.candidates(source, s, excluded)
            if cands:
                best = min(
                    cands, key=lambda i, source=source: ref_key1(seed, task_id, s, source, i)
                )
                chosen = (best, source)
                break
        if chosen is None:
            raise RefError("swap.no_candidate", served, s)
        inspector, source = chosen
        group["members"][place] = [inspector, source, served]
        pool.load[out] -= 1
        pool.load[inspector] += 1
        if group["leader"] == out:
            group["leader"] = inspector
        done.append({**{k: swap[k] for k in ("subject_id", "out")}, "in": inspector,
                     "reason": swap["reason"], "approved_by": swap["approved_by"]})  # fmt: skip
    return done


def ref_secrets(parties: Sequence[dict[str, Any]]) -> list[bytes]:
    secrets = []
    for party in parties:
        secret = bytes.fromhex(party["secret"])
        if party.get("revealed", True) is False:
            if secret != ZEROS:
                raise RefError("draw.invalid")
        elif hashlib.sha256(secret).hexdigest() != party["commit"]:
            raise RefError("draw.invalid")
        secrets.append(secret)
    return secrets


def ref_outcome(seed, task_id, subjects, departments, inspectors, conflicts, cap, swaps):
    """(groups, swaps done) after the draw and the swaps, or RefError."""
    pool = RefPool(inspectors, conflicts, cap)
    groups = ref_match(seed, task_id, subjects, departments, pool)
    done = ref_swaps(seed, task_id, groups, departments, pool, swaps)
    return groups, done


def ref_record(inputs: dict[str, Any]) -> dict[str, Any]:
    """A complete draw record from its inputs, as DRAW.md lays it out."""
    seed = ref_seed(ref_secrets(inputs["parties"]), inputs["beacon"])
    population = sorted([sid, st] for sid, st in inputs["population"])
    subjects = ref_select(seed, inputs["task_id"], population, inputs["strata"])
    groups, done = ref_outcome(seed, inputs["task_id"], subjects, inputs["departments"],
                               inputs["inspectors"], inputs["conflicts"], inputs["cap"],
                               inputs["swaps"])  # fmt: skip
    return {
        "v": 1,
        "task_id": inputs["task_id"],
        "population": population,
        "snapshot_hash": ref_snapshot_hash(population),
        "strata": inputs["strata"],
        "parties": inputs["parties"],
        "beacon": inputs["beacon"],
        "seed": seed.hex(),
        "subjects": subjects,
        "departments": inputs["departments"],
        "inspectors": sorted([i, d] for i, d in inputs["inspectors"]),
        "conflicts": [list(c) for c in inputs["conflicts"]],
        "cap": inputs["cap"],
        "groups": groups,
        "swaps": done,
    }


def party(name: str, label: str, revealed: bool = True) -> dict[str, Any]:
    """A test-only party whose secret is SHA-256 of a public label (never for real draws)."""
    secret = hashlib.sha256(_u(label)).digest()
    out = {"name": name, "commit": hashlib.sha256(secret).hexdigest(), "secret": secret.hex()}
    if not revealed:
        out.update(secret=ZEROS.hex(), revealed=False)
    return out


# =============================================================================================
# Helpers: run draw.py on the same inputs
# =============================================================================================


def deps(departments: Sequence[dict[str, Any]]) -> list[draw.Department]:
    return [
        draw.Department(d["id"], ref_need(d, n), tuple(d.get("partners", [])))
        for n, d in enumerate(departments)
    ]


def impl_outcome(seed, task_id, subjects, departments, inspectors, conflicts, cap, swaps):
    groups, done = draw.apply_swaps(
        seed, task_id, subjects, deps(departments), inspectors, conflicts, cap, swaps
    )
    return [g.to_json() for g in groups], done


def outcome_of(fn, *args) -> Any:
    """The result, or the error as (code, department named) for comparison."""
    try:
        return fn(*args)
    except RefError as exc:
        return ("error", exc.code, exc.department)
    except AppError as exc:
        return ("error", exc.code, exc.details.get("department_id"))


def failed(outcome: Any) -> bool:
    return isinstance(outcome, tuple) and outcome[0] == "error"


def error_of(fn, *args) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args)
    return info.value


def ranked(seed, task_id, s, d, inspectors: Sequence[str]) -> list[str]:
    """Inspectors of department d by key1 for subject s (the reference's order)."""
    return sorted(inspectors, key=lambda i: ref_key1(seed, task_id, s, d, i))


# =============================================================================================
# The vectors (tests/vectors/draw/*.json), built by the reference from these inputs
# =============================================================================================


def vector_inputs() -> dict[str, dict[str, Any]]:
    def population(prefix: str, spec: dict[str, int]) -> list[list[str]]:
        return [[f"{prefix}{st}-{n:02d}", st] for st, k in spec.items() for n in range(1, k + 1)]

    return {
        "swap": {
            "task_id": "T-2026-0001",
            "population": population("91330100", {"A": 6, "B": 4}),
            "strata": {"A": {"ratio": "0.5"}, "B": {"count": 1}},
            "parties": [party("server", "onevisit draw vector swap server")],
            "beacon": "",
            "departments": [
                {"id": "MKT", "need": 2, "partners": []},
                {"id": "FIRE", "need": 1, "partners": []},
            ],
            "inspectors": [[f"mkt-{n}", "MKT"] for n in range(1, 6)]
            + [[f"fire-{n}", "FIRE"] for n in range(1, 4)],
            "conflicts": [],
            "cap": None,
            "swaps": [],  # filled below: the leader of the first group, then a participant
        },
        "unrevealed": {
            "task_id": "T-2026-0002",
            "population": population("S", {"A": 3, "C": 5, "LONG": 2}),
            "strata": {"A": {"count": 1}, "C": {"ratio": "0.4"}, "LONG": {"ratio": "1"}},
            "parties": [
                party("server", "onevisit draw vector unrevealed server"),
                party("notary", "onevisit draw vector unrevealed notary (never revealed)", False),
            ],
            "beacon": "",
            "departments": [
                {"id": "MKT", "need": 2, "partners": []},
                {"id": "HEALTH", "need": 1, "partners": []},
            ],
            "inspectors": [[f"m{n}", "MKT"] for n in range(1, 5)]
            + [[f"h{n}", "HEALTH"] for n in range(1, 4)],
            "conflicts": [],
            "cap": None,
            "swaps": [],
        },
        "partner": {
            "task_id": "T-2026-0003",
            "population": population("P", {"B": 5, "D": 3}),
            "strata": {"B": {"ratio": "0.25"}, "D": {"count": 2}},
            "parties": [party("server", "onevisit draw vector partner server")],
            "beacon": "",
            "departments": [
                {"id": "MKT", "need": 2, "partners": []},
                {"id": "ENV", "need": 2, "partners": ["ENV-CITY", "ENV-PROV"]},
            ],
            "inspectors": [[f"mkt-{n}", "MKT"] for n in range(1, 5)]
            + [["env-1", "ENV"], ["city-1", "ENV-CITY"], ["city-2", "ENV-CITY"]]
            + [["prov-1", "ENV-PROV"], ["prov-2", "ENV-PROV"]],
            "conflicts": [],  # filled below: env-1 conflicts with the first subject
            "cap": 2,
            "swaps": [],
        },
        "beacon": {
            "task_id": "任务-2026-004",
            "population": [["企业-甲", "A"], ["企业-乙", "A"], ["企业-丙", "B"],
                           ["企业-丁", "B"], ["企业-戊", "B"], ["Café-7", "三年未查"]],
            "strata": {"A": {"ratio": "0.5"}, "B": {"ratio": "0.34"}, "三年未查": {"count": 1}},
            "parties": [party("server", "onevisit draw vector beacon server"),
                        party("纪检监察", "onevisit draw vector beacon discipline office")],
            "beacon": "福彩3D 2026330期 517",
            "departments": [
                {"id": "市场监管", "need": 2, "partners": []},
                {"id": "消防", "need": 1, "partners": ["应急管理"]},
            ],
            "inspectors": [["张三", "市场监管"], ["李四", "市场监管"], ["王五", "市场监管"],
                           ["赵六", "消防"], ["钱七", "应急管理"]],
            "conflicts": [["赵六", "企业-乙"]],
            "cap": None,
            "swaps": [],
        },
    }  # fmt: skip


def build_vectors() -> dict[str, dict[str, Any]]:
    inputs = vector_inputs()
    # the swap vector: swap the leader of the first group, then its FIRE member
    first = ref_record(inputs["swap"])["groups"][0]
    inputs["swap"]["swaps"] = [
        {"subject_id": first["subject_id"], "out": first["leader"], "reason": "health",
         "approved_by": "coordinator-1"},
        {"subject_id": first["subject_id"], "out": first["members"][2][0],
         "reason": "conflict_of_interest", "approved_by": "coordinator-1"},
    ]  # fmt: skip
    # the partner vector: ENV's only inspector conflicts with the first subject
    subjects = ref_record(inputs["partner"])["subjects"]
    inputs["partner"]["conflicts"] = [["env-1", subjects[0]]]
    return {name: ref_record(i) for name, i in inputs.items()}


def vector_text(record: dict[str, Any]) -> str:
    """ASCII-only JSON (non-ASCII as \\uXXXX escapes) so no editor can re-encode it."""
    return json.dumps(record, ensure_ascii=True, indent=1) + "\n"


VECTORS = sorted(p.name for p in VECTOR_DIR.glob("*.json"))


SEED = hashlib.sha256(b"onevisit draw rules").digest()
TASK = "T-rules"
RATIOS = ["0", "0.05", "0.1", "0.07", "0.25", "0.333", "0.5", "0.75", "0.999", "1", "1.0"]


# =============================================================================================
# 1. Inputs: snapshot hash, quota, seed, keys
# =============================================================================================


def test_snapshot_hash_is_sha256_of_the_jcs_of_the_sorted_rows():
    population = [["b", "A"], ["a", "B"], ["企业", "C"]]
    text = '[["a","B"],["b","A"],["企业","C"]]'  # sorted by subject id, JCS = compact JSON
    assert draw.snapshot_hash(population) == hashlib.sha256(text.encode()).hexdigest()
    assert draw.snapshot_hash(population) == ref_snapshot_hash(population)
    assert draw.snapshot_hash(population[::-1]) == draw.snapshot_hash(population)
    control = [['x\n\u0001"\\', "A"]]  # JCS escapes: \n, \u0001 (lowercase hex), \", \\
    assert (
        draw.snapshot_hash(control) == hashlib.sha256(b'[["x\\n\\u0001\\"\\\\","A"]]').hexdigest()
    )


def test_quota_is_the_exact_ceiling_never_a_float():
    assert draw.quota({"ratio": "0.07"}, 100) == 7  # float: 0.07 * 100 = 7.000000000000001 → 8
    assert draw.quota({"ratio": "0.14"}, 100) == 14  # float: 14.000000000000002 → 15
    assert draw.quota({"ratio": "0.05"}, 21) == 2  # ceil(1.05)
    assert draw.quota({"ratio": "0.05"}, 20) == 1
    assert draw.quota({"ratio": "0.5"}, 0) == 0
    assert draw.quota({"ratio": "1"}, 9) == 9
    assert draw.quota({"ratio": "0.0001"}, 3) == 1
    assert draw.quota({"count": 12}, 5) == 5  # capped at n
    assert draw.quota({"count": 0}, 5) == 0
    rng = random.Random("quota")
    for _ in range(3000):
        digits = rng.randint(0, 6)
        ratio = (
            rng.choice(["0", "1"]) if digits == 0 else f"0.{rng.randrange(10**digits):0{digits}d}"
        )
        n = rng.randint(0, 500)
        assert draw.quota({"ratio": ratio}, n) == ref_quota({"ratio": ratio}, n), (ratio, n)
        k = rng.randint(0, 500)
        assert draw.quota({"count": k}, n) == ref_quota({"count": k}, n) == min(k, n)


@pytest.mark.parametrize(
    "rule",
    [{"ratio": 0.5}, {"ratio": "1.5"}, {"ratio": "-0.1"}, {"ratio": "abc"}, {"count": -1},
     {"count": "3"}, {"count": True}, {"count": 1.0}, {"ratio": "0.1", "count": 2}, {}],
)  # fmt: skip
def test_a_malformed_rule_is_draw_invalid(rule):
    assert error_of(draw.quota, rule, 10).code == "draw.invalid"
    with pytest.raises(RefError):
        ref_quota(rule, 10)


def test_seed_and_keys_are_the_specified_hashes():
    rng = random.Random("keys")
    alphabet = ["a", "Z", "0", "-", "企", "é", "😀", " ", "\u00a0"]
    for _ in range(500):
        secrets = [rng.randbytes(32) for _ in range(rng.randint(1, 4))]
        beacon = "".join(rng.choices(alphabet, k=rng.randint(0, 6)))
        seed = draw.seed_of(secrets, beacon)
        assert seed == ref_seed(secrets, beacon)
        assert seed == hashlib.sha256(b"".join(secrets) + beacon.encode("utf-8")).digest()
        t, s, d, i = ("".join(rng.choices(alphabet, k=rng.randint(1, 5))) for _ in range(4))
        assert int.from_bytes(draw.selection_key(seed, t, s), "big") == ref_key(seed, t, s)
        assert int.from_bytes(draw.matching_key(seed, t, s, d, i), "big") == ref_key1(
            seed, t, s, d, i
        )
    assert bytes(32) == draw.ZERO_SECRET
    assert set(draw.SWAP_REASONS) == set(REF_REASONS)


# =============================================================================================
# 2. Hand-made cases with literal expected outputs
# =============================================================================================

# seed = SHA-256(s1 || s2 || "") with s1 = bytes 0..31, s2 = bytes 32..63
HAND_SECRETS = [bytes(range(32)), bytes(range(32, 64))]
HAND_TASK = "T-2026-001"
HAND_POPULATION = [
    ["91110000A1", "A"], ["91110000A2", "A"], ["91110000A3", "A"], ["91110000A4", "A"],
    ["B1", "B"], ["B2", "B"], ["B3", "B"], ["Z1", "3y+"], ["Z2", "3y+"],
]  # fmt: skip
HAND_STRATA = {"A": {"ratio": "0.5"}, "B": {"count": 1}, "3y+": {"ratio": "0.01"}}
HAND_DEPARTMENTS = [
    {"id": "MS", "need": 2, "partners": []},
    {"id": "FIRE", "need": 1, "partners": ["SAFE"]},
]
HAND_INSPECTORS = [["m1", "MS"], ["m2", "MS"], ["m3", "MS"], ["m4", "MS"], ["f1", "FIRE"],
                   ["s1", "SAFE"], ["s2", "SAFE"]]  # fmt: skip
HAND_CONFLICTS = [["f1", "Z1"]]


def test_hand_made_selection():
    seed = draw.seed_of(HAND_SECRETS, "")
    assert seed == hashlib.sha256(bytes(range(64))).digest()
    assert seed.hex() == "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"
    # selection keys (first 6 bytes): A1 f7fe80… A2 c62ba2… A3 6c2b91… A4 bebc6e…
    # B1 e0a7fc… B2 d66ac1… B3 0268ec… Z1 1c8c92… Z2 b37a1b…
    # A: ceil(0.5 × 4) = 2 → A3, A4; B: count 1 → B3; 3y+: ceil(0.01 × 2) = 1 → Z1;
    # batch order by key: B3 (02…) Z1 (1c…) A3 (6c…) A4 (be…)
    expected = ["B3", "Z1", "91110000A3", "91110000A4"]
    assert draw.select(seed, HAND_TASK, HAND_POPULATION, HAND_STRATA) == expected
    assert ref_select(seed, HAND_TASK, HAND_POPULATION, HAND_STRATA) == expected
    assert draw.selection_key(seed, HAND_TASK, "B3").hex().startswith("0268ec0b6ea5")


def test_hand_made_matching_with_cap_conflict_and_partner():
    seed = draw.seed_of(HAND_SECRETS, "")
    subjects = ["B3", "Z1", "91110000A3", "91110000A4"]
    # key1 order (first 4 bytes): B3 MS m4 3db6 < m3 831e < m1 ab39 < m2 d581, SAFE s2 006c < s1
    # Z1 MS m4 1e18 < m1 6e5a < m2 81dd < m3 d35b, SAFE s1 868d < s2 8ef2; f1 conflicts with Z1
    # A3 MS m2 1fe0 < m4 38d4 < m1 612b < m3 af0e; A4 MS m3 60a4 < m1 752a < m4 b3fe < m2 c996,
    #    SAFE s1 5eeb < s2 67cc.  Cap 2: m4 is full after Z1, m1 after A3, f1 after A3.
    expected = [
        {"subject_id": "B3", "leader": "m4",
         "members": [["m4", "MS", "MS"], ["m3", "MS", "MS"], ["f1", "FIRE", "FIRE"]]},
        {"subject_id": "Z1", "leader": "m4",
         "members": [["m4", "MS", "MS"], ["m1", "MS", "MS"], ["s1", "SAFE", "FIRE"]]},
        {"subject_id": "91110000A3", "leader": "m2",
         "members": [["m2", "MS", "MS"], ["m1", "MS", "MS"], ["f1", "FIRE", "FIRE"]]},
        {"subject_id": "91110000A4", "leader": "m3",
         "members": [["m3", "MS", "MS"], ["m2", "MS", "MS"], ["s1", "SAFE", "FIRE"]]},
    ]  # fmt: skip
    args = (seed, HAND_TASK, subjects, HAND_DEPARTMENTS, HAND_INSPECTORS, HAND_CONFLICTS, 2)
    groups = draw.match(seed, HAND_TASK, subjects, deps(HAND_DEPARTMENTS), HAND_INSPECTORS,
                        HAND_CONFLICTS, 2)  # fmt: skip
    assert [g.to_json() for g in groups] == expected
    assert ref_outcome(*args, []) == (expected, [])
    # f1 leaves B3: FIRE has nobody else; SAFE: s1 is at the cap, s2 (load 0) comes in
    swap = {"subject_id": "B3", "out": "f1", "reason": "work_conflict", "approved_by": "c"}
    groups, done = impl_outcome(*args, [swap])
    assert done == [{**swap, "in": "s2"}]
    assert groups[0]["members"] == [["m4", "MS", "MS"], ["m3", "MS", "MS"], ["s2", "SAFE", "FIRE"]]
    assert groups[1:] == expected[1:]
    # the leader m4 leaves B3: m1 and m2 are at the cap, m3 is in the group, MS has no partner
    swap = {"subject_id": "B3", "out": "m4", "reason": "health", "approved_by": "c"}
    exc = error_of(impl_outcome, *args, [swap])
    assert exc.code == "swap.no_candidate" and exc.details["department_id"] == "MS"


def test_hand_made_swaps_without_cap():
    seed = draw.seed_of(HAND_SECRETS, "")
    subjects = ["B3", "Z1", "91110000A3", "91110000A4"]
    swaps = [
        {"subject_id": "B3", "out": "m4", "reason": "health", "approved_by": "c"},
        {"subject_id": "B3", "out": "m1", "reason": "post_change", "approved_by": "c"},
    ]
    # no cap: B3 draws m4, m3, f1; m4 out → lowest of m1 (ab39), m2 (d581) = m1, who leads;
    # m1 out → m4 was swapped out of B3 before, m3 is in it: m2 comes in and leads
    expected = [
        {"subject_id": "B3", "leader": "m2",
         "members": [["m2", "MS", "MS"], ["m3", "MS", "MS"], ["f1", "FIRE", "FIRE"]]},
        {"subject_id": "Z1", "leader": "m4",
         "members": [["m4", "MS", "MS"], ["m1", "MS", "MS"], ["s1", "SAFE", "FIRE"]]},
        {"subject_id": "91110000A3", "leader": "m2",
         "members": [["m2", "MS", "MS"], ["m4", "MS", "MS"], ["f1", "FIRE", "FIRE"]]},
        {"subject_id": "91110000A4", "leader": "m3",
         "members": [["m3", "MS", "MS"], ["m1", "MS", "MS"], ["f1", "FIRE", "FIRE"]]},
    ]  # fmt: skip
    done = [{**swaps[0], "in": "m1"}, {**swaps[1], "in": "m2"}]
    args = (seed, HAND_TASK, subjects, HAND_DEPARTMENTS, HAND_INSPECTORS, HAND_CONFLICTS, None)
    assert impl_outcome(*args, swaps) == (expected, done)
    assert ref_outcome(*args, swaps) == (expected, done)


# =============================================================================================
# 3. Random small cases against the reference; shuffled inputs change nothing
# =============================================================================================


def random_case(rng: random.Random) -> dict[str, Any]:
    labels = rng.sample(["A", "B", "C", "D", "3y+", "信用C"], rng.randint(1, 4))
    ids: set[str] = set()
    target = rng.randint(0, 14)
    while len(ids) < target:
        ids.add(rng.choice(["S", "企业", "é-", "9133"]) + str(rng.randrange(300)))
    population = [[sid, rng.choice(labels)] for sid in sorted(ids)]
    strata: dict[str, Any] = {}
    for label in labels + (["EMPTY"] if rng.random() < 0.2 else []):
        if rng.random() < 0.5:
            strata[label] = {"count": rng.randint(0, 4)}
        else:
            strata[label] = {"ratio": rng.choice(RATIOS)}
    dep_ids = [f"D{k}" for k in range(rng.randint(1, 4))]
    outside = [f"P{k}" for k in range(rng.randint(0, 2))]  # partners outside the task
    departments = []
    for k, d in enumerate(dep_ids):
        others = [x for x in dep_ids + outside if x != d]
        departments.append({
            "id": d,
            "need": rng.randint(1, 3) if k == 0 else rng.randint(0, 2),
            "partners": rng.sample(others, rng.randint(0, min(3, len(others)))),
        })  # fmt: skip
    inspectors = [
        [f"{d}-{rng.choice(['i', '检'])}{j}", d]
        for d in dep_ids + outside
        for j in range(rng.randint(0, 4))
    ]
    conflicts = [[i, s] for i, _ in inspectors for s in sorted(ids) if rng.random() < 0.08]
    parties = []
    for n in range(rng.randint(1, 3)):
        secret = rng.randbytes(32)
        p = {"name": f"party-{n}", "commit": hashlib.sha256(secret).hexdigest(),
             "secret": secret.hex()}  # fmt: skip
        if n and rng.random() < 0.3:
            p.update(secret=ZEROS.hex(), revealed=False)
        parties.append(p)
    return {
        "task_id": rng.choice(["T", "任务", "t-x"]) + str(rng.randrange(100)),
        "population": population,
        "strata": strata,
        "parties": parties,
        "beacon": rng.choice(["", "", "drand 4711", "福彩3D 517"]),
        "departments": departments,
        "inspectors": inspectors,
        "conflicts": conflicts,
        "cap": rng.choice([None, None, 1, 2, 3, 4]),
        "swaps": [],
    }


def random_swaps(rng: random.Random, args: tuple) -> list[dict[str, Any]]:
    """0-4 swaps, each valid against the groups as they are after the ones before (and now
    and then a bad one at the end); the last may have no candidate."""
    swaps: list[dict[str, Any]] = []
    for _ in range(rng.randint(0, 4)):
        try:
            groups, _ = ref_outcome(*args, swaps)
        except RefError:
            break
        if not groups:
            break
        g = rng.choice(groups)
        swap = {"subject_id": g["subject_id"], "out": rng.choice(g["members"])[0],
                "reason": rng.choice(REF_REASONS), "approved_by": "coordinator"}  # fmt: skip
        r = rng.random()
        if r < 0.04:
            swap["subject_id"] = "not-drawn"
        elif r < 0.08:
            swap["out"] = "not-a-member"
        elif r < 0.12:
            swap["reason"] = "bored"
        swaps.append(swap)
    return swaps


def run_case(case: dict[str, Any], rng: random.Random, seen: Counter) -> None:
    task, population, strata = case["task_id"], case["population"], case["strata"]
    secrets = ref_secrets(case["parties"])
    seed = draw.seed_of(secrets, case["beacon"])
    assert seed == ref_seed(secrets, case["beacon"])
    assert draw.snapshot_hash(population) == ref_snapshot_hash(population)
    subjects = ref_select(seed, task, population, strata)
    assert draw.select(seed, task, population, strata) == subjects
    args = (seed, task, subjects, case["departments"], case["inspectors"], case["conflicts"],
            case["cap"])  # fmt: skip
    # the draw alone, through match()
    want = outcome_of(lambda: ref_outcome(*args, [])[0])
    got = outcome_of(lambda: [g.to_json() for g in draw.match(*args[:3], deps(args[3]), *args[4:])])
    assert got == want, case
    if failed(want):
        seen[want[1]] += 1
        return
    seen["drawn"] += 1
    seen["partner member"] += any(m[1] != m[2] for g in want for m in g["members"])
    if case["cap"] is not None:
        loads = Counter(m[0] for g in want for m in g["members"])
        seen["cap reached"] += any(v == case["cap"] for v in loads.values())
    # then with swaps
    case["swaps"] = random_swaps(rng, args)
    want = outcome_of(ref_outcome, *args, case["swaps"])
    got = outcome_of(impl_outcome, *args, case["swaps"])
    assert got == want, case
    if failed(want):
        seen[want[1]] += 1
        return
    seen["swaps"] += len(want[1])
    seen["swap from a partner"] += any(
        m[1] != m[2] for g in want[0] for m in g["members"] if m[0] in {s["in"] for s in want[1]}
    )
    # and the whole record: recompute gives it back, verify finds nothing
    record = ref_record(case)
    assert draw.recompute(record) == record
    assert draw.verify(record) == []
    seen["records"] += 1


def test_draw_py_agrees_with_the_reference_on_random_cases():
    rng = random.Random(20260330)
    seen: Counter = Counter()
    for _ in range(2000):
        run_case(random_case(rng), rng, seen)
    # the generator really reached every branch
    branches = ("drawn", "draw.short", "partner member", "cap reached", "swaps",
                "swap from a partner", "swap.no_candidate", "swap.invalid", "records")  # fmt: skip
    for what in branches:
        assert seen[what] >= 5, (what, seen)


def test_shuffling_the_input_rows_changes_nothing():
    rng = random.Random("shuffle")
    checked = 0
    for _ in range(300):
        case = random_case(rng)
        try:
            record = ref_record(case)
        except RefError:
            continue
        seed = bytes.fromhex(record["seed"])
        task = case["task_id"]
        base_subjects = draw.select(seed, task, case["population"], case["strata"])
        base = impl_outcome(seed, task, base_subjects, case["departments"], case["inspectors"],
                            case["conflicts"], case["cap"], case["swaps"])  # fmt: skip
        for _ in range(3):
            population = rng.sample(case["population"], len(case["population"]))
            inspectors = rng.sample(case["inspectors"], len(case["inspectors"]))
            conflicts = rng.sample(case["conflicts"], len(case["conflicts"]))
            assert draw.snapshot_hash(population) == record["snapshot_hash"]
            subjects = draw.select(seed, task, population, case["strata"])
            assert subjects == base_subjects
            assert impl_outcome(seed, task, subjects, case["departments"], inspectors,
                                conflicts, case["cap"], case["swaps"]) == base  # fmt: skip
            shuffled = {**record, "inspectors": inspectors, "conflicts": conflicts}
            assert draw.verify(shuffled) == []
        checked += 1
    assert checked >= 50


# =============================================================================================
# 4. The matching rules, one by one
# =============================================================================================


def one_group(departments, inspectors, conflicts=(), cap=None, subject="S-1") -> dict[str, Any]:
    """draw.match for one subject; departments without `need` get the defaults 2 / 1."""
    groups = draw.match(SEED, TASK, [subject], deps(departments), inspectors, conflicts, cap)
    return groups[0].to_json()


def by_key(subject: str, department: str, inspectors: Sequence[str]) -> list[str]:
    return ranked(SEED, TASK, subject, department, inspectors)


A3 = [["a1", "A"], ["a2", "A"], ["a3", "A"]]


def test_the_initiator_picks_first_and_its_first_pick_leads():
    a = by_key("S-1", "A", ["a1", "a2", "a3"])
    # B has nobody and borrows from A: A (the initiator) takes its two first, B gets the third
    group = one_group([{"id": "A", "need": 2}, {"id": "B", "need": 1, "partners": ["A"]}], A3)
    assert group == {"subject_id": "S-1", "leader": a[0],
                     "members": [[a[0], "A", "A"], [a[1], "A", "A"], [a[2], "A", "B"]]}  # fmt: skip
    # with B as the initiator, B picks first and its pick (an A inspector) leads
    group = one_group([{"id": "B", "need": 1, "partners": ["A"]}, {"id": "A", "need": 2}], A3)
    assert group == {"subject_id": "S-1", "leader": a[0],
                     "members": [[a[0], "A", "B"], [a[1], "A", "A"], [a[2], "A", "A"]]}  # fmt: skip


def test_the_leader_is_the_first_taken_for_the_initiator_even_from_a_partner():
    inspectors = [["a1", "A"], ["p1", "P"], ["p2", "P"], ["b1", "B"]]
    p = by_key("S-1", "P", ["p1", "p2"])
    departments = [{"id": "A", "need": 2, "partners": ["P"]}, {"id": "B", "need": 1}]
    # a1 conflicts with S-1: A's two places go to P's inspectors, the first of them leads
    group = one_group(departments, inspectors, conflicts=[["a1", "S-1"]])
    assert group["leader"] == p[0]
    assert group["members"] == [[p[0], "P", "A"], [p[1], "P", "A"], ["b1", "B", "B"]]
    # without the conflict, a1 comes first and leads, then P's best
    group = one_group(departments, inspectors)
    assert group["leader"] == "a1"
    assert group["members"] == [["a1", "A", "A"], [p[0], "P", "A"], ["b1", "B", "B"]]


def test_need_explicit_values_are_used():
    six = [[f"a{n}", "A"] for n in range(6)] + [["b1", "B"], ["b2", "B"]]
    group = one_group([{"id": "A", "need": 3}, {"id": "B", "need": 0}], six)
    assert [m[2] for m in group["members"]] == ["A", "A", "A"]
    assert [m[0] for m in group["members"]] == by_key("S-1", "A", [f"a{n}" for n in range(6)])[:3]
    group = one_group([{"id": "A", "need": 1}, {"id": "B", "need": 2}], six)
    assert [m[1:] for m in group["members"]] == [["A", "A"], ["B", "B"], ["B", "B"]]


def test_the_default_needs_are_two_and_one():
    """DRAW.md: need is 2 for the initiating department and 1 for each participant."""
    inputs = vector_inputs()["unrevealed"]
    record = ref_record(inputs)
    assert [len(g["members"]) for g in record["groups"]] == [3] * len(record["groups"])
    assert draw.verify(record) == []
    for d in inputs["departments"]:
        del d["need"]
    assert ref_record(inputs)["groups"] == record["groups"]


def test_a_record_without_need_uses_the_defaults():
    inputs = vector_inputs()["unrevealed"]
    for d in inputs["departments"]:
        del d["need"]
    record = ref_record(inputs)
    assert draw.verify(record) == []


def test_partners_are_asked_only_while_short_and_in_their_order():
    inspectors = [["b1", "B"], ["p1", "P1"], ["q1", "P2"], ["q2", "P2"], ["a1", "A"], ["a2", "A"]]
    a = by_key("S-1", "A", ["a1", "a2"])
    # B has its own inspector: no partner is asked, whatever their keys
    group = one_group([{"id": "A"}, {"id": "B", "partners": ["P1", "P2"]}], inspectors)
    assert group["members"] == [[a[0], "A", "A"], [a[1], "A", "A"], ["b1", "B", "B"]]
    # B needs 3: its own b1, then P1's p1, then the best of P2
    q = by_key("S-1", "P2", ["q1", "q2"])
    group = one_group([{"id": "A"}, {"id": "B", "need": 3, "partners": ["P1", "P2"]}], inspectors)
    assert group["members"][2:] == [["b1", "B", "B"], ["p1", "P1", "B"], [q[0], "P2", "B"]]
    # partners in the other order: P2 first, and it suffices
    group = one_group([{"id": "A"}, {"id": "B", "need": 3, "partners": ["P2", "P1"]}], inspectors)
    assert group["members"][2:] == [["b1", "B", "B"], [q[0], "P2", "B"], [q[1], "P2", "B"]]
    # P1's only inspector conflicts: P2 fills in
    group = one_group([{"id": "A"}, {"id": "B", "need": 2, "partners": ["P1", "P2"]}],
                      inspectors, conflicts=[["p1", "S-1"]])  # fmt: skip
    assert group["members"][2:] == [["b1", "B", "B"], [q[0], "P2", "B"]]


def _with_defaults(departments):
    return [{**d, "need": ref_need(d, n)} for n, d in enumerate(departments)]


def test_no_inspector_twice_in_a_group():
    four = [[f"a{n}", "A"] for n in range(4)]
    group = one_group([{"id": "A"}, {"id": "B", "need": 2, "partners": ["A", "A"]}], four)
    names = [m[0] for m in group["members"]]
    assert len(names) == len(set(names)) == 4
    exc = error_of(one_group, [{"id": "A"}, {"id": "B", "need": 2, "partners": ["A"]}], A3)
    assert exc.code == "draw.short" and exc.details["department_id"] == "B"


def test_conflicts_are_honoured():
    a = by_key("S-1", "A", ["a1", "a2", "a3"])
    group = one_group([{"id": "A"}], A3, conflicts=[[a[0], "S-1"]])
    assert [m[0] for m in group["members"]] == [a[1], a[2]]
    group = one_group([{"id": "A"}], A3, conflicts=[[a[0], "S-2"]])  # another subject's
    assert [m[0] for m in group["members"]] == [a[0], a[1]]


def test_the_cap_holds_across_the_whole_draw():
    subjects = [f"S-{n}" for n in range(6)]
    six = [[f"a{n}", "A"] for n in range(6)]
    for cap in (1, 2, 3):
        count = {1: 3, 2: 6, 3: 6}[cap]
        groups = draw.match(SEED, TASK, subjects[:count], deps([{"id": "A", "need": 2}]), six,
                            (), cap)  # fmt: skip
        loads = Counter(m[0] for g in groups for m in g.members)
        assert max(loads.values()) <= cap
        assert sum(loads.values()) == 2 * count
        assert [g.to_json() for g in groups] == ref_outcome(
            SEED, TASK, subjects[:count], [{"id": "A", "need": 2}], six, (), cap, []
        )[0]
    # cap 1 and 6 inspectors: a fourth subject cannot be served, and the error says so
    exc = error_of(draw.match, SEED, TASK, subjects[:4], deps([{"id": "A", "need": 2}]), six,
                   (), 1)  # fmt: skip
    assert exc.code == "draw.short"
    assert exc.details["department_id"] == "A" and exc.details["subject_id"] == subjects[3]


def test_a_department_short_even_with_partners_fails_naming_it():
    inspectors = [*A3, ["p1", "P"]]
    for departments, conflicts, short in [
        ([{"id": "A"}, {"id": "B", "partners": ["P"]}], [["p1", "S-1"]], "B"),
        ([{"id": "A"}, {"id": "B", "need": 2, "partners": ["P"]}], [], "B"),
        ([{"id": "A", "need": 4}, {"id": "B", "partners": ["P"]}], [], "A"),
        ([{"id": "A", "need": 5, "partners": ["P"]}], [], "A"),
        ([{"id": "A"}, {"id": "B", "partners": ["NOBODY"]}, {"id": "C"}], [], "B"),
    ]:
        exc = error_of(one_group, departments, inspectors, conflicts)
        assert exc.code == "draw.short", departments
        assert exc.details["department_id"] == short
        assert short in str(exc)
        with pytest.raises(RefError) as ref:
            ref_match(SEED, TASK, ["S-1"], _with_defaults(departments),
                      RefPool(inspectors, conflicts, None))  # fmt: skip
        assert ref.value.department == short


def test_fewer_than_two_inspectors_in_all_fails():
    for departments in ([{"id": "A", "need": 1}], [{"id": "A", "need": 1}, {"id": "B", "need": 0}]):
        exc = error_of(one_group, departments, [*A3, ["b1", "B"]])
        assert exc.code == "draw.short"
        assert exc.details["department_id"] == "A"


# =============================================================================================
# 5. The swap rules, one by one
# =============================================================================================

SWAP_DEPS = [{"id": "A", "need": 2, "partners": ["PA"]}, {"id": "B", "need": 1, "partners": ["Q"]}]
SWAP_POOL = [["a1", "A"], ["a2", "A"], ["a3", "A"], ["pa1", "PA"], ["b1", "B"], ["b2", "B"],
             ["q1", "Q"], ["q2", "Q"]]  # fmt: skip


def swap(subject: str, out: str, reason: str = "health") -> dict[str, Any]:
    return {"subject_id": subject, "out": out, "reason": reason, "approved_by": "c-1"}


def swapped(swaps, subjects=("S-1",), departments=SWAP_DEPS, inspectors=SWAP_POOL,
            conflicts=(), cap=None):  # fmt: skip
    args = (SEED, TASK, list(subjects), departments, inspectors, list(conflicts), cap)
    got = impl_outcome(*args, swaps)
    assert got == ref_outcome(*args, swaps)
    return got


def test_swap_in_comes_from_outs_department_first_then_the_served_departments_partners():
    (before,), _ = swapped([])
    a = by_key("S-1", "A", ["a1", "a2", "a3"])
    b = by_key("S-1", "B", ["b1", "b2"])
    q = by_key("S-1", "Q", ["q1", "q2"])
    assert before["members"] == [[a[0], "A", "A"], [a[1], "A", "A"], [b[0], "B", "B"]]
    # A's member out: A's third inspector, never PA's while A has someone
    (g,), done = swapped([swap("S-1", a[1])])
    assert g["members"][1] == [a[2], "A", "A"] and done[0]["in"] == a[2]
    # B's member out: B's other one; out again: B is exhausted, Q's best; again: Q's other
    steps = [swap("S-1", b[0]), swap("S-1", b[1]), swap("S-1", q[0])]
    (g,), done = swapped(steps)
    assert [d["in"] for d in done] == [b[1], q[0], q[1]]
    assert g["members"][2] == [q[1], "Q", "B"]
    # and once Q is exhausted too: no candidate, naming B
    exc = error_of(impl_outcome, SEED, TASK, ["S-1"], SWAP_DEPS, SWAP_POOL, [], None,
                   [*steps, swap("S-1", q[1])])  # fmt: skip
    assert exc.code == "swap.no_candidate" and exc.details["department_id"] == "B"


def test_a_partner_members_replacement_comes_from_its_own_department_first():
    departments = [{"id": "A", "need": 2}, {"id": "B", "need": 1, "partners": ["P1", "P2"]}]
    inspectors = [["a1", "A"], ["a2", "A"], ["x1", "P1"], ["x2", "P1"], ["y1", "P2"]]
    (g,), _ = swapped([], departments=departments, inspectors=inspectors)
    x = by_key("S-1", "P1", ["x1", "x2"])
    assert g["members"][2] == [x[0], "P1", "B"]
    (g,), _ = swapped([swap("S-1", x[0])], departments=departments, inspectors=inspectors)
    assert g["members"][2] == [x[1], "P1", "B"]
    (g,), _ = swapped([swap("S-1", x[0]), swap("S-1", x[1])], departments=departments,
                         inspectors=inspectors)  # fmt: skip
    assert g["members"][2] == ["y1", "P2", "B"]


def test_swap_excludes_members_out_and_everyone_swapped_out_of_that_group_before():
    six = [[f"a{n}", "A"] for n in range(6)]
    a = by_key("S-1", "A", [f"a{n}" for n in range(6)])
    (g,), done = swapped([swap("S-1", a[0]), swap("S-1", a[2]), swap("S-1", a[3])],
                         departments=[{"id": "A", "need": 2}], inspectors=six)  # fmt: skip
    # a[0] out → a[2] (a[1] is a member); a[2] out → a[3] (a[0] is out before); a[3] out → a[4]
    assert [d["in"] for d in done] == [a[2], a[3], a[4]]
    assert g["members"] == [[a[4], "A", "A"], [a[1], "A", "A"]]
    # in another group, a[0] is still a candidate
    b = by_key("S-2", "A", [f"a{n}" for n in range(6)])
    _, done = swapped([swap("S-1", a[0]), swap("S-2", b[0])], subjects=("S-1", "S-2"),
                      departments=[{"id": "A", "need": 2}], inspectors=six)  # fmt: skip
    assert done[1]["in"] == b[2]


def test_swap_honours_conflicts_and_takes_the_lowest_key1():
    six = [[f"a{n}", "A"] for n in range(6)]
    a = by_key("S-1", "A", [f"a{n}" for n in range(6)])
    _, done = swapped([swap("S-1", a[1])], departments=[{"id": "A", "need": 2}], inspectors=six)
    assert done[0]["in"] == a[2] == min(a[2:], key=lambda i: ref_key1(SEED, TASK, "S-1", "A", i))
    _, done = swapped([swap("S-1", a[1])], departments=[{"id": "A", "need": 2}],
                      inspectors=six, conflicts=[[a[2], "S-1"], [a[3], "S-1"]])  # fmt: skip
    assert done[0]["in"] == a[4]


def test_swap_cap_counts_the_loads_after_the_draw_and_earlier_swaps_and_order_matters():
    five = [[f"a{n}", "A"] for n in range(5)]
    one = [{"id": "A", "need": 2}]
    groups, _ = swapped([], subjects=("S-1", "S-2"), departments=one, inspectors=five, cap=1)
    in_1 = [m[0] for m in groups[0]["members"]]
    in_2 = [m[0] for m in groups[1]["members"]]
    (free,) = {r[0] for r in five} - set(in_1) - set(in_2)
    # S-1's leader out: only `free` is under the cap; then S-2's leader out: only S-1's old
    # leader is under the cap now (its load dropped back to 0)
    steps = [swap("S-1", in_1[0]), swap("S-2", in_2[0])]
    groups, done = swapped(steps, subjects=("S-1", "S-2"), departments=one, inspectors=five, cap=1)
    assert [d["in"] for d in done] == [free, in_1[0]]
    assert groups[0]["leader"] == free and groups[1]["leader"] == in_1[0]
    # the other order: S-2 gets `free`, and S-1 then gets S-2's old leader
    groups, done = swapped(steps[::-1], subjects=("S-1", "S-2"), departments=one,
                           inspectors=five, cap=1)  # fmt: skip
    assert [d["in"] for d in done] == [free, in_2[0]]


def test_in_takes_outs_place_and_the_leader_passes_on_only_from_the_leader():
    (g,), _ = swapped([])
    (after,), done = swapped([swap("S-1", g["members"][1][0])])
    assert after["leader"] == g["leader"]  # a non-leader out: the leader stays
    assert after["members"][0] == g["members"][0] and after["members"][2] == g["members"][2]
    assert after["members"][1][0] == done[0]["in"]
    (after,), done = swapped([swap("S-1", g["leader"])])
    assert after["leader"] == done[0]["in"] == after["members"][0][0]
    assert after["members"][1:] == g["members"][1:]


@pytest.mark.parametrize(
    "bad",
    [{"subject_id": "S-9"}, {"subject_id": None}, {"out": "nobody"}, {"out": "a-not-drawn"},
     {"reason": "bored"}, {"reason": None}, {"approved_by": ""}, {"approved_by": None}],
)  # fmt: skip
def test_a_bad_swap_is_swap_invalid(bad):
    inspectors = [*SWAP_POOL, ["a-not-drawn", "Z"]]  # an inspector of no department in the task
    (g,), _ = swapped([], inspectors=inspectors)
    request = {**swap("S-1", g["members"][0][0]), **bad}
    args = (SEED, TASK, ["S-1"], SWAP_DEPS, inspectors, [], None, [request])
    assert error_of(impl_outcome, *args).code == "swap.invalid"
    with pytest.raises(RefError) as ref:
        ref_outcome(*args)
    assert ref.value.code == "swap.invalid"


def test_swapping_out_someone_already_swapped_out_is_swap_invalid():
    (g,), _ = swapped([])
    out = g["members"][0][0]
    exc = error_of(impl_outcome, SEED, TASK, ["S-1"], SWAP_DEPS, SWAP_POOL, [], None,
                   [swap("S-1", out), swap("S-1", out)])  # fmt: skip
    assert exc.code == "swap.invalid"


def test_a_swap_without_candidate_is_swap_no_candidate():
    two = [["a1", "A"], ["a2", "A"]]
    exc = error_of(impl_outcome, SEED, TASK, ["S-1"], [{"id": "A", "need": 2}], two, [], None,
                   [swap("S-1", "a1")])  # fmt: skip
    assert exc.code == "swap.no_candidate" and exc.details["department_id"] == "A"


# =============================================================================================
# 6. Statistics of the selection
# =============================================================================================

# The 0.95 quantiles of chi-square with df degrees of freedom (scipy.stats.chi2.ppf(0.95, df);
# scipy is not installed in .venv, so the standard table values are written here).
CHI2_95 = {4: 9.488, 6: 12.592, 11: 19.675, 21: 32.671}


def test_every_subject_is_drawn_with_its_strata_probability():
    strata = {"A": {"ratio": "0.25"}, "B": {"count": 2}, "C": {"ratio": "0.5"}, "D": {"count": 1}}
    sizes = {"A": 12, "B": 7, "C": 5, "D": 1}
    population = [[f"{st}{n:02d}", st] for st, size in sizes.items() for n in range(size)]
    quotas = {st: draw.quota(strata[st], sizes[st]) for st in sizes}
    assert quotas == {"A": 3, "B": 2, "C": 3, "D": 1}
    stratum_of = dict(map(tuple, population))
    rng = random.Random(4711)
    runs = 10_000
    counts: Counter = Counter()
    for _ in range(runs):
        seed = draw.seed_of([rng.randbytes(32)], "")
        subjects = draw.select(seed, "T-stats", population, strata)
        assert len(set(subjects)) == len(subjects)
        assert Counter(stratum_of[s] for s in subjects) == quotas  # exact in every draw
        counts.update(subjects)
    assert counts[population[-1][0]] == runs  # D: 1 of 1, always
    # Each draw takes k of the n subjects of a stratum uniformly. Over N draws, the count X_i
    # of subject i has mean N·p (p = k/n) and the counts' covariance is
    # c·(I − J/n) with c = N·p(1−p)·n/(n−1), so Σ (X_i − N·p)² / c follows chi-square with
    # n − 1 degrees of freedom (Pearson's Σ (X − E)²/E would be smaller by (1−p)·n/(n−1)).
    total, df_total = 0.0, 0
    for st in ("A", "B", "C"):
        n, k = sizes[st], quotas[st]
        p = Fraction(k, n)
        c = runs * p * (1 - p) * n / (n - 1)
        statistic = float(
            sum((counts[sid] - runs * p) ** 2 for sid, s in population if s == st) / c
        )
        assert statistic < CHI2_95[n - 1], (st, statistic, counts)
        total += statistic
        df_total += n - 1
    assert total < CHI2_95[df_total], total


# =============================================================================================
# 7. verify(): a valid record verifies, every tampering is reported
# =============================================================================================


def _vector(name: str) -> dict[str, Any]:
    return json.loads((VECTOR_DIR / f"{name}.json").read_text(encoding="ascii"))


def test_the_vectors_on_disk_are_what_the_reference_builds():
    assert VECTORS == ["beacon.json", "partner.json", "swap.json", "unrevealed.json"]
    built = build_vectors()
    for name, record in built.items():
        text = (VECTOR_DIR / f"{name}.json").read_text(encoding="ascii")
        assert text == vector_text(record), name
        assert draw.recompute(record) == record
        assert draw.verify(record) == []
    # each shows what it is named for
    assert len(built["swap"]["swaps"]) == 2
    assert built["swap"]["swaps"][0]["out"] not in [
        m[0] for m in built["swap"]["groups"][0]["members"]
    ]
    assert built["unrevealed"]["parties"][1]["revealed"] is False
    assert built["unrevealed"]["parties"][1]["secret"] == "00" * 32
    assert any(m[1] == "ENV-CITY" and m[2] == "ENV" for g in built["partner"]["groups"]
               for m in g["members"])  # fmt: skip
    assert any(m[1] == "ENV-PROV" for g in built["partner"]["groups"] for m in g["members"])
    assert built["beacon"]["beacon"] == "福彩3D 2026330期 517"
    assert any(m[1] == "应急管理" for g in built["beacon"]["groups"] for m in g["members"])


def _tamperings(record: dict[str, Any]) -> dict[str, Any]:
    """name → a function changing one thing in a copy of the record."""

    def other_subject(r):
        drawn = set(r["subjects"])
        r["subjects"][0] = next(sid for sid, _ in r["population"] if sid not in drawn)

    def first_group(r):
        return r["groups"][0]

    return {
        "a changed subject": other_subject,
        "subjects reordered": lambda r: r["subjects"].reverse(),
        "a group's members reordered": lambda r: first_group(r)["members"].reverse(),
        "a changed leader": lambda r: first_group(r).update(leader=first_group(r)["members"][1][0]),
        "a changed member": lambda r: first_group(r)["members"][1].__setitem__(0, "someone"),
        "a changed served department": lambda r: first_group(r)["members"][0].__setitem__(2, "X"),
        "groups reordered": lambda r: r["groups"].reverse(),
        "a group dropped": lambda r: r["groups"].pop(),
        "a wrong seed": lambda r: r.update(seed="00" * 32),
        "a wrong snapshot_hash": lambda r: r.update(snapshot_hash="ab" * 32),
        "a secret not matching its commit": lambda r: r["parties"][0].update(secret="11" * 32),
        "a commit not matching its secret": lambda r: r["parties"][0].update(commit="22" * 32),
        "a changed beacon": lambda r: r.update(beacon=r["beacon"] + "1"),
        "a changed task id": lambda r: r.update(task_id=r["task_id"] + "x"),
        "a float ratio": lambda r: r["strata"].update({k: {"ratio": 0.5} for k in r["strata"]}),
        "a ratio above 1": lambda r: r["strata"].update({k: {"ratio": "1.5"} for k in r["strata"]}),
        "a stratum without a rule": lambda r: r["strata"].pop(next(iter(r["strata"]))),
        "a duplicate subject": lambda r: r["population"].append(list(r["population"][0])),
        "a subject added": lambda r: r["population"].append(["ZZZ", r["population"][0][1]]),
        "population unsorted": lambda r: r["population"].reverse(),
        "a changed need": lambda r: r["departments"][1].update(need=3),
        "a conflict added": lambda r: r["conflicts"].append(
            [first_group(r)["leader"], first_group(r)["subject_id"]]
        ),
        "a cap of 1": lambda r: r.update(cap=1),
        "the version": lambda r: r.update(v=2),
    }  # fmt: skip


@pytest.mark.parametrize("name", ["swap", "unrevealed", "partner", "beacon"])
def test_every_single_tampering_is_reported(name):
    record = _vector(name)
    assert draw.verify(record) == []
    for what, change in _tamperings(record).items():
        bad = copy.deepcopy(record)
        change(bad)
        assert bad != record, what
        problems = draw.verify(bad)
        assert isinstance(problems, list) and problems, (name, what)
        assert all(isinstance(p, str) and p for p in problems)


def test_tampering_with_swaps_and_unrevealed_parties_is_reported():
    record = _vector("swap")
    changes = {
        "a changed swap in": lambda r: r["swaps"][0].update(**{"in": "mkt-4"}),
        "a swap dropped": lambda r: r["swaps"].pop(),
        "a changed swap reason": lambda r: r["swaps"][0].update(reason="bored"),
        "a changed swap out": lambda r: r["swaps"][1].update(out="mkt-9"),
    }
    for what, change in changes.items():
        bad = copy.deepcopy(record)
        change(bad)
        assert draw.verify(bad), what
    record = _vector("unrevealed")
    for what, change in {
        "unrevealed with a non-zero secret": lambda r: r["parties"][1].update(secret="01" * 32),
        "unrevealed flag dropped": lambda r: r["parties"][1].pop("revealed"),
        "a revealed party marked unrevealed": lambda r: r["parties"][0].update(revealed=False),
    }.items():
        bad = copy.deepcopy(record)
        change(bad)
        assert draw.verify(bad), what


def test_a_lone_surrogate_is_reported_not_raised():
    for change in (
        lambda r: r.update(beacon="\ud800"),
        lambda r: r["departments"][1].update(id="\ud800"),
    ):
        bad = _vector("beacon")
        change(bad)
        try:
            problems = draw.verify(bad)
        except UnicodeError as exc:
            raise AssertionError(f"verify raised {exc!r}") from exc
        assert problems


# =============================================================================================
# 8. The CLI: `onevisit draw verify FILE`
# =============================================================================================


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "onevisit"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "onevisit.cli"]
    return subprocess.run(
        [*cmd, "draw", "verify", *args], input=stdin, capture_output=True, timeout=60
    )


@pytest.mark.parametrize("name", VECTORS)
def test_the_cli_verifies_each_vector(name):
    done = _cli(str(VECTOR_DIR / name))
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err
    record = _vector(name[:-5])
    assert out.startswith(f"OK: draw record of task {record['task_id']}")
    assert record["seed"] in out and err == ""


def test_the_cli_reports_a_tampered_copy_a_bad_file_and_reads_stdin(tmp_path):
    record = _vector("swap")
    bad = copy.deepcopy(record)
    bad["groups"][0]["members"].reverse()
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    done = _cli(str(path))
    assert done.returncode == 1 and done.stdout == b""
    assert b"FAILED" in done.stderr and b"groups" in done.stderr
    # not JSON, or no file at all: exit 2
    path = tmp_path / "not.json"
    path.write_text("this is not JSON {", encoding="utf-8")
    for target in (str(path), str(tmp_path / "missing.json")):
        done = _cli(target)
        assert done.returncode == 2 and b"cannot read" in done.stderr
    # standard input
    done = _cli("-", stdin=(VECTOR_DIR / "beacon.json").read_bytes())
    assert done.returncode == 0 and done.stdout.startswith(b"OK")
    done = _cli("-", stdin=json.dumps(bad).encode())
    assert done.returncode == 1 and b"FAILED" in done.stderr
    done = _cli("-", stdin=b"\xff\xfe")
    assert done.returncode == 2


if __name__ == "__main__":  # write the vectors
    for _name, _record in build_vectors().items():
        (VECTOR_DIR / f"{_name}.json").write_text(vector_text(_record), encoding="ascii")


def test_a_field_of_the_wrong_type_is_reported_not_raised():
    bad = _vector("swap")
    bad["swaps"][0]["subject_id"] = ["not", "a", "string"]
    assert draw.verify(bad)
