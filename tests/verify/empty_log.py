"""Run as `python -m tests.verify.empty_log` on a new database (test_empty_log.py does): migrate,
then check that an empty log answers a signed size-0 checkpoint that `onevisit verify` accepts,
and that the log grows on from it. Assertion failures exit non-zero with a traceback."""

from __future__ import annotations

import asyncio
import os

os.environ.setdefault("PICCOLO_CONF", "onevisit.piccolo_conf")


async def main() -> None:
    import httpx

    from onevisit.app import create_app
    from onevisit.cli import migrate
    from onevisit.db import write_transaction
    from onevisit.evidence.log import LogAppender, sign_checkpoint
    from onevisit.evidence.merkle import EMPTY_ROOT
    from onevisit.evidence.note import parse_checkpoint, verify_note
    from onevisit.evidence.store import now_ms, server_envelope, store_events
    from onevisit.evidence.tables import Checkpoint
    from onevisit.evidence.verify import verify_all

    await migrate()
    app = create_app()
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as c:
            vkey = (await c.get("/log/key")).text
            # two first reads at once: one checkpoint is signed, both answer it
            first, second = await asyncio.gather(c.get("/log/checkpoint"), c.get("/log/checkpoint"))
            assert first.status_code == second.status_code == 200, first.text
            assert first.text == second.text, (first.text, second.text)
            assert first.headers["content-type"] == "text/plain; charset=utf-8"
            cp = parse_checkpoint(verify_note(note=first.text, verifier_key=vkey))
            assert (cp.size, cp.root) == (0, EMPTY_ROOT), cp
            rows = await Checkpoint.select(Checkpoint.size, Checkpoint.note)
            assert rows == [{"size": 0, "note": first.text}], rows

            for query in ("/log/entries?start=0&end=10", "/log/proof/consistency?from=0&to=0",
                          "/log/proof/inclusion?index=0&size=0"):  # fmt: skip
                r = await c.get(query)
                assert r.status_code == 400, (query, r.status_code, r.text)

            report = await verify_all()
            assert report.ok, [str(f) for f in report.failures]
            assert report.latest_size == 0 and report.counts.checkpoints == 1, report.summary()

            async with write_transaction():  # the log grows on from the size-0 checkpoint
                appender = await LogAppender.open()
                event, sig = await server_envelope(event_type="test_marker", body={"n": 1})
                await store_events([(event, sig)], appender, received_ms=now_ms())
                assert await sign_checkpoint(appender) is not None
            r = await c.get("/log/checkpoint")
            grown = parse_checkpoint(verify_note(note=r.text, verifier_key=vkey))
            assert grown.size == 1, grown
            report = await verify_all()
            assert report.ok, [str(f) for f in report.failures]
            assert report.latest_size == 1 and report.counts.checkpoints == 2, report.summary()
    print("empty log: OK")


if __name__ == "__main__":
    asyncio.run(main())
