"""Where the CJK font comes from: the PDF embeds (a subset of) one TrueType font that covers
Chinese. ONEVISIT_CJK_FONT names it when set (and is then the only candidate, so a wrong
setting is reported, not silently replaced); else the Debian fonts-wqy-microhei file the
Makefile installs, a few other known paths, and finally whatever fontconfig lists for zh-cn.

Read at each call, not once: the file may be installed while the server runs, and a missing
font is answered with a 503 (pdf.font_missing), never a 500.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["ENV", "KNOWN_FONTS", "find_cjk_font"]

ENV = "ONEVISIT_CJK_FONT"

# TrueType outlines only (.ttf/.ttc): fpdf2 subsets them; the CFF-based Noto CJK .otf is not
# listed. The first face of a collection (index 0) is the proportional one.
KNOWN_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)
TRUETYPE = (".ttf", ".ttc")


def find_cjk_font() -> Path | None:
    """The font file to embed, or None when there is none."""
    given = os.environ.get(ENV, "").strip()
    if given:
        path = Path(given)
        return path if path.is_file() else None
    for path in KNOWN_FONTS:
        if path.is_file():
            return path
    return _fontconfig()


def _fontconfig() -> Path | None:
    """fc-list, not fc-match: fc-match always answers with some font, Chinese or not."""
    if shutil.which("fc-list") is None:
        return None
    try:
        listed = subprocess.run(
            ["fc-list", ":lang=zh-cn", "file"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.strip().rstrip(":") for line in listed.splitlines())
    for name in files:
        if name.lower().endswith(TRUETYPE) and Path(name).is_file():
            return Path(name)
    return None
