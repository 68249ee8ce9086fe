"""The pure parts: PIN hashing, device-key checks, QR codes."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from PIL import Image

from onevisit.auth.devicekeys import device_id_of, load_device_key, verify_device_signature
from onevisit.auth.pins import check_pin_format, hash_pin, verify_pin
from onevisit.auth.qr import qr_data_url, qr_terminal
from onevisit.errors import AppError
from tests.auth.softauthn import SoftDevice, b64url


def test_pin_hash_format_and_check():
    stored = hash_pin("123456")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert verify_pin("123456", stored)
    assert not verify_pin("123457", stored)
    assert hash_pin("123456") != stored  # salted
    assert not verify_pin("123456", "garbage")
    assert not verify_pin("123456", "bcrypt$1$2$3$x$y")


@pytest.mark.parametrize("pin", ["", "12345", "1" * 13, "12345a", "١٢٣٤٥٦", "123456\n"])
def test_pin_format(pin):
    with pytest.raises(AppError) as err:
        check_pin_format(pin)
    assert err.value.code == "auth.pin_weak"


def test_device_id_is_sha256_of_spki_and_raw_signatures_verify():
    device = SoftDevice()
    der, key = load_device_key(device.spki)
    assert device_id_of(der) == hashlib.sha256(der).hexdigest() == device.device_id
    signature = device.sign(b"hello")
    assert verify_device_signature(key, signature, b"hello")
    assert not verify_device_signature(key, signature, b"hellO")
    assert not verify_device_signature(key, signature[:-4], b"hello")  # not 64 bytes
    assert not verify_device_signature(key, "%%%", b"hello")


def test_compressed_point_spki_refused():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    point = key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    # the same key with a compressed point: a second encoding would give a second device_id
    prefix = der[: len(der) - 65]
    compressed = bytearray(prefix + point)
    compressed[1] -= 32  # outer SEQUENCE length
    compressed[len(prefix) - 2] -= 32  # BIT STRING length (then one "unused bits" byte)
    with pytest.raises(AppError) as err:
        load_device_key(b64url(bytes(compressed)))
    assert err.value.code == "auth.device_key_invalid"


def test_qr_renderings():
    url = "http://localhost:8000/#/enrol/abc"
    png = qr_data_url(url)
    assert png.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]
    text = qr_terminal(url)
    assert set(text) <= {"█", "▀", "▄", " ", "\xa0", "\n"}
    assert len(text.splitlines()) > 10
