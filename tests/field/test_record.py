"""The inspection record: what it holds, what it leaves out, and its hash."""

from __future__ import annotations

import hashlib
import random
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
    T0,
    Phone,
    RandomVisit,
    Scene,
    assertion,
    body,
    codes,
    full_visit,
    interleave,
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


def test_record_kind_is_version_2() -> None:
    # /2: lists sorted by the events' own keys, not by their log order (docs/events.md).
    assert RECORD_KIND == "onevisit.inspection_record/2"


def busy_visit() -> Scene:
    """Four inspectors, u1 on two devices, every covered list with entries from several
    devices at clashing device times, own-device corrections and agreeing answers whose notes
    differ: everything whose order the log used to decide."""
    s = Scene()
    tablet = Phone("u1", "tablet")
    s.add("u1", "checkin", near(300), at=T0 + 5_000)
    s.add("u1", "checkin", near(-40), phone=tablet)  # u1's arrival: the earlier of the two
    s.add("u2", "checkin", near(-200))
    s.add("u3", "checkin", {"position": None, "reason": "室内无定位信号"})
    s.item("u1", "SC-01", 1, "non_compliant", "地址不一致")
    s.item("u2", "SC-01", 1, "non_compliant", "经营地址与登记不符")  # agrees, another note
    s.add("u1", "matter_result", {"matter": "SC-01", "result_code": "corrected", "note": "甲"})
    s.add("u2", "matter_result", {"matter": "SC-01", "result_code": "corrected", "note": "乙"})
    for actor in ("u1", "u2", "u3", "u4"):
        s.add(actor, "note", {"text": f"{actor} 的备注"})
        s.add(actor, "photo", {"media": media(f"p-{actor}"), "caption": actor})
    s.add("u1", "note", {"text": "平板上的备注"}, phone=tablet)
    s.add("u1", "photo", {"media": media("p-tablet")}, phone=tablet)
    s.add("u1", "transcript", body("transcript"))
    s.add("u3", "transcript", {"text": "第二份笔录"})
    s.add("u3", "special_outcome", body("special_outcome"))
    s.add("u4", "special_outcome", dict(body("special_outcome"), code="refused_entry"))
    s.add("u2", "witness", body("witness"))
    s.add("u4", "witness", {"name": "钱七"})
    n3 = s.add("u3", "note", {"text": "原文"})
    s.correct("u3", n3.id, {"text": "更正后"})
    p2 = s.add("u2", "photo", {"media": media("p2x")})
    s.correct("u2", p2.id, {"media": media("p2y"), "caption": "换图"})
    return s


def test_record_is_a_function_of_the_set_of_events() -> None:
    s = busy_visit()
    base = s.state()
    rng = random.Random(20260305)
    states = [project_visit(visit=INFO, events=interleave(s.log.entries, rng), now_ms=NOW)
              for _ in range(40)]  # fmt: skip
    # The interleavings really differ: the state's lists (log order) come out in other orders…
    assert len({tuple(n.root for n in st.notes) for st in [base, *states]}) > 1
    assert len({tuple(p.root for p in st.photos) for st in [base, *states]}) > 1
    assert len({matter(st, "SC-01").items[1].note for st in [base, *states]}) == 2
    assert len({min((c for c in st.checkins if c.actor == "u1"), key=lambda c: c.received_ms).at
                for st in [base, *states]}) == 2  # fmt: skip
    # … and the record and its hash do not.
    rec = build_record(base, INFO)
    for st in states:
        assert build_record(st, INFO) == rec
        assert st.record_hash == base.record_hash == record_hash(rec)
    assert len(rec["notes"]) == 6 and len(rec["photos"]) == 6 and len(rec["corrections"]) == 2
    keys = [(n["at"], n["by"]) for n in rec["notes"]]
    assert keys == sorted(keys)
    sc = rec["matters"][0]
    # Agreeing answers: the note of the latest by device time (same `at`: the larger inspector).
    assert sc["items"][1]["by"] == ["SC001", "SC002"]
    assert sc["items"][1]["note"] == "经营地址与登记不符"
    assert sc["note"] == "乙"
    (arrival,) = [c for c in rec["checkins"] if c["inspector"] == "SC001"]
    assert arrival["at"] == T0 + 1_000 and arrival["distance_m"] == 4  # the tablet's, 40 µ° off


def test_random_visits_in_any_interleaving_give_one_record() -> None:
    """Property: for random visits whose corrections name events of their own device, every
    cross-device interleaving of the same events gives the same record and record hash."""
    rng = random.Random(7)
    for _ in range(60):
        v = RandomVisit(rng, cross_corrections=False)
        want = v.state()
        rec = build_record(want, v.info)
        for _ in range(3):
            got = v.state(interleave(v.log.entries, rng))
            assert build_record(got, v.info) == rec
            assert got.record_hash == want.record_hash


def test_what_still_depends_on_the_log_order() -> None:
    """Documented limit (docs/events.md "The record"): a colleague's correction racing the
    author's own replacement of the answer applies in one order and not in the other."""
    s = Scene()
    first = s.item("u1", "SC-01", 0, "compliant")
    s.item("u1", "SC-01", 0, "not_applicable")  # u1 replaces their own answer
    s.correct("u2", first.id, {"matter": "SC-01", "item": 0, "result": "non_compliant",
                               "note": "未悬挂"})  # fmt: skip
    replaced_first = s.state()
    assert codes(replaced_first) == ["correction.target_superseded"]
    e = s.log.entries
    corrected_first = project_visit(visit=INFO, events=[e[0], e[2], e[1]], now_ms=NOW)
    assert [c.applied for c in corrected_first.corrections] == [True]
    assert corrected_first.record_hash != replaced_first.record_hash
