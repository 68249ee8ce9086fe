"""Large first imports are checked part by part while the previous part is inserted
(PostgreSQL): the same all-or-nothing answers and stored rows as the whole-file path. Parts are
made tiny here so that small files take that path."""

import pytest

from onevisit.db import is_sqlite
from onevisit.directory import importing
from onevisit.directory.importing import import_file
from onevisit.directory.subjects import get_subject
from onevisit.directory.tables import Subject
from onevisit.errors import AppError
from tests.directory.util import SUBJECT_HEADER, csv_bytes, subject_row


@pytest.fixture
def streams(monkeypatch):
    """Parts of 2 rows; the results of each streamed write (None: not streamed after all)."""
    monkeypatch.setattr(importing, "STREAM_PART_ROWS", 2)
    results = []
    stream = importing.stream_new_subjects

    async def spy(*args, **kw):
        results.append(await stream(*args, **kw))
        return results[-1]

    monkeypatch.setattr(importing, "stream_new_subjects", spy)
    return results


async def _import(rows):
    return await import_file(kind="subjects", data=csv_bytes(SUBJECT_HEADER, rows), actor="t")


async def test_streamed_import_stores_every_row(streams):
    rows = [subject_row(name=f"分批{i}", tags="餐饮" if i % 2 else "") for i in range(7)]
    result = await _import(rows)
    assert (result.created, result.updated, result.unchanged) == (7, 0, 0)
    assert [r is not None for r in streams] == ([] if is_sqlite() else [True])
    for i, row in enumerate(rows):
        s = await get_subject(subject_id=row["subject_id"])
        assert (s.name, s.version, s.revision) == (f"分批{i}", 1, result.revision)
        assert (s.lat_e6, s.tags) == (34_669_900, ["餐饮"] if i % 2 else [])

    again = await _import([{**rows[0], "name": "改名"}, *rows[1:]])  # ids exist: compared
    assert (again.created, again.updated, again.unchanged) == (0, 1, 6)
    assert streams[-1:] == ([] if is_sqlite() else [None])
    changed = await get_subject(subject_id=rows[0]["subject_id"])
    assert (changed.name, changed.version, [h.name for h in changed.history]) == (
        "改名",
        2,
        ["分批0"],
    )


async def test_bad_row_in_a_later_part_stores_nothing_and_reports_every_row(streams):
    rows = [subject_row() for _ in range(7)]
    rows[4]["kind"] = "星球"
    rows[6]["lat"] = "95"
    with pytest.raises(AppError) as e:
        await _import(rows)
    assert e.value.code == "import.rows_invalid"
    assert [(x["row"], x["column"], x["code"]) for x in e.value.details["errors"]] == [
        (6, "kind", "subject.kind_invalid"),
        (8, "lat", "subject.coordinates_invalid"),
    ]
    for row in rows:
        assert not await Subject.exists().where(Subject.subject_id == row["subject_id"])
    result = await _import(rows[:4])  # the directory and its revisions still work after it
    assert (result.created, result.updated) == (4, 0)


async def test_duplicate_across_parts_is_reported(streams):
    rows = [subject_row() for _ in range(5)]
    rows[4]["subject_id"] = rows[0]["subject_id"].lower()  # the same id once normalised
    with pytest.raises(AppError) as e:
        await _import(rows)
    [error] = e.value.details["errors"]
    assert (error["row"], error["code"]) == (6, "import.duplicate")
    assert streams == []  # ids that are not all canonical and distinct are never streamed
