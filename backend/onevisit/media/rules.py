"""What may be uploaded: purposes, media types, sizes. Constants in one place (docs/media.md)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "CHUNK_MAX",
    "DISPLAY_MAX",
    "IMAGE_FORMATS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MIMES",
    "PURPOSES",
    "THUMB_MAX",
]

MB: Final = 1024 * 1024

PURPOSES: Final = ("photo", "signature", "video")

# Largest original per purpose. A phone photo is 2-8 MB; a 1-minute 1080p clip ~100 MB.
MAX_BYTES: Final = {"photo": 25 * MB, "signature": 25 * MB, "video": 200 * MB}

# Media types accepted per purpose. HEIC is absent: the PWA captures through a canvas/JPEG,
# and Pillow cannot decode HEIC without a plugin we do not ship.
MIMES: Final = {
    "photo": frozenset({"image/jpeg", "image/png", "image/webp"}),
    # the signature image, and its stroke data (x, y, pressure, time) as JSON: both evidence
    "signature": frozenset({"image/png", "image/jpeg", "image/webp", "application/json"}),
    "video": frozenset({"video/mp4", "video/quicktime", "video/webm"}),
}

# Pillow's format name that each image media type must decode as.
IMAGE_FORMATS: Final = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

# One PATCH carries at most this much; the phone sends 1-4 MB chunks on a bad network.
CHUNK_MAX: Final = 8 * MB

# A 12 MP phone photo is 12e6 pixels; 60 MP leaves room for 50 MP sensors and refuses
# decompression bombs (a few kB of PNG declaring 100 MP).
MAX_PIXELS: Final = 60_000_000

THUMB_MAX: Final = 320  # longest side of a thumbnail
DISPLAY_MAX: Final = 2048  # longest side of the display copy
