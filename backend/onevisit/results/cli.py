"""`onevisit results due` (registered by onevisit.cli.build_parser): the results a department
must still publish, with their 20-working-day clock — for a daily job that reminds the
reviewers at 5 and 2 working days before the due date and reports what is overdue.

onevisit results due [--department DEP] [--today YYYY-MM-DD] [--fail-on-overdue]
"""

from __future__ import annotations

import argparse
import datetime as dt

from onevisit.auth.roles import CLI_CALLER
from onevisit.results.reading import list_results

__all__ = ["add_results_parser", "run_due"]

_ALERTS = ("overdue", "due_in_2", "due_in_5")
_ZH = {
    "overdue": "已超期（计为未完成）",
    "due_in_2": "2 个工作日内到期",
    "due_in_5": "5 个工作日内到期",
}


async def run_due(*, department: str | None, today: dt.date | None) -> int:
    """Prints the results by alert and department; answers how many are overdue."""
    data = await list_results(caller=CLI_CALLER, department=department, today=today)
    waiting = [r for r in data["results"] if r["clock"].get("alert") in _ALERTS]
    print(f"{data['today']}：待公示结果 {len(waiting)} 条需要处理")
    for alert in _ALERTS:
        rows = sorted((r for r in waiting if r["clock"]["alert"] == alert),
                      key=lambda r: (r["department"], r["clock"]["due"], r["id"]))  # fmt: skip
        if rows:
            print(f"\n{_ZH[alert]}：{len(rows)} 条")
        for r in rows:
            print(f"  [{r['department']}] #{r['id']} {r['subject_name']}（{r['subject_id']}）"
                  f" {r['matter_name']} · {r['state_label']} · 期限 {r['clock']['due']}"
                  + ("（暂定）" if r["clock"]["provisional"] else ""))  # fmt: skip
    return sum(1 for r in waiting if r["clock"]["alert"] == "overdue")


def add_results_parser(sub: argparse._SubParsersAction) -> None:
    from onevisit.cli import _run

    results = sub.add_parser("results", help="results and their 20-working-day clock")
    commands = results.add_subparsers(dest="results_command", required=True, metavar="ACTION")
    p = commands.add_parser("due", help="results due within 5 / 2 working days, and overdue")
    p.add_argument("--department", default=None)
    p.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD")
    p.add_argument("--fail-on-overdue", action="store_true", help="exit 1 if any is overdue")

    def due(a: argparse.Namespace) -> None:
        overdue = _run(run_due, department=a.department, today=a.today)
        if a.fail_on_overdue and overdue:
            raise SystemExit(1)

    p.set_defaults(fn=due)
