import io
import logging
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from PIL import Image

from server.services.gate import gate_posters
from server.services.gate.gate_posters import (
    DEFAULT_INSTRUCTION,
    find_cjk_font,
    poster_html,
    poster_png,
    poster_svg,
)
from tests.qr_reading import read_qr_texts
from tests.services.test_qr_images import dark_modules, rasterize

SVG_NS = "{http://www.w3.org/2000/svg}"
COMPOUND = "黄平路8号院"
GATE = "北门（主入口）"
URL = "https://wuye.example.cn/g/7KQ2M9XH"
HOSTILE = '<script>alert("x")</script> & 张\'s 院'


def decode_svg_qr(svg: ET.Element) -> list[str]:
    size = int(svg.get("viewBox").split()[2])
    return read_qr_texts(rasterize(dark_modules(svg.find(f"{SVG_NS}path").get("d")), size))


class TextOf(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.texts, self.attrs = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        if data.strip():
            self.texts.append(data.strip())


def parse_html(page: str) -> TextOf:
    parser = TextOf()
    parser.feed(page)
    parser.close()
    return parser


def test_png_poster_decodes_to_exactly_the_url():
    image = Image.open(io.BytesIO(poster_png(COMPOUND, GATE, URL)))
    assert image.format == "PNG"
    assert image.size == (1240, 1754)  # A4 at 150 dpi
    assert read_qr_texts(image) == [URL]


def test_png_poster_at_another_resolution_still_decodes():
    url = "https://wuye.example.cn/g/AbC123?x=1&y=2"
    image = Image.open(io.BytesIO(poster_png(COMPOUND, GATE, url, dpi=100)))
    assert image.size == (827, 1169)
    assert read_qr_texts(image) == [url]


def test_png_poster_without_a_cjk_font_still_works_and_warns(monkeypatch, caplog):
    monkeypatch.setattr(gate_posters, "CJK_FONT_CANDIDATES", ("/nonexistent/font.ttc",))
    assert find_cjk_font() is None
    with caplog.at_level(logging.WARNING, logger=gate_posters.__name__):
        png = poster_png(COMPOUND, GATE, URL)
    assert read_qr_texts(Image.open(io.BytesIO(png))) == [URL]
    assert any("CJK font" in record.getMessage() for record in caplog.records)


def test_png_poster_draws_with_a_cjk_font_when_one_is_installed(caplog):
    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    with caplog.at_level(logging.WARNING, logger=gate_posters.__name__):
        poster_png(COMPOUND, GATE, URL)
    assert not caplog.records


def test_find_cjk_font_takes_the_first_existing(tmp_path):
    font = tmp_path / "font.ttc"
    font.write_bytes(b"")
    assert find_cjk_font([str(tmp_path / "missing.ttc"), str(font)]) == str(font)


def test_svg_poster_is_a4_with_names_instruction_and_a_decodable_qr():
    root = ET.fromstring(poster_svg(COMPOUND, GATE, URL))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("210mm", "297mm", "0 0 210 297")
    texts = [text.text for text in root.iter(f"{SVG_NS}text")]
    assert texts == [COMPOUND, GATE, DEFAULT_INSTRUCTION]
    qr = root.find(f"{SVG_NS}svg[@id='qr']")
    assert decode_svg_qr(qr) == [URL]


def test_svg_poster_escapes_names():
    svg = poster_svg(HOSTILE, HOSTILE + " 门", URL, instruction="扫码 & <b>登记</b>")
    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    root = ET.fromstring(svg)
    assert [text.text for text in root.iter(f"{SVG_NS}text")] == [
        HOSTILE,
        HOSTILE + " 门",
        "扫码 & <b>登记</b>",
    ]
    assert root.find(f"{SVG_NS}title").text == f"{HOSTILE} {HOSTILE} 门 场所码"


def test_svg_poster_drops_control_characters_and_collapses_whitespace():
    root = ET.fromstring(poster_svg("黄平路\x00 8号院\n\n\x1b", "北\t门\ufffe", URL))
    assert [text.text for text in root.iter(f"{SVG_NS}text")][:2] == ["黄平路 8号院", "北 门"]


def test_long_names_get_a_smaller_font():
    root = ET.fromstring(poster_svg("回龙观街道" * 6, GATE, URL))
    compound, gate, _ = root.iter(f"{SVG_NS}text")
    assert float(compound.get("font-size")) * 30 <= 170.01
    assert float(gate.get("font-size")) == 12
    # The PNG measures the text and shrinks it the same way; the QR is untouched.
    assert read_qr_texts(Image.open(io.BytesIO(poster_png("回龙观街道" * 6, GATE, URL)))) == [URL]


def test_html_poster_is_print_ready_and_self_contained():
    page = poster_html(COMPOUND, GATE, URL)
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r"@page\s*{\s*size:\s*A4", page)
    assert '<meta charset="utf-8">' in page
    parsed = parse_html(page)
    assert {"script", "img", "link", "iframe"}.isdisjoint(parsed.tags)
    assert not [name for name, value in parsed.attrs if name in ("src", "href")]
    assert "url(" not in page and "@import" not in page
    assert [COMPOUND, GATE, DEFAULT_INSTRUCTION] == [
        t for t in parsed.texts if t in (COMPOUND, GATE, DEFAULT_INSTRUCTION)
    ]


def test_html_poster_qr_decodes_to_the_url():
    page = poster_html(COMPOUND, GATE, "https://wuye.example.cn/g/AbC123?x=1&y=2")
    svg = ET.fromstring(re.search(r"<svg .*?</svg>", page, re.S).group(0))
    assert decode_svg_qr(svg) == ["https://wuye.example.cn/g/AbC123?x=1&y=2"]


def test_html_poster_escapes_names():
    page = poster_html(HOSTILE, "侧门 & <i>2</i>", URL, instruction="请<扫码>")
    assert "<script" not in page and "<i>" not in page and "<扫码>" not in page
    parsed = parse_html(page)
    assert "script" not in parsed.tags and "i" not in parsed.tags
    assert HOSTILE in parsed.texts and "侧门 & <i>2</i>" in parsed.texts and "请<扫码>" in parsed.texts
    assert f"{HOSTILE} 侧门 & <i>2</i> 场所码" in parsed.texts  # the <title>


@pytest.mark.parametrize("render", [poster_svg, poster_html, poster_png])
def test_non_text_names_are_refused(render):
    with pytest.raises(TypeError):
        render(None, GATE, URL)
