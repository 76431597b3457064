"""Reading QR codes in tests the way a gate scanner does: with zxing-cpp, QR symbols only."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def read_qr_texts(image: Image.Image | bytes) -> list[str]:
    """The text of every QR code a real decoder finds in an image or PNG bytes.

    Only QR symbols are looked for, as a pass scanner is set up to: with every format on, zxing
    now and then also reads a few QR modules as a short ITF barcode (seen in CI, about 1 pass in 1,500).
    """
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    return [result.text for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]
