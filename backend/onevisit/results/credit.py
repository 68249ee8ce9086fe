"""Credit linkage (seed 002 art. 24 and 16): what the results say about a subject, for the next
draw's strata and exclusions.

- **Risk signals.** A published result that found a problem raises the subject's risk for a
  year: at least class C, or D for the serious ones (false publicity, serious refusal,
  unreachable at the registered address); the directory's abnormal-list and serious-violation
  flags do the same (C and D). Art. 16: subjects with more problems, on the abnormal list or
  the serious-violation list get higher ratios and frequencies. The credit authority's class
  stays as imported: the draw uses the higher of the two, and its commit log says how many
  subjects were raised.
- **Last inspected.** A closed visit is an inspection, published or not: the later of the
  directory's date and the subject's latest inspection here counts for the once-a-year
  exclusion and the 3-years boost.

Derived on demand from the results (one query each), so there is no second copy to keep in
step and a correction that removes the problem removes the signal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from piccolo.query.functions.aggregate import Max

from onevisit.results.reading import versions_of
from onevisit.results.tables import Result

__all__ = [
    "PROBLEM_LEVEL",
    "SIGNAL_DAYS",
    "effective_class",
    "flag_level",
    "latest_inspections",
    "linked",
    "risk_levels",
]

SIGNAL_DAYS = 365  # a published problem raises the risk for a year
# result code → the class it raises a subject to at least (codes without a problem: none)
PROBLEM_LEVEL = {
    "corrected": "C",
    "pending_follow_up": "C",
    "not_publicised": "C",
    "other_violation": "C",
    "false_publicity": "D",
    "refused_severe": "D",
    "unreachable": "D",
}
_ORDER = ("A", "B", "C", "D")  # low risk … high


def effective_class(credit_class: str, *raised: str | None) -> str:
    """The highest risk of the imported class and the signals (A low … D high)."""
    levels = [c for c in (credit_class, *raised) if c in _ORDER]
    return max(levels, key=_ORDER.index) if levels else credit_class


def flag_level(abnormal: bool, serious_violation: bool) -> str | None:
    """The directory's lists as a signal: 严重违法失信名单 D, 经营异常名录 C."""
    return "D" if serious_violation else "C" if abnormal else None


async def risk_levels(today: dt.date) -> dict[str, str]:
    """subject_id → the class its published problems of the last year raise it to."""
    since = dt.datetime.combine(today - dt.timedelta(days=SIGNAL_DAYS), dt.time(), dt.UTC)
    rows = await Result.select(Result.subject_id, Result.id, Result.published_version).where(
        Result.published_version.is_not_null() & (Result.published_at >= since)
    )
    if not rows:
        return {}
    levels: dict[str, str] = {}
    versions = await versions_of(sorted({r["id"] for r in rows}))
    for r in rows:
        level = PROBLEM_LEVEL.get(versions[(r["id"], r["published_version"])]["result_code"])
        if level is not None:
            levels[r["subject_id"]] = effective_class(levels.get(r["subject_id"], "A"), level)
    return levels


async def latest_inspections(subject_ids: Iterable[str] | None = None) -> dict[str, dt.date]:
    """subject_id → the day its latest inspection here ended (closed visits' results)."""
    query = Result.select(Result.subject_id, Max(Result.inspected_on, alias="last")).group_by(
        Result.subject_id
    )
    if subject_ids is not None:
        query = query.where(Result.subject_id.is_in(list(subject_ids) or [""]))
    return {r["subject_id"]: _date(r["last"]) for r in await query}


def _date(value: Any) -> dt.date:
    """MAX() of a date column: a date on PostgreSQL, its ISO text on SQLite."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return max((d for d in (a, b) if d is not None), default=None)


def linked(
    row: Mapping[str, Any], levels: Mapping[str, str], inspections: Mapping[str, dt.date]
) -> tuple[str, dt.date | None]:
    """A directory row's risk class and last-inspected date with what the results say."""
    flags = flag_level(bool(row["abnormal"]), bool(row["serious_violation"]))
    risk = effective_class(row["credit_class"], levels.get(row["subject_id"]), flags)
    return risk, later(row["last_inspected"], inspections.get(row["subject_id"]))
