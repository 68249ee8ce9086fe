"""Benchmark: photo derivatives from a 12 MP phone JPEG, our draft-mode path against naive ones.

    .venv/bin/python benchmarks/photo_derivatives.py [--repeat N]

A realistic 4000x3000 JPEG (smooth gradients + coarse and fine noise, so it compresses like a
photo; quality 90; EXIF orientation 6 as phones write it) is made in memory, then each path
runs N times in this process and the median is reported:
  (a) thumbnail, ours: draft + exif_transpose + resize + JPEG encode (render_thumbnail)
  (b) draft-mode decode alone (the floor for (a))
  (c) thumbnail, naive: full decode + exif_transpose + LANCZOS resize + encode
  (d) display copy, ours: draft at >= 1536 px + transpose + watermark + encode
  (e) display copy, naive: full decode + transpose + resize to 2048 + watermark + encode
Goals: a/b <= 1.5 (the thumbnail costs little beyond decoding), c/a >= 5.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from PIL import Image, ImageOps

from onevisit.media.derivatives import (
    load_font,
    render_display,
    render_thumbnail,
)
from onevisit.media.rules import DISPLAY_MAX, THUMB_MAX
from onevisit.media.watermark import draw_band, font_size_for, watermark_lines

W, H = 4000, 3000
LINES = watermark_lines(
    taken_ms=1_764_000_000_000,
    place="杭州市西湖区文三路 90 号",
    inspector="张三、李四",
    subject="杭州某某餐饮管理有限公司",
    sha256="ab" * 32,
)


def make_photo() -> bytes:
    """Gradients for large smooth areas, coarse noise for texture, fine noise for sensor grain."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((W, H))
    vertical = Image.linear_gradient("L").resize((W, H))
    coarse = Image.effect_noise((W // 16, H // 16), 60).resize((W, H), Image.Resampling.BICUBIC)
    fine = Image.effect_noise((W, H), 24)
    red = Image.blend(horizontal, coarse, 0.5)
    green = Image.blend(vertical, coarse.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.4)
    blue = Image.blend(Image.blend(horizontal, vertical, 0.5), fine, 0.3)
    img = Image.merge("RGB", (Image.blend(red, fine, 0.25), Image.blend(green, fine, 0.25), blue))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view: a phone held upright
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def draft_decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", (THUMB_MAX, THUMB_MAX * H // W))
    img.load()
    return img


def naive(data: bytes, longest: int) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    img = ImageOps.exif_transpose(img)
    scale = longest / max(img.size)
    return img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)


def encode(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def naive_thumb(data: bytes) -> bytes:
    return encode(naive(data, THUMB_MAX), 80)


def naive_display(data: bytes) -> bytes:
    img = naive(data, DISPLAY_MAX)
    size = font_size_for(*img.size)
    return encode(draw_band(img, LINES, load_font(size), size), 85)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: font loading, libjpeg tables
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    data = make_photo()
    thumb = Image.open(io.BytesIO(render_thumbnail(io.BytesIO(data))))
    display = Image.open(io.BytesIO(render_display(io.BytesIO(data), lines=LINES)))
    print(f"photo: {W}x{H} JPEG q90, {len(data) / 1e6:.1f} MB, EXIF orientation 6")
    print(f"thumbnail {thumb.size[0]}x{thumb.size[1]}, display {display.size[0]}x{display.size[1]}")
    print(f"median of {args.repeat} runs, one process:")
    a = median_ms(lambda: render_thumbnail(io.BytesIO(data)), args.repeat)
    b = median_ms(lambda: draft_decode(data), args.repeat)
    c = median_ms(lambda: naive_thumb(data), args.repeat)
    d = median_ms(lambda: render_display(io.BytesIO(data), lines=LINES), args.repeat)
    e = median_ms(lambda: naive_display(data), args.repeat)
    print(f"  (a) thumbnail, ours (draft+transpose+resize+encode) {a:8.1f} ms")
    print(f"  (b) draft-mode decode alone                         {b:8.1f} ms")
    print(f"  (c) thumbnail, naive full decode                    {c:8.1f} ms")
    print(f"  (d) display + watermark, ours                       {d:8.1f} ms")
    print(f"  (e) display + watermark, naive full decode          {e:8.1f} ms")
    ok_ab, ok_ca = a / b <= 1.5, c / a >= 5
    print(f"a/b = {a / b:.2f} (goal <= 1.5: {'ok' if ok_ab else 'MISSED'})")
    print(f"c/a = {c / a:.1f} (goal >= 5: {'ok' if ok_ca else 'MISSED'})")
    print(f"e/d = {e / d:.1f} (display: naive / ours)")


if __name__ == "__main__":
    main()
