"""The projection's input (VisitInfo, what the planning tables say about a visit) and output
(VisitState). All frozen; `to_json()` gives plain dicts, lists, strings, integers, booleans
and None, in a fixed order, so two projections of the same events compare and hash equal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Answer",
    "Checkin",
    "Confirmation",
    "CorrectionState",
    "ItemInfo",
    "ItemState",
    "MatterInfo",
    "MatterState",
    "MediaRef",
    "MemberInfo",
    "NoteState",
    "Person",
    "PhotoState",
    "Problem",
    "RefusalState",
    "SignatureState",
    "SpecialOutcomeState",
    "SubjectInfo",
    "TranscriptState",
    "VisitInfo",
    "VisitState",
    "WitnessState",
]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _Json:
    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        return _plain(self)


# --- input ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SubjectInfo(_Json):
    id: str  # USCC or directory id
    name: str
    address: str = ""
    lat_e6: int | None = None  # registered location, integer micro-degrees
    lon_e6: int | None = None


@dataclass(frozen=True, slots=True)
class MemberInfo(_Json):
    actor: str  # user id, as in the events' `actor`
    inspector: str  # inspector code in the directory
    name: str
    department: str  # own department code
    served: str  # department whose matters this member checks (and may write)
    is_leader: bool = False
    certificate: str | None = None  # 执法证号, shown on the record when known


@dataclass(frozen=True, slots=True)
class ItemInfo(_Json):
    position: int
    text: str


@dataclass(frozen=True, slots=True)
class MatterInfo(_Json):
    code: str
    department: str
    name: str
    items: tuple[ItemInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class VisitInfo(_Json):
    visit: str
    subject: SubjectInfo
    task: str  # task code
    members: tuple[MemberInfo, ...]
    matters: tuple[MatterInfo, ...]  # in task order (lead matter first)
    task_name: str = ""


# --- output --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MediaRef(_Json):
    sha256: str
    bytes: int
    mime: str


@dataclass(frozen=True, slots=True)
class Problem(_Json):
    code: str  # stable, e.g. "item.conflict"; the UI branches on it
    message: str  # for people
    event: str | None = None  # the event id concerned, when there is one


@dataclass(frozen=True, slots=True)
class Checkin(_Json):
    event: str
    actor: str
    device: str
    at: int  # device clock, ms
    received_ms: int  # server receipt
    lat_e6: int | None
    lon_e6: int | None
    accuracy_m: int | None
    source: str | None
    reason: str | None  # why there is no position
    distance_m: int | None  # to the subject's registered location
    far: bool
    inaccurate: bool
    clock_offset_ms: int  # at - received_ms
    clock_suspect: bool
    corrected_by: str | None = None


@dataclass(frozen=True, slots=True)
class Answer(_Json):
    """One live answer of one (actor, device) to an item or a matter's result."""

    event: str  # the event now carrying it (the original or its latest correction)
    root: str  # the original event
    actor: str
    device: str
    at: int
    result: str  # item result, or the matter's national result code
    note: str
    media: tuple[MediaRef, ...] = ()
    disposition: str | None = None  # matter results only
    corrected_by: str | None = None


@dataclass(frozen=True, slots=True)
class ItemState(_Json):
    position: int
    text: str
    result: str | None  # None when unanswered or in conflict
    note: str
    media: tuple[MediaRef, ...]
    by: tuple[str, ...]  # actors whose answers agree on `result`
    answers: tuple[Answer, ...]
    conflict: tuple[Answer, ...]  # all answers while they disagree, else empty


@dataclass(frozen=True, slots=True)
class MatterState(_Json):
    code: str
    department: str
    name: str
    items: tuple[ItemState, ...]
    answered: int
    total: int
    result_code: str | None
    disposition: str | None
    note: str
    result_by: tuple[str, ...]
    result_answers: tuple[Answer, ...]
    result_conflict: tuple[Answer, ...]


@dataclass(frozen=True, slots=True)
class NoteState(_Json):
    event: str
    root: str
    actor: str
    at: int
    text: str
    matter: str | None
    corrected_by: str | None = None


@dataclass(frozen=True, slots=True)
class TranscriptState(_Json):
    event: str
    root: str
    actor: str
    at: int
    text: str
    media: tuple[MediaRef, ...]
    corrected_by: str | None = None


@dataclass(frozen=True, slots=True)
class PhotoState(_Json):
    event: str
    root: str
    actor: str
    at: int
    media: MediaRef
    caption: str
    matter: str | None
    item: int | None
    lat_e6: int | None
    lon_e6: int | None
    accuracy_m: int | None
    corrected_by: str | None = None


@dataclass(frozen=True, slots=True)
class SpecialOutcomeState(_Json):
    event: str
    root: str
    actor: str
    at: int
    code: str
    text: str
    media: tuple[MediaRef, ...]
    corrected_by: str | None = None


@dataclass(frozen=True, slots=True)
class Person(_Json):
    """A witness's personal data: never public (only event hashes reach the record)."""

    name: str
    id_number: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class WitnessState(_Json):
    event: str
    root: str
    actor: str
    at: int
    hash: str  # the current event's hash: what the record carries instead of the person
    person: Person
    corrected_by: str | None = None


@dataclass(frozen=True, slots=True)
class SignatureState(_Json):
    event: str
    actor: str  # the inspector whose phone collected it
    at: int
    record_hash: str
    signer_name: str
    signer_role: str
    image: MediaRef
    strokes: MediaRef
    stale: bool  # record_hash is not the current record's hash


@dataclass(frozen=True, slots=True)
class RefusalState(_Json):
    event: str
    actor: str
    at: int
    record_hash: str
    reason_code: str
    reason: str
    witness: Person
    witness_signature: MediaRef | None
    photo: MediaRef | None
    stale: bool


@dataclass(frozen=True, slots=True)
class Confirmation(_Json):
    event: str
    actor: str
    at: int
    method: str  # webauthn | device_pin
    record_hash: str
    stale: bool


@dataclass(frozen=True, slots=True)
class CorrectionState(_Json):
    event: str
    actor: str
    at: int
    supersedes: str
    root: str | None  # the original event it corrects, when known
    reason: str
    applied: bool


@dataclass(frozen=True, slots=True)
class VisitState(_Json):
    visit: str
    as_of_ms: int
    checkins: tuple[Checkin, ...]  # log order
    two_present: bool
    matters: tuple[MatterState, ...]  # VisitInfo order
    notes: tuple[NoteState, ...]
    transcripts: tuple[TranscriptState, ...]
    photos: tuple[PhotoState, ...]
    special_outcomes: tuple[SpecialOutcomeState, ...]
    witnesses: tuple[WitnessState, ...]
    corrections: tuple[CorrectionState, ...]
    record_hash: str
    signature: SignatureState | None
    refusal: RefusalState | None
    confirmations: tuple[Confirmation, ...]  # one per actor, sorted by actor
    problems: tuple[Problem, ...]
