import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import qrcode
import qrcode.constants
from PIL import Image, ImageDraw
from qrcode.util import MODE_ALPHA_NUM

from server.services.gate.pass_tokens import SigningKey, generate_keypair, issue_pass
from server.services.gate.qr_images import qr_image, qr_png, qr_svg, qr_svg_path
from tests.qr_reading import read_qr_texts
from tests.services.test_pass_tokens import new_pass_id

SVG_NS = "{http://www.w3.org/2000/svg}"
RECT = re.compile(r"M(\d+),(\d+)H(\d+)V(\d+)H(\d+)z")

SAMPLES = [
    "https://wuye.example.cn/g/7KQ2M9XH",
    "https://wuye.example.cn/g/AbC123?x=1&y=<2>",
    "黄平路8号院 北门",
    "WY1." + "A2" * 64,
]


def dark_modules(path_d: str) -> set[tuple[int, int]]:
    """The modules an SVG path of unit squares paints, as (column, row); each subpath one square."""
    squares = RECT.findall(path_d)
    assert "".join(f"M{x},{y}H{x2}V{y2}H{x3}z" for x, y, x2, y2, x3 in squares) == path_d
    cells = set()
    for x, y, x2, y2, x3 in map(lambda t: tuple(map(int, t)), squares):
        assert x2 == x + 1 and y2 == y + 1 and x3 == x
        cells.add((x, y))
    return cells


def rasterize(cells: set[tuple[int, int]], size: int, scale: int = 8) -> Image.Image:
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in cells:
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def reference_modules(data: str, border: int = 4) -> set[tuple[int, int]]:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    qr.add_data(data)
    matrix = qr.get_matrix()
    return {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}


@pytest.mark.parametrize("data", SAMPLES)
def test_png_decodes_to_exactly_the_data(data):
    image = Image.open(io.BytesIO(qr_png(data)))
    assert image.format == "PNG"
    assert read_qr_texts(image) == [data]


def test_png_box_size_and_border_set_the_pixel_size():
    data = "https://wuye.example.cn/g/7KQ2M9XH"
    small = Image.open(io.BytesIO(qr_png(data, box_size=4, border=2)))
    large = Image.open(io.BytesIO(qr_png(data, box_size=10, border=4)))
    assert small.size[0] % 4 == 0 and large.size[0] % 10 == 0
    assert small.size[0] // 4 - 4 == large.size[0] // 10 - 8  # same symbol, different margins
    assert read_qr_texts(large) == [data]


@pytest.mark.parametrize("data", SAMPLES)
def test_svg_is_well_formed_and_paints_the_same_matrix(data):
    root = ET.fromstring(qr_svg(data))
    assert root.tag == f"{SVG_NS}svg"
    size = int(root.get("viewBox").split()[2])
    assert root.get("width") == f"{size}mm"
    paths = root.findall(f"{SVG_NS}path")
    assert len(paths) == 1
    cells = dark_modules(paths[0].get("d"))
    assert cells == reference_modules(data)
    assert read_qr_texts(rasterize(cells, size)) == [data]


def test_svg_path_matches_the_document_and_the_png():
    data = SAMPLES[0]
    path = qr_svg_path(data)
    root = ET.fromstring(qr_svg(data))
    assert path.d == root.find(f"{SVG_NS}path").get("d")
    assert path.size == int(root.get("viewBox").split()[2])
    png = qr_image(data, box_size=1, border=4).convert("L")
    assert png.size == (path.size, path.size)
    from_png = {(x, y) for y in range(path.size) for x in range(path.size) if png.getpixel((x, y)) < 128}
    assert from_png == dark_modules(path.d)


def test_svg_has_a_white_background_so_it_scans_on_any_page():
    root = ET.fromstring(qr_svg("x"))
    rect = root.find(f"{SVG_NS}rect")
    assert rect is not None and rect.get("fill") == "white"


def test_pass_code_uses_alphanumeric_mode_and_a_small_symbol():
    key = SigningKey.from_private_bytes(1, generate_keypair()[0])
    code = issue_pass(key, new_pass_id(), datetime(2020, 1, 30, tzinfo=UTC)).code
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(code)
    qr.make(fit=True)
    assert [segment.mode for segment in qr.data_list] == [MODE_ALPHA_NUM]
    assert qr.version <= 6  # 41x41 modules
    image = Image.open(io.BytesIO(qr_png(code, box_size=8, border=4)))
    assert image.size == ((41 + 8) * 8,) * 2
    assert read_qr_texts(image) == [code]
    assert qr_svg_path(code).size == 41 + 8


def test_non_text_is_refused():
    with pytest.raises(TypeError):
        qr_png(b"bytes")
