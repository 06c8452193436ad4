"""Shiller's monthly data from a CSV copy of his sheet: the offline source.

Columns ``month`` (YYYY-MM) and ``SHILLER_FIELDS`` (``sp500_price,dividend_12m,earnings_12m,
cpi,gs10,trailing_pe,cape,tr_cape``), one line per month; an empty field is a missing value
(CAPE before 1881, earnings not yet published). Other columns are ignored. The default file is
``../shared/data/valuation/shiller_sp500_monthly.csv`` beside the project (its provenance:
``../shared/data/PROVENANCE.md``); ``ROTATION_SHILLER_FILE`` names another.

Parsing is strict and reads no more than the standard library: a missing column, a month that
is not YYYY-MM, a field that is not a number, a repeated or skipped month each refuse the whole
file, naming the file, the 1-based line (the header is line 1) and the column.
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
_MONTH = re.compile(r"(\d{4})-(\d{2})")


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
    lines = list(csv.reader(text.rstrip().splitlines()))
    if not lines:
        raise MalformedValuationFileError(
            f"{path} line 1: empty file, expected header {','.join(FILE_COLUMNS)}"
        )
    header = [name.strip() for name in lines[0]]
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
    months: list[dt.date] = []
    values: dict[str, list[float]] = {field: [] for field in SHILLER_FIELDS}
    where: list[str] = []
    for number, fields in enumerate(lines[1:], start=2):
        if len(fields) != len(header):
            raise MalformedValuationFileError(
                f"{path} line {number}: {len(fields)} fields, expected {len(header)}"
            )
        months.append(_month(path, number, fields[position["month"]].strip()))
        for field in SHILLER_FIELDS:
            values[field].append(_number(path, number, field, fields[position[field]].strip()))
        where.append(f"{path} line {number}")
    return shiller_frame(months, values, where, path, Path(path).name)


def _month(path: str, line: int, text: str) -> dt.date:
    match = _MONTH.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise MalformedValuationFileError(
            f"{path} line {line} column month: {text!r} is not a YYYY-MM month"
        )
    return month_start(int(match.group(1)), int(match.group(2)))


def _number(path: str, line: int, column: str, text: str) -> float:
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise MalformedValuationFileError(
            f"{path} line {line} column {column}: {text!r} is not a number"
        )
    return value
