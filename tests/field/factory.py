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
from onevisit.field.bodies import CORRECTABLE_TYPES
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


# --- random visits: the property tests of the record and of the PWA's port (pwa/visit/) ------
DEPARTMENTS = ("SCJG", "HB", "YJ")
ACT_TYPES = ("signature", "signature_refused", "record_confirmed")  # acts about the record
# Strings that NFC changes (decomposed, compatibility singletons, Hangul jamo), characters
# beyond U+FFFF (JS compares UTF-16 units, Python code points), and spaces Python and JS
# disagree on: U+FEFF is not whitespace for str.strip(), U+001C is; JS trim() thinks the
# opposite.
TEXTS = (
    "现场负责人配合检查", "Cafe\u0301 北京", "\u212b\u2126 ohm", "\u1100\u1161\u11a8 jamo",
    "e\u0323\u0302", "emoji \U0001f600 \U0001d11e", "\ufeff", " \u3000前后空格 ",
    "\uff21\uff22 全角", "x", "Ǆ ﬁ ligature",
)  # fmt: skip
CODES_POOL = ("SC001", "SC002", "HB001", "YJ001", "\U0001f600-7", "\uff7a-4", "Ω-2", "e\u0301-9")
NAMES = ("张伟", "李娜", "王芳", "刘洋", "Jose\u0301", "\u1100\u1161\u11a8", "Zoë")


def random_visit_info(rng: Any) -> VisitInfo:
    """A visit of 2-5 members (some without a user: actor "") and 1-3 matters."""
    pick = rng.choice
    matters = []
    for n, dep in enumerate(rng.sample(DEPARTMENTS, rng.randint(1, 3))):
        positions = sorted(rng.sample(range(6), rng.randint(0, 4)))
        items = tuple(ItemInfo(p, f"{pick(TEXTS)} 第{p}项") for p in positions)
        matters.append(MatterInfo(f"{dep[:2]}-0{n + 1}", dep, pick(TEXTS), items))
    members = []
    codes_left = list(CODES_POOL)
    rng.shuffle(codes_left)
    for n in range(rng.randint(2, 5)):
        dep = pick([m.department for m in matters]) if rng.random() < 0.85 else pick(DEPARTMENTS)
        served = dep if rng.random() < 0.8 else pick(DEPARTMENTS)
        members.append(
            MemberInfo(
                actor="" if rng.random() < 0.1 else f"u{n + 1}",
                inspector=codes_left.pop(),
                name=pick(NAMES),
                department=dep,
                served=served,
                is_leader=n == 0,
                certificate=pick((None, "33010001", "Ｃ\u0301-1")),
            )
        )
    located = rng.random() < 0.8
    subject = SubjectInfo(
        id=pick(("91330100MA27XXXX0X", "S-\u212b")),
        name=pick(TEXTS),
        address=pick(("", "杭州市西湖区某路1号", "Cafe\u0301 路")),
        lat_e6=SITE[0] if located else None,
        lon_e6=SITE[1] if located else None,
    )
    return VisitInfo(
        visit=VISIT,
        subject=subject,
        task=pick(("T2026-001", "T-\u00c5")),
        members=tuple(members),
        matters=tuple(matters),
        task_name=pick(("", "2026年联合抽查", "A\u030a task")),
    )


class RandomVisit:
    """A random visit made by real phones (1-2 devices per member, a stranger and a phone of
    another visit): every event type, conflicts, corrections (good and bad), check-ins near,
    far, inaccurate and without a position, clock offsets, invalid bodies, duplicates, acts
    naming the current or a stale record hash.

    With `cross_corrections=False` a correction only names an event of its own device, so
    every interleaving of the devices' logs applies the same corrections (the record is then
    a function of the set of events; docs/events.md "The record")."""

    def __init__(self, rng: Any, *, steps: int | None = None, cross_corrections: bool = True):
        self.rng = rng
        self.info = random_visit_info(rng)
        self.log = Log()
        self.phones: list[Phone] = []
        for m in self.info.members:
            if m.actor and all(p.actor != m.actor for p in self.phones):
                for d in range(rng.choice((1, 1, 2))):
                    self.phones.append(Phone(m.actor, f"d{d}", clock=T0 + rng.randint(0, 5) * 1000))
        self.outsiders = [Phone("u9", "stranger"), Phone("u1", "elsewhere", visit="another")]
        self.made: dict[str, list[Event]] = {}  # device → its events
        self.cross = cross_corrections
        for _ in range(rng.randint(5, 60) if steps is None else steps):
            self.step()

    # --- bodies ----------------------------------------------------------------------------
    def text(self) -> str:
        return self.rng.choice(TEXTS)

    def matter_item(self, phone: Phone) -> tuple[str, int | None]:
        rng = self.rng
        served = {m.served for m in self.info.members if m.actor == phone.actor}
        known = [m for m in self.info.matters if m.department in served]
        if not known or rng.random() < 0.2:
            known = list(self.info.matters)
        if not known or rng.random() < 0.08:
            return "XX-01", rng.randint(0, 2)
        m = rng.choice(known)
        items = [i.position for i in m.items]
        if not items or rng.random() < 0.08:
            return m.code, 7
        return m.code, rng.choice(items)

    def media_list(self) -> list[dict[str, Any]]:
        names = ["a", "b", "c", "d"]
        n = self.rng.choice((0, 1, 1, 2, 3))
        return [media(self.rng.choice(names), self.rng.choice(("image/jpeg", "audio/mp4")))
                for _ in range(n)]  # fmt: skip

    def body(self, etype: str, phone: Phone) -> dict[str, Any]:
        rng, text = self.rng, self.text
        if etype == "checkin":
            if rng.random() < 0.25:
                b: dict[str, Any] = {"position": None, "reason": text()}
            else:
                d_lat = rng.choice((0, 300, -200, 4_400, 4_600, 10_000, 1_000_000, -80_000_000))
                b = {"lat_e6": SITE[0] + d_lat, "lon_e6": SITE[1] + rng.choice((0, 77, -5_000)),
                     "accuracy_m": rng.choice((0, 5, 15, 100, 101, 150))}  # fmt: skip
            if rng.random() < 0.7:
                b["source"] = rng.choice(("gps", "network", "manual"))
            return b
        if etype == "item_result":
            code, item = self.matter_item(phone)
            result = rng.choice(("compliant", "compliant", "non_compliant", "not_applicable"))
            b = {"matter": code, "item": item if item is not None else 0, "result": result}
            if result == "non_compliant" or rng.random() < 0.3:
                b["note"] = (
                    rng.choice(("", text(), "未悬挂")) if result != "non_compliant" else text()
                )
            if rng.random() < 0.4:
                b["media"] = self.media_list()
            return b
        if etype == "matter_result":
            code, _ = self.matter_item(phone)
            b = {
                "matter": code,
                "result_code": rng.choice(("no_problem", "no_problem", "corrected")),
            }
            if rng.random() < 0.5:
                b["disposition"] = rng.choice(("none", "order_correction"))
            if rng.random() < 0.5:
                b["note"] = rng.choice(("", text()))
            return b
        if etype == "photo":
            b = {"media": media(rng.choice("abcd"), rng.choice(("image/jpeg", "image/png")))}
            if rng.random() < 0.5:
                b["caption"] = rng.choice(("", text()))
            if rng.random() < 0.6:
                b["matter"], item = self.matter_item(phone)
                if item is not None and rng.random() < 0.6:
                    b["item"] = item
            if rng.random() < 0.3:
                b |= {"lat_e6": SITE[0] + 100, "lon_e6": SITE[1], "accuracy_m": 9}
            return b
        if etype == "note":
            b = {"text": text()}
            if rng.random() < 0.5:
                b["matter"] = self.matter_item(phone)[0]
            return b
        if etype == "transcript":
            return {"text": text()} | ({"media": self.media_list()} if rng.random() < 0.5 else {})
        if etype == "special_outcome":
            b = {
                "code": rng.choice(("unreachable", "refused_entry", "liquidation")),
                "text": text(),
            }
            return b | ({"media": self.media_list()} if rng.random() < 0.5 else {})
        if etype == "witness":
            b = {"name": rng.choice(NAMES)}
            for key in ("id_number", "phone", "role"):
                if rng.random() < 0.5:
                    b[key] = rng.choice(("", "13800000000", "社区网格员"))
            return b
        h = self.record_hash() if rng.random() < 0.7 else "cd" * 32
        if etype == "signature":
            return {"record_hash": h, "signer_name": rng.choice(NAMES), "signer_role": "负责人",
                    "image": media("sig", "image/png"),
                    "strokes": media("strokes", "application/json")}  # fmt: skip
        if etype == "signature_refused":
            b = {"record_hash": h, "reason_code": rng.choice(("refused", "absent")),
                 "reason": text(), "witness": {"name": rng.choice(NAMES)}}  # fmt: skip
            if rng.random() < 0.5:
                b["witness_signature"] = media("ws", "image/png")
            if rng.random() < 0.5:
                b["photo"] = media("wp")
            return b
        if etype == "record_confirmed":
            if rng.random() < 0.5:
                return {"record_hash": h, "method": "device_pin"}
            return {"record_hash": h, "method": "webauthn", "assertion": assertion(h)}
        raise AssertionError(etype)

    def invalid(self, etype: str, b: dict[str, Any]) -> dict[str, Any]:
        """One of the ways a body breaks its rules (the projection flags and ignores it)."""
        rng = self.rng
        ways = [
            lambda: b | {"lat": 1},  # unknown field
            lambda: {k: v for k, v in b.items() if k != sorted(b)[0]},  # a missing field
            lambda: b | {"text": rng.choice(("", "\x1c", "\u3000\x85", "\U0001f600" * 20_001))},
            lambda: b | {"matter": rng.choice(("", "has space", "x" * 33))},
            lambda: b | {"media": [media("x") | {"sha256": "AB" * 32}]},
            lambda: b | {"media": [media("x", "Image/JPEG")]},
            lambda: b | {"result": "yes"},
            lambda: b | {"item": -1},
            lambda: b | {"accuracy_m": True},
            lambda: b | {"name": "\U0001f600" * 129},  # 129 code points, 258 UTF-16 units
        ]
        return rng.choice(ways)()

    # --- steps -----------------------------------------------------------------------------
    def record_hash(self) -> str:
        return project_visit(visit=self.info, events=self.log.entries, now_ms=NOW).record_hash

    def step(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.03 and self.log.entries:  # the same event twice in the log
            self.log.entries.append(rng.choice(self.log.entries))
            return
        phone = rng.choice(self.outsiders) if roll < 0.06 or not self.phones else None
        phone = phone or rng.choice(self.phones)
        weights = {
            "checkin": 3, "item_result": 8, "matter_result": 3, "photo": 2, "note": 2,
            "transcript": 1, "special_outcome": 1, "witness": 1, "signature": 1,
            "signature_refused": 1, "record_confirmed": 1, "correction": 4,
        }  # fmt: skip
        etype = rng.choices(list(weights), list(weights.values()))[0]
        if etype == "correction":
            b = self.correction(phone)
        else:
            b = self.body(etype, phone)
            if rng.random() < 0.06:
                b = self.invalid(etype, b)
        at = None
        if rng.random() < 0.1:  # a clock ahead of receipt, or far behind
            at = phone.clock + rng.choice((20 * 60_000, -30 * 60_000, 4 * 60_000))
        event = phone.make(etype, b, at=at)
        self.made.setdefault(phone.device, []).append(event)
        made_after = None
        if rng.random() < 0.3:
            made_after = self.log.clock - rng.choice((0, 5 * 60_000, 20 * 60_000))
        self.log.add(event, made_after_ms=made_after)

    def correction(self, phone: Phone) -> dict[str, Any]:
        rng = self.rng
        own = self.made.get(phone.device, [])
        pool = [r.event for r in self.log.entries] if self.cross else own
        reason = (
            "\u3000" if rng.random() < 0.02 else rng.choice(("录入错误", "Cafe\u0301", "\ufeff"))
        )
        if not pool or rng.random() < 0.07:  # an event nobody has seen
            target = f"0193a000-0000-7000-8000-{rng.randint(1, 2**40):012x}"
            return {"supersedes": target, "reason": reason, "body": body("note")}
        target = rng.choice(pool)
        etype = target.type
        if etype == "correction":  # corrects the same original again
            inner = target.body.get("body")
            new = dict(inner) if isinstance(inner, dict) else {}
            new |= {"text": self.text()} if "text" in new else {}
        elif etype not in CORRECTABLE_TYPES:  # an act or a server entry: not correctable
            new = body(etype) if etype in ACT_TYPES else {}
        elif rng.random() < 0.1:  # a body of another type
            new = body(rng.choice(("note", "item_result", "checkin")))
        else:
            new = self.body(etype, phone)
            if etype in ("item_result", "matter_result") and rng.random() < 0.7:
                keep = ("result", "result_code", "note")  # same slot, another answer
                new = dict(target.body) | {k: new[k] for k in keep if k in new}
                if new.get("result") == "non_compliant" and not new.get("note", "").strip():
                    new["note"] = "复核"
        return {"supersedes": target.id, "reason": reason, "body": new}

    def interleaved(self, rng: Any) -> list[Received]:
        return interleave(self.log.entries, rng)

    def state(self, entries: list[Received] | None = None) -> VisitState:
        events = self.log.entries if entries is None else entries
        return project_visit(visit=self.info, events=events, now_ms=NOW)


def interleave(entries: list[Received], rng: Any) -> list[Received]:
    """The same events in another cross-device interleaving: each device keeps its own order
    (seq), the merge is random and the receipts are stamped anew in the new order."""
    queues: dict[str, list[Received]] = {}
    for r in entries:
        queues.setdefault(r.event.device, []).append(r)
    out, clock = [], T0 + 60_000
    while queues:
        device = rng.choice(sorted(queues))
        r = queues[device].pop(0)
        if not queues[device]:
            del queues[device]
        clock += 1_000
        out.append(Received(r.event, clock, r.made_after_ms))
    return out
