"""The `onevisit` command: its surface and the migrations it runs, on this run's engine."""

import os
import subprocess
import sys

from piccolo.table import Table

from onevisit.cli import build_parser, migrate
from onevisit.db import engine, is_sqlite


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onevisit.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


def test_help_lists_every_command():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("migrate", "serve", "demo", "import", "export", "enrol"):
        assert command in out.stdout


def test_parser_rejects_unknown_import_kind():
    out = run_cli("import", "planets", "x.csv")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


async def test_migrate_is_idempotent():
    await migrate()  # already migrated by the session fixture: a second run changes nothing
    out = run_cli("migrate")
    assert out.returncode == 0, out.stderr
    assert "migrations applied" in out.stdout


async def test_every_table_of_every_app_exists():
    from piccolo.conf.apps import Finder

    tables: list[type[Table]] = Finder().get_table_classes()
    assert len(tables) >= 10
    for table in tables:
        assert await table.table_exists(), table._meta.tablename


async def test_sqlite_runs_in_wal_mode():
    if not is_sqlite():
        assert "postgres" in os.environ["ONEVISIT_DATABASE_URL"]
        return
    rows = await engine().run_ddl("PRAGMA journal_mode")
    assert rows[0]["journal_mode"] == "wal"


def test_cli_subcommands_are_the_documented_surface():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) >= {"migrate", "serve", "demo", "import", "export", "enrol"}


def test_missing_import_file_is_a_clear_error_not_a_traceback():
    out = run_cli("import", "subjects", "/no/such/file.csv")
    assert out.returncode == 2
    assert "No such file" in out.stderr and "/no/such/file.csv" in out.stderr
    assert "Traceback" not in out.stderr


def test_enrol_needs_a_name():
    out = run_cli("enrol", "--admin", "  ")
    assert out.returncode == 2
    assert "name is required" in out.stderr
