"""Settings, read once from the environment, with safe defaults.

Secrets that are not given are generated on first start into the var directory (mode 0600),
so a fresh clone runs without configuration and no secret is ever committed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["Settings", "get_settings", "read_or_create_secret"]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _positive_int(name: str, default: int) -> int:
    text = _env(name, str(default))
    if not text.isdigit() or int(text) <= 0:
        raise SystemExit(f"{name} must be a positive whole number, not {text!r}")
    return int(text)


def _flag(name: str, default: bool) -> bool:
    text = _env(name, "1" if default else "0")
    if text not in ("0", "1"):
        raise SystemExit(f"{name} must be 0 or 1, not {text!r}")
    return text == "1"


def _origin() -> str:
    origin = _env("ONEVISIT_ORIGIN", "http://localhost:8000").rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        raise SystemExit(
            f"ONEVISIT_ORIGIN must be http(s)://host[:port] with nothing after, not {origin!r}"
        )
    return origin


def read_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    """A random secret kept in a 0600 file; created atomically the first time."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(nbytes)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value.hex())
    try:
        os.link(tmp, path)  # fails if another process won the race: keep theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    media_dir: Path
    var_dir: Path
    origin: str
    debug: bool
    max_import_bytes: int
    enrolment_ttl_seconds: int
    session_ttl_seconds: int
    pwa_minify: bool  # serve pwa/*.js and *.css minified (pwa_assets.py)

    @property
    def rp_id(self) -> str:
        """WebAuthn relying-party id: the host of the public origin."""
        return urlsplit(self.origin).hostname or "localhost"

    @property
    def log_origin(self) -> str:
        """The origin line of checkpoints and the name of the log key (C2SP tlog-checkpoint:
        a schema-less URL naming this log): ONEVISIT_LOG_ORIGIN, else <host[:port]>/log."""
        given = os.environ.get("ONEVISIT_LOG_ORIGIN", "").strip()
        return given or f"{urlsplit(self.origin).netloc}/log"

    @property
    def secure_cookies(self) -> bool:
        return self.origin.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        # sqlite:///ABSOLUTE/PATH → /ABSOLUTE/PATH
        return Path(self.database_url.removeprefix("sqlite://"))

    def secret(self, name: str) -> bytes:
        """A named server secret: ONEVISIT_<NAME> if set (hex), else a 0600 file in var/."""
        given = os.environ.get(f"ONEVISIT_{name.upper()}", "").strip()
        if given:
            return bytes.fromhex(given)
        return read_or_create_secret(self.var_dir / f"{name}.secret")


@cache
def get_settings() -> Settings:
    var_dir = Path(_env("ONEVISIT_VAR_DIR", "var")).resolve()
    default_db = f"sqlite://{var_dir / 'onevisit.sqlite3'}"
    url = _env("ONEVISIT_DATABASE_URL", default_db)
    if not (url.startswith("sqlite:///") or url.startswith(("postgresql://", "postgres://"))):
        raise SystemExit("ONEVISIT_DATABASE_URL must be sqlite:///ABSOLUTE/PATH or postgresql://…")
    return Settings(
        database_url=url,
        media_dir=Path(_env("ONEVISIT_MEDIA_DIR", "media")).resolve(),
        var_dir=var_dir,
        origin=_origin(),
        debug=_env("ONEVISIT_DEBUG", "0") == "1",
        max_import_bytes=_positive_int("ONEVISIT_MAX_IMPORT_BYTES", 50 * 1024 * 1024),
        enrolment_ttl_seconds=_positive_int("ONEVISIT_ENROLMENT_TTL", 72 * 3600),
        session_ttl_seconds=_positive_int("ONEVISIT_SESSION_TTL", 12 * 3600),
        pwa_minify=_flag("ONEVISIT_PWA_MINIFY", default=True),
    )
