"""Large files of new subjects are checked in parts by a worker process while this one stores
them (directory/parts.py): the same all-or-nothing answers and stored rows as the whole-file
path, which takes over whenever the parts cannot give exactly its answer. Parts are made tiny
here so that small files take that road."""

import os
import signal

import pytest

from onevisit import workers
from onevisit.directory import parts
from onevisit.directory.importing import import_file
from onevisit.directory.subjects import get_subject
from onevisit.directory.tables import DirectoryRevision, Subject
from onevisit.errors import AppError
from tests.directory.util import SUBJECT_HEADER, csv_bytes, subject_row

pytestmark = pytest.mark.skipif(workers.worker_count() < 1, reason="one CPU: no worker process")


@pytest.fixture
def by_parts(monkeypatch):
    """Parts of 2 lines from the smallest file; what each call of the parts road answered
    (None: the whole-file path did the import)."""
    monkeypatch.setattr(parts, "PART_LINES", 2)
    monkeypatch.setattr(parts, "PARALLEL_MIN_LINES", 1)
    answers = []
    road = parts.import_new_subjects

    async def spy(*args, **kw):
        answers.append(await road(*args, **kw))
        return answers[-1]

    monkeypatch.setattr("onevisit.directory.importing.import_new_subjects", spy)
    return answers


async def _import(rows, **kw):
    return await import_file(kind="subjects", data=csv_bytes(SUBJECT_HEADER, rows, **kw), actor="t")


async def test_every_row_is_stored_as_the_whole_file_path_stores_it(by_parts):
    rows = [subject_row(name=f"分批{i}", tags="餐饮" if i % 2 else "") for i in range(7)]
    rows[3]["subject_id"] = rows[3]["subject_id"].lower()  # normalised in the worker too
    result = await _import(rows)
    assert (result.created, result.updated, result.unchanged) == (7, 0, 0)
    assert [a is not None for a in by_parts] == [True]
    revision = await DirectoryRevision.select().where(DirectoryRevision.id == result.revision)
    assert (revision[0]["rows"], revision[0]["source"]) == (7, "import")
    for i, row in enumerate(rows):
        s = await get_subject(subject_id=row["subject_id"].upper())
        assert (s.subject_id, s.name, s.version, s.revision) == (
            row["subject_id"].upper(),
            f"分批{i}",
            1,
            result.revision,
        )
        assert (s.kind, s.lat_e6, s.lon_e6, s.credit_class) == (
            "enterprise",
            34669900,
            112442100,
            "B",
        )
        assert s.tags == (["餐饮"] if i % 2 else [])

    # the ids exist now: the unique index stops the parts, and the rows are compared
    again = await _import([{**rows[0], "name": "改名"}, *rows[1:]])
    assert (again.created, again.updated, again.unchanged) == (0, 1, 6)
    assert by_parts[-1] is None
    changed = await get_subject(subject_id=rows[0]["subject_id"])
    assert (changed.name, changed.version, [h.name for h in changed.history]) == (
        "改名",
        2,
        ["分批0"],
    )


async def test_a_bad_row_in_a_later_part_stores_nothing_and_reports_every_row(by_parts):
    rows = [subject_row() for _ in range(7)]
    rows[4]["kind"] = "星球"
    rows[6]["lat"] = "95"
    before = await Subject.count()
    with pytest.raises(AppError) as e:
        await _import(rows)
    assert e.value.code == "import.rows_invalid"
    assert [(x["row"], x["column"], x["code"]) for x in e.value.details["errors"]] == [
        (6, "kind", "subject.kind_invalid"),
        (8, "lat", "subject.coordinates_invalid"),
    ]
    assert by_parts == [None]
    assert await Subject.count() == before
    result = await _import(rows[:4])  # the directory and its revisions still work after it
    assert (result.created, result.updated) == (4, 0)
    assert by_parts[-1] is not None


async def test_an_id_repeated_in_another_part_is_reported(by_parts):
    rows = [subject_row() for _ in range(5)]
    rows[4]["subject_id"] = rows[0]["subject_id"].lower()  # the same id once normalised
    before = await Subject.count()
    with pytest.raises(AppError) as e:
        await _import(rows)
    [error] = e.value.details["errors"]
    assert (error["row"], error["column"], error["code"]) == (6, "subject_id", "import.duplicate")
    assert by_parts == [None]
    assert await Subject.count() == before


async def test_an_id_stored_already_is_compared_not_refused(by_parts):
    rows = [subject_row() for _ in range(6)]
    await _import(rows[5:])
    result = await _import(rows)  # the last part holds an existing, unchanged row
    assert (result.created, result.updated, result.unchanged) == (5, 0, 1)
    assert by_parts[-1] is None


async def test_files_the_parts_cannot_read_take_the_whole_file_path(by_parts):
    quoted = [subject_row(name="洛阳,逗号商贸") for _ in range(4)]  # csv quotes the cell
    result = await _import(quoted)
    assert (result.created, by_parts[-1]) == (4, None)
    assert (await get_subject(subject_id=quoted[2]["subject_id"])).name == "洛阳,逗号商贸"

    gbk = [subject_row(name=f"国标{i}") for i in range(4)]
    result = await _import(gbk, bom=False, encoding="gb18030")
    assert (result.created, by_parts[-1]) == (4, None)
    assert (await get_subject(subject_id=gbk[3]["subject_id"])).name == "国标3"


async def test_a_dead_worker_costs_nothing_but_time(by_parts):
    executor = workers.pool()
    assert executor is not None
    await _import([subject_row() for _ in range(3)])  # the processes are up
    assert executor._processes
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    rows = [subject_row() for _ in range(5)]
    result = await _import(rows)
    assert result.created == 5
    assert by_parts[-1] is None  # the whole-file path did it
    assert workers._executor is not executor  # dropped: the next import starts a new pool
    result = await _import([subject_row() for _ in range(5)])
    assert (result.created, by_parts[-1] is not None) == (5, True)


def test_cut_keeps_whole_lines_and_refuses_what_it_cannot_cut():
    data = "\ufeffsubject_id,name\r\n1,a\r\n2,b\r\n\r\n3,c\r\n4,d".encode()
    header, pieces = parts.cut(data, "x.csv", 2)
    assert header == "\ufeffsubject_id,name\r".encode()
    assert header + b"\n" + b"".join(pieces) == data
    assert all(p.endswith(b"\n") for p in pieces[:-1]) and len(pieces) >= 2
    for bad in (b'id,name\n1,"a\nb"\n', b"id,name\r1,a\n2,b\n", b"id\x00,name\n1,a\n2,b\n"):
        assert parts.cut(bad, "x.csv", 1) is None
    assert parts.cut(b"id,name\n1,a\n2,b\n", "x.xlsx", 1) is None
    assert parts.cut(b"id,name", "x.csv", 1) is None
