"""The years the `chinese_calendar` package knows (2004–2026 in 1.11), as our special days.

Pure: no I/O. The seed migration stores them once; later years come from imported files
(the package raises NotImplementedError for any year it does not know).
"""

from __future__ import annotations

from collections import defaultdict
from importlib.metadata import version

from chinese_calendar import constants

from onevisit.workdays.calendar import Kind, SpecialDay

__all__ = ["HOLIDAY_NAMES", "package_source", "package_years"]

# The package names holidays in English; the State Council's notices use these names.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def package_source() -> str:
    return f"chinese-calendar {version('chinese_calendar')}"


def package_years() -> dict[int, list[SpecialDay]]:
    """Every year the package knows → its effective special days: weekday holidays and
    weekend make-up working days (weekend days of a holiday change nothing and are left out)."""
    years: dict[int, list[SpecialDay]] = defaultdict(list)
    for day, name in constants.holidays.items():
        if day.weekday() < 5:
            years[day.year].append(SpecialDay(day, Kind.holiday, HOLIDAY_NAMES.get(name, name)))
    for day, name in constants.workdays.items():
        if day.weekday() >= 5:
            years[day.year].append(SpecialDay(day, Kind.workday, HOLIDAY_NAMES.get(name, name)))
    for days in years.values():
        days.sort(key=lambda s: s.day)
    low, high = min(years), max(years)
    # a year without any entry (none so far) is still known to the package
    return {year: years.get(year, []) for year in range(low, high + 1)}
