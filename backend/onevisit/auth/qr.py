"""QR codes of enrolment links: a PNG data URL for the PWA, half blocks for a terminal."""

from __future__ import annotations

import base64
import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["qr_data_url", "qr_terminal"]


def _qr(text: str, border: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=border)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_data_url(text: str) -> str:
    """`data:image/png;base64,…` — the CSP allows data: images."""
    buffer = io.BytesIO()
    _qr(text, border=4).make_image().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def qr_terminal(text: str) -> str:
    """The code in UTF-8 half blocks (two modules per character row), dark on light."""
    out = io.StringIO()
    _qr(text, border=2).print_ascii(out=out, invert=True)
    return out.getvalue()
