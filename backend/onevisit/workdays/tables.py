"""Tables of the working-day calendar. Both are append-only (database triggers): a year is
loaded by inserting a new `calendar_year` version with its `calendar_day` rows, and the latest
version of each year is the one in force. A correction is a new version; the old ones stay,
so any due date computed in the past can be explained from the calendar of its time.
"""

from piccolo.columns import Date, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class CalendarYear(Table, tablename="calendar_year"):
    """One load of one year's special days (unique: year, version)."""

    year = Integer()
    version = Integer()  # 1, 2, … per year; the highest is in force
    source = Varchar(length=160)  # "chinese-calendar 1.11.0" | "import:<file name>"
    actor = Varchar(length=64, default="")  # user id, "cli" or "migrate"
    days = Integer(default=0)  # special days in this version
    loaded_at = Timestamptz(default=TimestamptzNow())


class CalendarDay(Table, tablename="calendar_day"):
    """A special day of one version of a year (unique: year, version, day)."""

    year = Integer()
    version = Integer()
    day = Date()
    kind = Varchar(length=8)  # holiday (a weekday off) | workday (a weekend day worked)
    name = Varchar(length=64)  # 国庆节, 春节, …
    source = Varchar(length=160)
