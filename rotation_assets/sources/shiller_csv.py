"""Shiller's monthly data from a CSV copy of his sheet: the offline source.

Columns ``month`` (YYYY-MM) and ``SHILLER_FIELDS`` (``sp500_price,dividend_12m,earnings_12m,
cpi,gs10,trailing_pe,cape,tr_cape``), one line per month; an empty field is a missing value
(CAPE before 1881, earnings not yet published). Other columns are ignored. The default file is
``../shared/data/valuation/shiller_sp500_monthly.csv`` beside the project (its provenance:
``../shared/data/PROVENANCE.md``); ``ROTATION_SHILLER_FILE`` names another.

Parsing is strict and reads no more than the standard library: a missing column, a month that
is not YYYY-MM (ASCII digits, years 1678..2261), a field that is not a decimal number, a line
with another number of fields than the header, a carriage return inside a line, a quote never
closed, a repeated or skipped month each refuse the whole file, naming the file, the 1-based
line (the header is line 1) and the column. Rows may come in any order (they are sorted by
month before the checks); a byte-order mark and CRLF line ends are fine.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd

from rotation_assets.paths import PROJECT_ROOT
from rotation_assets.sources.shiller_monthly import (
    SHILLER_FIELDS,
    MalformedValuationFileError,
    ShillerContent,
    ValuationSourceError,
    month_start,
    shiller_frame,
)

SHILLER_FILE_ENV_VAR = "ROTATION_SHILLER_FILE"
DEFAULT_SHILLER_FILE = (
    PROJECT_ROOT.parent / "shared" / "data" / "valuation" / "shiller_sp500_monthly.csv"
)
FILE_COLUMNS = ("month", *SHILLER_FIELDS)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
# A number as the sheet writes one: optional sign, digits with an optional point, an exponent.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
# Months a row may have: what pandas' nanosecond timestamps hold, in whole years.
FIRST_YEAR, LAST_YEAR = 1678, 2261


def read_shiller_file(path: str | Path) -> ShillerContent:
    """The bytes of the file at ``path``; a typed error naming it when it is not there."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValuationSourceError(
            f"Shiller file {file} does not exist (set {SHILLER_FILE_ENV_VAR} to the CSV copy "
            "of Shiller's monthly data, e.g. ../shared/data/valuation/shiller_sp500_monthly.csv)"
        )
    return ShillerContent(file.read_bytes(), str(file))


def parse_shiller_csv(content: ShillerContent) -> pd.DataFrame:
    """The rows of a CSV copy as ``raw.shiller_monthly`` columns (without ``loaded_at``)."""
    path = content.origin
    try:
        text = content.data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content.data[: exc.start].count(b"\n") + 1
        raise MalformedValuationFileError(f"{path} line {line}: not UTF-8 text") from exc
    lines = _records(path, text.rstrip())
    if not text.strip():
        raise MalformedValuationFileError(
            f"{path} line 1: empty file, expected header {','.join(FILE_COLUMNS)}"
        )
    header = [name.strip() for name in lines[0][1]]
    missing = [c for c in FILE_COLUMNS if c not in header]
    repeated = sorted({c for c in header if c in FILE_COLUMNS and header.count(c) > 1})
    if missing or repeated:
        problem = (
            f"missing column(s) {', '.join(missing)}"
            if missing
            else f"repeated column(s) {', '.join(repeated)}"
        )
        raise MalformedValuationFileError(
            f"{path} line 1: header {','.join(header)!r} has {problem} "
            f"(expected {','.join(FILE_COLUMNS)})"
        )
    position = {name: header.index(name) for name in FILE_COLUMNS}
    rows: list[tuple[dt.date, int, list[str]]] = []
    for number, fields in lines[1:]:
        if len(fields) != len(header):
            raise MalformedValuationFileError(
                f"{path} line {number}: {len(fields)} fields, expected {len(header)}"
            )
        rows.append((_month(path, number, fields[position["month"]].strip()), number, fields))
    # In any order: by month (stably), so a repeated month names its later line.
    rows.sort(key=lambda row: row[0])
    months: list[dt.date] = []
    values: dict[str, list[float]] = {field: [] for field in SHILLER_FIELDS}
    where: list[str] = []
    for month, number, fields in rows:
        months.append(month)
        for field in SHILLER_FIELDS:
            values[field].append(_number(path, number, field, fields[position[field]].strip()))
        where.append(f"{path} line {number}")
    return shiller_frame(months, values, where, path, Path(path).name)


def _records(path: str, text: str) -> list[tuple[int, list[str]]]:
    """(line, fields) of each non-blank line of ``text``: only "\n" and "\r\n" end a line (a
    lone "\r", or a form feed that ``str.splitlines`` would break on, stays in its line)."""
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        line = text[: text.index("\r")].count("\n") + 1
        raise MalformedValuationFileError(f"{path} line {line}: a carriage return inside a line")
    physical = text.split("\n")
    reader = csv.reader(physical, strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for fields in reader:
            if any(f.strip() for f in fields) or len(fields) > 1 or start == 1:
                records.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise MalformedValuationFileError(f"{path} line {start}: not valid CSV ({exc})") from exc
    return records


def _month(path: str, line: int, text: str) -> dt.date:
    match = _MONTH.fullmatch(text)
    if (
        match is None
        or not 1 <= int(match.group(2)) <= 12
        or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR
    ):
        raise MalformedValuationFileError(
            f"{path} line {line} column month: {text!r} is not a YYYY-MM month "
            f"({FIRST_YEAR}-01..{LAST_YEAR}-12)"
        )
    return month_start(int(match.group(1)), int(match.group(2)))


def _number(path: str, line: int, column: str, text: str) -> float:
    if text == "":
        return math.nan
    # float() alone would also take '1_000', 'nan', 'infinity' and non-ASCII digits.
    value = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(value):
        raise MalformedValuationFileError(
            f"{path} line {line} column {column}: {text!r} is not a number"
        )
    return value
