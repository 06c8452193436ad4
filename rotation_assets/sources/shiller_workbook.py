"""Shiller's monthly data from his published workbook ``ie_data.xls``: the online source.

The layout, as in the copy Shiller saved on 2026-05-06 (recorded in the public repository
SecondOrderEdge/Macro-Dashboard at commit 3a1c36a, ``data/ie_data.xls``; the shared CSV was
read from it): an Excel 97 workbook with sheets ``Disclaimer`` and ``Data``. On ``Data``:

- rows 1-7: a title and column headings spread over several rows;
- row 8: the short names, in column A ``Date`` and then ``P``, ``D``, ``E``, ``CPI``,
  ``Fraction``, ``Rate GS10``, ``Price``, ``Dividend``, ``Price``, ``Earnings``, ``Earnings``,
  ``CAPE``, (empty), ``TR CAPE``, ... : the header row is found as the row whose column A is
  ``Date``, and the columns by these names (``Date, P, D, E, CPI, Rate GS10, CAPE, TR CAPE``);
- from row 9 one row per month: ``Date`` is a number YYYY.MM (``1871.01`` = January 1871;
  October is ``1871.1``), the rest numbers, the text ``NA`` where there is none (CAPE before
  1881) and empty cells where a figure is not published yet (the newest months' D and E);
- after the last month, footnotes with an empty ``Date`` ("May price is May 5th close").

``trailing_pe`` is not in the sheet: it is computed as P / E (null without a positive E), as in
the CSV copy. Reading ``.xls`` needs ``xlrd`` (``pip install 'rotation_assets[shiller]'``),
imported only when a workbook is parsed. A missing column, an unparsable month or number, a
repeated or skipped month refuse the workbook, naming it, the row and the column.

Shiller's own page (``http://www.econ.yale.edu/~shiller/data/ie_data.xls``) is the default
``ROTATION_SHILLER_URL``; the updated copies are linked from shillerdata.com, whose download
address changes with each update: set ``ROTATION_SHILLER_URL`` to it, or to a downloaded file.
"""

from __future__ import annotations

import datetime as dt
import math
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd

from rotation_assets.sources.shiller_monthly import (
    SHILLER_FIELDS,
    MalformedValuationFileError,
    ShillerContent,
    ValuationSourceError,
    ValuationSourceUnavailableError,
    month_start,
    shiller_frame,
)

SHILLER_URL_ENV_VAR = "ROTATION_SHILLER_URL"
DEFAULT_SHILLER_URL = "http://www.econ.yale.edu/~shiller/data/ie_data.xls"
SHEET = "Data"
# The sheet's short names (header row) -> our fields.
SHEET_COLUMNS = {
    "Date": "month",
    "P": "sp500_price",
    "D": "dividend_12m",
    "E": "earnings_12m",
    "CPI": "cpi",
    "Rate GS10": "gs10",
    "CAPE": "cape",
    "TR CAPE": "tr_cape",
}
_MISSING_TEXT = {"", "NA"}
_HEADER_SEARCH_ROWS = 30


def download_workbook(location: str, timeout_seconds: float = 60.0) -> ShillerContent:
    """The workbook's bytes from a URL (http, https, file) or a local path."""
    scheme = urllib.parse.urlparse(location).scheme
    if scheme in ("", "file") or len(scheme) == 1:  # a path (or a Windows drive letter)
        path = Path(urllib.parse.urlparse(location).path if scheme == "file" else location)
        if not path.is_file():
            raise ValuationSourceError(f"Shiller workbook {path} does not exist")
        return ShillerContent(path.read_bytes(), str(path))
    try:
        with urllib.request.urlopen(location, timeout=timeout_seconds) as response:
            return ShillerContent(response.read(), location)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ValuationSourceUnavailableError(
            f"Shiller workbook {location} could not be downloaded: {exc}"
        ) from exc


def parse_shiller_workbook(content: ShillerContent) -> pd.DataFrame:
    """The rows of the workbook's ``Data`` sheet as ``raw.shiller_monthly`` columns (without
    ``loaded_at``); see the module docstring for the layout it expects."""
    try:
        import xlrd
    except ImportError as exc:  # the offline CSV source does not need it
        raise ValuationSourceError(
            "reading Shiller's .xls workbook needs xlrd: pip install 'rotation_assets[shiller]'"
        ) from exc
    origin = content.origin
    try:
        book = xlrd.open_workbook(file_contents=content.data, on_demand=True)
    except xlrd.XLRDError as exc:
        raise MalformedValuationFileError(f"{origin}: not an Excel .xls workbook ({exc})") from exc
    if SHEET not in book.sheet_names():
        raise MalformedValuationFileError(
            f"{origin}: no sheet {SHEET!r} (sheets: {', '.join(book.sheet_names())})"
        )
    sheet = book.sheet_by_name(SHEET)
    header_row = _header_row(sheet, origin)
    columns = _columns(sheet, header_row, origin)

    months: list[dt.date] = []
    values: dict[str, list[float]] = {field: [] for field in SHILLER_FIELDS}
    where: list[str] = []
    notes_from: int | None = None  # first row without a Date after the months began
    for row in range(header_row + 1, sheet.nrows):
        date_cell = sheet.cell(row, columns["month"])
        if _is_blank(date_cell):
            if months and notes_from is None:
                notes_from = row
            continue
        if notes_from is not None:
            raise MalformedValuationFileError(
                f"{origin} sheet {SHEET} row {notes_from + 1}: no Date between the months of "
                f"rows {notes_from} and {row + 1}"
            )
        months.append(_month(date_cell, _place(origin, row, columns["month"], "Date")))
        for name, field in SHEET_COLUMNS.items():
            if field != "month":
                place = _place(origin, row, columns[field], name)
                values[field].append(_number(sheet.cell(row, columns[field]), place))
        where.append(f"{origin} sheet {SHEET} row {row + 1}")
    price, earnings = values["sp500_price"], values["earnings_12m"]
    values["trailing_pe"] = [
        p / e if math.isfinite(e) and e > 0 else math.nan
        for p, e in zip(price, earnings, strict=True)
    ]
    # A URL names itself; a local copy is named by its file name, whatever folder it is in.
    read_from = origin if "://" in origin else Path(origin).name
    return shiller_frame(months, values, where, origin, read_from)


def _header_row(sheet, origin: str) -> int:
    for row in range(min(sheet.nrows, _HEADER_SEARCH_ROWS)):
        if sheet.ncols and str(sheet.cell_value(row, 0)).strip() == "Date":
            return row
    raise MalformedValuationFileError(
        f"{origin} sheet {SHEET}: no header row with 'Date' in column A within the first "
        f"{_HEADER_SEARCH_ROWS} rows"
    )


def _columns(sheet, header_row: int, origin: str) -> dict[str, int]:
    names = [str(v).strip() for v in sheet.row_values(header_row)]
    missing = [name for name in SHEET_COLUMNS if name not in names]
    if missing:
        raise MalformedValuationFileError(
            f"{origin} sheet {SHEET} row {header_row + 1}: missing column(s) "
            f"{', '.join(missing)} (expected {', '.join(SHEET_COLUMNS)})"
        )
    return {field: names.index(name) for name, field in SHEET_COLUMNS.items()}


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _place(origin: str, row: int, column: int, name: str) -> str:
    """'<workbook> sheet Data row 9 column B (P)': 1-based row, Excel column letter."""
    return f"{origin} sheet {SHEET} row {row + 1} column {_column_letter(column)} ({name})"


def _is_blank(cell) -> bool:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return True
    return cell.ctype == xlrd.XL_CELL_TEXT and not cell.value.strip()


def _month(cell, place: str) -> dt.date:
    import xlrd

    value = cell.value
    if cell.ctype == xlrd.XL_CELL_TEXT:
        try:
            value = float(value.strip())
        except ValueError:
            value = math.nan
    elif cell.ctype != xlrd.XL_CELL_NUMBER:
        value = math.nan
    if math.isfinite(value):
        year = math.floor(value + 1e-9)
        month = round((value - year) * 100)
        if 1 <= month <= 12 and abs(value - (year + month / 100)) < 1e-6:
            return month_start(year, month)
    raise MalformedValuationFileError(
        f"{place}: {cell.value!r} is not a month written YYYY.MM (1871.01 = January 1871)"
    )


def _number(cell, place: str) -> float:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return math.nan
    if cell.ctype == xlrd.XL_CELL_NUMBER and math.isfinite(cell.value):
        return float(cell.value)
    if cell.ctype == xlrd.XL_CELL_TEXT and cell.value.strip() in _MISSING_TEXT:
        return math.nan
    raise MalformedValuationFileError(f"{place}: {cell.value!r} is not a number")
