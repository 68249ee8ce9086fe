"""Directory revisions: every change batch (import, API edit, demo) is one numbered revision."""

from __future__ import annotations

from onevisit.directory.tables import DirectoryRevision

__all__ = ["latest_revision", "new_revision"]


async def new_revision(*, actor: str, source: str, note: str, rows: int) -> int:
    """Call inside the write transaction that makes the change, so both commit together."""
    inserted = await DirectoryRevision.insert(
        DirectoryRevision(actor=actor[:64], source=source, note=note, rows=rows)
    ).returning(DirectoryRevision.id)
    return inserted[0]["id"]


async def latest_revision() -> int:
    """The newest revision, 0 when the directories were never written. Used as the answer of
    a batch that changed nothing (an unchanged row is not a change)."""
    row = (
        await DirectoryRevision.select(DirectoryRevision.id)
        .order_by(DirectoryRevision.id, ascending=False)
        .first()
    )
    return row["id"] if row else 0
