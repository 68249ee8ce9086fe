"""Hand-written: record_ref is append-only like the rest of the evidence (EVIDENCE.md §3), and
it is filled for the events stored before it existed, so every record named by an event can be
found by its hash (GET /verify/record/{record_hash}) and `onevisit verify` can demand a row for
each such event. Its ID sorts after the migration that creates the table.

The backfill reads the stored envelopes of the three event types that name a record and takes
`body.record_hash` exactly as evidence/events.py `named_record` does (the rule is repeated here:
a migration must not change meaning when that code changes later). It runs once, in the
migration's transaction, before anything else can write."""

import json
import re

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T14:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "record_ref append-only; filled from the stored events"

ACTS = ("signature", "signature_refused", "record_confirmed")
HEX64 = re.compile(r"[0-9a-f]{64}")
PAGE = 5000


def _named(envelope: bytes) -> str | None:
    try:
        body = json.loads(bytes(envelope)).get("body")
    except (ValueError, AttributeError):
        return None  # not ours to judge: onevisit verify reports a broken envelope
    named = body.get("record_hash") if isinstance(body, dict) else None
    return named if isinstance(named, str) and HEX64.fullmatch(named) else None


async def _backfill() -> None:
    from piccolo.querystring import QueryString

    from onevisit.db import bulk_insert, engine

    db, last = engine(), -1
    select = (
        "SELECT log_index, hash, visit, envelope FROM event WHERE event_type IN ({}, {}, {}) "
        "AND log_index > {} ORDER BY log_index LIMIT {}"
    )
    while True:
        rows = await db.run_querystring(QueryString(select, *ACTS, last, PAGE))
        if not rows:
            return
        refs = [(h, r["hash"], r["visit"]) for r in rows if (h := _named(r["envelope"]))]
        await bulk_insert("record_ref", ("record_hash", "event_hash", "visit"), refs)
        last = rows[-1]["log_index"]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evidence", description=DESCRIPTION)

    async def up():
        from onevisit.db import append_only_ddl, is_sqlite, run_ddl_statements

        await _backfill()
        await run_ddl_statements(append_only_ddl("record_ref", sqlite=is_sqlite()))

    async def down():
        from onevisit.db import drop_append_only_ddl, is_sqlite, run_ddl_statements

        await run_ddl_statements(drop_append_only_ddl("record_ref", sqlite=is_sqlite()))

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
