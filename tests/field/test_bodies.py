"""Event bodies: a valid example of each type, and every way the contract refuses one."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from onevisit.evidence.errors import EvidenceError
from onevisit.evidence.events import EVENT_TYPES
from onevisit.field import codes
from onevisit.field.bodies import (
    BODY_TYPES,
    CORRECTABLE_TYPES,
    BodyInvalid,
    check_body,
    needs_visit,
)
from tests.field.factory import assertion, body, media

REQUIRED = {
    "checkin": ("lat_e6", "lon_e6", "accuracy_m"),
    "item_result": ("matter", "item", "result"),
    "matter_result": ("matter", "result_code"),
    "photo": ("media",),
    "note": ("text",),
    "transcript": ("text",),
    "witness": ("name",),
    "signature": ("record_hash", "signer_name", "signer_role", "image", "strokes"),
    "signature_refused": ("record_hash", "reason_code", "reason", "witness"),
    "special_outcome": ("code", "text"),
    "record_confirmed": ("record_hash", "method", "assertion"),
    "correction": ("supersedes", "reason", "body"),
}


def refused(etype: str, b: Any, field: str) -> BodyInvalid:
    with pytest.raises(BodyInvalid) as info:
        check_body(etype, b)
    assert info.value.field == field, info.value
    assert info.value.code == "event.body_invalid"
    assert isinstance(info.value, EvidenceError)
    return info.value


def changed(etype: str, **changes: Any) -> dict[str, Any]:
    b = copy.deepcopy(body(etype))
    b.update(changes)
    return {k: v for k, v in b.items() if v is not ...}


def test_registry_matches_the_evidence_core() -> None:
    assert set(BODY_TYPES) == set(EVENT_TYPES) == set(REQUIRED)
    assert "signature" not in CORRECTABLE_TYPES and "item_result" in CORRECTABLE_TYPES


def test_code_lists() -> None:
    assert codes.label(codes.RESULT_CODES, "no_problem") == "未发现问题"
    assert len(codes.RESULT_CODES) == 14 and len(codes.DISPOSITIONS) == 6
    for table in (codes.ITEM_RESULTS, codes.RESULT_CODES, codes.DISPOSITIONS,
                  codes.SPECIAL_OUTCOMES, codes.REFUSAL_REASONS):  # fmt: skip
        assert all(c.isascii() and c == c.lower() for c, _ in table)
        assert len(codes.codes(table)) == len(table)
    assert set(codes.SPECIAL_OUTCOME_RESULT) == codes.codes(codes.SPECIAL_OUTCOMES)
    assert set(codes.SPECIAL_OUTCOME_RESULT.values()) <= codes.codes(codes.RESULT_CODES)
    with pytest.raises(KeyError):
        codes.label(codes.ITEM_RESULTS, "maybe")


@pytest.mark.parametrize("etype", sorted(REQUIRED))
def test_valid_example(etype: str) -> None:
    check_body(etype, body(etype))


@pytest.mark.parametrize(
    ("etype", "key"), [(t, k) for t, keys in sorted(REQUIRED.items()) for k in keys]
)
def test_every_required_field_missing(etype: str, key: str) -> None:
    refused(etype, changed(etype, **{key: ...}), key)


@pytest.mark.parametrize("etype", sorted(REQUIRED))
def test_unknown_field_and_non_object(etype: str) -> None:
    refused(etype, changed(etype, extra=1), "extra")
    refused(etype, [], "body")


def test_unknown_type() -> None:
    refused("server.publication", {}, "type")


@pytest.mark.parametrize(
    ("etype", "changes", "field"),
    [
        ("checkin", {"lat_e6": 30.274084}, "lat_e6"),  # floats refused anywhere
        ("checkin", {"accuracy_m": 12.0}, "accuracy_m"),
        ("item_result", {"media": [dict(media("x"), bytes=1.5)]}, "media[0].bytes"),
        ("checkin", {"lat_e6": "30274084"}, "lat_e6"),
        ("checkin", {"lat_e6": True}, "lat_e6"),  # a bool is not an integer
        ("checkin", {"lat_e6": 91_000_000}, "lat_e6"),
        ("checkin", {"lon_e6": -181_000_000}, "lon_e6"),
        ("checkin", {"accuracy_m": -1}, "accuracy_m"),
        ("checkin", {"source": "wifi"}, "source"),
        ("item_result", {"item": -1}, "item"),
        ("item_result", {"result": "ok"}, "result"),
        ("item_result", {"matter": "SC 01"}, "matter"),
        ("item_result", {"result": "non_compliant"}, "note"),  # no note
        ("item_result", {"result": "non_compliant", "note": "  "}, "note"),
        ("item_result", {"media": media("x")}, "media"),
        (
            "item_result",
            {"media": [{"sha256": "AB" * 32, "bytes": 1, "mime": "image/png"}]},
            "media[0].sha256",
        ),
        ("item_result", {"media": [dict(media("x"), bytes=0)]}, "media[0].bytes"),
        ("item_result", {"media": [dict(media("x"), mime="JPEG")]}, "media[0].mime"),
        ("item_result", {"media": [dict(media("x"), name="a.jpg")]}, "media[0].name"),
        ("matter_result", {"result_code": "passed"}, "result_code"),
        ("matter_result", {"disposition": "punish"}, "disposition"),
        ("photo", {"media": media("v", "video/mp4")}, "media.mime"),
        ("photo", {"matter": ...}, "matter"),  # item needs its matter
        ("photo", {"lat_e6": 1, "lon_e6": 2}, "accuracy_m"),  # position fields go together
        ("note", {"text": ""}, "text"),
        ("note", {"text": "x" * 20_001}, "text"),
        ("transcript", {"text": 5}, "text"),
        ("witness", {"name": " "}, "name"),
        ("witness", {"phone": 13800000000}, "phone"),
        ("signature", {"record_hash": "ab" * 31}, "record_hash"),
        ("signature", {"image": media("sig", "image/jpeg")}, "image.mime"),
        ("signature", {"strokes": media("s", "text/plain")}, "strokes.mime"),
        ("signature", {"signer_role": ""}, "signer_role"),
        ("signature_refused", {"reason": ""}, "reason"),
        ("signature_refused", {"reason_code": "busy"}, "reason_code"),
        ("signature_refused", {"witness": {}}, "witness.name"),
        ("signature_refused", {"witness": {"name": ""}}, "witness.name"),
        ("signature_refused", {"witness": "赵敏"}, "witness"),
        ("signature_refused", {"photo": media("v", "video/mp4")}, "photo.mime"),
        ("special_outcome", {"code": "closed"}, "code"),
        ("special_outcome", {"text": ""}, "text"),
        ("record_confirmed", {"method": "sms"}, "method"),
        ("correction", {"supersedes": "not-a-uuid"}, "supersedes"),
        ("correction", {"reason": ""}, "reason"),
        ("correction", {"body": "x"}, "body"),
    ],
)
def test_invalid(etype: str, changes: dict[str, Any], field: str) -> None:
    refused(etype, changed(etype, **changes), field)


def test_checkin_without_position() -> None:
    check_body("checkin", {"position": None, "reason": "室内无定位信号", "source": "manual"})
    refused("checkin", {"position": None}, "reason")
    refused("checkin", {"position": None, "reason": ""}, "reason")
    refused("checkin", {"position": {"lat_e6": 1}, "reason": "x"}, "position")
    refused("checkin", {"position": None, "reason": "x", "lat_e6": 1}, "lat_e6")


def test_optional_fields_may_be_left_out() -> None:
    check_body("item_result", {"matter": "SC-01", "item": 3, "result": "not_applicable"})
    check_body("item_result", {"matter": "SC-01", "item": 3, "result": "compliant", "note": ""})
    check_body("matter_result", {"matter": "SC-01", "result_code": "corrected"})
    check_body("photo", {"media": media("p", "image/png"), "lat_e6": 1, "lon_e6": 2,
                         "accuracy_m": 3})  # fmt: skip
    check_body("witness", {"name": "赵敏"})
    check_body("signature_refused", changed("signature_refused",
               witness_signature=media("ws", "image/png"), photo=media("ph")))  # fmt: skip
    check_body("special_outcome", {"code": "refused_entry", "text": "拒绝进入"})


def test_refusal_needs_a_witness_and_a_reason() -> None:
    # 002:20(三): a refusal cannot be saved without the reason and a witness.
    refused("signature_refused", changed("signature_refused", witness=...), "witness")
    refused("signature_refused", changed("signature_refused", reason=...), "reason")


def test_confirmation_by_device_pin_has_no_assertion() -> None:
    pin = {"record_hash": "ab" * 32, "method": "device_pin"}
    check_body("record_confirmed", pin)
    refused("record_confirmed", dict(pin, assertion=assertion("ab" * 32)), "assertion")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda a: a.update(type="password"), "assertion.type"),
        (lambda a: a.update(rawId="b3RoZXI"), "assertion.rawId"),
        (lambda a: a.update(id="not base64!"), "assertion.id"),
        (lambda a: a.pop("response"), "assertion.response"),
        (lambda a: a["response"].pop("signature"), "assertion.response.signature"),
        (
            lambda a: a["response"].update(authenticatorData="a"),
            "assertion.response.authenticatorData",
        ),
        (lambda a: a["response"].update(clientDataJSON="e30"), "assertion.response.clientDataJSON"),
    ],
)
def test_assertion_shape(mutate: Any, field: str) -> None:
    b = changed("record_confirmed")
    mutate(b["assertion"])
    refused("record_confirmed", b, field)


def test_assertion_challenge_is_the_record_hash() -> None:
    other = changed("record_confirmed", assertion=assertion("cd" * 32))
    err = refused("record_confirmed", other, "assertion.response.clientDataJSON")
    assert "challenge" in err.reason
    created = changed("record_confirmed", assertion=assertion("ab" * 32, kind="webauthn.create"))
    refused("record_confirmed", created, "assertion.response.clientDataJSON")
    check_body(
        "record_confirmed",
        changed(
            "record_confirmed",
            assertion=dict(
                assertion("ab" * 32),
                response=dict(assertion("ab" * 32)["response"], userHandle=None),
            ),
        ),
    )


@pytest.mark.parametrize("etype", [t for t in BODY_TYPES if t != "note"])
def test_every_type_but_a_plain_note_needs_a_visit(etype: str) -> None:
    assert needs_visit(etype, body(etype))
    if etype == "correction":  # a correction of a note is still a visit's correction
        assert needs_visit(etype, {"supersedes": "x", "reason": "r", "body": {"text": "t"}})


def test_a_note_needs_a_visit_only_when_it_names_a_matter() -> None:
    assert not needs_visit("note", {"text": "今日外勤备忘"})
    assert needs_visit("note", {"text": "现场负责人配合检查", "matter": "SC-01"})
    assert needs_visit("note", "not an object")
