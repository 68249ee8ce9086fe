"""Reading a PDF back as a person and a phone would: its text (pypdf) and its QR code
(zxing-cpp on the images the PDF embeds)."""

from __future__ import annotations

import io

import zxingcpp
from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squeezed(text: str) -> str:
    """Without whitespace: a hash wrapped over two lines is found whole."""
    return "".join(text.split())


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def images(data: bytes) -> dict[str, object]:
    """The embedded images by name, once each (pages may share one resource dictionary)."""
    found = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for image in page.images:
            found.setdefault(image.name, image.image)
    return found


def image_count(data: bytes) -> int:
    return len(images(data))


def qr_texts(data: bytes) -> list[str]:
    """Every QR code found in the embedded images."""
    found = []
    for image in images(data).values():
        for code in zxingcpp.read_barcodes(image.convert("L")):
            if code.format == zxingcpp.BarcodeFormat.QRCode:
                found.append(code.text)
    return found
