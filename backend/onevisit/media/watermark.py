"""The watermark of a display copy: which lines (pure, testable) and how they are drawn.

The original is never touched: the band goes on the display copy only, so the evidence bytes
keep their hash and the copy people look at says when, where, by whom and which original.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from PIL import Image, ImageDraw, ImageFont

__all__ = ["band_height", "draw_band", "font_size_for", "watermark_lines"]

try:
    CHINA = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tzdata: China has kept UTC+8 without DST since 1991
    CHINA = timezone(timedelta(hours=8), "CST")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def watermark_lines(
    *,
    taken_ms: int,
    place: str | None,
    inspector: str | None,
    subject: str | None,
    sha256: str,
) -> list[str]:
    """The band's text, in Chinese, time in Beijing time. Unknown values are left out rather
    than shown as blanks; the short hash (first 8 hex) ties the copy to its original."""
    when = datetime.fromtimestamp(taken_ms / 1000, tz=UTC).astimezone(CHINA)
    lines = [f"时间：{when:%Y-%m-%d %H:%M:%S}（北京时间）"]
    for label, value in (("地点", place), ("检查人员", inspector), ("检查对象", subject)):
        if value:
            lines.append(f"{label}：{' '.join(value.split())}")  # no line breaks from input
    lines.append(f"原件校验码：{sha256[:8]}")
    return lines


def font_size_for(width: int, height: int) -> int:
    """Text size follows the shorter side, so portrait and landscape copies match."""
    return max(12, min(width, height) // 48)


def band_height(lines: list[str], size: int) -> int:
    return len(lines) * round(size * 1.3) + size


def draw_band(img: Image.Image, lines: list[str], font: Font, size: int) -> Image.Image:
    """A darkened band across the bottom with white text; returns a new RGB image."""
    out = img.convert("RGB") if img.mode != "RGB" else img.copy()
    width, height = out.size
    top = max(0, height - band_height(lines, size))
    region = out.crop((0, top, width, height))
    shade = Image.new("RGB", region.size, (0, 0, 0))
    out.paste(Image.blend(region, shade, 0.55), (0, top))
    draw = ImageDraw.Draw(out)
    y, step = top + size // 2, round(size * 1.3)
    for line in lines:
        draw.text(
            (size // 2, y),
            line,
            font=font,
            fill=(255, 255, 255),
            stroke_width=max(1, size // 16),
            stroke_fill=(0, 0, 0),
        )
        y += step
    return out
