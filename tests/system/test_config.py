"""Settings: defaults, validation, and secrets generated once with mode 0600."""

import os
import re
import stat

import pytest

from onevisit.config import get_settings, read_or_create_secret


def test_generated_secret_is_private_and_stable(tmp_path):
    path = tmp_path / "var" / "k.secret"
    first = read_or_create_secret(path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create_secret(path) == first  # read back, not regenerated


def test_named_secret_from_environment_wins(monkeypatch):
    monkeypatch.setenv("ONEVISIT_TESTKEY", "00" * 32)
    assert get_settings().secret("testkey") == bytes(32)


def test_rp_id_is_origin_host():
    settings = get_settings()
    assert settings.rp_id == "localhost"
    assert not settings.secure_cookies


def test_bad_database_url_is_refused(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("ONEVISIT_DATABASE_URL", "mysql://nope")
    try:
        with pytest.raises(SystemExit, match="ONEVISIT_DATABASE_URL"):
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert get_settings().database_url == os.environ["ONEVISIT_DATABASE_URL"]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("ONEVISIT_SESSION_TTL", "abc", "positive whole number"),
        ("ONEVISIT_ENROLMENT_TTL", "-5", "positive whole number"),
        ("ONEVISIT_ORIGIN", "localhost:8000", "http(s)://host"),
        ("ONEVISIT_ORIGIN", "https://example.org/app", "nothing after"),
    ],
)
def test_bad_settings_are_refused_clearly(monkeypatch, name, value, says):
    get_settings.cache_clear()
    monkeypatch.setenv(name, value)
    try:
        with pytest.raises(SystemExit, match=re.escape(says)):
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_sqlite_database_file_is_private():
    settings = get_settings()
    if not settings.is_sqlite:
        pytest.skip("PostgreSQL run: no database file")  # the SQLite run checks it
    assert stat.S_IMODE(settings.sqlite_path.stat().st_mode) == 0o600


async def test_server_keys_exist_after_start(app):
    var = get_settings().var_dir
    for name in ("log_ed25519.secret", "event_p256.secret"):
        path = var / name
        assert path.exists(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_log_name_survives_a_change_of_origin(app, monkeypatch):
    from onevisit.evidence.keys import log_name

    # the name was made from the origin of whichever server started first on this var/ (a
    # browser test's live server may have): what matters is that it never changes after
    first = log_name()
    assert first.endswith("/log") and "://" not in first
    monkeypatch.setenv("ONEVISIT_ORIGIN", "https://other.example:9443")
    get_settings.cache_clear()
    log_name.cache_clear()
    try:
        assert log_name() == first  # kept in var/log_name: old checkpoints stay verifiable
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        log_name.cache_clear()
