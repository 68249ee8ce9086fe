"""A simulated phone on the network: the signed chain (phone.Phone), an outbox of events not yet
acknowledged, offline gaps, duplicate resends (a lost response) and recovery from rejections
(rewind to the last acknowledged event, re-sign the rest with their ids)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from onevisit.evidence.events import GENESIS_PREV
from onevisit.simulate.phone import Phone, SignedEvent
from onevisit.simulate.setup import Member

__all__ = ["BATCH", "SimPhone", "Tally"]

BATCH = 200  # events per POST /api/sync (the server takes ≤ 500)
RETRIES = 60  # ~45 s of backoff: rides out a server restart


@dataclass
class Tally:
    """Counts shared by all phones of a run."""

    made: int = 0  # distinct events signed by the phones
    sent: int = 0  # event submissions on the wire (resends included)
    batches: int = 0
    accepted: int = 0
    duplicate: int = 0
    duplicate_resends: int = 0  # batches sent twice on purpose
    offline_gaps: int = 0
    faults: int = 0  # deliberately wrong events (scenario: expected rejections)
    resigned: int = 0
    retries: int = 0  # sends repeated because the network or the server was down
    rejected: Counter[str] = field(default_factory=Counter)  # code → count
    unexpected: list[str] = field(default_factory=list)  # what went wrong, one line each


class SimPhone:
    def __init__(
        self, member: Member, client: httpx.AsyncClient, tally: Tally, *, rng: random.Random,
        offline_rate: float, duplicate_rate: float,
    ) -> None:  # fmt: skip
        self.member, self.client, self.tally, self.rng = member, client, tally, rng
        self.phone = Phone(actor=member.user_id)
        self.offline_rate, self.duplicate_rate = offline_rate, duplicate_rate
        self.outbox: list[SignedEvent] = []
        self.offline_left = 0
        self.head: tuple[int, str] = (0, GENESIS_PREV)  # last acknowledged (seq, hash)
        self.status: dict[str, str] = {}  # event id → pending | accepted | duplicate | …
        self.faults: set[str] = set()

    async def register(self) -> None:
        r = await self.client.post(
            "/api/auth/devices",
            json={"spki": self.phone.spki_b64url, "label": f"模拟手机{self.member.index + 1}"},
        )
        if r.status_code != 201:
            raise RuntimeError(f"device registration failed: {r.status_code} {r.text}")

    async def record(
        self, event_type: str, body: dict[str, Any], *, visit: str, at: int, fault: bool = False
    ) -> SignedEvent:
        """Sign an event into the outbox, then sync unless the phone is offline."""
        event = self.phone.event(event_type, body, visit=visit, at=at)
        self.outbox.append(event)
        self.status[event.id] = "pending"
        self.tally.made += 1
        if fault:
            self.faults.add(event.id)
            self.tally.faults += 1
        if self.offline_left > 0:
            self.offline_left -= 1
        elif self.rng.random() < self.offline_rate:
            self.offline_left = self.rng.randint(2, 6)  # no signal for the next few taps
            self.tally.offline_gaps += 1
        else:
            await self.flush()
        return event

    async def go_online(self) -> None:
        self.offline_left = 0
        await self.flush()

    async def _post(self, batch: list[SignedEvent]) -> list[dict[str, Any]]:
        self.tally.batches += 1
        self.tally.sent += len(batch)
        body = {"events": [e.wire() for e in batch]}
        # As a phone does: no network or a server restarting is not a failure, try again with
        # backoff. A batch stored just before the connection died comes back as "duplicate".
        for attempt in range(RETRIES):
            try:
                r = await self.client.post("/api/sync", json=body)
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code < 500:
                break
            self.tally.retries += 1
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise RuntimeError(f"sync unreachable after {RETRIES} tries")
        if r.status_code != 200:
            raise RuntimeError(f"sync answered {r.status_code}: {r.text[:300]}")
        acks = r.json()["acks"]
        if len(acks) != len(batch):
            raise RuntimeError(f"{len(acks)} acks for {len(batch)} events")
        return acks

    async def flush(self) -> None:
        """Send the outbox in batches until it is empty; recover from rejections."""
        for _ in range(50):
            if not self.outbox:
                return
            batch = self.outbox[:BATCH]
            acks = await self._post(batch)
            retry: list[SignedEvent] = []
            refused = False
            for event, ack in zip(batch, acks, strict=True):
                if ack.get("id") != event.id:
                    self._unexpected(f"ack names {ack.get('id')} for {event.id}")
                status = ack["status"]
                if status in ("accepted", "duplicate"):
                    self._acknowledged(event, status)
                    continue
                code = ack.get("code") or "?"
                self.tally.rejected[code] += 1
                if code == "chain.gap" and refused:  # follows a rejected event: re-sign
                    expected = ack.get("details", {}).get("expected_seq")
                    if expected != self.head[0] + 1:
                        self._unexpected(f"chain.gap expects {expected}, head {self.head[0]}")
                    retry.append(event)
                elif event.id in self.faults:
                    self.status[event.id] = f"rejected (scenario): {code}"
                else:
                    self.status[event.id] = f"rejected: {code}"
                    self._unexpected(f"event {event.id} ({_type(event)}) rejected: {code} "
                                     f"{ack.get('reason') or ''}")  # fmt: skip
                refused = True
            rest = retry + self.outbox[len(batch) :]
            if refused:
                self.phone.rewind(seq=self.head[0], prev=self.head[1])
                self.outbox = [self.phone.resign(e) for e in rest]
                self.tally.resigned += len(rest)
                continue
            self.outbox = rest
            if self.rng.random() < self.duplicate_rate:  # the answer was lost: send again
                self.tally.duplicate_resends += 1
                for event, ack in zip(batch, await self._post(batch), strict=True):
                    if ack["status"] != "duplicate":
                        self._unexpected(f"resent {event.id} acknowledged {ack['status']}")
                    else:
                        self.tally.duplicate += 1
        self._unexpected(f"phone {self.member.index}: outbox not empty after 50 rounds")

    def _acknowledged(self, event: SignedEvent, status: str) -> None:
        if status == "accepted":
            self.tally.accepted += 1
        else:
            self.tally.duplicate += 1
        if self.status.get(event.id) != "accepted":
            self.status[event.id] = status
        self.head = (event.seq, event.hash)

    def _unexpected(self, what: str) -> None:
        self.tally.unexpected.append(f"phone {self.member.index} ({self.member.inspector}): {what}")

    def lost(self) -> list[str]:
        """Events made that the server never acknowledged (scenario faults excepted)."""
        return [
            i
            for i, s in self.status.items()
            if s not in ("accepted", "duplicate") and not s.startswith("rejected (scenario)")
        ]


def _type(event: SignedEvent) -> str:
    import json

    return json.loads(event.envelope)["type"]
