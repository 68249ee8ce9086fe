"""docker-compose.yml: no engine runs here, so the file is checked as far as a client can —
its structure always, and `docker-compose config` where that client is installed (v1.29 from
Debian validates without an engine)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_app_and_postgres_with_health_checks_volumes_and_migrations():
    compose = _compose()
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])

    assert app["build"] == "."
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    env = app["environment"]
    assert (
        env["ONEVISIT_DATABASE_URL"].startswith("postgresql://")
        and "@db:5432/" in env["ONEVISIT_DATABASE_URL"]
    )
    mounts = {v.split(":")[1] for v in app["volumes"]}
    assert {env["ONEVISIT_MEDIA_DIR"], env["ONEVISIT_VAR_DIR"]} <= mounts  # media and secrets kept
    command = " ".join(app["command"])
    assert command.index("onevisit migrate") < command.index("onevisit serve")
    assert "/api/health" in " ".join(app["healthcheck"]["test"])
    named = {v.split(":")[0] for v in db["volumes"] + app["volumes"]}
    assert named <= set(compose["volumes"])


def test_the_dockerfile_installs_the_pinned_package_and_serves():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "-c constraints.txt" in text and "fonts-wqy-microhei" in text
    assert "USER onevisit" in text and "onevisit serve" in text


def test_docker_compose_config_accepts_the_file(tmp_path):
    client = shutil.which("docker-compose")
    if client is None:  # the structural checks above still ran
        return
    done = subprocess.run(
        [client, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
