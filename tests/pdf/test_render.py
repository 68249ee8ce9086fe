"""render.py and font.py without the server: a long record flows over pages, every page is
numbered against the total, nothing is lost at the breaks; the font is found or reported."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from onevisit.field.record import build_record
from onevisit.media.derivatives import render_thumbnail
from onevisit.pdf.font import ENV, KNOWN_FONTS, find_cjk_font
from onevisit.pdf.render import FontUnusable, render_pdf
from onevisit.pdf.sheet import images_wanted, is_confirmed, sheet_of
from tests.field.factory import INFO, body, full_visit, media
from tests.pdf.util import image_count, page_count, pdf_text, qr_texts, squeezed

ORIGIN = "https://onevisit.example"
NOTES = 70
PHOTOS = 12


def _long_sheet():
    """The factory's joint visit of 3 departments, with 70 notes and 12 photos, refused and
    confirmed by one inspector."""
    scene = full_visit()
    for n in range(NOTES):
        scene.add("u1", "note", {"text": f"第{n:03d}条情况说明：现场检查发现的具体情况如下，" * 2})
    for n in range(PHOTOS):
        photo = {"media": media(f"photo-{n}"), "caption": f"照片{n:02d}", "matter": "SC-01"}
        scene.add("u2", "photo", photo)
    record_hash = scene.state().record_hash
    scene.add("u1", "signature_refused", body("signature_refused") | {"record_hash": record_hash})
    scene.add("u3", "record_confirmed", {"record_hash": record_hash, "method": "device_pin"})
    state = scene.state()
    assert is_confirmed(state) and state.record_hash == record_hash
    record = build_record(state, INFO)
    wanted = images_wanted(state, record)
    assert len(wanted) == PHOTOS + 1  # and the factory's own photo
    images = {  # the last two photos: not uploaded yet
        sha: render_thumbnail(io.BytesIO(_photo(n))) for n, sha in enumerate(wanted[:-2])
    }
    return sheet_of(
        info=INFO, state=state, record=record, record_hash=record_hash, origin=ORIGIN,
        departments={"SCJG": "市场监督管理局", "HB": "生态环境局"}, images=images,
    )  # fmt: skip


def _photo(n: int) -> bytes:
    """A 4:3 camera-sized JPEG of its own colour: no two thumbnails alike."""
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (20 * n, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def long_pdf() -> tuple[object, bytes, float]:
    sheet = _long_sheet()
    font = find_cjk_font()
    assert font is not None, "the test machines have fonts-wqy-microhei"
    started = time.perf_counter()
    data = render_pdf(sheet, font=font)
    return sheet, data, time.perf_counter() - started


def test_a_long_record_flows_over_numbered_pages(long_pdf):
    sheet, data, seconds = long_pdf
    pages = page_count(data)
    assert pages >= 4
    text = pdf_text(data)
    for n in range(1, pages + 1):
        assert f"第 {n} 页 / 共 {pages} 页" in text
    assert text.count("保存期限不少于2年") >= pages
    flat = squeezed(text)
    for n in range(NOTES):  # nothing lost at a page break
        assert f"第{n:03d}条情况说明" in flat
    for p in sheet.record["photos"]:
        assert p["sha256"] in flat
    assert flat.count("（原件尚未上传到服务器）") == 2
    # the headings of the notes table repeat on the pages it continues on
    assert text.count("时间 记录人 类别 内容") >= 2
    assert "市场监督管理局（SCJG）" in text and "HB" in text and "YJ" in text
    assert "台账缺2025年12月记录" in text and "不适用" in text
    assert "发现问题已责令改正；后续处置：责令改正" in text
    assert f"见证人：{body('witness')['name']}" in text
    assert "13800000000" not in flat  # the witness's phone, from the refusal body
    assert image_count(data) == PHOTOS + 1 - 2 + 1  # the thumbnails shown, and the QR code
    assert qr_texts(data) == [f"{ORIGIN}/verify/record/{sheet.record_hash}"]
    assert seconds < 5, f"rendering took {seconds:.2f} s"


def test_the_same_record_prints_the_same_bytes(long_pdf):
    sheet, data, _ = long_pdf
    font = find_cjk_font()
    assert font is not None
    assert render_pdf(sheet, font=font) == data


def test_a_file_that_is_no_font_is_reported(tmp_path):
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"\x00\x01\x00\x00" + b"not a font" * 50)
    with pytest.raises(FontUnusable):
        render_pdf(_long_sheet(), font=broken)


def test_font_setting_wins_and_a_wrong_one_is_not_replaced(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV, raising=False)
    assert find_cjk_font() in KNOWN_FONTS  # the Debian font the Makefile installs
    given = tmp_path / "mine.ttf"
    given.write_bytes(b"x")
    monkeypatch.setenv(ENV, str(given))
    assert find_cjk_font() == given
    monkeypatch.setenv(ENV, str(tmp_path / "missing.ttf"))
    assert find_cjk_font() is None
