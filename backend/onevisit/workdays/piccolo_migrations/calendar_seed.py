"""Hand-written data migration: version 1 of every year the chinese_calendar package knows
(2004–2026 in 1.11), from the installed package — no network. It runs once, like any
migration; later years and corrections are imported (`onevisit calendar import`).

The tables are declared here as they were when this ran, so a later change of tables.py
cannot change what this migration writes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Date, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-03T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seed the calendar from chinese_calendar (2004-2026)"


class CalendarYear(Table, tablename="calendar_year"):
    year = Integer()
    version = Integer()
    source = Varchar(length=160)
    actor = Varchar(length=64, default="")
    days = Integer(default=0)
    loaded_at = Timestamptz(default=TimestamptzNow())


class CalendarDay(Table, tablename="calendar_day"):
    year = Integer()
    version = Integer()
    day = Date()
    kind = Varchar(length=8)
    name = Varchar(length=64)
    source = Varchar(length=160)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workdays", description=DESCRIPTION)

    async def up():
        from onevisit.workdays.seed import package_source, package_years

        source = package_source()
        for year, days in sorted(package_years().items()):
            await CalendarYear.insert(
                CalendarYear(year=year, version=1, source=source, actor="migrate", days=len(days))
            )
            rows = [
                CalendarDay(year=year, version=1, day=d.day, kind=d.kind.value, name=d.name,
                            source=source)
                for d in days
            ]  # fmt: skip
            if rows:
                await CalendarDay.insert(*rows)

    manager.add_raw(up)
    return manager
