"""The `onevisit simulate` subcommand (registered by onevisit.cli.build_parser)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_simulate_parser"]


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a rate between 0 and 1")
    return value


def cmd_simulate(args: argparse.Namespace) -> None:
    from onevisit.cli import _run
    from onevisit.simulate.run import simulate

    report = _run(
        simulate,
        base_url=args.base_url.rstrip("/"),
        phones=args.phones,
        visits=args.visits,
        seed=args.seed,
        offline_rate=args.offline_rate,
        duplicate_rate=args.duplicate_rate,
        fault_rate=args.fault_rate,
        photos=args.photos,
    )
    print(report.text())
    if not report.ok:
        sys.exit(1)


def add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulated phones doing joint visits against a running server (docs/simulate.md)",
    )
    p.add_argument(
        "--base-url", required=True, help="the running server, e.g. http://127.0.0.1:8000"
    )
    p.add_argument("--phones", type=int, default=6, help="simulated inspectors/phones (≥ 4)")
    p.add_argument("--visits", type=int, default=3, help="joint visits (4 inspectors each)")
    p.add_argument("--seed", type=int, default=None, help="make the run repeatable")
    p.add_argument("--offline-rate", type=_rate, default=0.3, help="chance a tap starts a gap")
    p.add_argument("--duplicate-rate", type=_rate, default=0.1, help="chance a batch is resent")
    p.add_argument("--fault-rate", type=_rate, default=0.05,
                   help="chance of a wrong-matter answer the server must refuse")  # fmt: skip
    p.add_argument("--photos", action=argparse.BooleanOptionalAction, default=True)
    p.set_defaults(fn=cmd_simulate)
