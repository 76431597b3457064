"""Bulk printing: every gate poster of a compound, or a compound's household invite slips, in one PDF.

Pages are drawn with Pillow (`poster_page`, `slip_pages`) and assembled by `pdf_of` into one
multi-page A4 PDF, each page a lossless black-and-white image (CCITT G4: crisp QR modules, small
files). Slips sit 2 x 4 to an A4 page with dashed cutting lines; each carries the compound, the
household, its invite code in large letters and the code's QR.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from server.services.gate.gate_posters import (
    PAGE_HEIGHT_MM,
    PAGE_WIDTH_MM,
    draw_centered,
    font_loader,
    poster_page,
)
from server.services.gate.qr_images import qr_image

SLIP_COLUMNS, SLIP_ROWS = 2, 4
SLIP_DPI = 200
SLIP_QR_MASK = 2
SLIP_INSTRUCTION = "微信打开“物业”小程序 → 绑定住户 → 扫码或输入邀请码"


@dataclass(frozen=True)
class Slip:
    """One household's invite slip."""

    compound_name: str
    household_label: str
    code: str
    url: str
    expires_text: str = ""  # "有效期至 2020-02-17"


def pdf_of(pages: Sequence[Image.Image], *, dpi: int, title: str = "") -> bytes:
    """The pages as one multi-page PDF (each page black and white, at `dpi`)."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    bilevel = [page.convert("L").point(lambda v: 255 if v >= 160 else 0).convert("1", dither=Image.Dither.NONE)
               for page in pages]
    buffer = io.BytesIO()
    bilevel[0].save(buffer, format="PDF", save_all=True, append_images=bilevel[1:], resolution=float(dpi),
                    title=title, producer="Wuye")
    return buffer.getvalue()


def poster_pages(posters: Sequence[tuple[str, str, str, str]], *, dpi: int = 150,
                 font_path: str | None = None) -> list[Image.Image]:
    """One A4 poster page per (compound name, gate line, URL, instruction)."""
    return [poster_page(*poster, dpi=dpi, font_path=font_path) for poster in posters]


def slip_pages(slips: Sequence[Slip], *, dpi: int = SLIP_DPI, font_path: str | None = None) -> list[Image.Image]:
    """The slips laid out 2 x 4 on A4 pages (Pillow images at `dpi`)."""
    px = dpi / 25.4
    width, height = round(PAGE_WIDTH_MM * px), round(PAGE_HEIGHT_MM * px)
    slip_w, slip_h = width / SLIP_COLUMNS, height / SLIP_ROWS
    load = font_loader(font_path)
    per_page = SLIP_COLUMNS * SLIP_ROWS
    pages = []
    for start in range(0, len(slips), per_page):
        page = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(page)
        _cutting_lines(draw, width, height, slip_w, slip_h, px)
        for index, slip in enumerate(slips[start:start + per_page]):
            left = (index % SLIP_COLUMNS) * slip_w
            top = (index // SLIP_COLUMNS) * slip_h
            _draw_slip(page, draw, slip, left, top, slip_w, px, load)
        pages.append(page)
    return pages


def _cutting_lines(draw: ImageDraw.ImageDraw, width: int, height: int, slip_w: float, slip_h: float,
                   px: float) -> None:
    dash, gap = round(3 * px), round(2 * px)
    for col in range(1, SLIP_COLUMNS):
        x = round(col * slip_w)
        for y in range(0, height, dash + gap):
            draw.line([(x, y), (x, min(height, y + dash))], fill="#999", width=1)
    for row in range(1, SLIP_ROWS):
        y = round(row * slip_h)
        for x in range(0, width, dash + gap):
            draw.line([(x, y), (min(width, x + dash), y)], fill="#999", width=1)


def _draw_slip(page: Image.Image, draw: ImageDraw.ImageDraw, slip: Slip, left: float, top: float,
               slip_w: float, px: float, load) -> None:
    """One slip: QR on the left (36 mm), the words on the right."""
    margin = 6 * px
    qr_side = round(36 * px)
    # Drawn once at one pixel a module, then scaled by a whole number; a fixed mask keeps 276 slips quick.
    qr = qr_image(slip.url, box_size=1, border=4, mask_pattern=SLIP_QR_MASK)
    scale = max(2, qr_side // qr.width)
    qr = qr.resize((qr.width * scale, qr.height * scale), Image.NEAREST).convert("RGB")
    page.paste(qr, (round(left + margin), round(top + 14 * px)))
    text_left = left + margin + qr.width + 3 * px
    text_width = left + slip_w - margin - text_left
    centre = text_left + text_width / 2
    draw_centered(draw, slip.compound_name, left + slip_w / 2, top + 10 * px, load, round(5 * px),
                  slip_w - 2 * margin, bold=True)
    draw_centered(draw, slip.household_label, centre, top + 24 * px, load, round(6 * px), text_width, bold=True)
    draw_centered(draw, "住户邀请码", centre, top + 33 * px, load, round(3.5 * px), text_width)
    draw_centered(draw, " ".join(slip.code), centre, top + 44 * px, load, round(7.5 * px), text_width, bold=True)
    if slip.expires_text:
        draw_centered(draw, slip.expires_text, centre, top + 52 * px, load, round(3.2 * px), text_width)
    draw_centered(draw, SLIP_INSTRUCTION, left + slip_w / 2, top + 62 * px, load, round(3.2 * px),
                  slip_w - 2 * margin)
