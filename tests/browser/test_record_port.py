"""pwa/visit/projection.js and record.js in real Chromium against the Python projection and
record (docs/events.md "The projection", "The record").

Python makes the visits (tests/field/factory.py: real phones, canonical envelopes), computes
`project_visit(...).to_json()`, `build_record` and `record_hash`; the browser imports the
modules the app serves and folds the same envelopes. State JSON, record JSON and hash must be
equal for every case: hand-made scenarios of every rule, then ≥ 200 random visits (fixed
seed) with conflicts, corrections good and bad, check-ins near, far, inaccurate and without a
position, clock offsets, invalid bodies, duplicates, strangers, acts current and stale, and
strings that NFC changes or that sort differently by UTF-16 unit and by code point.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import pytest

from onevisit.evidence.events import GENESIS_PREV, parse_event
from onevisit.evidence.jcs import canonical_evidence
from onevisit.field import codes as py_codes
from onevisit.field.bodies import BODY_TYPES, BodyInvalid, check_body
from onevisit.field.model import SubjectInfo, VisitInfo
from onevisit.field.projection import Received, project_visit
from onevisit.field.record import build_record, record_hash, short_code
from onevisit.field.views import distance_m
from tests.field.factory import (
    ACT_TYPES,
    INFO,
    NOW,
    SITE,
    T0,
    VISIT,
    Phone,
    RandomVisit,
    Scene,
    assertion,
    b64url,
    body,
    full_visit,
    media,
    near,
    visit_info,
)

pytestmark = pytest.mark.browser

IMPORTS = """const p = await import('/visit/projection.js');
const r = await import('/visit/record.js');
const c = await import('/chain.js');"""

# Each case: {visit, now, form, events: [[envelope text, received_ms, made_after_ms], …]}.
# `form` picks how the events are handed over: parsed by chain.js parseEvent into
# {event, received_ms, made_after_ms}, a plain JSON envelope in an array, or the envelope
# with the receipt fields spread into it.
PORT = (
    IMPORTS
    + """
const enc = new TextEncoder();
const out = [];
for (const k of arg) {
  const events = k.events.map(([text, received_ms, made_after_ms]) => {
    if (k.form === 0) return {event: c.parseEvent(enc.encode(text)), received_ms, made_after_ms};
    const env = JSON.parse(text);
    return k.form === 1 ? [env, received_ms, made_after_ms] : {...env, received_ms, made_after_ms};
  });
  const state = await p.projectVisit({visit: k.visit, events, nowMs: k.now});
  const record = r.buildRecord(state, k.visit);
  const hash = await r.recordHash(record);
  out.push({state, record, hash, short: r.shortCode(hash)});
}
return JSON.stringify(out);"""
)


async def run(page, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (arg) => {{ {body} }}", arg)


@pytest.fixture
async def tab(make_tab):
    tab = await make_tab()
    await tab.open()  # the modules are imported from the origin that serves the app
    return tab


def case(info: VisitInfo, entries: list[Received], form: int, now: int = NOW) -> dict[str, Any]:
    events = [[r.event.raw.decode(), r.received_ms, r.made_after_ms] for r in entries]
    return {"visit": info.to_json(), "now": now, "form": form % 3, "events": events}


async def assert_port_agrees(page, named: list[tuple[str, VisitInfo, list[Received]]]) -> None:
    """Run every case in the browser (in chunks) and compare with Python, key by key."""
    for start in range(0, len(named), 25):
        chunk = named[start : start + 25]
        cases = [case(info, entries, start + i) for i, (_, info, entries) in enumerate(chunk)]
        got = json.loads(await run(page, PORT, cases))
        for (name, info, entries), mine in zip(chunk, got, strict=True):
            state = project_visit(visit=info, events=entries, now_ms=NOW)
            want = state.to_json()
            rec = build_record(state, info)
            assert record_hash(rec) == state.record_hash
            for key in want:
                assert mine["state"][key] == want[key], f"{name}: state.{key}"
            assert set(mine["state"]) == set(want), name
            assert mine["record"] == rec, f"{name}: record"
            assert mine["hash"] == state.record_hash, f"{name}: record hash"
            assert mine["short"] == short_code(state.record_hash)


# --- hand-made scenarios: one per rule ---------------------------------------------------------
def scenarios() -> list[tuple[str, VisitInfo, list[Received]]]:
    out: list[tuple[str, VisitInfo, list[Received]]] = []

    def add(name: str, s: Scene, info: VisitInfo = INFO) -> None:
        out.append((name, info, list(s.log.entries)))

    add("empty", Scene())
    s = full_visit()
    s.add("u1", "witness", body("witness"))
    add("joint visit, far check-in, check-in without position", s)

    s = Scene()
    first = s.item("u1", "SC-01", 1, "compliant")
    s.item("u2", "SC-01", 1, "non_compliant", "地址与登记不一致")
    add("item conflict", s)
    s.correct("u1", first.id, {"matter": "SC-01", "item": 1, "result": "non_compliant",
                               "note": "复核：地址不一致"})  # fmt: skip
    add("item conflict settled by a correction", s)

    s = Scene()
    s.add("u1", "matter_result", {"matter": "SC-01", "result_code": "no_problem"})
    s.add("u2", "matter_result", {"matter": "SC-01", "result_code": "no_problem",
                                  "disposition": "order_correction"})  # fmt: skip
    s.item("u1", "SC-01", 0, "compliant")
    s.item("u1", "SC-01", 0, "not_applicable", phone=Phone("u1", "tablet"))
    s.item("u3", "HB-01", 0, "non_compliant", "x", phone=Phone("u3"))
    s.item("u3", "HB-01", 0, "compliant")  # u3 changes their mind on the same device
    add("matter result conflict, one actor on two devices, same-device replacement", s)

    s = Scene()
    own = s.item("u1", "SC-01", 0, "compliant")
    s.item("u3", "SC-01", 0, "non_compliant", "环保人员越权")
    s.add("u3", "note", {"text": "x", "matter": "SC-01"})
    s.correct("u3", own.id, {"matter": "SC-01", "item": 0, "result": "non_compliant", "note": "y"})
    s.item("u1", "SC-01", 9, "compliant")
    s.item("u1", "XX-01", 0, "compliant")
    s.add("u1", "photo", dict(body("photo"), matter="XX-01"))
    s.add("u1", "photo", dict(body("photo"), item=9))
    s.log.add(Phone("u9").make("note", {"text": "x"}))
    s.log.add(Phone("u1", "other", visit="another-visit").make("note", {"text": "x"}))
    s.log.add(Phone("u1", "memo", visit=None).make("note", {"text": "备忘"}))
    s.add("u1", "item_result", {"matter": "SC-01", "item": 0, "result": "non_compliant"})
    s.log.entries.append(s.log.entries[0])
    add("foreign writes, unknown matters and items, strangers, duplicates", s)

    s = Scene()
    s.correct("u1", "0193a000-0000-7000-8000-0000ffffffff", body("item_result"))
    note = s.add("u1", "note", {"text": "原文"})
    s.correct("u1", note.id, {"text": 5})
    s.correct("u1", note.id, {"matter": "SC-01", "item": 0, "result": "compliant"})
    sig = s.add("u1", "signature", body("signature"))
    s.correct("u1", sig.id, body("signature"))
    a = s.item("u1", "SC-01", 0, "compliant")
    s.item("u1", "SC-01", 0, "not_applicable")
    s.correct("u2", a.id, {"matter": "SC-01", "item": 0, "result": "non_compliant", "note": "z"})
    c1 = s.correct("u1", note.id, {"text": "二"})
    s.correct("u2", c1.id, {"text": "三"})
    s.correct("u1", note.id, {"text": "四"})
    add("correction problems and a correction of a correction", s)

    s = Scene()
    s.add("u1", "checkin", near(), at=T0, received_ms=T0 + 7 * 60_000)
    s.add("u2", "checkin", near(), at=T0, received_ms=T0 + 7 * 60_000, made_after_ms=T0 + 60_000)
    s.add("u3", "checkin", near(), at=T0 + 20 * 60_000, received_ms=T0)
    s.add("u4", "checkin", dict(near(), accuracy_m=150), at=T0 + 4 * 60_000, received_ms=T0)
    c = s.add("u4", "checkin", near(10_000))
    s.correct("u4", c.id, near(20))
    add("clock offsets, inaccurate, a corrected check-in", s)

    s = full_visit()
    h = s.state().record_hash
    s.add("u1", "signature", dict(body("signature"), record_hash=h))
    s.add("u2", "signature_refused", dict(body("signature_refused"), record_hash=h))
    s.add("u1", "record_confirmed", {"record_hash": h, "method": "webauthn",
                                     "assertion": assertion(h)})  # fmt: skip
    s.add("u3", "record_confirmed", {"record_hash": "cd" * 32, "method": "device_pin"})
    s.add("u3", "record_confirmed", {"record_hash": h, "method": "device_pin"})
    s.add("u4", "record_confirmed", {"record_hash": h, "method": "device_pin"})
    s.add("u4", "note", {"text": "补充说明"})  # makes every act stale
    add("signature, refusal, confirmations, then stale", s)

    s = Scene()
    s.add("u1", "checkin", near())
    s.add("u1", "signature", body("signature"))
    add("closed with fewer than two present", s)

    s = Scene()
    s.add("u1", "checkin", near())
    s.add("u3", "checkin", near(-100))
    s.add("u1", "photo", {"media": media("door"), "caption": "大门紧锁"})
    s.add("u1", "special_outcome", body("special_outcome"))
    for actor, m in (("u1", "SC-01"), ("u3", "HB-01"), ("u4", "YJ-01")):
        s.add(actor, "matter_result", {"matter": m, "result_code": "unreachable"})
    s.add("u1", "transcript", body("transcript"))
    s.add("u2", "witness", {"name": "钱七"})
    add("special outcome visit", s)

    s = Scene()
    env = {"v": 1, "id": "0193a000-0000-7000-8000-00000000aaaa", "device": "server", "seq": 1,
           "prev": GENESIS_PREV, "actor": "server", "visit": VISIT, "type": "server.publication",
           "at": T0, "body": {}}  # fmt: skip
    s.log.add(parse_event(canonical_evidence(env)))
    s.add("u1", "note", {"text": "Cafe\u0301 \U0001f600"})  # NFC on the phone already
    add("a server event is skipped", s)

    decomposed = "Cafe\u0301 北京 \u212b"
    nfc_info = visit_info(
        subject=SubjectInfo("S\u0301", decomposed, "A\u030a路", None, None),
        task_name="e\u0301 task",
    )
    s = full_visit()
    add("names that NFC changes, a subject without a location", s, nfc_info)
    return out


async def test_modules_are_served(tab):
    got = await tab.page.evaluate(
        """Promise.all(['/visit/projection.js', '/visit/record.js'].map((u) => fetch(u)
          .then((r) => ({status: r.status, type: r.headers.get('content-type')}))))"""
    )
    for answer in got:
        assert answer["status"] == 200 and "javascript" in answer["type"], got


async def test_scenarios_give_the_same_state_record_and_hash(tab):
    await assert_port_agrees(tab.page, scenarios())


async def test_random_visits_give_the_same_state_record_and_hash(tab):
    rng = random.Random(20260305)
    named = []
    for n in range(220):
        v = RandomVisit(rng, steps=0 if n == 0 else None)
        named.append((f"random visit {n}", v.info, list(v.log.entries)))
    kinds = {p["code"] for _, info, e in named for p in _problems(info, e)}
    assert len(kinds) >= 20, kinds  # the generator really reaches (nearly) every rule
    await assert_port_agrees(tab.page, named)


async def test_interleavings_give_the_same_hash_in_the_browser(tab):
    """The phone's own fold (any order, its own receipt times) gives the server's hash."""
    rng = random.Random(11)
    named = []
    for n in range(20):
        v = RandomVisit(rng, cross_corrections=False)
        named.append((f"visit {n}", v.info, list(v.log.entries)))
        named.append((f"visit {n} interleaved", v.info, v.interleaved(rng)))
    await assert_port_agrees(tab.page, named)
    hashes = [project_visit(visit=i, events=e, now_ms=NOW).record_hash for _, i, e in named]
    assert hashes[0::2] == hashes[1::2]


def _problems(info: VisitInfo, entries: list[Received]) -> list[dict[str, Any]]:
    return project_visit(visit=info, events=entries, now_ms=NOW).to_json()["problems"]


# --- the pieces: code lists, check_body, distance ---------------------------------------------
async def test_code_lists_match_codes_py(tab):
    got = await run(tab.page, IMPORTS + "return p.CODES;")
    names = ("ITEM_RESULTS", "RESULT_CODES", "DISPOSITIONS", "SPECIAL_OUTCOMES",
             "REFUSAL_REASONS", "CONFIRMATION_METHODS", "CHECKIN_SOURCES")  # fmt: skip
    assert got == {n.lower(): [c for c, _ in getattr(py_codes, n)] for n in names}


def _py_check(etype: str, b: Any) -> str | None:
    try:
        check_body(etype, b)
    except BodyInvalid as exc:
        return exc.reason
    return None


def tricky_bodies() -> list[tuple[str, Any]]:
    h = "ab" * 32
    good = assertion(h)
    resp = good["response"]
    client = json.loads(base64.urlsafe_b64decode(resp["clientDataJSON"] + "=="))

    def with_client(**changes: Any) -> dict[str, Any]:
        raw = json.dumps(client | changes).encode()
        return good | {"response": resp | {"clientDataJSON": b64url(raw)}}

    astral = "\U0001f600"
    out: list[tuple[str, Any]] = [(t, body(t)) for t in (*ACT_TYPES, "note", "photo")]
    out += [
        ("witness", {"name": astral * 128}),  # 128 code points: fine
        ("witness", {"name": astral * 129}),  # 129: too long (258 UTF-16 units either way)
        ("witness", {"name": "a" * 100 + astral * 28}),
        ("note", {"text": "\ufeff"}),  # not whitespace in Python
        ("note", {"text": "\x1c\x1d\x85"}),  # whitespace in Python, not in JS trim()
        ("note", {"text": "\u180e"}),
        ("note", {"text": 5}),
        ("note", {"text": "x", "matter": "x" * 33}),
        ("note", {"text": "x", "constructor": 1}),
        ("note", {"toString": "x"}),
        ("note", []),
        ("checkin", {"position": None, "reason": "x", "source": "gps"}),
        ("checkin", {"position": 0, "reason": "x"}),
        ("checkin", {"lat_e6": 1, "lon_e6": 2, "accuracy_m": True}),
        ("checkin", {"lat_e6": 90_000_001, "lon_e6": 2, "accuracy_m": 1}),
        ("checkin", {"lat_e6": 1, "lon_e6": 2, "accuracy_m": 1, "source": "GPS"}),
        ("item_result", {"matter": "M", "item": 0, "result": "non_compliant"}),
        ("item_result", {"matter": "M", "item": 0, "result": "non_compliant", "note": " "}),
        ("item_result", {"matter": "M", "item": 0, "result": "compliant", "note": ""}),
        ("item_result", {"matter": "M", "item": 0, "result": "compliant", "media": {}}),
        ("item_result", {"matter": "M", "item": 0, "result": "compliant",
                         "media": [media(str(i)) for i in range(51)]}),
        ("photo", {"media": media("p", "audio/mp4")}),
        ("photo", {"media": media("p"), "item": 1}),
        ("photo", {"media": media("p"), "lon_e6": 1}),
        ("photo", {"media": media("p") | {"bytes": 0}}),
        ("photo", {"media": media("p") | {"bytes": 2**53 - 1}}),
        ("photo", {"media": media("p") | {"x": 1}}),
        ("signature", body("signature") | {"image": media("i", "image/jpeg")}),
        ("signature_refused", body("signature_refused") | {"witness": {"name": ""}}),
        ("signature_refused", body("signature_refused") | {"witness": "赵敏"}),
        ("record_confirmed", {"record_hash": h}),
        ("record_confirmed", {"record_hash": h, "method": "device_pin", "assertion": {}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn"}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn", "assertion": []}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": good | {"type": "x"}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": good | {"rawId": "Y3JlZQ"}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": good | {"id": "Y3JlZA=="}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": good | {"id": "Y"}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": good | {"response": resp | {"userHandle": None}}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": good | {"response": resp | {"userHandle": "+"}}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn", "assertion": good | {
            "response": {k: v for k, v in resp.items() if k != "signature"}}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": with_client(type="webauthn.create")}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn",
                              "assertion": with_client(challenge="AAAA")}),
        ("record_confirmed", {"record_hash": "cd" * 32, "method": "webauthn",
                              "assertion": good}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn", "assertion": good | {
            "response": resp | {"clientDataJSON": b64url(b"\xef\xbb\xbf" + json.dumps(
                client).encode())}}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn", "assertion": good | {
            "response": resp | {"clientDataJSON": b64url(b"\xff{}")}}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn", "assertion": good | {
            "response": resp | {"clientDataJSON": b64url(b"\xef\xbb\xbf" * 2 + json.dumps(
                client).encode())}}}),
        ("record_confirmed", {"record_hash": h, "method": "webauthn", "assertion": good | {
            "response": resp | {"clientDataJSON": b64url(b"[1]")}}}),
        ("correction", {"supersedes": "X", "reason": "r", "body": {}}),
        ("correction", {"supersedes": "0193a000-0000-7000-8000-000000000001", "reason": "r",
                        "body": []}),
        ("server.x", {}),
    ]  # fmt: skip
    rng = random.Random(3)
    v = RandomVisit(rng, steps=0)
    phone = Phone("u1")
    types = [t for t in BODY_TYPES if t != "correction"]
    for _ in range(400):
        t = rng.choice(types)
        b = v.body(t, phone)
        out.append((t, v.invalid(t, b) if rng.random() < 0.6 else b))
    return out


async def test_check_body_gives_the_same_first_culprit(tab):
    bodies = tricky_bodies()
    got = await run(
        tab.page,
        IMPORTS
        + """return arg.map(([type, body]) => {
          try { p.checkBody(type, body); return null; }
          catch (e) { if (!(e instanceof p.BodyInvalid)) throw e; return e.reason; }
        });""",
        bodies,
    )
    want = [_py_check(t, b) for t, b in bodies]
    assert sum(w is None for w in want) > 20 and sum(w is not None for w in want) > 100
    for (t, b), mine, theirs in zip(bodies, got, want, strict=True):
        assert mine == theirs, (t, b)


async def test_distance_in_whole_metres_as_python(tab):
    rng = random.Random(5)
    pairs = [(SITE[0], SITE[1], SITE[0], SITE[1]), (0, 0, 1_000_000, 0),
             (0, 179_999_000, 0, -179_999_000), (90_000_000, 0, -90_000_000, 0),
             (0, 0, 0, 180_000_000)]  # fmt: skip
    for _ in range(30_000):
        lat, lon = rng.randint(-90_000_000, 90_000_000), rng.randint(-180_000_000, 180_000_000)
        spread = rng.choice((10, 1_000, 5_000, 100_000, 10_000_000, 400_000_000))
        lat2 = max(-90_000_000, min(90_000_000, lat + rng.randint(-spread, spread)))
        lon2 = lon + rng.randint(-spread, spread)  # beyond ±180°: the formula does not care
        pairs.append((lat, lon, lat2, lon2))
    got = await run(tab.page, IMPORTS + "return arg.map((q) => p.distanceM(...q));", pairs)
    wrong = [(q, g, distance_m(*q)) for q, g in zip(pairs, got, strict=True) if g != distance_m(*q)]
    assert wrong == []


async def test_rounding_is_pythons_half_to_even(tab):
    values = [0.0, 0.5, 1.5, 2.5, 3.5, 0.49999999999999994, 2.5000000000000004, 1111.5, 1112.5,
              222.49999999999997, 4503599627370495.5, 2.0**52 + 1, 12345678.5]  # fmt: skip
    got = await run(tab.page, IMPORTS + "return arg.map((x) => p.pyRound(x));", values)
    assert got == [round(x) for x in values]
