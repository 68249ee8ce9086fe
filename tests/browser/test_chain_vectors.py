"""pwa/chain.js in real Chromium against the Python evidence cores (EVIDENCE.md §1, §3).

The browser imports the module the app serves and runs the shared RFC 8785 vectors and our
event vectors (tests/vectors/); Python checks what comes back with onevisit.evidence: bytes
and hashes byte for byte, signatures by verifying (ECDSA is randomised), refusals by code.
Then chains made in the browser are parsed, verified and chain-checked in Python.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import (
    EVENT_TYPES,
    GENESIS_PREV,
    check_chain,
    parse_event,
    verify_event_signature,
)
from onevisit.evidence.jcs import canonical_evidence
from tests.vectors.paths import HERE, shared_vectors

pytestmark = pytest.mark.browser

PWA = Path(__file__).resolve().parents[2] / "pwa"
EVENTS = json.loads((HERE / "events.json").read_text(encoding="utf-8"))
KEY = EVENTS["key"]

# Every snippet runs with `c` = chain.js, `b` = b64url.js, `db` = db.js and `arg`.
PRELUDE = """const c = await import('/chain.js'); const b = await import('/b64url.js');
const db = await import('/db.js');
const caught = async (f) => { try { await f(); return null; }
  catch (e) { return {code: e.code ?? String(e), field: e.field ?? null}; } };"""


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def run(page, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (arg) => {{ {PRELUDE}\n{body} }}", arg)


@pytest.fixture
async def tab(make_tab):
    tab = await make_tab()
    await tab.open()  # the real app: chain.js is imported from the origin that serves it
    return tab


async def test_chain_js_is_served_and_in_the_offline_shell(tab):
    got = await tab.page.evaluate(
        "fetch('/chain.js').then((r) => ({status: r.status, type: r.headers.get('content-type')}))"
    )
    assert got["status"] == 200
    assert "javascript" in got["type"], got
    shell = re.search(r"const SHELL = \[(.*?)\];", (PWA / "sw.js").read_text(), re.S)
    assert shell and "'/chain.js'" in shell.group(1)


async def test_rfc8785_vectors_byte_identical(tab):
    jcs = shared_vectors() / "jcs"  # missing: FileNotFoundError, never a skip
    names = sorted(p.name for p in (jcs / "input").glob("*.json"))
    assert {"weird.json", "values.json"} <= set(names), names
    inputs = {n: (jcs / "input" / n).read_text(encoding="utf-8") for n in names}
    got = await run(
        tab.page,
        """const out = {};
        for (const [name, text] of Object.entries(arg)) {
          out[name] = b.encode(c.canonicalize(JSON.parse(text)));
        }
        return out;""",
        inputs,
    )
    wrong = [n for n in names if unb64u(got[n]) != (jcs / "output" / n).read_bytes()]
    assert wrong == [], f"chain.js canonicalize differs from RFC 8785 on {wrong}"


async def test_valid_event_vectors_canonical_hash_and_signature(tab):
    got = await run(
        tab.page,
        """const alg = {name: 'ECDSA', namedCurve: 'P-256'};
        const priv = await crypto.subtle.importKey('jwk', arg.key.jwk, alg, false, ['sign']);
        const pub = await crypto.subtle.importKey(
          'spki', b.decode(arg.key.spki_b64url), alg, true, ['verify']);
        const valid = [];
        for (const v of arg.valid) {
          const bytes = c.canonicalEvidence(v.input);
          c.parseEvent(bytes);  // the receiving side accepts what the sending side made
          await c.verifyEnvelope(pub, bytes, v.signature);  // Python's signature verifies here
          valid.push({canonical: b.encode(bytes), hash: await c.eventHash(bytes),
                      sig: await c.signEnvelope(priv, bytes)});
        }
        const badSigs = {};
        for (const s of arg.bad_signatures) {
          const bytes = new TextEncoder().encode(arg.valid[s.event].canonical);
          badSigs[s.name] = await caught(() => c.verifyEnvelope(pub, bytes, s.signature));
        }
        return {valid, badSigs, types: c.EVENT_TYPES, genesis: c.GENESIS_PREV};""",
        EVENTS,
    )
    assert got["types"] == list(EVENT_TYPES) and got["genesis"] == GENESIS_PREV
    spki = unb64u(KEY["spki_b64url"])
    for case, mine in zip(EVENTS["valid"], got["valid"], strict=True):
        expected = case["canonical"].encode("utf-8")
        assert unb64u(mine["canonical"]) == expected, case["name"]
        assert mine["hash"] == case["hash"], case["name"]
        verify_event_signature(envelope_bytes=expected, signature_b64url=mine["sig"], spki_der=spki)
    want = {s["name"]: {"code": s["error"], "field": None} for s in EVENTS["bad_signatures"]}
    assert got["badSigs"] == want


async def test_invalid_event_vectors_refused_with_the_python_code(tab):
    cases = {c["name"]: b64u(_received(c)) for c in EVENTS["invalid"]}
    got = await run(
        tab.page,
        """const out = {};
        for (const [name, data] of Object.entries(arg)) {
          out[name] = await caught(() => c.parseEvent(b.decode(data)));
        }
        return out;""",
        cases,
    )
    want = {c["name"]: {"code": c["error"], "field": c.get("field")} for c in EVENTS["invalid"]}
    assert got == want


def _received(case: dict[str, Any]) -> bytes:
    """The bytes an invalid vector stands for (tests/vectors/README.md)."""
    return case["text"].encode("utf-8") if "text" in case else base64.b64decode(case["bytes_b64"])


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


# Values chain.js refuses before hashing, with the code canonical_evidence gives the same value.
REFUSED_JS = """({
  float: {a: 1.5}, nan: {a: NaN}, infinity: {a: [Infinity]},
  above_range: {a: 2 ** 53}, below_range: {a: -(2 ** 53)},
  key_not_ascii: {'caf\\u00e9': 1}, lone_surrogate: {a: ['x\\ud800']},
  too_deep: JSON.parse('['.repeat(66) + ']'.repeat(66)),
})"""
REFUSED_PY = {
    "float": {"a": 1.5},
    "nan": {"a": float("nan")},
    "infinity": {"a": [float("inf")]},
    "above_range": {"a": 2**53},
    "below_range": {"a": -(2**53)},
    "key_not_ascii": {"café": 1},
    "lone_surrogate": {"a": ["x\ud800"]},
    "too_deep": _nested(66),
}


def _py_code(value: Any) -> dict[str, Any]:
    with pytest.raises(EvidenceError) as info:
        canonical_evidence(value)
    return {"code": info.value.code, "field": None}


async def test_value_rules_match_python(tab):
    got = await run(
        tab.page,
        f"""const cases = {REFUSED_JS};
        const out = {{}};
        for (const [name, v] of Object.entries(cases)) {{
          out[name] = await caught(() => c.canonicalEvidence(v));
        }}
        // Not JSON at all: refused rather than silently dropped as JSON.stringify would.
        for (const [name, v] of Object.entries({{undef: {{a: undefined}}, bigint: {{a: 1n}},
                                                  date: {{a: new Date(0)}}}})) {{
          out[name] = await caught(() => c.canonicalEvidence(v));
        }}
        const deepest = JSON.parse('['.repeat(65) + ']'.repeat(65));  // the limit itself
        out.deepest_ok = b.encode(c.canonicalEvidence(deepest));
        // A key "__proto__" stays an own key through the parser and back.
        const proto = new TextEncoder().encode('{{"__proto__":{{"a":1}}}}');
        out.proto = new TextDecoder().decode(c.canonicalize(c.parseCanonical(proto)));
        return out;""",
    )
    for name, value in REFUSED_PY.items():
        assert got[name] == _py_code(value), name
    for name in ("undef", "bigint", "date"):
        assert got[name] == {"code": "json.invalid", "field": None}, name
    assert unb64u(got["deepest_ok"]) == canonical_evidence(_nested(65))
    assert got["proto"] == '{"__proto__":{"a":1}}'


# Characters where JCS, JSON escaping or NFC are easy to get wrong.
TRICKY = [
    *'aZ~ é中文😀"\\/\x7f\u2028\u2029\ufeff\ufb33\u0958\u0344\uf9f1\u00c5',
    *(chr(i) for i in range(0x20)),
    "e\u0301",  # NFD of é
    "A\u030a",  # NFD of Å
    "\u1100\u1161\u11a8",  # Hangul jamo that compose to one syllable
    "\u1e9b\u0323",  # NFC reorders and composes
    "\U0001d15e",  # a composition exclusion outside the BMP
]
KEYS = ["", "a", "A", "_", "1", "10", "2", "aa", "a b", "~", "Z", "z\u007f", "\x01"]


def _random_value(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.choice(["str", "int", "lit", "list", "obj"] if depth < 4 else ["str", "int"])
    if kind == "str":
        return "".join(rnd.choice(TRICKY) for _ in range(rnd.randint(0, 8)))
    if kind == "int":
        edge = [0, -1, 2**31, 2**53 - 1, -(2**53 - 1), 10**15]
        return rnd.choice([*edge, rnd.randint(-(2**53 - 1), 2**53 - 1)])
    if kind == "lit":
        return rnd.choice([True, False, None])
    if kind == "list":
        return [_random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    return {rnd.choice(KEYS): _random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 5))}


async def test_random_values_match_python_canonical_evidence(tab):
    rnd = random.Random(8785)
    values = [_random_value(rnd) for _ in range(400)]
    got = await run(
        tab.page,
        """return arg.map((v) => {
          const bytes = c.canonicalEvidence(v);
          // The receiving side accepts it, and it is its own canonical form.
          const again = c.canonicalEvidence(c.parseCanonical(bytes));
          return [b.encode(bytes), b.encode(again)];
        });""",
        values,
    )
    for value, (mine, again) in zip(values, got, strict=True):
        expected = canonical_evidence(value)
        assert unb64u(mine) == expected, value
        assert unb64u(again) == expected, value


def _check_device_chain(events: list[dict[str, Any]], spki: bytes) -> None:
    """Python's side of §3: each event parses, its signature verifies, and seq/prev chain."""
    prev_hash, last_seq = None, None
    for signed in sorted(events, key=lambda e: e["seq"]):
        raw = signed["envelope"].encode("utf-8")
        event = parse_event(raw)
        verify_event_signature(envelope_bytes=raw, signature_b64url=signed["sig"], spki_der=spki)
        check_chain(prev_hash=prev_hash, last_seq=last_seq, event=event)
        assert event.hash == signed["hash"] and event.id == signed["id"]
        assert int(event.id.replace("-", "")[:12], 16) == event.at  # UUIDv7 carries `at`
        prev_hash, last_seq = event.hash, event.seq


APPEND = """const signed = await c.appendEvent(key, ev);
  return {envelope: signed.envelope, sig: signed.sig, hash: signed.hash, seq: signed.seq,
          id: signed.id};"""


async def test_chain_of_three_verifies_in_python_and_survives_reload(tab):
    page = tab.page
    first = await run(
        page,
        f"""const dk = await import('/devicekey.js');
        const key = await dk.createDeviceKey({{user: {{id: 'u-chain', name: '链'}}}});
        const one = async (ev) => {{ {APPEND} }};
        const events = [
          await one({{actor: 'u-chain', visit: 'V-1', type: 'checkin', at: 1764000000000,
                     body: {{lat_e6: 39904211, lon_e6: 116407395, accuracy_m: 12}}}}),
          await one({{actor: 'u-chain', visit: 'V-1', type: 'note', at: 1764000060000,
                     mono: 60123, session: 's-1', body: {{text: 'Cafe\\u0301 \\uf9f1'}}}}),
        ];
        return {{device: key.device_id, spki: key.spki, events}};""",
    )
    device = first["device"]
    await page.reload()  # the key and the chain head must come back from IndexedDB
    second = await run(
        page,
        f"""const key = await db.keys.get(arg);
        const head = await c.chainHead(arg);
        const ev = {{actor: 'u-chain', visit: null, type: 'item_result', at: 1764000120000,
                    body: {{item: 'I-1', result: 'compliant'}}}};
        const signed = await (async () => {{ {APPEND} }})();
        return {{head, signed, after: await c.chainHead(arg)}};""",
        device,
    )
    one, two = first["events"]
    assert second["head"] == {"device": device, "seq": 2, "hash": two["hash"]}
    assert second["after"] == {"device": device, "seq": 3, "hash": second["signed"]["hash"]}
    events = [one, two, second["signed"]]
    assert [e["seq"] for e in events] == [1, 2, 3]
    _check_device_chain(events, unb64u(first["spki"]))
    assert parse_event(two["envelope"].encode()).body == {"text": "Caf\u00e9 \u96a3"}  # NFC


async def test_concurrent_writers_in_two_tabs_keep_one_gapless_chain(tab):
    key = await run(
        tab.page,
        """const dk = await import('/devicekey.js');
        const key = await dk.createDeviceKey({user: {id: 'u-two', name: '二'}});
        return {device: key.device_id, spki: key.spki};""",
    )
    other = await tab.context.new_page()  # same origin, same IndexedDB, its own module copy
    await other.goto(f"{tab.base}/")
    # Both tabs start their burst at the same instant (same clock: one machine).
    burst = f"""const key = await db.keys.get(arg.device);
        const one = async (ev) => {{ {APPEND} }};
        await new Promise((go) => setTimeout(go, arg.start - Date.now()));
        return Promise.all([0, 1, 2, 3].map((i) => one(
          {{actor: 'u-two', visit: 'V-2', type: 'note', at: 1764000000000 + i,
            body: {{tab: arg.tab, i}}}})));"""
    start = int(time.time() * 1000) + 500
    results = await asyncio.gather(
        run(tab.page, burst, {**key, "tab": "a", "start": start}),
        run(other, burst, {**key, "tab": "b", "start": start}),
    )
    events = [e for batch in results for e in batch]
    assert sorted(e["seq"] for e in events) == list(range(1, 9))
    _check_device_chain(events, unb64u(key["spki"]))


async def test_head_moves_only_from_where_it_was_with_its_rows(tab):
    got = await run(
        tab.page,
        """const d = 'f'.repeat(64);
        const h1 = {device: d, seq: 1, hash: '1'.repeat(64)};
        const h2 = {device: d, seq: 2, hash: '2'.repeat(64)};
        const out = {
          first: await db.chain.advance(null, h1, [['meta', 'row-1', 'kept']]),
          stale: await db.chain.advance(null, {...h1, hash: '9'.repeat(64)}),
          next: await db.chain.advance(h1, h2, [['keys', {device_id: 'k-inline'}]]),
        };
        out.head = await c.chainHead(d);
        out.kept = await db.meta.get('kept');
        out.inline = (await db.keys.get('k-inline'))?.device_id ?? null;
        // A row that cannot be written aborts the whole step: the head stays where it was.
        const key = {device_id: d, privateKey: (await crypto.subtle.generateKey(
          {name: 'ECDSA', namedCurve: 'P-256'}, false, ['sign'])).privateKey};
        out.failed = await caught(() => c.appendEvent(key,
          {actor: 'u', visit: null, type: 'note', body: {}}, () => [['meta', 'no key']]));
        out.after = await c.chainHead(d);
        return out;""",
    )
    assert got["first"] is True and got["stale"] is False and got["next"] is True
    assert got["head"]["seq"] == 2 and got["kept"] == "row-1" and got["inline"] == "k-inline"
    assert got["failed"] is not None and got["after"] == got["head"]


async def test_an_envelope_the_server_would_refuse_as_too_large_is_never_signed(tab):
    from onevisit.sync.ingest import MAX_ENVELOPE_BYTES

    got = await run(
        tab.page,
        """const d = 'e'.repeat(64);
        const key = {device_id: d, privateKey: (await crypto.subtle.generateKey(
          {name: 'ECDSA', namedCurve: 'P-256'}, false, ['sign'])).privateKey};
        const note = (n) => ({actor: 'u', visit: null, type: 'note', body: {text: '检'.repeat(n)}});
        return {
          limit: c.MAX_ENVELOPE_BYTES,
          big: await caught(() => c.appendEvent(key, note(30000))),
          head: await c.chainHead(d),
          small: (await c.appendEvent(key, note(10))).seq,
        };""",
    )
    assert got["limit"] == MAX_ENVELOPE_BYTES
    assert got["big"]["code"] == "event.too_large" and got["head"] is None
    assert got["small"] == 1  # the refused event took no seq
