"""The event store's reads on the real database: each device's chain head."""

from __future__ import annotations

from onevisit.auth.devices import register_device
from onevisit.auth.roles import Caller, Role
from onevisit.db import write_transaction
from onevisit.evidence.events import parse_event
from onevisit.evidence.log import LogAppender
from onevisit.evidence.store import ChainHead, chain_heads, now_ms, store_events
from onevisit.simulate.phone import Phone


async def test_chain_heads_name_each_devices_last_event(make_user) -> None:
    user = await make_user(role=Role.inspector)
    caller = Caller(user, "检查员", Role.inspector, None, None, 0, "", session_method="passkey")
    phones = [Phone(actor=user) for _ in range(3)]
    for phone in phones:  # registered, so that onevisit verify over the database still passes
        await register_device(caller=caller, spki=phone.spki_b64url, label="heads")
    last: dict[str, ChainHead] = {}
    for round_ in range(4):  # interleaved, so a device's last event is not the table's last
        for n, phone in enumerate(phones[: 3 - (round_ == 3)]):
            signed = phone.event("note", {"text": f"{round_}.{n}"}, visit=None)
            event = parse_event(signed.envelope.encode())
            async with write_transaction():
                appender = await LogAppender.open()
                await store_events([(event, signed.sig)], appender, received_ms=now_ms())
            last[phone.device_id] = ChainHead(event.seq, event.hash)
    silent = [f"{i:064x}" for i in range(450)]  # more devices than one query takes
    heads = await chain_heads([p.device_id for p in phones] + silent + [phones[0].device_id])
    assert heads == last
    assert heads[phones[2].device_id].seq == 3 and heads[phones[0].device_id].seq == 4
    assert await chain_heads([]) == {}
