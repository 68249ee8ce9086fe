"""What the printed record (检查记录表) shows, gathered from a projected visit: the record
document exactly as hashed (field/record.py), plus what the record cannot hold because it
names the record by hash — the subject's signature or the refusal, and each inspector's
confirmation — and the labels a reader needs (department names, code labels).

Pure: no I/O. The service reads the visit, the department names and the thumbnails and
hands them in; render.py draws a Sheet and nothing else, so personal data that is not on a
Sheet cannot reach the paper. Of a refusal's witness only the name is kept — as on the
public verification page (field/public.py), never the phone, id number or role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onevisit.field.model import Confirmation, MemberInfo, VisitInfo, VisitState
from onevisit.field.record import short_code

__all__ = [
    "Confirmed",
    "Refused",
    "Sheet",
    "Signed",
    "images_wanted",
    "is_confirmed",
    "sheet_of",
    "verify_url",
]


@dataclass(frozen=True, slots=True)
class Signed:
    signer_name: str
    signer_role: str
    at: int  # device ms
    image_sha256: str
    collected_by: str  # the inspector (name) whose phone took the signature


@dataclass(frozen=True, slots=True)
class Refused:
    reason_code: str  # field/codes.py REFUSAL_REASONS
    reason: str
    witness_name: str
    at: int
    recorded_by: str
    witness_signature_sha256: str | None = None
    photo_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Confirmed:
    """One member of the group and how they confirmed this record (method None: not yet)."""

    name: str
    inspector: str
    department: str
    leader: bool
    method: str | None = None  # webauthn | device_pin
    at: int | None = None


@dataclass(frozen=True, slots=True)
class Sheet:
    record: dict[str, Any]  # the document as hashed
    record_hash: str
    verify_url: str
    departments: dict[str, str] = field(default_factory=dict)  # code → name
    signature: Signed | None = None
    refusal: Refused | None = None
    confirmations: tuple[Confirmed, ...] = ()  # every member, in the group's order
    images: dict[str, bytes] = field(default_factory=dict)  # sha256 → small JPEG

    @property
    def short_code(self) -> str:
        return short_code(self.record_hash)


def verify_url(origin: str, record_hash: str) -> str:
    """The public verification page of EVIDENCE.md §7, which the QR code points to."""
    return f"{origin.rstrip('/')}/verify/record/{record_hash}"


def is_confirmed(state: VisitState) -> bool:
    """A record is printable once an inspector confirmed the current one (§5): the paper
    then shows what at least one inspector vouched for, never a draft."""
    return any(not c.stale for c in state.confirmations)


def images_wanted(state: VisitState, record: dict[str, Any]) -> list[str]:
    """The hashes whose thumbnails the sheet shows: photos, the signature, the witness's."""
    wanted = [p["sha256"] for p in record["photos"]]
    if state.signature is not None and not state.signature.stale:
        wanted.append(state.signature.image.sha256)
    refusal = state.refusal
    if refusal is not None and not refusal.stale and refusal.witness_signature is not None:
        wanted.append(refusal.witness_signature.sha256)
    return list(dict.fromkeys(wanted))


def sheet_of(
    *,
    info: VisitInfo,
    state: VisitState,
    record: dict[str, Any],
    record_hash: str,
    origin: str,
    departments: dict[str, str],
    images: dict[str, bytes],
) -> Sheet:
    """The sheet of the current record; acts naming an older record (stale) are left out,
    as they do not vouch for what is printed."""
    by_actor = {m.actor: m for m in info.members}

    def name(actor: str) -> str:
        member = by_actor.get(actor)
        return member.name if member else ""

    signature = refusal = None
    s = state.signature
    if s is not None and not s.stale:
        signature = Signed(s.signer_name, s.signer_role, s.at, s.image.sha256, name(s.actor))
    r = state.refusal
    if r is not None and not r.stale:
        refusal = Refused(
            reason_code=r.reason_code, reason=r.reason, witness_name=r.witness.name, at=r.at,
            recorded_by=name(r.actor),
            witness_signature_sha256=r.witness_signature.sha256 if r.witness_signature else None,
            photo_sha256=r.photo.sha256 if r.photo else None,
        )  # fmt: skip
    current = {c.actor: c for c in state.confirmations if not c.stale}
    return Sheet(
        record=record,
        record_hash=record_hash,
        verify_url=verify_url(origin, record_hash),
        departments=departments,
        signature=signature,
        refusal=refusal,
        confirmations=tuple(_confirmed(m, current.get(m.actor)) for m in info.members),
        images=images,
    )


def _confirmed(member: MemberInfo, confirmation: Confirmation | None) -> Confirmed:
    head = (member.name, member.inspector, member.department, member.is_leader)
    if confirmation is None:
        return Confirmed(*head)
    return Confirmed(*head, method=confirmation.method, at=confirmation.at)
