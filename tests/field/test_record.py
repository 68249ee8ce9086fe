"""The inspection record: what it holds, what it leaves out, and its hash."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from onevisit.evidence.jcs import canonical_evidence
from onevisit.field.model import SubjectInfo
from onevisit.field.projection import project_visit
from onevisit.field.record import RECORD_KIND, build_record, record_hash, short_code
from tests.field.factory import (
    INFO,
    NOW,
    SITE,
    Scene,
    assertion,
    body,
    full_visit,
    matter,
    media,
    near,
    visit_info,
)


def walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        assert all(isinstance(k, str) and k.isascii() for k in value)
        return [x for v in value.values() for x in walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in walk(v)]
    return [value]


def test_record_content() -> None:
    s = full_visit()
    s.add("u1", "witness", body("witness"))
    st = s.state()
    rec = build_record(st, INFO)
    assert rec["kind"] == RECORD_KIND and rec["visit"] == INFO.visit
    assert rec["subject"] == {"id": "91330100MA27XXXX0X", "name": "杭州某某餐饮有限公司",
                              "address": "杭州市西湖区某路1号"}  # fmt: skip
    assert rec["task"] == {"code": "T2026-001", "name": "2026年餐饮单位部门联合抽查"}
    assert rec["members"][0] == {
        "inspector": "SC001",
        "name": "张伟",
        "department": "SCJG",
        "served": "SCJG",
        "role": "leader",
        "certificate": "33010001",
    }
    assert "certificate" not in rec["members"][2]
    assert [m["code"] for m in rec["matters"]] == ["SC-01", "HB-01", "YJ-01"]
    hb = rec["matters"][1]
    assert hb["result_code"] == "corrected" and hb["disposition"] == "order_correction"
    assert hb["items"][1] == {
        "position": 1,
        "text": "台账是否完整",
        "result": "non_compliant",
        "by": ["HB001"],
        "note": "台账缺2025年12月记录",
        "media": [],
    }
    assert [c["inspector"] for c in rec["checkins"]] == ["HB001", "SC001", "SC002", "YJ001"]
    assert rec["checkins"][0] == {"inspector": "HB001", "at": rec["checkins"][0]["at"],
                                  "reason": "室内无定位信号"}  # fmt: skip
    assert rec["notes"][0]["text"] == "已当场责令补记台账" and rec["notes"][0]["by"] == "HB001"
    assert rec["photos"][0]["sha256"] == media("p1")["sha256"]
    assert rec["media"] == sorted({media("p1")["sha256"], media("t1", "audio/mp4")["sha256"]})
    assert rec["witnesses"] == [st.witnesses[0].hash]
    # Only strings and integers: no floats, booleans or nulls; witnesses' persons stay out.
    assert all(type(v) in (str, int) for v in walk(rec))
    raw = canonical_evidence(rec).decode()
    assert "赵敏" not in raw and "13800000000" not in raw and "u1" not in raw


def test_hash_and_short_code() -> None:
    st = full_visit().state()
    rec = build_record(st, INFO)
    h = record_hash(rec)
    assert h == hashlib.sha256(canonical_evidence(rec)).hexdigest() == st.record_hash
    assert short_code(h) == h[:8] and len(short_code(h)) == 8


def test_strings_are_nfc() -> None:
    decomposed = "Cafe\u0301 北京"
    info = visit_info(subject=SubjectInfo("S1", decomposed, "", *SITE))
    rec = build_record(project_visit(visit=info, events=[], now_ms=NOW), info)
    assert rec["subject"]["name"] == unicodedata.normalize("NFC", decomposed)


def test_acts_about_the_record_do_not_change_it() -> None:
    s = full_visit()
    h = s.state().record_hash
    s.add("u1", "signature", dict(body("signature"), record_hash=h))
    s.add("u2", "signature_refused", dict(body("signature_refused"), record_hash=h))
    s.add("u3", "record_confirmed", {"record_hash": h, "method": "webauthn",
                                     "assertion": assertion(h)})  # fmt: skip
    s.add("u1", "checkin", near(50))  # a second check-in: the record keeps the arrival
    assert s.state().record_hash == h


def test_conflicts_are_shown_as_such() -> None:
    s = Scene()
    s.item("u1", "SC-01", 0, "compliant")
    s.item("u2", "SC-01", 0, "not_applicable")
    s.add("u1", "matter_result", {"matter": "SC-01", "result_code": "no_problem"})
    s.add("u2", "matter_result", {"matter": "SC-01", "result_code": "corrected"})
    rec = build_record(s.state(), INFO)
    sc = rec["matters"][0]
    assert sc["items"][0] == {"position": 0, "text": "是否悬挂营业执照",
                              "conflict": ["compliant", "not_applicable"]}  # fmt: skip
    assert sc["result_conflict"] == ["corrected", "no_problem"] and "result_code" not in sc
    assert sc["items"][1] == {"position": 1, "text": "登记事项是否一致"}


def test_corrections_are_listed_and_change_the_hash() -> None:
    s = full_visit()
    before = s.state()
    target = matter(before, "YJ-01").items[1].answers[0].event
    fix = s.correct("u4", target, {"matter": "YJ-01", "item": 1, "result": "compliant"}, "误选")
    after = s.state()
    rec = build_record(after, INFO)
    assert rec["corrections"] == [{"event": fix.id, "supersedes": target, "reason": "误选"}]
    assert after.record_hash != before.record_hash
