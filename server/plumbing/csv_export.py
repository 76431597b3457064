"""CSV exports of personal data: cells a spreadsheet will not run as formulas, one writer, one response.

A cell starting with a formula character (the Luca export attack: "=HYPERLINK(...)", "+", "-", "@",
a tab or a carriage return) is exported with a leading apostrophe, so that it is shown as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> str:
    """A CSV cell that no spreadsheet will run as a formula (None is an empty cell)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_text(header: Iterable[object], rows: Iterable[Iterable[object]]) -> str:
    """The header and the rows as CSV text, every cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return buffer.getvalue()


def csv_response(body: str, filename: str, *, bom: bool = True) -> Response:
    """A CSV download (with a UTF-8 byte-order mark by default, so that Excel reads Chinese text)."""
    response = Response(("\ufeff" if bom else "") + body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
