"""Exports of personal data that staff can open: CSV for Excel on Windows, and .xlsx, from one sheet.

A `Sheet` holds Chinese column titles and raw values; `csv_response` / `xlsx_response` render it:
- CSV: UTF-8 with a byte-order mark (Excel on Windows reads Chinese text then), times in the
  compound's time zone ("2020-02-03 08:30:00"), and a cell starting with a formula character (the
  Luca export attack: "=HYPERLINK(...)", "+", "-", "@", a tab or a carriage return) written with a
  leading apostrophe, so that it is shown as text.
- XLSX (openpyxl): times as real local date-times, numbers as numbers, and every text cell stored
  as text (a string cell with Excel's quote prefix): a value beginning with "=" is never a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Response

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# Characters an .xlsx file cannot hold at all (XML 1.0): dropped.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BOOLEANS = {True: "是", False: "否"}


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


@dataclass(frozen=True)
class Sheet:
    """One export: Chinese column titles, rows of raw values (aware datetimes, numbers, text, None)
    in the same order, and the time zone its times are shown in (the compound's)."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[object]] = field(default_factory=list)
    timezone: str = "Asia/Shanghai"


def local_time(value: datetime, tz_name: str) -> datetime:
    """An aware datetime as the naive local time of the zone (what a spreadsheet shows)."""
    return value.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


def _csv_value(value: object, tz_name: str) -> object:
    if isinstance(value, datetime):
        return local_time(value, tz_name).strftime(LOCAL_TIME_FORMAT) if value.tzinfo else value.isoformat(" ")
    if isinstance(value, bool):
        return _BOOLEANS[value]
    return value


def sheet_csv(sheet: Sheet) -> str:
    """The sheet as CSV text with a UTF-8 byte-order mark, local times and formula cells escaped."""
    rows = ([_csv_value(value, sheet.timezone) for value in row] for row in sheet.rows)
    return "\ufeff" + csv_text(sheet.columns, rows)


def sheet_xlsx(sheet: Sheet) -> bytes:
    """The sheet as an .xlsx workbook: a bold header row, local date-times, every text cell as text."""
    return workbook_xlsx([sheet])


def workbook_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """Sheets as one .xlsx workbook, a worksheet each (see `sheet_xlsx`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.title))
        for col, title in enumerate(sheet.columns, start=1):
            cell = _text_cell(worksheet, 1, col, str(title))
            cell.font = Font(bold=True)
            worksheet.column_dimensions[cell.column_letter].width = max(10, min(40, 2 * len(str(title)) + 4))
        for row_number, row in enumerate(sheet.rows, start=2):
            for col, value in enumerate(row, start=1):
                _xlsx_cell(worksheet, row_number, col, value, sheet.timezone)
        worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(worksheet, row: int, col: int, value: object, tz_name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        _text_cell(worksheet, row, col, _BOOLEANS[value])
    elif isinstance(value, datetime):
        cell = worksheet.cell(row=row, column=col, value=local_time(value, tz_name) if value.tzinfo else value)
        cell.number_format = _XLSX_TIME_FORMAT
    elif isinstance(value, date):
        worksheet.cell(row=row, column=col, value=value).number_format = "yyyy-mm-dd"
    elif isinstance(value, int | float | Decimal):
        worksheet.cell(row=row, column=col, value=value)
    else:
        _text_cell(worksheet, row, col, str(value))


def _text_cell(worksheet, row: int, col: int, text: str):
    """A cell that holds `text` as text, whatever it begins with (never a formula)."""
    cell = worksheet.cell(row=row, column=col)
    cell.value = _XLSX_ILLEGAL.sub("", text)
    cell.data_type = "s"  # openpyxl would take "=..." for a formula
    if cell.value.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet1"


def csv_response(body: str, filename: str, *, bom: bool = True) -> Response:
    """A CSV download (with a UTF-8 byte-order mark by default, so that Excel reads Chinese text)."""
    if bom and not body.startswith("\ufeff"):
        body = "\ufeff" + body
    response = Response(body, mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def xlsx_response(body: bytes, filename: str) -> Response:
    """An .xlsx download."""
    response = Response(body, mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def sheet_response(sheet: Sheet, stem: str, fmt: str) -> Response:
    """The sheet as a download named `stem`.csv or `stem`.xlsx (fmt "csv" or "xlsx")."""
    return sheets_response([sheet], stem, fmt)


def sheets_response(sheets: Sequence[Sheet], stem: str, fmt: str) -> Response:
    """Sheets as one .xlsx workbook, or as CSV the first of them (the main table)."""
    if fmt == "xlsx":
        return xlsx_response(workbook_xlsx(sheets), f"{stem}.xlsx")
    return csv_response(sheet_csv(sheets[0]), f"{stem}.csv")
