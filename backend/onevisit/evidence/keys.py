"""The server's own keys, derived from secrets in var/ (generated on first start, mode 0600):

- the log key (Ed25519) signs checkpoints as C2SP signed notes; its verifier key string is
  published at /log/key;
- the event key (ECDSA P-256) signs the server's own workflow events (device "server"), in the
  same form as the phones' events, so one verifier checks both.
"""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onevisit.config import get_settings

__all__ = ["event_key", "event_key_spki", "log_key", "log_name"]

# Order of the P-256 group: a private scalar must lie in [1, n-1].
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@cache
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(get_settings().secret("log_ed25519"))


@cache
def log_name() -> str:
    """The log's name (checkpoint origin line, note key name). Part of the key id, so it is
    fixed for the life of the installation: chosen on first start (ONEVISIT_LOG_ORIGIN, else
    from ONEVISIT_ORIGIN) and kept in var/log_name; a later change of the origin or the port
    must not orphan the checkpoints already signed."""
    settings = get_settings()
    path = settings.var_dir / "log_name"
    if not path.exists():
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="utf-8") as fh:  # first writer wins
                fh.write(settings.log_origin + "\n")
        except FileExistsError:
            pass
    return path.read_text(encoding="utf-8").strip()


@cache
def event_key() -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(get_settings().secret("event_p256"), "big") % (_P256_N - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def event_key_spki() -> bytes:
    return (
        event_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
