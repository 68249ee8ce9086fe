"""Where the test vectors live.

Shared vectors (RFC 8785, RFC 6962, C2SP signed-note) sit in `shared/vectors/` beside the
checkout (CI has `shared/` next to the repository); set ONEVISIT_SHARED_DIR to the `shared`
directory to use another copy. Missing vectors fail the tests loudly rather than skip them.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent  # tests/vectors: our own vectors


def shared_vectors() -> Path:
    env = os.environ.get("ONEVISIT_SHARED_DIR")
    base = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared"
    path = base / "vectors"
    if not path.is_dir():
        raise FileNotFoundError(f"shared vectors not found at {path}; set ONEVISIT_SHARED_DIR")
    return path
