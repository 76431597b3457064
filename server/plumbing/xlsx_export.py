"""Excel (.xlsx) exports: one sheet per table, text cells never run as formulas, one response.

Every string is written as a text cell (openpyxl would store "=..." as a formula): a cell starting
with = + - @ is shown as written, never evaluated (the Luca export attack). Numbers stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's limit on a sheet title, and characters it refuses in one.
_TITLE_LENGTH = 31
_TITLE_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _cell_value(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    # Control characters cannot be stored in a sheet at all.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def xlsx_bytes(sheets: Iterable[tuple[str, list[object], Iterable[Iterable[object]]]]) -> bytes:
    """A workbook of (title, header, rows) sheets; every text cell stored as text, never a formula."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(str(title).translate(_TITLE_FORBIDDEN)[:_TITLE_LENGTH] or "Sheet")
        for row in [header, *rows]:
            sheet.append([_cell_value(v) for v in row])
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # openpyxl typed "=..." as a formula ("f"): store it as text
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(body: bytes, filename: str) -> Response:
    """An .xlsx download."""
    response = Response(body, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
