"""`onevisit draw …` (registered by onevisit.cli.build_parser): a task's draw from the command
line, acting as the system's operator (an admin caller named "cli"), and `verify`, which
needs nothing but the record file.

    onevisit draw commit TASK --rule A=0.03 --rule B=0.05 --rule C=10 … [--need DEP=2]
                              [--cap N] [--party NAME=COMMIT_HEX]
    onevisit draw beacon TASK TEXT
    onevisit draw reveal TASK PARTY SECRET_HEX
    onevisit draw run TASK [--give-up PARTY]
    onevisit draw swap TASK SUBJECT OUT REASON --approver NAME
    onevisit draw show TASK
    onevisit draw verify FILE|-

A rule is a ratio when it has a decimal point ("0.05", "1.0") and a count otherwise ("10")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from onevisit.auth.roles import CLI_CALLER

__all__ = ["add_draw_parser"]


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError("NAME=VALUE")
    return name, value


def _rule(text: str) -> tuple[str, dict[str, Any]]:
    stratum, value = _pair(text)
    if "." in value:
        return stratum, {"ratio": value}
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{text}: a ratio like 0.05 or a count like 10")
    return stratum, {"count": int(value)}


def _need(text: str) -> tuple[str, int]:
    department, value = _pair(text)
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{text}: DEPARTMENT=NUMBER")
    return department, int(value)


def _print(result: Any) -> None:
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))


def cmd_commit(args: argparse.Namespace) -> None:
    from onevisit.cli import _run
    from onevisit.planning.draws import commit_draw

    _print(_run(
        commit_draw, caller=CLI_CALLER, task_code=args.task, strata=dict(args.rule),
        needs=dict(args.need), cap=args.cap,
        parties=[{"name": n, "commit": c} for n, c in args.party],
        reveal_hours=args.reveal_hours,
    ))  # fmt: skip


def cmd_beacon(args: argparse.Namespace) -> None:
    from onevisit.cli import _run
    from onevisit.planning.draws import set_beacon

    _print(_run(set_beacon, caller=CLI_CALLER, task_code=args.task, beacon=args.text))


def cmd_reveal(args: argparse.Namespace) -> None:
    from onevisit.cli import _run
    from onevisit.planning.draws import reveal

    _print(_run(reveal, caller=CLI_CALLER, task_code=args.task, party=args.party,
                secret=args.secret))  # fmt: skip


def cmd_run(args: argparse.Namespace) -> None:
    from onevisit.cli import _run
    from onevisit.planning.draws import run_draw

    _print(_run(run_draw, caller=CLI_CALLER, task_code=args.task, give_up=args.give_up))


def cmd_swap(args: argparse.Namespace) -> None:
    from onevisit.cli import _run
    from onevisit.planning.draws import swap

    _print(_run(
        swap, caller=CLI_CALLER, task_code=args.task, subject_id=args.subject, out=args.out,
        reason=args.reason, approver=args.approver,
    ))  # fmt: skip


def cmd_show(args: argparse.Namespace) -> None:
    from onevisit.cli import _run
    from onevisit.planning.draws import draw_status

    _print(_run(draw_status, caller=CLI_CALLER, task_code=args.task))


def cmd_verify(args: argparse.Namespace) -> None:
    """Recompute a draw record from its inputs alone (offline); exit 1 on any difference, 2 if
    the file is not a readable JSON document."""
    from onevisit.planning.draw import verify

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        record = json.loads(raw)
    except (OSError, ValueError) as exc:
        print(f"onevisit draw verify: cannot read {args.file}: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    problems = verify(record)
    task = record.get("task_id") if isinstance(record, dict) else None
    if problems:
        print(f"FAILED: draw record of task {task}", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1)
    print(
        f"OK: draw record of task {task}: {len(record['population'])} eligible, "
        f"{len(record['subjects'])} drawn, {len(record['groups'])} groups, "
        f"{len(record.get('swaps', []))} swaps, seed {record['seed']}"
    )


def add_draw_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("draw", help="the double random draw (DRAW.md): commit … run, verify")
    draw = p.add_subparsers(dest="draw_command", required=True, metavar="ACTION")

    q = draw.add_parser("commit", help="fix the population, rules, pool and commitments")
    q.add_argument("task")
    q.add_argument("--rule", type=_rule, action="append", default=[], required=True,
                   metavar="STRATUM=RATIO|COUNT", help="one per stratum: A B C D 3y+")  # fmt: skip
    q.add_argument("--need", type=_need, action="append", default=[], metavar="DEP=N")
    q.add_argument("--cap", type=int, default=None, help="at most N visits per inspector")
    q.add_argument("--party", type=_pair, action="append", default=[], metavar="NAME=COMMIT")
    q.add_argument("--reveal-hours", type=int, default=None,
                   help="the other parties reveal within N hours (default 48)")  # fmt: skip
    q.set_defaults(fn=cmd_commit)

    q = draw.add_parser("beacon", help="set the public beacon (after commit, before run)")
    q.add_argument("task")
    q.add_argument("text")
    q.set_defaults(fn=cmd_beacon)

    q = draw.add_parser("reveal", help="a committing party reveals its secret")
    q.add_argument("task")
    q.add_argument("party")
    q.add_argument("secret")
    q.set_defaults(fn=cmd_reveal)

    q = draw.add_parser("run", help="draw: reveal the server's secret, publish, create visits")
    q.add_argument("task")
    q.add_argument("--give-up", action="append", default=[], metavar="PARTY",
                   help="a party that did not reveal (32 zero bytes stand in)")  # fmt: skip
    q.set_defaults(fn=cmd_run)

    q = draw.add_parser("swap", help="swap an inspector out (who comes in is computed)")
    q.add_argument("task")
    q.add_argument("subject")
    q.add_argument("out", help="the inspector code going out")
    q.add_argument("reason", choices=["conflict_of_interest", "post_change", "work_conflict",
                                      "health"])  # fmt: skip
    q.add_argument("--approver", required=True, help="who approved it (name or user id)")
    q.set_defaults(fn=cmd_swap)

    q = draw.add_parser("show", help="where the task's draw stands (JSON)")
    q.add_argument("task")
    q.set_defaults(fn=cmd_show)

    q = draw.add_parser("verify", help="recompute a draw record from the file alone (offline)")
    q.add_argument("file", help="a draw.json (or - for standard input)")
    q.set_defaults(fn=cmd_verify)
