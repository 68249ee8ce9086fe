"""The visit projection: scenarios of a joint visit, conflicts, corrections, acts, problems."""

from __future__ import annotations

import json
from typing import Any

from onevisit.evidence.events import GENESIS_PREV, parse_event
from onevisit.evidence.jcs import canonical_evidence
from onevisit.field.model import VisitState
from onevisit.field.projection import Projector, Received, project_visit
from onevisit.field.views import clock_suspect, distance_m
from tests.field.factory import (
    INFO,
    NOW,
    SITE,
    T0,
    VISIT,
    Phone,
    Scene,
    assertion,
    body,
    codes,
    full_visit,
    matter,
    media,
    near,
)


def test_joint_visit_checkins_and_progress() -> None:
    st = full_visit().state()
    by = {c.actor: c for c in st.checkins}
    assert by["u1"].distance_m == 33 and not by["u1"].far and not by["u1"].inaccurate
    assert by["u4"].far and by["u4"].distance_m == 1112
    assert by["u3"].distance_m is None and by["u3"].reason == "室内无定位信号"
    assert st.two_present
    assert [(m.code, m.answered, m.total) for m in st.matters] == [
        ("SC-01", 3, 3), ("HB-01", 2, 2), ("YJ-01", 2, 2)]  # fmt: skip
    hb = matter(st, "HB-01")
    assert (hb.result_code, hb.disposition, hb.result_by) == (
        "corrected",
        "order_correction",
        ("u3",),
    )
    assert hb.items[1].result == "non_compliant" and hb.items[1].note.startswith("台账")
    assert codes(st) == ["checkin.far"]
    assert len(st.photos) == len(st.notes) == len(st.transcripts) == 1
    json.dumps(st.to_json())  # plain types only


def test_two_present_needs_two_members_not_far() -> None:
    s = Scene()
    s.add("u1", "checkin", near())
    s.add("u1", "checkin", near())
    s.add("u4", "checkin", near(10_000))
    assert not s.state().two_present
    s.add("u2", "checkin", near(), phone=Phone("u2", "tablet"))
    assert s.state().two_present


def test_inaccurate_fix_flagged() -> None:
    s = Scene()
    s.add("u1", "checkin", dict(near(), accuracy_m=150))
    assert s.state().checkins[0].inaccurate and codes(s.state()) == ["checkin.inaccurate"]


def test_conflict_between_inspectors_and_its_resolution() -> None:
    s = Scene()
    first = s.item("u1", "SC-01", 1, "compliant")
    s.item("u2", "SC-01", 1, "non_compliant", "地址与登记不一致")
    item = matter(s.state(), "SC-01").items[1]
    assert item.result is None and len(item.conflict) == 2 and len(item.answers) == 2
    assert {a.result for a in item.conflict} == {"compliant", "non_compliant"}
    assert codes(s.state()) == ["item.conflict"]
    assert matter(s.state(), "SC-01").answered == 0
    # u1 agrees after all: a correction of u1's own answer settles it, both answers stay.
    fix = s.correct("u1", first.id, {"matter": "SC-01", "item": 1, "result": "non_compliant",
                                     "note": "复核：地址不一致"})  # fmt: skip
    st = s.state()
    item = matter(st, "SC-01").items[1]
    assert (item.result, item.conflict, item.by) == ("non_compliant", (), ("u1", "u2"))
    assert item.answers[0].event == fix.id and item.answers[0].root == first.id
    assert item.note == "地址与登记不一致"  # the latest agreeing answer's note (u2 synced last)
    assert codes(st) == [] and st.corrections[0].applied


def test_correction_by_a_colleague_of_the_same_department() -> None:
    s = Scene()
    first = s.item("u1", "SC-01", 0, "compliant")
    s.item("u2", "SC-01", 0, "non_compliant", "未悬挂")
    s.correct("u2", first.id, {"matter": "SC-01", "item": 0, "result": "non_compliant",
                               "note": "未悬挂"})  # fmt: skip
    item = matter(s.state(), "SC-01").items[0]
    assert item.result == "non_compliant" and item.answers[0].corrected_by == "u2"


def test_same_actor_changes_their_answer() -> None:
    s = Scene()
    s.item("u1", "SC-01", 0, "compliant")
    s.item("u1", "SC-01", 0, "non_compliant", "执照未悬挂")
    item = matter(s.state(), "SC-01").items[0]
    assert (item.result, len(item.answers), item.conflict) == ("non_compliant", 1, ())


def test_same_actor_on_two_devices_is_a_conflict() -> None:
    # The log cannot tell which of two offline devices answered last: no silent overwrite.
    s = Scene()
    s.item("u1", "SC-01", 0, "compliant")
    s.item("u1", "SC-01", 0, "not_applicable", phone=Phone("u1", "tablet"))
    assert len(matter(s.state(), "SC-01").items[0].conflict) == 2


def test_matter_result_conflict() -> None:
    s = Scene()
    s.add("u1", "matter_result", {"matter": "SC-01", "result_code": "no_problem"})
    s.add("u2", "matter_result", {"matter": "SC-01", "result_code": "no_problem",
                                  "disposition": "order_correction"})  # fmt: skip
    m = matter(s.state(), "SC-01")
    assert m.result_code is None and len(m.result_conflict) == 2
    assert codes(s.state()) == ["matter_result.conflict"]


def test_foreign_matter_write_is_flagged_and_ignored() -> None:
    s = Scene()
    own = s.item("u1", "SC-01", 0, "compliant")
    s.item("u3", "SC-01", 0, "non_compliant", "环保人员越权")
    s.add("u3", "note", {"text": "x", "matter": "SC-01"})
    s.correct("u3", own.id, {"matter": "SC-01", "item": 0, "result": "non_compliant", "note": "y"})
    st = s.state()
    assert codes(st) == ["member.writes_foreign_matter"] * 3
    assert matter(st, "SC-01").items[0].result == "compliant" and st.notes == ()
    assert not st.corrections[0].applied


def test_unknown_matter_item_and_members() -> None:
    s = Scene()
    s.item("u1", "SC-01", 9, "compliant")
    s.item("u1", "XX-01", 0, "compliant")
    s.add("u1", "photo", dict(body("photo"), matter="XX-01"))  # kept: evidence stays
    stranger = Phone("u9")
    s.log.add(stranger.make("note", {"text": "x"}))
    s.log.add(Phone("u1", "other", visit="another-visit").make("note", {"text": "x"}))
    s.add("u1", "item_result", {"matter": "SC-01", "item": 0, "result": "non_compliant"})
    dup = s.log.entries[0]
    s.log.entries.append(dup)
    st = s.state()
    assert codes(st) == ["item.unknown", "matter.unknown", "matter.unknown", "member.unknown",
                         "event.wrong_visit", "event.body_invalid", "event.duplicate"]  # fmt: skip
    assert len(st.photos) == 1 and all(m.answered == 0 for m in st.matters)


def test_correction_problems() -> None:
    s = Scene()
    s.correct("u1", "0193a000-0000-7000-8000-0000ffffffff", body("item_result"))
    note = s.add("u1", "note", {"text": "原文"})
    s.correct("u1", note.id, {"text": 5})
    s.correct("u1", note.id, {"matter": "SC-01", "item": 0, "result": "compliant"})
    sig = s.add("u1", "signature", body("signature"))
    s.correct("u1", sig.id, body("signature"))
    a = s.item("u1", "SC-01", 0, "compliant")
    s.item("u1", "SC-01", 0, "not_applicable")  # replaces a
    s.correct("u2", a.id, {"matter": "SC-01", "item": 0, "result": "non_compliant", "note": "z"})
    st = s.state()
    assert codes(st)[:5] == ["correction.target_unknown", "correction.type_mismatch",
                             "correction.type_mismatch", "correction.not_correctable",
                             "correction.target_superseded"]  # fmt: skip
    assert matter(st, "SC-01").items[0].result == "not_applicable"
    assert st.notes[0].text == "原文" and not any(c.applied for c in st.corrections)


def test_correction_of_a_correction() -> None:
    s = Scene()
    note = s.add("u1", "note", {"text": "一"})
    c1 = s.correct("u1", note.id, {"text": "二"})
    s.correct("u2", c1.id, {"text": "三"})
    (n,) = s.state().notes
    assert (n.text, n.root, n.corrected_by) == ("三", note.id, "u2")
    s.correct("u1", note.id, {"text": "四"})  # names an event already superseded
    assert codes(s.state()) == ["correction.target_superseded"]


def signed(s: Scene) -> tuple[VisitState, Any]:
    st = s.state()
    sig = s.add("u1", "signature", dict(body("signature"), record_hash=st.record_hash))
    return s.state(), sig


def test_signature_after_record_then_correction_makes_it_stale() -> None:
    s = full_visit()
    st, sig = signed(s)
    assert st.signature and st.signature.event == sig.id and not st.signature.stale
    assert st.signature.record_hash == st.record_hash and "signature.stale_record" not in codes(st)
    target = matter(st, "SC-01").items[2].answers[0].event
    s.correct("u1", target, {"matter": "SC-01", "item": 2, "result": "non_compliant",
                             "note": "2025年度未年报"})  # fmt: skip
    after = s.state()
    assert after.record_hash != st.record_hash and after.signature.stale
    assert "signature.stale_record" in codes(after)


def test_refusal_with_witness_and_conflict_with_signature() -> None:
    s = full_visit()
    h = s.state().record_hash
    s.add("u1", "signature_refused", dict(body("signature_refused"), record_hash=h))
    st = s.state()
    assert st.refusal and st.refusal.witness.name == "赵敏" and not st.refusal.stale
    assert st.refusal.reason_code == "refused" and st.signature is None
    assert st.record_hash == h  # the refusal is about the record, not inside it
    s.add("u2", "signature", dict(body("signature"), record_hash=h))
    assert "signature.conflict" in codes(s.state())


def test_confirmations_by_webauthn_and_device_pin() -> None:
    s = full_visit()
    h = s.state().record_hash
    s.add("u1", "record_confirmed", {"record_hash": h, "method": "webauthn",
                                     "assertion": assertion(h)})  # fmt: skip
    s.add("u3", "record_confirmed", {"record_hash": "cd" * 32, "method": "device_pin"})
    s.add("u3", "record_confirmed", {"record_hash": h, "method": "device_pin"})  # re-confirmed
    st = s.state()
    assert [(c.actor, c.method, c.stale) for c in st.confirmations] == [
        ("u1", "webauthn", False), ("u3", "device_pin", False)]  # fmt: skip
    assert st.record_hash == h and "confirmation.stale_record" not in codes(st)
    s.add("u4", "note", {"text": "补充说明"})  # a covered event after the confirmations
    st = s.state()
    assert codes(st).count("confirmation.stale_record") == 2


def test_special_outcome_visit() -> None:
    s = Scene()
    s.add("u1", "checkin", near())
    s.add("u3", "checkin", near(-100))
    s.add("u1", "photo", {"media": media("door"), "caption": "大门紧锁"})
    s.add("u1", "special_outcome", body("special_outcome"))
    for actor, m in (("u1", "SC-01"), ("u3", "HB-01"), ("u4", "YJ-01")):
        s.add(actor, "matter_result", {"matter": m, "result_code": "unreachable"})
    st = s.state()
    (so,) = st.special_outcomes
    assert so.code == "unreachable" and so.media[0].sha256 == media("door")["sha256"]
    assert {m.result_code for m in st.matters} == {"unreachable"}
    assert codes(st) == []


def test_fewer_than_two_present_at_close() -> None:
    s = Scene()
    s.add("u1", "checkin", near())
    signed(s)
    assert "presence.fewer_than_two" in codes(s.state())


def test_witness_event() -> None:
    s = Scene()
    w = s.add("u1", "witness", body("witness"))
    (ws,) = s.state().witnesses
    assert ws.hash == w.hash and ws.person.id_number == "330106199001011234"


def test_clock_offsets() -> None:
    s = Scene()
    s.add("u1", "checkin", near(), at=T0, received_ms=T0 + 7 * 60_000)  # 7 min offline: fine
    s.add("u2", "checkin", near(), at=T0, received_ms=T0 + 7 * 60_000, made_after_ms=T0 + 60_000)
    s.add("u3", "checkin", near(), at=T0 + 20 * 60_000, received_ms=T0)  # ahead of receipt
    s.add("u4", "checkin", near(), at=T0 + 4 * 60_000, received_ms=T0)
    by = {c.actor: c for c in s.state().checkins}
    assert by["u1"].clock_offset_ms == -7 * 60_000 and not by["u1"].clock_suspect
    assert by["u2"].clock_suspect and by["u3"].clock_suspect and not by["u4"].clock_suspect
    assert codes(s.state()).count("checkin.clock_suspect") == 2
    assert not clock_suspect(-60 * 60_000, T0, T0 - 60 * 60_000)  # slow sync, not prompt


def test_distance() -> None:
    assert distance_m(*SITE, *SITE) == 0
    assert distance_m(0, 0, 1_000_000, 0) == 111_195
    assert distance_m(0, 179_999_000, 0, -179_999_000) == 222  # across the antimeridian


def test_determinism_prefix_and_rest() -> None:
    s = full_visit()
    first = s.item("u1", "SC-01", 1, "non_compliant", "复核")
    s.item("u2", "SC-01", 1, "compliant")
    s.correct("u2", first.id, {"matter": "SC-01", "item": 1, "result": "compliant"})
    events = s.log.entries
    whole = project_visit(visit=INFO, events=events, now_ms=NOW)
    again = project_visit(visit=INFO, events=list(events), now_ms=NOW)
    assert whole == again and whole.to_json() == again.to_json()
    for cut in range(len(events) + 1):
        fold = Projector(INFO)
        for r in events[:cut]:
            fold.apply(*r)
        before = fold.state(NOW)
        for r in events[cut:]:
            fold.apply(*r)
        assert fold.state(NOW) == whole
        assert before == project_visit(visit=INFO, events=events[:cut], now_ms=NOW)


def test_plain_tuples_are_accepted() -> None:
    s = full_visit()
    plain = [(r.event, r.received_ms) for r in s.log.entries]
    assert project_visit(visit=INFO, events=plain, now_ms=NOW) == s.state()
    assert isinstance(s.log.entries[0], Received)


def test_server_events_are_skipped() -> None:
    s = Scene()
    env = {"v": 1, "id": "0193a000-0000-7000-8000-00000000aaaa", "device": "server", "seq": 1,
           "prev": GENESIS_PREV, "actor": "server", "visit": VISIT, "type": "server.publication",
           "at": T0, "body": {}}  # fmt: skip
    s.log.add(parse_event(canonical_evidence(env)))
    s.add("u1", "note", {"text": "x"})
    st = s.state()
    assert codes(st) == [] and len(st.notes) == 1
