"""The demo data set: shape, referential integrity, valid identifiers, determinism."""

from __future__ import annotations

import collections
import datetime
import hashlib
import os
import re
import subprocess
import sys
from decimal import Decimal

from onevisit.demo.dataset import (
    LAT_RANGE,
    LON_RANGE,
    METHODS,
    REGIONS,
    DemoDataset,
    build_demo_dataset,
    regno_check_digit,
)
from onevisit.directory.uscc import IdKind, classify_subject_id, is_valid_regno, is_valid_uscc

DS = build_demo_dataset()
KINDS = {
    "enterprise",
    "individual",
    "cooperative",
    "organisation",
    "product",
    "project",
    "behaviour",
}
REGION_CODES = {r[0] for r in REGIONS}


def test_regions_are_luoyangs_fourteen_counties_and_districts():
    assert len(REGION_CODES) == 14
    assert all(code.startswith("4103") for code in REGION_CODES)


def test_departments():
    codes = [d.code for d in DS.departments]
    assert len(codes) >= 6 and len(set(codes)) == len(codes)
    assert {"scjg", "sthj", "jtys", "nync", "whly", "wsjk"} <= set(codes)
    assert len({d.name for d in DS.departments}) == len(codes)
    for dept in DS.departments:
        assert dept.partners, dept.code
        assert set(dept.partners) <= set(codes)
        assert dept.code not in dept.partners
        assert len(set(dept.partners)) == len(dept.partners)
    by_code = {d.code: d for d in DS.departments}
    assert "wsjk" in by_code["scjg"].partners and "scjg" in by_code["wsjk"].partners
    assert "sthj" in by_code["yjgl"].partners


def test_matters():
    dept_codes = {d.code for d in DS.departments}
    codes = [m.code for m in DS.matters]
    assert len(codes) >= 30 and len(set(codes)) == len(codes)
    per_dept = collections.Counter(m.department for m in DS.matters)
    assert set(per_dept) == dept_codes and min(per_dept.values()) >= 4
    for m in DS.matters:
        assert m.department in dept_codes
        assert re.fullmatch(rf"{m.department}-\d{{3}}", m.code)
        assert m.category in ("key", "general")
        if m.category == "key":
            assert m.ratio_cap is None, m.code
        else:
            assert m.ratio_cap is not None and Decimal("0") < Decimal(m.ratio_cap) < 1, m.code
        assert m.name.endswith(("检查", "抽查")) and m.basis.startswith("《") and m.content
        assert m.methods and set(m.methods) <= set(METHODS)
        assert list(m.methods) == sorted(m.methods, key=METHODS.index)
        assert m.subject_kinds and set(m.subject_kinds) <= KINDS
        assert 3 <= len(m.items) <= 8, m.code
        assert all(item.text and item.basis.startswith("《") for item in m.items)
        assert len({item.text for item in m.items}) == len(m.items)
    assert {"key", "general"} == {m.category for m in DS.matters}
    assert len({(m.department, m.name) for m in DS.matters}) == len(DS.matters)


def test_subject_counts_and_kinds():
    assert len(DS.subjects) == 2000
    kinds = collections.Counter(s.kind for s in DS.subjects)
    assert set(kinds) <= KINDS
    assert kinds["enterprise"] + kinds["individual"] > 1600
    assert kinds["cooperative"] > 0 and kinds["organisation"] > 0
    assert 0 < kinds["product"] + kinds["project"] + kinds["behaviour"] <= 100
    # every matter's subject kinds exist in the directory
    assert {k for m in DS.matters for k in m.subject_kinds} <= set(kinds)


def test_subject_ids_are_unique_and_valid():
    ids = [s.subject_id for s in DS.subjects]
    assert len(set(ids)) == len(ids)
    assert len({s.name for s in DS.subjects}) == len(ids)
    regnos = 0
    for s in DS.subjects:
        id_kind = classify_subject_id(s.subject_id)
        if s.kind in ("enterprise", "cooperative", "organisation"):
            assert id_kind is IdKind.uscc and is_valid_uscc(s.subject_id), s
            assert s.subject_id[2:6] == "4103"
        elif s.kind == "individual":
            if id_kind is IdKind.regno:
                regnos += 1
                assert is_valid_regno(s.subject_id), s
                assert s.subject_id[:6] == s.region_code
            else:
                assert is_valid_uscc(s.subject_id) and s.subject_id[:2] == "92", s
        else:
            assert id_kind is IdKind.other
            assert re.fullmatch(r"(CP|XM|XW)-2026-\d{4}", s.subject_id)
    individuals = sum(s.kind == "individual" for s in DS.subjects)
    assert 0.02 * individuals < regnos < 0.10 * individuals
    prefixes = {s.subject_id[:2] for s in DS.subjects if s.kind in ("enterprise", "cooperative")}
    assert prefixes == {"91", "93"}


def test_regno_check_digit_matches_the_validator():
    body = "41031160012345"
    good = body + regno_check_digit(body)
    assert is_valid_regno(good)
    assert sum(is_valid_regno(body + d) for d in "0123456789") == 1


def test_subject_attributes():
    for s in DS.subjects:
        assert s.region_code in REGION_CODES
        assert s.address.startswith("洛阳市") and ("号" in s.address or "组" in s.address)
        assert (s.lat_e6 is None) == (s.lon_e6 is None)
        if s.lat_e6 is not None:
            assert LAT_RANGE[0] <= s.lat_e6 <= LAT_RANGE[1]
            assert LON_RANGE[0] <= s.lon_e6 <= LON_RANGE[1]
        assert re.fullmatch(r"[A-T]\d{4}", s.industry_code), s.industry_code
        assert s.credit_class in "ABCD" and len(s.credit_class) == 1
        if s.last_inspected is not None:
            assert datetime.date(2022, 1, 1) <= s.last_inspected <= datetime.date(2026, 11, 25)
            assert s.last_inspected.weekday() < 5
        assert len(s.legal_representative) >= 2
        assert len(set(s.tags)) == len(s.tags)
    located = sum(s.lat_e6 is not None for s in DS.subjects)
    assert located > 0.9 * len(DS.subjects)
    assert any(s.last_inspected is None for s in DS.subjects)
    assert {s.region_code for s in DS.subjects} == REGION_CODES


def test_credit_classes_are_skewed_and_flags_sit_on_bad_credit():
    share = collections.Counter(s.credit_class for s in DS.subjects)
    n = len(DS.subjects)
    assert 0.25 < share["A"] / n < 0.35
    assert 0.45 < share["B"] / n < 0.55
    assert 0.11 < share["C"] / n < 0.19
    assert 0.02 < share["D"] / n < 0.08
    abnormal = [s for s in DS.subjects if s.abnormal]
    serious = [s for s in DS.subjects if s.serious_violation]
    assert 0 < len(serious) < len(abnormal) < 0.1 * n
    assert sum(s.credit_class in "CD" for s in abnormal) > 0.7 * len(abnormal)
    assert all(s.credit_class in "CD" for s in serious)


def test_inspectors():
    dept_codes = {d.code for d in DS.departments}
    subject_ids = {s.subject_id for s in DS.subjects}
    assert len(DS.inspectors) == 60
    codes = [i.code for i in DS.inspectors]
    assert len(set(codes)) == len(codes)
    assert len({i.certificate_no for i in DS.inspectors}) == 60
    assert len({i.name for i in DS.inspectors}) == 60
    per_dept = collections.Counter(i.department for i in DS.inspectors)
    assert set(per_dept) == dept_codes and min(per_dept.values()) >= 6
    assert per_dept.most_common(1)[0][0] == "scjg"
    assert sum(not i.active for i in DS.inspectors) == 2
    assert sum(bool(i.conflicts) for i in DS.inspectors) >= 3
    for i in DS.inspectors:
        assert i.department in dept_codes
        assert re.fullmatch(r"豫A4103\d{7}", i.certificate_no)
        assert i.post and i.expertise and len(i.name) >= 2
        assert set(i.conflicts) <= subject_ids


def test_users():
    dept_codes = {d.code for d in DS.departments}
    inspectors = {i.code: i for i in DS.inspectors}
    names = [u.name for u in DS.users]
    assert len(set(names)) == len(names)
    roles = collections.Counter(u.role for u in DS.users)
    assert set(roles) == {"admin", "coordinator", "leader", "inspector"}
    admin = [u for u in DS.users if u.role == "admin"]
    assert [u.name for u in admin] == ["演示管理员"] and admin[0].department is None
    assert sorted(u.department for u in DS.users if u.role == "coordinator") == sorted(dept_codes)
    (leader,) = (u for u in DS.users if u.role == "leader")
    assert leader.department == "scjg" and inspectors[leader.inspector_code].department == "scjg"
    field_users = [u for u in DS.users if u.role == "inspector"]
    assert len(field_users) >= 4
    assert len({u.department for u in field_users}) >= 3
    for u in DS.users:
        if u.inspector_code is not None:
            inspector = inspectors[u.inspector_code]
            assert inspector.active and inspector.name == u.name
            assert inspector.department == u.department
        if u.department is not None:
            assert u.department in dept_codes


def _digest(ds: DemoDataset) -> str:
    return hashlib.sha256(repr(ds).encode()).hexdigest()


def test_deterministic_within_a_process():
    again = build_demo_dataset.__wrapped__()
    assert again == DS and again is not DS
    assert build_demo_dataset() is DS


def test_deterministic_across_processes_and_hash_seeds():
    code = (
        "import hashlib; from onevisit.demo.dataset import build_demo_dataset as b; "
        "print(hashlib.sha256(repr(b()).encode()).hexdigest())"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    digests = set()
    for seed in ("1", "2"):
        env["PYTHONHASHSEED"] = seed
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert digests == {_digest(DS)}
