"""Bad input never answers 500: every route, fed a fixed set of malformed values.

For each route of the app (enumerated as in test_route_guards.py), each path and query
parameter gets the values of BAD in turn (NUL, non-UUIDs, huge and negative numbers, long,
unicode and path-traversal strings, hex that names nothing), and each JSON body has every
leaf of a valid sample body swapped for wrong types, nulls, huge integers, NUL strings and
deep nesting. Signed sync events are fuzzed field by field the same way. Every answer must be
below 500, and a 4xx must carry a string `code` and `message`. Afterwards the stored data must
still read back (lists, exports, the visit) and the evidence store must verify: bad input is
refused, never half-stored. Run on both engines (PostgreSQL types are the strict ones).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg, ParameterKwarg

from onevisit.auth.roles import Role
from onevisit.auth.users import create_user
from onevisit.directory.tables import CheckItem, Department, Inspector, Matter
from onevisit.evidence.events import sign_event
from onevisit.evidence.jcs import canonical_evidence
from onevisit.evidence.store import new_event_id, now_ms
from onevisit.evidence.verify import verify_all
from onevisit.field.bodies import BODY_TYPES
from onevisit.planning.visits import create_task, create_visit
from onevisit.simulate.phone import Phone
from tests.directory.util import new_uscc
from tests.field.factory import body as sample_event_body
from tests.fixtures import unique

HEX64 = "ab" * 32
DEEP = 3000  # nesting levels of the deepest body: past Python's default recursion limit

# The values every path and query parameter gets, as the server should see them (path values
# are percent-encoded whole, so "\x00" travels as %00 and "%00" as %2500).
BAD = (
    "not-a-uuid",
    "\x00",
    "a\x00b",
    "%00",
    "x" * 5000,
    "-1",
    "99999999999999999999999",
    "１２３",
    "'; DROP TABLE x;--",
    "../../etc/passwd",
    HEX64,
    "AB" * 32,
    "01937000-0000-7000-8000-00000000000Z",
    " ",
    "é\u0301😀",
)

# Malformed replacements for one leaf of a valid JSON body, by the type of the valid value.
_STR = ("a\x00b", "x" * 5000, 10**30, None, ["x"], "１２３😀")
_INT = (10**30, -(10**30), -1, "1", None, 1.5)
_BOOL = ("true", None, 2)
_LIST = (None, "x", ["\x00"], [10**30], [[[[[]]]]])
_DICT = (None, [], {"\x00": "\x00"}, {"a": {"b": {"c": [10**30]}}})
_NONE = ("\x00", 10**30, "x" * 5000, {})

# Bodies that are wrong as a whole (raw bytes are sent as they are).
WHOLE_BAD: tuple[Any, ...] = (
    [],
    None,
    "x",
    10**30,
    {},
    b"{",
    b"\xff\xfe\x00",
    b'{"a": "\\u0000\\ud800"}',
    b"[" * DEEP + b"]" * DEEP,
    b'{"a":' * DEEP + b"1" + b"}" * DEEP,
)

# Query parameters some routes require: the fuzzed one replaces its own, the others stay valid.
BASE_QUERY = {
    "/log/entries": {"start": "0", "end": "1"},
    "/log/proof/inclusion": {"index": "0", "size": "1"},
    "/log/proof/consistency": {"from": "1", "to": "1"},
    "/api/dashboard": {"year": "2026"},  # the other filter fuzzed with a valid year beside it
}
# Keys a create route must get new each time (else all but the first meet "exists").
FRESH = {
    ("POST", "/api/departments"): {"code": lambda: unique("dep")},
    ("POST", "/api/matters"): {"code": lambda: unique("m")},
    ("POST", "/api/subjects"): {"subject_id": new_uscc},
    ("POST", "/api/inspectors"): {
        "code": lambda: unique("i"),
        "certificate_no": lambda: unique("c"),
    },
}
# Handler arguments that are not query parameters (litestar fills them from elsewhere).
RESERVED = {"request", "data", "self", "scope", "state", "headers", "cookies", "query", "body"}
# Routes for the field roles: called as an inspector with a registered device.
FIELD_PREFIXES = ("/api/sync", "/api/media", "/api/day-plan", "/api/me/")
LOGOUT = "/api/auth/logout"  # would end the fuzzing session; it takes no input anyway


# --- enumeration (as test_route_guards.py) --------------------------------------------------
def app_handlers(app) -> Iterator[tuple[str, HTTPRouteHandler]]:
    for route in app.routes:
        if not route.path.startswith(("/api/", "/log/")):
            continue
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                yield route.path, handler


def path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def query_params(path: str, handler: HTTPRouteHandler) -> list[str]:
    names = []
    for name, fd in handler.parsed_fn_signature.parameters.items():
        kd = fd.kwarg_definition
        if name in RESERVED or name in path_params(path) or isinstance(kd, BodyKwarg):
            continue
        if isinstance(kd, ParameterKwarg):
            if kd.header or kd.cookie:
                continue
            names.append(kd.query or name)
        else:
            names.append(name)
    return names


def has_json_body(handler: HTTPRouteHandler) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    kd = data.kwarg_definition if data else None
    return data is not None and not (
        isinstance(kd, BodyKwarg) and kd.media_type != RequestEncodingType.JSON
    )


# --- mutations of a valid body ---------------------------------------------------------------
def _replacements(value: Any) -> tuple[Any, ...]:
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _INT
    if isinstance(value, str):
        return _STR
    if isinstance(value, list):
        return _LIST
    if isinstance(value, dict):
        return _DICT
    return _NONE


def mutations(value: Any, where: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(where, bad): every leaf of `value` (and of the first element of each list) replaced by
    each wrong value of its type. `where` is the key path, () for the whole value."""
    if where:
        for bad in _replacements(value):
            yield where, bad
    if isinstance(value, dict):
        for key, item in value.items():
            yield from mutations(item, (*where, key))
    elif isinstance(value, list) and value:
        yield from mutations(value[0], (*where, 0))


def replaced(value: Any, where: tuple, bad: Any) -> Any:
    out = copy.deepcopy(value)
    target = out
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = bad
    return out


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}…"


# --- the check ---------------------------------------------------------------------------------
@dataclass
class Findings:
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def check(self, r: httpx.Response, what: str) -> None:
        self.requests += 1
        where = f"{r.request.method} {what} → {r.status_code}"
        if r.status_code >= 500:
            self.failures.append(f"{where}: {r.text[:160]}")
        elif r.status_code >= 400 and r.request.method != "HEAD":
            try:
                body = r.json()
            except ValueError:
                body = None
            if not (
                isinstance(body, dict)
                and isinstance(body.get("code"), str)
                and isinstance(body.get("message"), str)
            ):
                self.failures.append(f"{where} without code/message: {r.text[:160]}")

    def assert_none(self) -> None:
        assert self.failures == [], f"{len(self.failures)} of {self.requests}:\n" + "\n".join(
            self.failures
        )


async def send(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """`body`: raw bytes are sent as they are (as JSON), anything else (None too) as JSON."""
    if "body" in kw:
        body = kw.pop("body")
        if not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False).encode()
        kw["content"], kw["headers"] = body, {"content-type": "application/json"}
    return await client.request(method, url, **kw)


# --- the world the fuzz runs against -------------------------------------------------------------
@dataclass
class World:
    admin: httpx.AsyncClient
    inspector: httpx.AsyncClient
    phone: Phone
    matter: str
    subject: str
    visit: str
    paths: dict[str, str]  # path parameter → a valid value
    bodies: dict[tuple[str, str], Any]  # (method, route path) → a valid JSON body

    def client_for(self, path: str) -> httpx.AsyncClient:
        return self.inspector if path.startswith(FIELD_PREFIXES) else self.admin


def _fill(path: str, values: dict[str, str]) -> str:
    parts = []
    for part in path.split("/"):
        if part.startswith("{"):
            part = quote(values[part[1:-1].split(":")[0]], safe="")
        parts.append(part)
    return "/".join(parts)


@pytest.fixture
async def world(as_role, sign_in) -> World:
    admin = await as_role(Role.admin)
    dep = unique("dep")
    r = await admin.client.post("/api/departments", json={"code": dep, "name": f"部门{dep}"})
    assert r.status_code in (200, 201), r.text
    dep_id = (await Department.select(Department.id).where(Department.code == dep).first())["id"]
    matter = unique("m")
    m = Matter(code=matter, department=dep_id, name=f"事项{matter}", category="key")
    await Matter.insert(m)
    await CheckItem.insert(CheckItem(matter=m.id, position=0, text="检查项目"))
    codes = [unique("i"), unique("i")]
    for code in codes:
        await Inspector.insert(
            Inspector(code=code, name=f"检查员{code}", department=dep_id, certificate_no=code)
        )
    user = await create_user(
        name=f"检查员{codes[0]}", role="inspector", department_code=dep,
        inspector_code=codes[0], created_by="test",
    )  # fmt: skip
    inspector = await sign_in(user.id)
    phone = Phone(actor=user.id)
    r = await inspector.post("/api/auth/devices", json={"spki": phone.spki_b64url, "label": "t"})
    assert r.status_code == 201, r.text
    subject = new_uscc()
    r = await admin.client.post(
        "/api/subjects",
        json={"subject_id": subject, "name": "测试商贸有限公司", "kind": "enterprise"},
    )
    assert r.status_code in (200, 201), r.text
    plan_line = {
        "task_name": "联合抽查", "lead": matter, "matters": [], "initiator": dep,
        "scope": {"kinds": ["enterprise"], "region": "4103", "industry": "F", "tags": ["t"]},
        "ratio": "0.05", "schedule": {"start": "2026-03-01", "end": "2026-06-30"},
    }  # fmt: skip
    plan_code = unique("P")
    r = await admin.client.post("/api/plans", json={
        "code": plan_code, "year": 2026, "name": "计划", "initiator": dep, "lines": [plan_line],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    task_code = unique("task")
    task = await create_task(
        code=task_code, name="抽查", initiator=dep, matters=[matter], created_by="test"
    )
    visit = await create_visit(task_id=task, subject_id=subject, members=[(c, dep) for c in codes])
    # a log with a checkpoint, so the /log/ proofs get past "empty"
    r = await inspector.post(
        "/api/sync", json={"events": [phone.event("note", {"text": "x"}, visit=visit).wire()]}
    )
    assert r.json()["acks"][0]["status"] == "accepted", r.text
    r = await inspector.post(
        "/api/media/uploads",
        json={"sha256": HEX64, "size": 10, "mime": "image/jpeg", "purpose": "photo"},
    )
    assert r.status_code in (200, 201), r.text
    upload = r.json()["upload_id"] or "none"
    other = Phone(actor=user.id)
    matter_body = {
        "code": matter, "department": dep, "name": "事项", "category": "key",
        "ratio_cap": None, "basis": "依据", "content": "内容", "methods": ["on_site"],
        "subject_kinds": ["enterprise"], "active": True,
        "items": [{"text": "检查项目", "basis": ""}],
    }  # fmt: skip
    subject_body = {
        "subject_id": subject, "name": "测试商贸有限公司", "kind": "enterprise",
        "address": "地址", "lat_e6": 34669900, "lon_e6": 112442100, "industry_code": "F52",
        "region_code": "410302", "credit_class": "B", "abnormal": False,
        "serious_violation": False, "last_inspected": "2025-01-02",
        "legal_representative": "张三", "tags": ["重点"], "version": None,
    }  # fmt: skip
    inspector_body = {
        "code": codes[1], "department": dep, "name": "检查员", "certificate_no": codes[1],
        "post": "", "expertise": ["食品"], "active": True,
    }  # fmt: skip
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    today, in_a_week = today.isoformat(), (today + dt.timedelta(days=7)).isoformat()
    bodies = {
        ("POST", "/api/auth/users"): {
            "name": "新用户", "role": "inspector", "department": dep, "inspector_code": None,
        },
        ("POST", "/api/auth/enrol/{token:str}/passkey"): {"handle": "h", "credential": {"id": "x"}},
        ("POST", "/api/auth/enrol/{token:str}/device"): {
            "spki": other.spki_b64url, "pin": "123456", "signature": "c2ln", "label": "t",
        },
        ("POST", "/api/auth/login"): {"handle": "h", "credential": {"id": "x"}},
        ("POST", "/api/auth/device/challenge"): {"device_id": phone.device_id},
        ("POST", "/api/auth/device/login"): {
            "handle": "h", "device_id": phone.device_id, "pin": "123456", "signature": "c2ln",
        },
        ("POST", "/api/auth/devices"): {"spki": other.spki_b64url, "label": "t"},
        ("POST", "/api/departments"): {
            "code": unique("dep"), "name": "部门", "region_code": "410302", "partners": [dep],
        },
        ("POST", "/api/matters"): dict(matter_body, code=unique("m")),
        ("PUT", "/api/matters/{code:str}"): matter_body,
        ("POST", "/api/subjects"): dict(subject_body, subject_id=new_uscc()),
        ("PUT", "/api/subjects/{subject_id:str}"): subject_body,
        ("POST", "/api/inspectors"): dict(inspector_body, code=unique("i")),
        ("PUT", "/api/inspectors/{code:str}"): inspector_body,
        ("POST", "/api/inspectors/{code:str}/conflicts"): {"subject_id": subject, "reason": "亲属"},
        ("POST", "/api/media/uploads"): {
            "sha256": "cd" * 32, "size": 10, "mime": "image/jpeg", "purpose": "photo",
        },
        ("POST", "/api/sync"): {"events": [{"envelope": "{}", "sig": "c2ln"}]},
        ("POST", "/api/devices/{device_id:str}/status"): {
            "pending": 1, "visits": {visit: 1}, "rejected": 0, "last_ok_ms": 1764000000000,
        },
        ("POST", "/api/visits/{visit_id:str}/close"): {"record_hash": HEX64},
        ("POST", "/api/tasks"): {
            "code": unique("T"), "name": "任务", "matters": [matter], "initiator": dep,
            "trigger": {"kind": "complaint", "reference": "r", "note": "", "subjects": [subject]},
            "plan": {"code": plan_code, "line": 1},
        },
        ("POST", "/api/tasks/{task:str}/draw"): {
            "strata": {"B": {"ratio": "0.5"}}, "needs": {dep: 2}, "cap": 3,
            "parties": [{"name": "p", "commit": HEX64}],
        },
        ("POST", "/api/tasks/{task:str}/draw/beacon"): {"beacon": "b"},
        ("POST", "/api/tasks/{task:str}/draw/reveal"): {"party": "p", "secret": HEX64},
        ("POST", "/api/tasks/{task:str}/draw/run"): {"give_up": ["p"]},
        ("POST", "/api/tasks/{task:str}/draw/swaps"): {
            "subject_id": subject, "out": codes[0], "reason": "health",
        },
        ("POST", "/api/me/conflicts"): {"subject_id": subject, "reason": "亲属"},
        ("POST", "/api/day-plan"): {"visits": [{"visit": visit, "date": "2026-12-05"}]},
        ("POST", "/api/plans"): {
            "code": unique("P"), "year": 2026, "name": "计划", "initiator": dep,
            "lines": [plan_line],
        },
        ("POST", "/api/plans/{plan:str}/versions"): {"reason": "调整", "lines": [plan_line]},
        ("POST", "/api/results/{result:int}/return"): {"reason": "退回"},
        ("POST", "/api/results/{result:int}/withhold"): {"reason": "立案", "approver": "张局长"},
        ("POST", "/api/results/{result:int}/versions"): {
            "result_code": "no_problem", "reason": "更正", "disposition": "none", "note": "",
        },
        ("POST", "/api/results/{result:int}/followups"): {
            "kind": "rectification", "on": today, "due_on": in_a_week, "text": "整改",
            "case_no": "", "target": "", "department": "", "follows": None,
        },
        ("POST", "/api/followups/{followup:int}/steps"): {
            "step": "reinspect", "on": today, "outcome": "corrected", "text": "已改正",
        },
        ("POST", "/api/tasks/{task:str}/assignments"): {
            "subject_id": subject, "members": [[codes[0], dep], [codes[1], dep]], "reason": "r",
        },
    }  # fmt: skip
    paths = {
        "user_id": user.id, "token": "x", "device_id": "ab" * 32, "code": codes[1],
        "subject_id": subject, "kind": "subjects", "name": "subjects.csv",
        "upload_id": upload, "sha256": HEX64, "visit_id": visit, "task": task_code,
        "plan": plan_code, "year": "2026", "result": "1", "subject": subject,
        "followup": "1",
    }  # fmt: skip
    return World(admin.client, inspector, phone, matter, subject, visit, paths, bodies)


async def call(world: World, findings: Findings, method: str, path: str, **kw: Any) -> None:
    """One request to `path` (a route path with parameters given in kw["path_values"])."""
    values = {**world.paths, **kw.pop("path_values", {})}
    url = _fill(path, values)
    client = world.client_for(path)
    what = kw.pop("what", path)
    if path == "/api/imports/{kind:str}":
        content = kw.pop("file", b"subject_id,name,kind\n")
        kw.pop("body", None)
        kw["files"] = {"file": (kw.pop("filename", "a.csv"), content, "text/csv")}
    elif method == "PATCH":  # a raw upload chunk
        kw.pop("body", None)
        kw["content"] = b"x"
        kw["headers"] = {"Upload-Offset": kw.pop("offset", "0").encode()}
    elif path == "/api/calendar/import":  # multipart: no file at all (files: test below)
        kw.pop("body", None)
    elif method in ("POST", "PUT") and "body" not in kw:
        body = world.bodies.get((method, path))
        if isinstance(body, dict):  # a body naming the path's key names the same one
            body = body | {k: values[k] for k in path_params(path) if k in body}
        if body is not None:
            kw["body"] = body
    findings.check(await send(client, method, url, **kw), what)


def routes(app) -> list[tuple[str, str, HTTPRouteHandler]]:
    return [
        (method, path, handler)
        for path, handler in app_handlers(app)
        for method in sorted(handler.http_methods)
        if path != LOGOUT
    ]


# --- the tests ---------------------------------------------------------------------------------
async def test_every_json_body_route_has_a_sample_body(app, world):
    """A new write route gets its body fuzzed too: it needs a valid sample here."""
    missing = [
        f"{method} {path}"
        for method, path, handler in routes(app)
        if has_json_body(handler) and (method, path) not in world.bodies
    ]
    assert missing == []


async def test_malformed_path_and_query_parameters(app, world):
    findings = Findings()
    seen = 0
    for method, path, handler in routes(app):
        for name in path_params(path):
            seen += 1
            for value in BAD:
                await call(
                    world, findings, method, path,
                    path_values={name: value}, what=f"{path} [{name}={short(value)}]",
                )  # fmt: skip
        base = BASE_QUERY.get(path, {})
        for name in query_params(path, handler):
            seen += 1
            for value in (*BAD, ""):
                params = {**base, name: value}
                await call(
                    world, findings, method, path,
                    params=params, what=f"{path} [?{name}={short(value)}]",
                )  # fmt: skip
            repeated = [*base.items(), (name, "1"), (name, "2")]
            await call(
                world, findings, method, path, params=repeated, what=f"{path} [?{name} twice]"
            )
    assert seen >= 25, "the app should have its parameters enumerated"
    findings.assert_none()


async def test_malformed_bodies(app, world):
    findings = Findings()
    for method, path, handler in routes(app):
        if has_json_body(handler):
            sample = world.bodies[(method, path)]
            for bad in WHOLE_BAD:
                await call(world, findings, method, path, body=bad, what=f"{path} <{short(bad)}>")
            fresh = FRESH.get((method, path), {})
            for where, bad in mutations(sample):
                # a create gets new keys each time, so the bad value meets more than "exists"
                new = {k: make() for k, make in fresh.items() if k != where[0]}
                body = replaced(sample | new, where, bad)
                label = f"{path} <{'.'.join(map(str, where))}={short(bad)}>"
                await call(world, findings, method, path, body=body, what=label)
    # the multipart import and the raw upload chunk
    for kind in ("subjects", "inspectors", "matters"):
        path = "/api/imports/{kind:str}"
        for content in (
            b"\x00" * 10,
            b"subject_id\n\x00\n",
            "名称\n１２３\n".encode(),
            b"PK\x03\x04",
        ):
            await call(
                world, findings, "POST", path, path_values={"kind": kind},
                file=content, what=f"{path} [{kind}] <{short(content)}>",
            )  # fmt: skip
        await call(
            world, findings, "POST", path, path_values={"kind": kind},
            filename="\x00../../x.csv", what=f"{path} [{kind}] <filename with NUL>",
        )  # fmt: skip
    for content in (b"\x00" * 10, b"date\n\x00\n", "日期\n１２３\n".encode(), b"[{", b"PK\x03\x04"):
        r = await world.admin.post(
            "/api/calendar/import", files={"file": ("\x00../../x.csv", content, "text/csv")}
        )
        findings.check(r, f"/api/calendar/import <{short(content)}>")
    for offset in ("-1", "99999999999999999999999", "１", "\x00", ""):
        path = "/api/media/uploads/{upload_id:str}"
        await call(
            world, findings, "PATCH", path, offset=offset, what=f"{path} <offset={offset!r}>"
        )
    await assert_data_reads_back(world, findings)
    findings.assert_none()


async def test_malformed_signed_events(world):
    """Envelopes signed by a registered device, each field (and each body field of every event
    type) replaced by a wrong value: the sync answers 200 with a coded ack per event."""
    findings = Findings()
    envelopes = []
    for etype in BODY_TYPES:
        body = sample_event_body(etype)
        for holder in (body, body.get("body", {})):  # a correction's body names one too
            if "matter" in holder:
                holder["matter"] = world.matter
        envelopes.append(world.phone.envelope(etype, body, visit=world.visit))
    for i, envelope in enumerate(envelopes):
        for where, bad in mutations(envelope):
            if i == 0 or where[0] == "body":  # the envelope's fields once, every type's body
                await sign_and_send(world, findings, replaced(envelope, where, bad), where, bad)
    for bad in WHOLE_BAD:  # not an object at all, signed all the same
        raw = bad if isinstance(bad, bytes) else json.dumps(bad).encode()
        await post_signed(world, findings, raw, f"<{short(bad)}>")
    await assert_data_reads_back(world, findings)
    findings.assert_none()
    report = await verify_all()
    assert report.ok, report.summary()


async def sign_and_send(world: World, findings: Findings, envelope: dict, where, bad) -> None:
    phone = world.phone
    fresh = {"id": new_event_id(now_ms()), "seq": phone.seq + 1, "prev": phone.prev}
    envelope = envelope | {k: v for k, v in fresh.items() if k != where[0]}
    try:
        raw = canonical_evidence(envelope)
    except Exception:  # not representable canonically (huge ints, lone keys): sent as JSON
        raw = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    await post_signed(world, findings, raw, f"<{'.'.join(map(str, where))}={short(bad)}>")


async def post_signed(world: World, findings: Findings, raw: bytes, label: str) -> None:
    phone = world.phone
    sig = sign_event(envelope_bytes=raw, private_key=phone.key)
    r = await world.inspector.post(
        "/api/sync", json={"events": [{"envelope": raw.decode("utf-8", "replace"), "sig": sig}]}
    )
    findings.check(r, f"/api/sync {label}")
    if r.status_code != 200:
        return
    ack = r.json()["acks"][0]
    if ack["status"] == "accepted":  # the chain moved on (its seq and prev were the phone's)
        phone.rewind(seq=json.loads(raw)["seq"], prev=ack["hash"])
    elif ack["status"] != "rejected" or not isinstance(ack.get("code"), str):
        findings.failures.append(f"/api/sync {label}: uncoded ack {ack}")


async def assert_data_reads_back(world: World, findings: Findings) -> None:
    """What the fuzz may have stored still reads back: nothing half-written or unreadable."""
    reads = [
        "/api/departments", "/api/matters", "/api/subjects", "/api/inspectors",
        "/api/auth/users", f"/api/subjects/{world.subject}", "/api/exports/subjects.csv",
        "/api/exports/inspectors.xlsx", "/api/exports/matters.csv", "/log/checkpoint",
    ]  # fmt: skip
    for url in reads:
        r = await world.admin.get(url)
        if r.status_code != 200:
            findings.failures.append(f"read-back GET {url} → {r.status_code}: {r.text[:160]}")
    for url in (f"/api/visits/{world.visit}", "/api/visits", "/api/auth/devices"):
        r = await world.inspector.get(url)
        if r.status_code != 200:
            findings.failures.append(f"read-back GET {url} → {r.status_code}: {r.text[:160]}")
