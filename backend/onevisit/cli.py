"""The `onevisit` command: operations on the same settings the server uses."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["main"]


async def migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from onevisit.db import enable_sqlite_wal

    await enable_sqlite_wal()
    result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"migration failed: {result.message}")


def _run(coro_fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any, **kw: Any) -> Any:
    from onevisit.errors import AppError

    try:
        return asyncio.run(coro_fn(*args, **kw))
    except OSError as exc:  # a file named on the command line: say which, no traceback
        print(f"错误 / error: {exc.strerror}: {exc.filename or ''}", file=sys.stderr)
        raise SystemExit(2) from exc
    except AppError as exc:
        body = exc.to_body()
        print(f"错误 / error [{body['code']}]: {body['message']}", file=sys.stderr)
        if body["details"]:
            print(body["details"], file=sys.stderr)
        raise SystemExit(2) from exc


def cmd_migrate(_: argparse.Namespace) -> None:
    _run(migrate)
    print("migrations applied")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from onevisit.config import get_settings

    # Passkeys are bound to the origin: without ONEVISIT_ORIGIN, it is this server's own port.
    if not os.environ.get("ONEVISIT_ORIGIN"):
        os.environ["ONEVISIT_ORIGIN"] = f"http://localhost:{args.port}"
        get_settings.cache_clear()
    if not args.no_migrate:
        _run(migrate)
    settings = get_settings()
    print(f"OneVisit serving on http://{args.host}:{args.port} (origin {settings.origin})")
    uvicorn.run(
        "onevisit.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info" if settings.debug else "warning",
        proxy_headers=True,
    )


def cmd_demo(args: argparse.Namespace) -> None:
    from onevisit.demo.load import load_demo

    summary = _run(load_demo)
    print(summary.text())
    if args.enrol:
        from onevisit.auth.cli import print_demo_enrolments

        _run(print_demo_enrolments)


def cmd_import(args: argparse.Namespace) -> None:
    from onevisit.directory.cli import run_import

    _run(run_import, kind=args.kind, path=args.file)


def cmd_export(args: argparse.Namespace) -> None:
    from onevisit.directory.cli import run_export

    _run(run_export, kind=args.kind, path=args.file)


def cmd_enrol(args: argparse.Namespace) -> None:
    from onevisit.auth.cli import enrol

    _run(enrol, admin=args.admin, user=args.user, qr=not args.no_qr)


def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} log entries")
    sys.stderr.flush()


def cmd_verify(args: argparse.Namespace) -> None:
    """EVIDENCE.md §6: a summary line on stdout, the failures on stderr, exit 1 on any."""
    from onevisit.evidence.verify import verify_all

    bar = args.progress or sys.stderr.isatty()
    report = _run(verify_all, progress=_progress_bar if bar else None)
    if bar:
        sys.stderr.write("\n")
    print(report.summary())
    for failure in report.failures[: args.show]:
        print(f"  {failure}", file=sys.stderr)
    if report.problems > args.show:
        print(f"  … {report.problems - args.show} more", file=sys.stderr)
    raise SystemExit(0 if report.ok else 1)


def cmd_import_bundle(args: argparse.Namespace) -> None:
    """docs/bundle.md: one line per event and media entry, a summary; exit 1 if anything was
    rejected, 2 if the file is unreadable or malformed (then nothing was imported)."""
    from onevisit.sync.bundle import import_file

    result = _run(import_file, args.file)
    for line in result.lines():
        print(line)
    print(result.summary())
    raise SystemExit(0 if result.ok else 1)


def _name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a name is required / 须填写姓名")
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onevisit",
        description="OneVisit 双随机一公开联合检查现场系统 — operations "
        "(all commands read ONEVISIT_* environment variables).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply database migrations (SQLite or PostgreSQL)")
    p.set_defaults(fn=cmd_migrate)

    p = sub.add_parser("serve", help="serve the API and the PWA")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-migrate", action="store_true", help="do not migrate before serving")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("demo", help="load the demo data set (idempotent)")
    p.add_argument("--enrol", action="store_true", help="print enrolment links of demo users")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("import", help="import a directory from .xlsx or .csv (all or nothing)")
    p.add_argument("kind", choices=["subjects", "inspectors", "matters"])
    p.add_argument("file")
    p.set_defaults(fn=cmd_import)

    p = sub.add_parser("export", help="export a directory to .xlsx or .csv")
    p.add_argument("kind", choices=["subjects", "inspectors", "matters"])
    p.add_argument("file")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("enrol", help="issue a one-time enrolment link and QR code")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--admin", metavar="NAME", type=_name, help="the admin named NAME (created if new)"
    )
    who.add_argument("--user", metavar="USER_ID", help="a new link for an existing user")
    p.add_argument("--no-qr", action="store_true", help="print the link only")
    p.set_defaults(fn=cmd_enrol)

    from onevisit.simulate.cli import add_simulate_parser  # `onevisit simulate`

    add_simulate_parser(sub)

    p = sub.add_parser(
        "import-bundle",
        help="ingest a rescue bundle (onevisit.bundle/1) through the checks of a sync",
    )
    p.add_argument("file")
    p.set_defaults(fn=cmd_import_bundle)

    from onevisit.planning.cli import add_draw_parser  # `onevisit draw …`

    add_draw_parser(sub)

    from onevisit.workdays.cli import add_calendar_parser  # `onevisit calendar …`

    add_calendar_parser(sub)

    from onevisit.results.cli import add_results_parser  # `onevisit results …`

    add_results_parser(sub)

    p = sub.add_parser(
        "verify", help="re-check every event, leaf, node, checkpoint, media file, confirmation"
    )
    p.add_argument("--progress", action="store_true", help="show progress even when not a TTY")
    p.add_argument("--show", type=int, default=20, metavar="N", help="print N failures (20)")
    p.set_defaults(fn=cmd_verify)
    return parser


def main(argv: list[str] | None = None) -> None:
    import logging

    # demo and simulate talk to the app through httpx, which logs every request at INFO
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
