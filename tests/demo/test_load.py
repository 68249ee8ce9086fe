"""`onevisit demo` loads the whole data set into the real database, and a second run changes
nothing (it is run by every `make run`)."""

from onevisit.auth.tables import User
from onevisit.demo.dataset import build_demo_dataset
from onevisit.demo.load import load_demo
from onevisit.directory.tables import Inspector, Matter, Subject
from onevisit.planning.tables import Task, Visit


async def test_demo_loads_then_changes_nothing():
    dataset = build_demo_dataset()
    first = await load_demo()
    second = await load_demo()

    ids = [s.subject_id for s in dataset.subjects]
    assert await Subject.count().where(Subject.subject_id.is_in(ids)) == 2000
    codes = [m.code for m in dataset.matters]
    assert await Matter.count().where(Matter.code.is_in(codes)) == len(codes) >= 30
    assert (
        await Inspector.count().where(Inspector.code.is_in([i.code for i in dataset.inspectors]))
        == len(dataset.inspectors)
        >= 60
    )
    names = [u.name for u in dataset.users]
    demo_users = (User.created_by == "demo") & User.name.is_in(names)
    assert await User.count().where(demo_users) == len(dataset.users)

    # the first load creates what is missing (a directory test may have loaded the directory
    # part before), the second finds all 2,000 unchanged
    subjects = first.directory["subjects"]
    assert subjects["created"] + subjects["unchanged"] + subjects["updated"] == 2000
    assert second.directory["subjects"]["created"] == second.directory["subjects"]["updated"] == 0
    assert second.directory["subjects"]["unchanged"] == 2000
    assert second.users_created == [] and second.users_existing == len(dataset.users)
    assert "users created: 0" in second.text()
    # three completed joint visits the first time, none added the second
    assert first.visits_completed == 3 and second.visits_completed == 0
    tasks = await Task.select(Task.id).where(Task.created_by == "simulate")
    assert len(tasks) == 1
    assert await Visit.count().where(Visit.task == tasks[0]["id"]) == 3
