"""The state of a visit, rebuilt from its accepted events (a pure left fold, no I/O).

Input: the visit's events in log order, each as `Received(event, received_ms, made_after_ms)`
(a plain `(event, received_ms)` tuple works too). Rules, in the order the fold applies them:
- An event is ignored, with a problem, when it is a duplicate id, of another visit, by an
  actor who is not a member, has an invalid body, or writes to a matter its actor does not
  serve. The ingest refuses those already; the projection does not trust that it did.
- Answers (item_result, matter_result) are kept per (actor, device) and slot. A later answer
  of the same actor on the same device replaces its own earlier one: an inspector changing
  their mind on the spot. Answers of different actors (or of one actor on two devices, whose
  relative order the log cannot tell) never overwrite each other: when they differ the slot
  shows all of them under `conflict` and its result is None until a correction settles it.
- A correction names the event it supersedes; it applies to the entry that event currently
  carries, so a correction of a correction corrects the same original again. A correction
  naming an event that was since replaced is refused (`correction.target_superseded`) rather
  than resurrect an answer its author already changed.
- Signature, refusal and confirmations are acts about the record (record.py): the latest of
  each counts; a signature and a refusal both present is a visible conflict; any of them
  naming a record_hash other than the current one is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NamedTuple

from onevisit.evidence.events import Event
from onevisit.field.bodies import CORRECTABLE_TYPES, BodyInvalid, check_body
from onevisit.field.model import CorrectionState, Problem, VisitInfo, VisitState
from onevisit.field.views import Entry, freeze

__all__ = ["Projector", "Received", "project_visit"]

_ANSWERS = ("item_result", "matter_result")
_ACTS = ("signature", "signature_refused", "record_confirmed")


class Received(NamedTuple):
    event: Event
    received_ms: int  # server receipt time (the log leaf's "r")
    # Optional server-known lower bound of the event's true making time: the time of the
    # checkpoint named by its anchor, or of the device's previous sync (views.clock_suspect).
    made_after_ms: int | None = None


class Projector:
    """The fold: `apply` each received event in log order, read `state(now_ms)` any time."""

    def __init__(self, visit: VisitInfo) -> None:
        self.visit = visit
        self._served: dict[str, set[str]] = {}
        for m in visit.members:
            self._served.setdefault(m.actor, set()).add(m.served)
        self._matters = {m.code: m for m in visit.matters}
        self._seen: dict[str, str] = {}  # event id → type, every event applied
        self._live: dict[str, Entry] = {}  # root → entry, in log order of the roots
        self._current: dict[str, str] = {}  # event id now carrying an entry → root
        self._retired: set[str] = set()  # ids replaced or corrected
        self._acts: list[tuple[Event, dict[str, Any]]] = []
        self._corrections: list[CorrectionState] = []
        self._problems: list[Problem] = []

    def apply(self, event: Event, received_ms: int, made_after_ms: int | None = None) -> None:
        if event.id in self._seen:
            return self._problem("event.duplicate", "event applied twice", event)
        self._seen[event.id] = event.type
        if event.type.startswith("server."):
            return None  # workflow entries of the server: not field work
        if event.visit != self.visit.visit:
            return self._problem("event.wrong_visit", f"event of visit {event.visit}", event)
        if event.actor not in self._served:
            return self._problem("member.unknown", f"{event.actor} is not a member", event)
        try:
            check_body(event.type, event.body)
        except BodyInvalid as exc:
            return self._problem("event.body_invalid", exc.reason, event)
        if event.type == "correction":
            return self._correct(event)
        if event.type in _ACTS:
            self._acts.append((event, event.body))
            return None
        if not self._placed(event, event.body, event.type):
            return None
        if event.type in _ANSWERS:
            for root, old in list(self._live.items()):
                same_author = (old.actor, old.device) == (event.actor, event.device)
                if same_author and old.type == event.type and _slot(old.body) == _slot(event.body):
                    del self._live[root], self._current[old.event]
                    self._retired.add(old.event)
        self._live[event.id] = Entry(
            type=event.type, root=event.id, actor=event.actor, device=event.device,
            first_at=event.at, received_ms=received_ms, made_after_ms=made_after_ms,
            event=event.id, hash=event.hash, at=event.at, body=event.body,
        )  # fmt: skip
        self._current[event.id] = event.id
        return None

    def _correct(self, event: Event) -> None:
        target, body = event.body["supersedes"], event.body["body"]
        root = self._current.get(target)
        record = CorrectionState(
            event=event.id, actor=event.actor, at=event.at, supersedes=target,
            root=root, reason=event.body["reason"], applied=False,
        )  # fmt: skip
        self._corrections.append(record)
        if root is None:
            if target in self._retired:
                why = ("correction.target_superseded", "the target was replaced since")
            elif target in self._seen and self._seen[target] not in CORRECTABLE_TYPES:
                why = ("correction.not_correctable", f"a {self._seen[target]} is not corrected")
            else:
                why = ("correction.target_unknown", f"no applied event {target} before it")
            return self._problem(*why, event)
        entry = self._live[root]
        try:
            check_body(entry.type, body)
        except BodyInvalid as exc:
            msg = f"not a {entry.type} body: {exc.reason}"
            return self._problem("correction.type_mismatch", msg, event)
        # The corrector must serve the matter both before and after: no moving answers away.
        if not all(self._placed(event, b, entry.type) for b in (entry.body, body)):
            return None  # all() stops at the first refusal: one problem per correction
        del self._current[entry.event]
        self._retired.add(entry.event)
        entry.event, entry.hash, entry.at, entry.body = event.id, event.hash, event.at, body
        entry.corrected_by = event.actor
        self._current[event.id] = root
        self._corrections[-1] = replace(record, applied=True)
        return None

    def _placed(self, event: Event, body: dict[str, Any], etype: str) -> bool:
        """May this event's actor write to the matter/item the body names? False: ignore it."""
        code = body.get("matter")
        if code is None:
            return True
        matter = self._matters.get(code)
        answer = etype in _ANSWERS
        if matter is None:
            self._problem("matter.unknown", f"matter {code} is not in the task", event)
            return not answer  # a photo or note stays evidence; an answer has nowhere to go
        if matter.department not in self._served[event.actor]:
            msg = f"{event.actor} does not serve {matter.department}, owner of {code}"
            self._problem("member.writes_foreign_matter", msg, event)
            return False
        if "item" in body and body["item"] not in {i.position for i in matter.items}:
            self._problem("item.unknown", f"matter {code} has no item {body['item']}", event)
            return not answer
        return True

    def _problem(self, code: str, message: str, event: Event | None = None) -> None:
        self._problems.append(Problem(code, message, event.id if event else None))

    # --- reading the state -----------------------------------------------------------------
    def state(self, now_ms: int) -> VisitState:
        """The state after the events applied so far; applying more later is fine."""
        return freeze(
            visit=self.visit, entries=list(self._live.values()), acts=self._acts,
            corrections=self._corrections, problems=self._problems, now_ms=now_ms,
        )  # fmt: skip


def _slot(body: dict[str, Any]) -> tuple[Any, ...]:
    return (body["matter"], body.get("item"))


def project_visit(
    *, visit: VisitInfo, events: Iterable[Received | tuple[Event, int]], now_ms: int
) -> VisitState:
    """Rebuild a visit's state from its accepted events in log order. Pure, deterministic."""
    projector = Projector(visit)
    for received in events:
        projector.apply(*received)
    return projector.state(now_ms)
