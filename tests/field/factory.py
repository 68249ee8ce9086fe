"""Builders for field tests: a joint visit of 3 departments and 4 inspectors, phones that
make real events (canonical envelopes parsed by `parse_event`, chained per device), valid
bodies of every type, and a WebAuthn assertion JSON whose challenge is a record hash."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from onevisit.evidence.events import GENESIS_PREV, Event, parse_event
from onevisit.evidence.jcs import canonical_evidence
from onevisit.field.model import (
    ItemInfo,
    MatterInfo,
    MemberInfo,
    SubjectInfo,
    VisitInfo,
    VisitState,
)
from onevisit.field.projection import Received, project_visit

VISIT = "5d0a8f1e-3c2b-4a6d-9e7f-112233445566"
T0 = 1_764_000_000_000  # device ms at the start of the visit
NOW = T0 + 3_600_000
SITE = (30_274_084, 120_155_070)  # the subject's registered location
_ids = itertools.count(1)


def media(name: str, mime: str = "image/jpeg", size: int = 1000) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(name.encode()).hexdigest(), "bytes": size, "mime": mime}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assertion(record_hash: str, *, kind: str = "webauthn.get") -> dict[str, Any]:
    """The shape of PublicKeyCredential.toJSON() for an assertion over record_hash."""
    client = {
        "type": kind,
        "challenge": b64url(bytes.fromhex(record_hash)),
        "origin": "https://onevisit.example",
    }
    return {
        "id": "Y3JlZA",
        "rawId": "Y3JlZA",
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": {
            "clientDataJSON": b64url(json.dumps(client).encode()),
            "authenticatorData": b64url(b"\x01" * 37),
            "signature": b64url(b"\x30" * 70),
            "userHandle": "dTE",
        },
    }


def visit_info(**changes: Any) -> VisitInfo:
    members = (
        MemberInfo("u1", "SC001", "张伟", "SCJG", "SCJG", is_leader=True, certificate="33010001"),
        MemberInfo("u2", "SC002", "李娜", "SCJG", "SCJG", certificate="33010002"),
        MemberInfo("u3", "HB001", "王芳", "HB", "HB"),
        MemberInfo("u4", "YJ001", "刘洋", "YJ", "YJ"),
    )
    matters = (
        MatterInfo("SC-01", "SCJG", "营业执照规范使用情况的检查",
                   (ItemInfo(0, "是否悬挂营业执照"), ItemInfo(1, "登记事项是否一致"),
                    ItemInfo(2, "是否按时年报"))),
        MatterInfo("HB-01", "HB", "排污许可证执行情况",
                   (ItemInfo(0, "是否持证排污"), ItemInfo(1, "台账是否完整"))),
        MatterInfo("YJ-01", "YJ", "安全生产检查",
                   (ItemInfo(0, "消防通道是否畅通"), ItemInfo(1, "应急预案是否备案"))),
    )  # fmt: skip
    info = {
        "visit": VISIT,
        "subject": SubjectInfo("91330100MA27XXXX0X", "杭州某某餐饮有限公司", "杭州市西湖区某路1号",
                               SITE[0], SITE[1]),
        "task": "T2026-001",
        "task_name": "2026年餐饮单位部门联合抽查",
        "members": members,
        "matters": matters,
    }  # fmt: skip
    info.update(changes)
    return VisitInfo(**info)


@dataclass
class Phone:
    """One device of one actor: events chained by seq/prev as the PWA makes them."""

    actor: str
    name: str = ""
    visit: str | None = VISIT
    seq: int = 0
    prev: str = GENESIS_PREV
    clock: int = T0
    log: list[Received] = field(default_factory=list)

    @property
    def device(self) -> str:
        return hashlib.sha256(f"{self.actor}/{self.name}".encode()).hexdigest()

    def make(self, etype: str, body: dict[str, Any], *, at: int | None = None) -> Event:
        self.seq += 1
        self.clock += 1_000
        n = next(_ids)
        env = {
            "v": 1, "id": f"0193a000-0000-7000-8000-{n:012x}", "device": self.device,
            "seq": self.seq, "prev": self.prev, "actor": self.actor, "visit": self.visit,
            "type": etype, "at": self.clock if at is None else at, "body": body,
        }  # fmt: skip
        event = parse_event(canonical_evidence(env))
        self.prev = event.hash
        return event


class Log:
    """The server log of one visit: events in the order they were received."""

    def __init__(self) -> None:
        self.entries: list[Received] = []
        self.clock = T0 + 60_000

    def add(self, event: Event, received_ms: int | None = None, made_after_ms: int | None = None):
        self.clock += 1_000
        self.entries.append(Received(event, received_ms or self.clock, made_after_ms))
        return event


def body(etype: str) -> dict[str, Any]:
    """A valid body of each type (docs/events.md examples)."""
    h = "ab" * 32
    return {
        "checkin": {"lat_e6": SITE[0] + 300, "lon_e6": SITE[1], "accuracy_m": 12, "source": "gps"},
        "item_result": {"matter": "SC-01", "item": 0, "result": "compliant"},
        "matter_result": {"matter": "SC-01", "result_code": "no_problem", "disposition": "none"},
        "photo": {"media": media("p1"), "caption": "门头", "matter": "SC-01", "item": 0},
        "note": {"text": "现场负责人配合检查", "matter": "SC-01"},
        "transcript": {"text": "现场笔录：……", "media": [media("t1", "audio/mp4")]},
        "witness": {"name": "赵敏", "id_number": "330106199001011234", "phone": "13800000000",
                    "role": "社区网格员"},
        "signature": {"record_hash": h, "signer_name": "陈强", "signer_role": "法定代表人",
                      "image": media("sig", "image/png"),
                      "strokes": media("strokes", "application/json")},
        "signature_refused": {"record_hash": h, "reason_code": "refused",
                              "reason": "负责人拒绝签字",
                              "witness": {"name": "赵敏", "phone": "13800000000"}},
        "special_outcome": {"code": "unreachable", "text": "登记住所已拆迁，电话无人接听",
                            "media": [media("door")]},
        "record_confirmed": {"record_hash": h, "method": "webauthn", "assertion": assertion(h)},
        "correction": {"supersedes": "0193a000-0000-7000-8000-000000000001", "reason": "录入错误",
                       "body": {"matter": "SC-01", "item": 0, "result": "non_compliant",
                                "note": "未悬挂"}},
    }[etype]  # fmt: skip


class Scene:
    """Four inspectors' phones and the server log they sync to."""

    def __init__(self) -> None:
        self.log = Log()
        self.p = {u: Phone(u) for u in ("u1", "u2", "u3", "u4")}

    def add(self, actor: str, etype: str, b: dict[str, Any], **kw: Any):
        at = kw.pop("at", None)
        phone = kw.pop("phone", None) or self.p[actor]
        return self.log.add(phone.make(etype, b, at=at), **kw)

    def item(self, actor: str, matter: str, item: int, result: str, note: str = "", **kw: Any):
        b = {"matter": matter, "item": item, "result": result} | ({"note": note} if note else {})
        return self.add(actor, "item_result", b, **kw)

    def correct(self, actor: str, target: str, new: dict[str, Any], reason: str = "更正"):
        return self.add(actor, "correction", {"supersedes": target, "reason": reason, "body": new})

    def state(self) -> VisitState:
        return project_visit(visit=INFO, events=self.log.entries, now_ms=NOW)


def codes(state: VisitState) -> list[str]:
    return [p.code for p in state.problems]


def matter(state: VisitState, code: str):
    return next(m for m in state.matters if m.code == code)


def near(dlat: int = 300) -> dict[str, Any]:
    return {"lat_e6": SITE[0] + dlat, "lon_e6": SITE[1], "accuracy_m": 15, "source": "gps"}


def full_visit() -> Scene:
    """A joint visit of 3 departments: every item and matter result answered."""
    s = Scene()
    s.add("u1", "checkin", near(300))
    s.add("u2", "checkin", near(-200))
    s.add("u4", "checkin", near(10_000))  # about 1.1 km away
    s.add("u3", "checkin", {"position": None, "reason": "室内无定位信号"})
    for i in range(3):
        s.item("u1", "SC-01", i, "compliant")
    s.item("u3", "HB-01", 0, "compliant")
    s.item("u3", "HB-01", 1, "non_compliant", "台账缺2025年12月记录")
    s.item("u4", "YJ-01", 0, "compliant")
    s.item("u4", "YJ-01", 1, "not_applicable")
    s.add("u1", "matter_result", {"matter": "SC-01", "result_code": "no_problem"})
    s.add("u3", "matter_result", {"matter": "HB-01", "result_code": "corrected",
                                  "disposition": "order_correction"})  # fmt: skip
    s.add("u4", "matter_result", {"matter": "YJ-01", "result_code": "no_problem"})
    s.add("u2", "photo", body("photo"))
    s.add("u3", "note", {"text": "已当场责令补记台账", "matter": "HB-01"})
    s.add("u1", "transcript", body("transcript"))
    return s


INFO = visit_info()
