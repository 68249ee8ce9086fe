"""Edge cases of canonical JSON beyond the shared RFC 8785 vectors."""

from __future__ import annotations

import pytest

from onevisit.evidence.errors import (
    DuplicateKey,
    FloatNotAllowed,
    IntegerOutOfRange,
    InvalidJson,
    NonAsciiKey,
    NotCanonical,
    NotNfc,
)
from onevisit.evidence.jcs import MAX_SAFE_INTEGER, canonical, canonical_evidence, parse_canonical


def test_generic_canonical_keeps_floats_and_non_nfc() -> None:
    assert canonical({"b": 1.5, "a": "e\u0301"}) == '{"a":"e\u0301","b":1.5}'.encode()
    assert canonical({"\ufb33": 1}) == '{"\ufb33":1}'.encode()  # no NFC in plain JCS


def test_evidence_normalises_to_nfc() -> None:
    assert canonical_evidence({"t": "e\u0301\uf9f1"}) == '{"t":"é隣"}'.encode()
    assert canonical_evidence(["Cafe\u0301", ("x",)]) == '["Café",["x"]]'.encode()


@pytest.mark.parametrize(
    ("obj", "exc"),
    [
        ({"x": 1.0}, FloatNotAllowed),
        ([0.5], FloatNotAllowed),
        ({"名": 1}, NonAsciiKey),
        ({"n": MAX_SAFE_INTEGER + 1}, IntegerOutOfRange),
        ({"n": -MAX_SAFE_INTEGER - 1}, IntegerOutOfRange),
        ({1: "x"}, InvalidJson),
        ({"s": "\ud800"}, InvalidJson),
        ({"b": b"bytes"}, InvalidJson),
    ],
)
def test_evidence_refusals(obj: object, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        canonical_evidence(obj)


def test_integer_bounds_inclusive() -> None:
    assert canonical_evidence([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[9007199254740991,-9007199254740991]"
    )
    with pytest.raises(IntegerOutOfRange):
        canonical(2**53)


def test_too_deep() -> None:
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(InvalidJson):
        canonical_evidence(deep)
    with pytest.raises(InvalidJson):
        parse_canonical(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    "data",
    [b'{"a":1}', b"[]", b"{}", b"null", b"0", b'"x"', b'{"a":[true,false,null],"b":{"c":-7}}',
     '{"t":"中文"}'.encode(), b'{"e":"\\u001f\\n\\t\\"\\\\"}'],
)  # fmt: skip
def test_parse_canonical_accepts(data: bytes) -> None:
    assert canonical(parse_canonical(data)) == data


@pytest.mark.parametrize(
    ("data", "exc"),
    [
        (b'{"a":1, "b":2}', NotCanonical),
        (b'{"b":1,"a":2}', NotCanonical),
        (b' {"a":1}', NotCanonical),
        (b'{"a":"\\u4e2d"}', NotCanonical),
        (b'{"a":"\\u001F"}', NotCanonical),  # JCS hex is lower case
        (b'{"a":"\t"}', InvalidJson),  # raw control character: not JSON
        (b'{"a":01}', InvalidJson),
        (b'{"a":1E0}', FloatNotAllowed),
        (b'{"a":-0.0}', FloatNotAllowed),
        (b'{"a":Infinity}', InvalidJson),
        (b'{"a":-Infinity}', InvalidJson),
        (b'{"a":1,"a":1}', DuplicateKey),
        (b'{"a":"\xc3"}', InvalidJson),
        (b'{"a":"\xed\xa0\x80"}', InvalidJson),  # UTF-8-encoded surrogate
        (b'{"a":"\\udc00"}', InvalidJson),
        ('{"a":"e\u0301"}'.encode(), NotNfc),
        (b'{"a":9007199254740992}', IntegerOutOfRange),
        ('{"é":1}'.encode(), NonAsciiKey),
        (b"\xef\xbb\xbf{}", InvalidJson),
        (b"", InvalidJson),
    ],
)
def test_parse_canonical_refuses(data: bytes, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        parse_canonical(data)


def test_every_refusal_is_not_canonical() -> None:
    for exc in (DuplicateKey, FloatNotAllowed, IntegerOutOfRange, InvalidJson, NonAsciiKey, NotNfc):
        assert issubclass(exc, NotCanonical)
    assert NotCanonical("x").code == "event.not_canonical"


def test_parse_canonical_wants_bytes() -> None:
    with pytest.raises(TypeError):
        parse_canonical('{"a":1}')  # type: ignore[arg-type]


def test_fast_path_agrees_with_rfc8785_on_hard_strings():
    """The fast canonical path (jcs._fast_canonical) must equal RFC 8785 for every value the
    evidence check accepts: every control character, quotes, backslashes, U+2028/2029, DEL,
    astral characters, CJK, integers at the safe limits, nesting."""
    import random
    import unicodedata

    from onevisit.evidence import jcs

    pool = [chr(c) for c in range(0, 0x80)] + ["\u2028", "\u2029", "\u00e9", "检", "𝄞", "😀"]
    rng = random.Random(8785)
    for _ in range(2000):
        text = unicodedata.normalize("NFC", "".join(rng.choice(pool) for _ in range(12)))
        value = {
            "b": [text, rng.randint(-(2**53) + 1, 2**53 - 1), True, None, {"z": text, "a": 0}],
            "a": text,
        }
        assert jcs._fast_canonical(value) == jcs.canonical(value)
    lone = {"a": "\ud800"}
    assert jcs._fast_canonical(lone) is None  # the slow path decides for lone surrogates


def test_leaf_input_is_the_jcs_of_its_object():
    from onevisit.evidence.events import leaf_input

    h, sig = "ab" * 32, "MEUCIQ-_abc"
    for r in (0, 1, 1_795_585_559_044, 2**53 - 1):
        assert leaf_input(event_hash=h, sig=sig, receipt_ms=r) == canonical_evidence(
            {"h": h, "s": sig, "r": r}
        )


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        (b"9007199254740992", False),  # alone: no ':', ',' or '[' before it
        (b"-9007199254740991", True),
        (b"[9007199254740992]", False),
        (b"[1,-9007199254740992]", False),
        (b'{"a":[1,9007199254740991]}', True),
        ('{"a":"中","b":9007199254740992}'.encode(), False),
        ('{"a\\"":"中"}'.encode(), True),  # a key with escapes: the careful key pattern
        ('{"\\"é":"中"}'.encode(), False),
    ],
)
def test_long_numbers_and_keys_judged_on_the_text(data: bytes, ok: bool) -> None:
    if ok:
        assert canonical(parse_canonical(data)) == data
    else:
        with pytest.raises(NotCanonical):
            parse_canonical(data)


def test_text_level_rule_check_agrees_with_the_walk():
    """parse_canonical judges the §1 rules on the text when it can (jcs._plainly_within_rules)
    and walks the values otherwise: both must accept and refuse exactly the same bytes. Texts
    with combining marks after escapes, marks out of order, long digit runs in strings and
    numbers, non-ASCII keys and keys holding quotes and ':', floats, deep nesting."""
    import json
    import random

    from onevisit.evidence import jcs

    marks = ["\u0301", "\u0316", "\u0303", "\u0340", "\u212b", "e", "n", "u", "中", "\n", "\\"]
    pool = [*marks, '"', "\t", "1", "9", "𝄞", "a"]
    rng = random.Random(53)

    def reference(data: bytes) -> type | None:
        try:
            try:
                text = data.decode()
            except UnicodeDecodeError:
                raise jcs.InvalidJson("utf-8") from None
            try:
                value = json.loads(
                    text,
                    object_pairs_hook=jcs._object_of_pairs,
                    parse_float=jcs._no_float,
                    parse_constant=jcs._no_constant,
                )
            except ValueError as exc:
                if isinstance(exc, jcs.NotCanonical):
                    raise
                raise jcs.InvalidJson(str(exc)) from None
            jcs._check(value, normalise=False, depth=0)
            if jcs.canonical(value) != data:
                raise jcs.NotCanonical("differs")
        except jcs.NotCanonical as exc:
            return type(exc)
        return None

    def outcome(data: bytes) -> type | None:
        try:
            parse_canonical(data)
        except jcs.NotCanonical as exc:
            return type(exc)
        return None

    for i in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 10)))
        number = rng.choice([0, 7, 2**53 - 1, -(2**53) + 1, 10**15, 2**53, 1.5])
        value: object = {"s": text, "n": number, "d": "1234567890123456" if i % 7 == 0 else "x"}
        if i % 3 == 0:  # a key of any characters: non-ASCII, quotes, backslashes, ':'
            key = "".join(rng.choice([*pool, ":", '":']) for _ in range(rng.randint(1, 6)))
            value[key] = {"k": text} if i % 2 else text  # type: ignore[index]
        for _ in range(rng.choice([0, 1, 70])):
            value = [value]
        if i % 5 == 0:  # numbers as array elements, after '[' and after ','
            value = [number, value, number] if i % 2 else [value, -abs(number)]
        if i % 11 == 0:  # a number alone
            value = number
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        raw = data.encode("utf-8", "surrogatepass")
        assert outcome(raw) == reference(raw), raw[:80]
        at = rng.randrange(len(raw))  # one byte changed: floats, keys, quotes, broken UTF-8
        for b in (rng.choice(b'.e"\\,:{}[]0 \xc3\xa9'), rng.randrange(256)):
            mutated = raw[:at] + bytes([b]) + raw[at + 1 :]
            assert outcome(mutated) == reference(mutated), mutated[:80]
