"""Printable gate posters (场所码): compound and gate names, the gate's QR, one instruction line.

Three renderings of one A4 layout (measured in millimetres): SVG, PNG (Pillow) and a print-ready
HTML page. None uses an external asset. Text is escaped in SVG and HTML; control characters are
dropped and runs of whitespace become one space. The PNG needs a CJK font to draw Chinese: it takes
`font_path`, else the first of `CJK_FONT_CANDIDATES` that exists (Debian: fonts-wqy-microhei), else
Pillow's default font with a logged warning (names then show as boxes; the QR is unaffected).
"""

from __future__ import annotations

import functools
import html
import io
import logging
import math
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from server.services.gate.qr_images import qr_image, qr_svg_path

log = logging.getLogger(__name__)

DEFAULT_INSTRUCTION = "请使用微信扫码登记出入"

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian fonts-wqy-microhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian fonts-noto-cjk
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian fonts-wqy-zenhei
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch, Alpine
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "C:/Windows/Fonts/msyh.ttc",  # Windows, Microsoft YaHei
)
_FONT_FAMILY = "'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif"

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
_TEXT_WIDTH_MM = 170
_QR_SIDE_MM, _QR_TOP_MM = 150, 80
_QR_LEFT_MM = (PAGE_WIDTH_MM - _QR_SIDE_MM) / 2
_FRAME_INSET_MM = 8
_ACCENT = "#1a7f37"


@dataclass(frozen=True)
class _Line:
    text: str
    baseline_mm: float
    size_mm: float  # the largest size; shrunk to fit _TEXT_WIDTH_MM
    bold: bool = False


def poster_svg(compound_name: str, gate_name: str, url: str, instruction: str = DEFAULT_INSTRUCTION) -> str:
    """The poster as an A4 SVG document: text as <text>, the QR of `url` as one path."""
    qr = qr_svg_path(url)
    texts = "".join(_svg_text(line) for line in _lines(compound_name, gate_name, instruction))
    inset = _FRAME_INSET_MM
    frame_width, frame_height = PAGE_WIDTH_MM - 2 * inset, PAGE_HEIGHT_MM - 2 * inset
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{PAGE_WIDTH_MM}mm" '
        f'height="{PAGE_HEIGHT_MM}mm" viewBox="0 0 {PAGE_WIDTH_MM} {PAGE_HEIGHT_MM}">'
        f"<title>{html.escape(_title(compound_name, gate_name))}</title>"
        f'<rect width="{PAGE_WIDTH_MM}" height="{PAGE_HEIGHT_MM}" fill="#fff"/>'
        f'<rect x="{inset}" y="{inset}" width="{frame_width}" height="{frame_height}" rx="4" fill="none" '
        f'stroke="{_ACCENT}" stroke-width="1.2"/>'
        f'<g font-family="{_FONT_FAMILY}" text-anchor="middle" fill="#111">{texts}</g>'
        f'<svg id="qr" x="{_QR_LEFT_MM:g}" y="{_QR_TOP_MM}" width="{_QR_SIDE_MM}" height="{_QR_SIDE_MM}" '
        f'viewBox="0 0 {qr.size} {qr.size}" shape-rendering="crispEdges">'
        f'<rect width="{qr.size}" height="{qr.size}" fill="#fff"/><path d="{qr.d}" fill="#000"/></svg>'
        "</svg>"
    )


def poster_html(compound_name: str, gate_name: str, url: str, instruction: str = DEFAULT_INSTRUCTION) -> str:
    """The poster as a self-contained HTML page that prints on one A4 sheet (inline SVG QR)."""
    compound, gate, note = _lines(compound_name, gate_name, instruction)
    qr = qr_svg_path(url)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(_title(compound_name, gate_name))}</title>
<style>
@page {{ size: A4 portrait; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; background: #fff; }}
body {{ font-family: {_FONT_FAMILY}; color: #111; print-color-adjust: exact; -webkit-print-color-adjust: exact; }}
.poster {{ position: relative; width: {PAGE_WIDTH_MM}mm; height: {PAGE_HEIGHT_MM - 1}mm; overflow: hidden;
  display: flex; flex-direction: column; align-items: center; padding: 24mm 20mm 0; text-align: center; }}
.poster::before {{ content: ""; position: absolute; inset: {_FRAME_INSET_MM}mm; border: 1.2mm solid {_ACCENT};
  border-radius: 4mm; }}
h1, p {{ margin: 0; line-height: 1.2; overflow-wrap: anywhere; max-width: {_TEXT_WIDTH_MM}mm; }}
.compound {{ font-size: {_fitted_mm(compound):g}mm; font-weight: bold; }}
.gate {{ font-size: {_fitted_mm(gate):g}mm; margin-top: 5mm; }}
.qr {{ display: block; width: {_QR_SIDE_MM}mm; height: {_QR_SIDE_MM}mm; margin-top: 8mm; }}
.instruction {{ font-size: {_fitted_mm(note):g}mm; margin-top: 10mm; }}
@media screen {{ body {{ background: #888; }} .poster {{ margin: 10mm auto; background: #fff; }} }}
</style>
</head>
<body>
<main class="poster">
<h1 class="compound">{html.escape(compound.text)}</h1>
<p class="gate">{html.escape(gate.text)}</p>
<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {qr.size} {qr.size}" shape-rendering="crispEdges" role="img" aria-label="二维码">
<rect width="{qr.size}" height="{qr.size}" fill="#fff"/><path d="{qr.d}" fill="#000"/>
</svg>
<p class="instruction">{html.escape(note.text)}</p>
</main>
</body>
</html>
"""


def poster_png(
    compound_name: str,
    gate_name: str,
    url: str,
    instruction: str = DEFAULT_INSTRUCTION,
    *,
    dpi: int = 150,
    font_path: str | None = None,
    code_image: bytes | None = None,
) -> bytes:
    """The poster as an A4 PNG at `dpi`; Chinese needs a CJK font (see the module docstring).

    With `code_image` (a mini-program code from WeChat) that image takes the QR's place.
    """
    page = poster_page(compound_name, gate_name, url, instruction, dpi=dpi, font_path=font_path,
                       code_image=code_image)
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", optimize=True, dpi=(dpi, dpi))
    return buffer.getvalue()


def poster_page(
    compound_name: str,
    gate_name: str,
    url: str,
    instruction: str = DEFAULT_INSTRUCTION,
    *,
    dpi: int = 150,
    font_path: str | None = None,
    code_image: bytes | None = None,
) -> Image.Image:
    """The poster drawn as an A4 Pillow image at `dpi` (the PNG's and the PDF's page)."""
    px = dpi / 25.4
    page = Image.new("RGB", (round(PAGE_WIDTH_MM * px), round(PAGE_HEIGHT_MM * px)), "white")
    draw = ImageDraw.Draw(page)
    inset = round(_FRAME_INSET_MM * px)
    draw.rounded_rectangle(
        [inset, inset, page.width - inset, page.height - inset],
        radius=round(4 * px),
        outline=_ACCENT,
        width=max(1, round(1.2 * px)),
    )
    load = _font_loader(font_path)
    for line in _lines(compound_name, gate_name, instruction):
        draw_centered(draw, line.text, page.width / 2, line.baseline_mm * px, load, round(line.size_mm * px),
                      _TEXT_WIDTH_MM * px, bold=line.bold)
    if code_image is not None:
        side = round(_QR_SIDE_MM * px)
        with Image.open(io.BytesIO(code_image)) as picture:
            code = picture.convert("RGB").resize((side, side), Image.LANCZOS)
        page.paste(code, ((page.width - side) // 2, round(_QR_TOP_MM * px)))
    else:
        modules = qr_svg_path(url).size
        qr = qr_image(url, box_size=max(1, round(_QR_SIDE_MM * px) // modules), border=4)
        page.paste(qr.convert("RGB"), ((page.width - qr.width) // 2, round(_QR_TOP_MM * px)))
    return page


def draw_centered(draw: ImageDraw.ImageDraw, text: str, x: float, baseline: float, load, size: int,
                  max_width: float, *, bold: bool = False) -> None:
    """Draw one line centred on `x` at `baseline`, shrunk to fit `max_width` pixels."""
    font = load(size)
    width = font.getlength(text)
    if width > max_width:
        font = load(max(8, int(font.size * max_width / width)))
    draw.text((x, baseline), text, font=font, fill="#111", anchor="ms", stroke_width=1 if bold else 0,
              stroke_fill="#111")


def font_loader(font_path: str | None = None):
    """size -> a font that draws Chinese when a CJK font is installed (see the module docstring)."""
    return _font_loader(font_path)


def find_cjk_font(candidates: Iterable[str] | None = None) -> str | None:
    """The first existing font file among `candidates` (default CJK_FONT_CANDIDATES), or None."""
    paths = CJK_FONT_CANDIDATES if candidates is None else candidates
    return next((path for path in paths if os.path.isfile(path)), None)


def _font_loader(font_path: str | None):
    path = font_path or find_cjk_font()
    if path is not None:
        return lambda size: _truetype(path, size)
    log.warning("no CJK font found (install fonts-wqy-microhei); poster text will not show Chinese")
    return lambda size: ImageFont.load_default(size)


@functools.lru_cache(maxsize=64)
def _truetype(path: str, size: int) -> ImageFont.FreeTypeFont:
    # Reading a CJK font file costs tens of milliseconds: a print of 276 slips draws thousands of lines.
    return ImageFont.truetype(path, size)


def _lines(compound_name: str, gate_name: str, instruction: str) -> tuple[_Line, _Line, _Line]:
    return (
        _Line(_clean(compound_name), baseline_mm=45, size_mm=16, bold=True),
        _Line(_clean(gate_name), baseline_mm=66, size_mm=12),
        _Line(_clean(instruction), baseline_mm=_QR_TOP_MM + _QR_SIDE_MM + 22, size_mm=9),
    )


def _svg_text(line: _Line) -> str:
    weight = ' font-weight="bold"' if line.bold else ""
    return (
        f'<text x="{PAGE_WIDTH_MM / 2:g}" y="{line.baseline_mm:g}" font-size="{_fitted_mm(line):g}"{weight}>'
        f"{html.escape(line.text)}</text>"
    )


def _fitted_mm(line: _Line) -> float:
    """The font size that keeps `line` within the text width, estimating CJK glyphs at 1 em."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in line.text)
    return math.floor(min(line.size_mm, _TEXT_WIDTH_MM / ems) * 100) / 100 if ems else line.size_mm


def _title(compound_name: str, gate_name: str) -> str:
    return f"{_clean(compound_name)} {_clean(gate_name)} 场所码"


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError("poster text must be a str")
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff" else ch for ch in text
    )
    return " ".join(text.split())
