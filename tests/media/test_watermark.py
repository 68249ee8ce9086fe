"""The pure watermark functions."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image

from onevisit.media.derivatives import load_font
from onevisit.media.watermark import band_height, draw_band, font_size_for, watermark_lines

SHA = "0123456789abcdef" * 4
MS = int(datetime(2026, 3, 1, 9, 30, 5, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)


def test_lines_in_beijing_time_with_short_hash():
    lines = watermark_lines(
        taken_ms=MS,
        place="杭州市西湖区文三路 1 号",
        inspector="张三",
        subject="某某公司",
        sha256=SHA,
    )
    assert lines == [
        "时间：2026-03-01 09:30:05（北京时间）",
        "地点：杭州市西湖区文三路 1 号",
        "检查人员：张三",
        "检查对象：某某公司",
        "原件校验码：01234567",
    ]


def test_unknown_values_are_left_out_and_input_cannot_add_lines():
    lines = watermark_lines(taken_ms=0, place=None, inspector="李\n四", subject="", sha256=SHA)
    assert lines == [
        "时间：1970-01-01 08:00:00（北京时间）",
        "检查人员：李 四",
        "原件校验码：01234567",
    ]


def test_band_is_drawn_at_the_bottom_only():
    img = Image.new("RGB", (800, 600), (200, 200, 200))
    size = font_size_for(800, 600)
    lines = watermark_lines(taken_ms=MS, place=None, inspector="张三", subject=None, sha256=SHA)
    out = draw_band(img, lines, load_font(size), size)
    assert out.size == img.size and img.getpixel((5, 595)) == (200, 200, 200)  # input kept
    top = 600 - band_height(lines, size)
    assert out.getpixel((799, 599))[0] < 120  # shaded
    assert out.getpixel((400, top - 2)) == (200, 200, 200)  # above the band: untouched
    band = out.crop((0, top, 800, 600)).get_flattened_data()
    white = sum(1 for p in band if min(p) > 230)
    assert white > 100  # text was drawn


def test_font_size_follows_the_shorter_side():
    assert font_size_for(4000, 3000) == font_size_for(3000, 4000) == 62
    assert font_size_for(100, 100) == 12
