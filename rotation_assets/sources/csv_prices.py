"""Prices from a folder of per-ticker CSV files (``date,open,high,low,close,adj_close,volume``).

One file per ticker, named after it with ``^`` written as ``_`` (``^RUT`` -> ``_RUT.csv``).
Parsing is strict: a file with any malformed line is refused as a whole, with the file path, the
1-based line number (the header is line 1) and the offending value, because one bad line makes
the rest of the file untrustworthy too. Validating the whole file costs little since each parsed
file is cached in-process until its mtime or size changes. Two things are let through on purpose:
an empty volume (indices have none) and an empty price field, both read as NaN, so that the
quality checks downstream can report the gap with its ticker and date.

What is only written differently reads the same: a UTF-8 byte-order mark, CRLF line ends, rows
in any order, the columns in any order, and header names as Yahoo's own CSV download writes
them (``Date,Open,High,Low,Close,Adj Close,Volume``: names are compared trimmed, lower-cased,
with spaces as underscores). A column the reader does not know is ignored with a warning
(logger ``rotation_assets.sources.csv_prices``) naming the file and the column; every line must
still have the header's number of fields.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd

from rotation_assets.sources.base import (
    PRICE_FIELDS,
    MalformedPriceFileError,
    MissingPricesError,
    PriceSourceError,
    concat_windows,
    slice_window,
)

PRICE_DIR_ENV_VAR = "ROTATION_PRICE_DIR"
FILE_COLUMNS = ["date", *PRICE_FIELDS, "volume"]
_NUMBER_COLUMNS = [*PRICE_FIELDS, "volume"]
# The dates a bar may have: what a nanosecond timestamp holds (pandas' datetime64[ns], in which
# the bars are kept), in whole years. '2263-01-01' is refused like any other bad date.
FIRST_DATE, LAST_DATE = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")

log = logging.getLogger(__name__)
_LONE_CR = re.compile("\r(?!\n)")

# path -> ((mtime_ns, size), parsed frame), least recently used first. One entry per path,
# replaced when the file changes; at most _CACHED_FILES files, so a scale backfill of thousands
# of files does not keep them all.
_CACHE: OrderedDict[str, tuple[tuple[int, int], pd.DataFrame]] = OrderedDict()
_CACHED_FILES = 100
_CACHE_LOCK = threading.Lock()


def price_file_name(ticker: str) -> str:
    """The file that holds ``ticker``: ``^RUT`` -> ``_RUT.csv``."""
    return ticker.replace("^", "_") + ".csv"


def clear_price_file_cache() -> None:
    """Forget every parsed file (the next fetch reads from disk)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def read_prices(
    price_dir: str | Path, tickers: list[str], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Daily bars of ``tickers`` in [start, end] from ``<price_dir>/<ticker>.csv``."""
    folder = Path(price_dir).expanduser()
    if not folder.is_dir():
        raise PriceSourceError(
            f"price folder {folder} does not exist or is not a folder "
            f"(set {PRICE_DIR_ENV_VAR} to the folder of per-ticker CSV files)"
        )
    unique = list(dict.fromkeys(tickers))
    paths = {ticker: folder / price_file_name(ticker) for ticker in unique}
    # Tickers are only asked for on or after their first trading date, so an absent file is
    # always a gap; name every missing one at once rather than one per run.
    missing = [t for t, p in paths.items() if not p.is_file()]
    if missing:
        listed = ", ".join(f"{t} (expected {paths[t]})" for t in missing)
        raise MissingPricesError(
            f"no price file for {listed}; needed for {start.isoformat()}..{end.isoformat()}"
        )
    return concat_windows(
        [slice_window(load_price_file(path), ticker, start, end) for ticker, path in paths.items()]
    )


def load_price_file(path: Path) -> pd.DataFrame:
    """The parsed bars of one file, sorted by date, without a ticker column (cached).

    Callers must not modify the returned frame: it is shared with later calls.
    """
    key = str(path.resolve())
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == stamp:
            _CACHE.move_to_end(key)
            return hit[1]
    bars = _parse_price_file(path)
    with _CACHE_LOCK:
        _CACHE[key] = (stamp, bars)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHED_FILES:
            _CACHE.popitem(last=False)
    return bars


def _parse_price_file(path: Path) -> pd.DataFrame:
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    # Trailing blank lines are harmless; blank lines inside the file would shift line numbers
    # (and are refused by the field count check).
    raw = raw.rstrip()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise MalformedPriceFileError(f"{path} line {line}: not UTF-8 text ({exc.reason})") from exc
    if not raw:
        raise MalformedPriceFileError(
            f"{path} line 1: empty file, expected header {','.join(FILE_COLUMNS)}"
        )
    # The CSV reader also ends a line at a lone CR, which would shift every line number after
    # it (or hide the character): only LF and CRLF end a line here.
    if "\r" in text and (lone := _LONE_CR.search(text)) is not None:
        line = text.count("\n", 0, lone.start()) + 1
        raise MalformedPriceFileError(
            f"{path} line {line}: a carriage return inside the line (only LF or CRLF end a line)"
        )
    names = _check_header(path, text.partition("\n")[0])
    _check_field_counts(path, raw)

    frame = _read_fast(text, names)
    if frame is None:
        _raise_first_bad_value(path, _read_as_text(path, text, names))
        raise MalformedPriceFileError(f"{path}: unreadable numbers")  # not reached: defensive
    # Row i of the frame is line i + 2 of the file: the header is line 1, no blank lines between.
    dates = _parse_dates(frame["date"])
    if dates.isna().any():
        _raise_first_bad_value(path, frame[["date"]])
    _check_duplicate_dates(path, dates)
    bars = pd.DataFrame({"trade_date": dates.astype("datetime64[ns]")})
    for column in _NUMBER_COLUMNS:
        bars[column] = frame[column].to_numpy(dtype="float64")
    order = np.argsort(bars["trade_date"].to_numpy(), kind="stable")
    return bars.iloc[order].reset_index(drop=True)


def _read_fast(text: str, names: list[str]) -> pd.DataFrame | None:
    """Numbers parsed by the C reader; None when any field is not a finite number or empty.

    Only an empty field becomes NaN: the reader refuses 'nan' or 'abc' for a float column, and
    'inf' is caught here. The slow path then finds and names the offending line. ``names``:
    the columns as ``_check_header`` named them (only ``FILE_COLUMNS`` are read).
    """
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=0,
            names=names,
            usecols=FILE_COLUMNS,
            dtype={"date": str, **dict.fromkeys(_NUMBER_COLUMNS, "float64")},
            keep_default_na=False,
            na_values=dict.fromkeys(_NUMBER_COLUMNS, [""]),
            quoting=csv.QUOTE_NONE,
        )
    except ValueError:
        return None
    if np.isinf(frame[_NUMBER_COLUMNS].to_numpy()).any():
        return None
    return frame


def _read_as_text(path: Path, text: str, names: list[str]) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.StringIO(text),
            header=0,
            names=names,
            usecols=FILE_COLUMNS,
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_NONE,
        )
    except pd.errors.ParserError as exc:  # the line checks above should leave nothing for this
        raise MalformedPriceFileError(f"{path}: not readable as CSV ({exc})") from exc


def _parse_dates(date_text: pd.Series) -> pd.Series:
    """NaT where the text is not a YYYY-MM-DD date from FIRST_DATE to LAST_DATE."""
    dates = pd.to_datetime(date_text, format="%Y-%m-%d", errors="coerce")
    # to_datetime also takes '2020-1-2'; the files promise zero-padded ISO dates, and with that
    # format a 10-character string is one (a length check is far cheaper than a regex).
    lengths = np.fromiter(map(len, date_text), dtype=np.int64, count=len(date_text))
    return dates.where((lengths == 10) & (dates >= FIRST_DATE) & (dates <= LAST_DATE))


def column_name(header_field: str) -> str:
    """The column a header field names: trimmed, lower-cased, spaces as underscores, so that
    Yahoo's ``Adj Close`` is ``adj_close`` and ``Date`` is ``date``."""
    return "_".join(header_field.strip().lower().split())


def _check_header(path: Path, header_line: str) -> list[str]:
    """The name of each column of the header (an unknown one as ``_extra<i>``), after refusing
    a header without one of ``FILE_COLUMNS`` or with one twice; unknown columns are ignored,
    with a warning naming them."""
    fields = header_line.rstrip("\r").split(",")
    header = [column_name(f) for f in fields]
    missing = [c for c in FILE_COLUMNS if c not in header]
    unknown = [i for i, c in enumerate(header) if c not in FILE_COLUMNS]
    repeated = sorted({c for c in header if c in FILE_COLUMNS and header.count(c) > 1})
    described = ", ".join(f"{fields[i]!r} (column {i + 1})" for i in unknown)
    if missing or repeated:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if repeated:
            problems.append(f"repeated column(s) {', '.join(repeated)}")
        if unknown:
            problems.append(f"unexpected column(s) {described}")
        raise MalformedPriceFileError(
            f"{path} line 1: header {header_line.rstrip()!r} has {'; '.join(problems)} "
            f"(expected {','.join(FILE_COLUMNS)})"
        )
    if unknown:
        log.warning(
            "%s line 1: ignoring column(s) %s (the reader uses %s)",
            path,
            described,
            ",".join(FILE_COLUMNS),
        )
    return [c if c in FILE_COLUMNS else f"_extra{i}" for i, c in enumerate(header)]


def _check_field_counts(path: Path, raw: bytes) -> None:
    # The CSV reader pads short rows with empty fields, which would pass as "no volume"; count
    # the commas of every line with numpy instead of a Python loop over the lines.
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.append(np.flatnonzero(buf == ord("\n")), len(buf))
    commas_before_end = np.searchsorted(np.flatnonzero(buf == ord(",")), ends)
    per_line = np.diff(commas_before_end, prepend=0)
    wrong = np.flatnonzero(per_line != per_line[0])
    if not len(wrong):
        return
    index = int(wrong[0])
    line = raw[ends[index - 1] + 1 : ends[index]].decode("utf-8").rstrip("\r")
    if not line.strip():
        raise MalformedPriceFileError(f"{path} line {index + 1}: blank line")
    raise MalformedPriceFileError(
        f"{path} line {index + 1}: {per_line[index] + 1} fields, expected "
        f"{per_line[0] + 1}: {line!r}"
    )


def _raise_first_bad_value(path: Path, text_frame: pd.DataFrame) -> None:
    """Raise for the first line with a bad date or number; ``text_frame`` holds the raw text."""
    bad: dict[str, np.ndarray] = {}
    for column in text_frame.columns:
        column_text = text_frame[column]
        if column == "date":
            bad[column] = _parse_dates(column_text).isna().to_numpy()
        else:
            numbers = pd.to_numeric(column_text, errors="coerce").to_numpy(dtype="float64")
            # Empty is allowed (becomes NaN); text that is not a finite number is not.
            bad[column] = (column_text != "").to_numpy() & ~np.isfinite(numbers)
    rows = np.flatnonzero(np.logical_or.reduce(list(bad.values())))
    if not len(rows):
        return
    row = rows[0]
    column = next(c for c in bad if bad[c][row])
    value = text_frame[column].iat[row]
    what = (
        f"not a YYYY-MM-DD date from {FIRST_DATE.date()} to {LAST_DATE.date()}"
        if column == "date"
        else "not a number"
    )
    more = f" ({len(rows) - 1} more bad line(s))" if len(rows) > 1 else ""
    raise MalformedPriceFileError(f"{path} line {row + 2}: {column} {value!r} is {what}{more}")


def _check_duplicate_dates(path: Path, dates: pd.Series) -> None:
    repeats = dates.duplicated(keep="first").to_numpy()
    if not repeats.any():
        return
    later = np.flatnonzero(repeats)[0]
    earlier = np.flatnonzero((dates == dates.iat[later]).to_numpy())[0]
    raise MalformedPriceFileError(
        f"{path} line {later + 2}: duplicate date {dates.iat[later].date()} "
        f"(also on line {earlier + 2})"
    )
