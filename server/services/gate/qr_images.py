"""QR rendering: SVG and PNG of one text, error correction level M, with the `qrcode` package.

Data is encoded in the densest QR mode it fits (a pass code "WY1.<base32>" is all alphanumeric;
a URL is bytes). Text too long for any QR version raises `qrcode.exceptions.DataOverflowError`.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import qrcode
import qrcode.constants
from PIL import Image
from qrcode.image.pil import PilImage

_SVG_UNIT_BOX = 10  # unused by the matrix; kept so that SVG and PNG build their QRCode alike


class QrPath(NamedTuple):
    d: str  # SVG path data of the dark modules, one unit per module, quiet zone included
    size: int  # side of the whole symbol with its quiet zone, in modules


def qr_svg(data: str, border: int = 4) -> str:
    """A standalone SVG document of the QR for `data` (white background, 1 mm per module)."""
    path = qr_svg_path(data, border)
    return (f'<svg width="{path.size}mm" height="{path.size}mm" version="1.1" viewBox="0 0 {path.size} {path.size}"'
            ' xmlns="http://www.w3.org/2000/svg"><rect fill="white" x="0" y="0" width="100%" height="100%" />'
            f'<path d="{path.d}" id="qr-path" fill="#000000" fill-opacity="1" fill-rule="nonzero" stroke="none" /></svg>')


def qr_svg_path(data: str, border: int = 4) -> QrPath:
    """The QR for `data` as one SVG path in module units, to place inside a larger drawing.

    Written straight from the module matrix: the same unit squares qrcode's SVG factories draw
    (``M4,4H5V5H4z`` per dark module), at about half the cost of a pass's SVG (no XML tree built).
    """
    matrix = _qr(data, _SVG_UNIT_BOX, border).get_matrix()  # the quiet zone included
    d = "".join(f"M{x},{y}H{x + 1}V{y + 1}H{x}z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    return QrPath(d=d, size=len(matrix))


def qr_image(data: str, box_size: int = 8, border: int = 4, mask_pattern: int | None = None) -> Image.Image:
    """The QR for `data` as a black-and-white Pillow image, `box_size` pixels per module.

    A fixed `mask_pattern` (0-7) skips trying all eight, which is most of the cost: for bulk prints.
    """
    return _qr(data, box_size, border, mask_pattern).make_image(image_factory=PilImage).get_image()


def qr_png(data: str, box_size: int = 8, border: int = 4) -> bytes:
    """The QR for `data` as PNG bytes, `box_size` pixels per module, `border` modules of margin."""
    buffer = io.BytesIO()
    qr_image(data, box_size, border).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _qr(data: str, box_size: int, border: int, mask_pattern: int | None = None) -> qrcode.QRCode:
    if not isinstance(data, str):
        raise TypeError("QR data must be a str")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border,
                       mask_pattern=mask_pattern)
    qr.add_data(data)
    qr.make(fit=True)
    return qr
