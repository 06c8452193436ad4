"""CsvPriceSource: values, windows, strict parsing with line numbers, file mapping and caching."""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rotation_assets.defs.prices.sources import CsvPriceSource
from rotation_assets.paths import PROJECT_ROOT
from rotation_assets.sources import csv_prices
from rotation_assets.sources.base import (
    PRICE_FRAME_COLUMNS,
    MalformedPriceFileError,
    MissingPricesError,
    PriceSourceError,
)
from rotation_assets.sources.csv_prices import clear_price_file_cache, price_file_name

HEADER = "date,open,high,low,close,adj_close,volume"
# Four sessions of made-up bars; line numbers in the file are 2..5.
ROWS = [
    "2024-01-02,10.0,10.5,9.5,10.25,10.0,1000",
    "2024-01-03,10.25,11.0,10.0,10.75,10.5,2000",
    "2024-01-04,10.75,10.8,10.1,10.2,9.9,1500",
    "2024-01-05,10.2,10.4,9.8,10.0,9.75,1200",
]
# Read-only reference data kept next to the project, never copied into it.
REAL_PRICE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "prices"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_price_file_cache()
    yield
    clear_price_file_cache()


def write_prices(folder: Path, ticker: str, rows: list[str], header: str = HEADER) -> Path:
    path = folder / price_file_name(ticker)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def fetch(folder: Path, tickers: list[str], start: str, end: str) -> pd.DataFrame:
    source = CsvPriceSource(price_dir=str(folder))
    return source.fetch(tickers, dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_label() -> None:
    assert CsvPriceSource(price_dir="/nowhere").label == "csv"


def test_round_trip_and_window_trimming(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", ROWS)

    frame = fetch(tmp_path, ["IWM"], "2024-01-03", "2024-01-04")

    assert list(frame.columns) == PRICE_FRAME_COLUMNS
    assert frame["trade_date"].dtype == np.dtype("datetime64[ns]")
    assert frame["volume"].dtype == np.dtype("float64")
    assert frame["trade_date"].tolist() == [pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-04")]
    assert frame["ticker"].tolist() == ["IWM", "IWM"]
    assert frame.iloc[0, 2:].tolist() == [10.25, 11.0, 10.0, 10.75, 10.5, 2000.0]
    assert frame.iloc[1, 2:].tolist() == [10.75, 10.8, 10.1, 10.2, 9.9, 1500.0]


def test_window_is_inclusive_and_may_be_empty(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", ROWS)

    everything = fetch(tmp_path, ["IWM"], "2023-12-01", "2024-02-01")
    one_day = fetch(tmp_path, ["IWM"], "2024-01-05", "2024-01-05")
    nothing = fetch(tmp_path, ["IWM"], "2024-02-01", "2024-03-01")

    assert len(everything) == 4
    assert one_day["close"].tolist() == [10.0]
    assert nothing.empty
    assert list(nothing.columns) == PRICE_FRAME_COLUMNS


def test_several_tickers_in_long_format(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", ROWS)
    write_prices(tmp_path, "SPY", [r.replace(",10.", ",40.") for r in ROWS])

    frame = fetch(tmp_path, ["IWM", "SPY", "IWM"], "2024-01-02", "2024-01-03")

    assert frame["ticker"].tolist() == ["IWM", "IWM", "SPY", "SPY"]
    assert frame.loc[frame["ticker"] == "SPY", "close"].tolist() == [40.25, 40.75]


def test_rows_are_returned_in_date_order(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", [ROWS[2], ROWS[0], ROWS[3], ROWS[1]])

    frame = fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")

    assert frame["close"].tolist() == [10.25, 10.75, 10.2, 10.0]


def test_empty_volume_becomes_nan(tmp_path: Path) -> None:
    write_prices(tmp_path, "^RUT", [ROWS[0], "2024-01-03,10.25,11.0,10.0,10.75,10.75,"])

    frame = fetch(tmp_path, ["^RUT"], "2024-01-01", "2024-01-31")

    assert frame["volume"].iloc[0] == 1000.0
    assert math.isnan(frame["volume"].iloc[1])
    assert frame["close"].iloc[1] == 10.75


def test_an_index_volume_of_zero_is_no_figure_but_a_stock_volume_of_zero_is_kept(
    tmp_path: Path,
) -> None:
    rows = [ROWS[0], "2024-01-03,10.25,11.0,10.0,10.75,10.75,0"]
    write_prices(tmp_path, "^RUT", rows)
    write_prices(tmp_path, "IWM", rows)

    frame = fetch(tmp_path, ["^RUT", "IWM"], "2024-01-01", "2024-01-31")

    rut, iwm = frame[frame["ticker"] == "^RUT"], frame[frame["ticker"] == "IWM"]
    assert rut["volume"].iloc[0] == 1000.0 and math.isnan(rut["volume"].iloc[1])
    assert iwm["volume"].tolist() == [1000.0, 0.0]


def test_empty_price_field_is_left_for_the_quality_checks(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", [ROWS[0], "2024-01-03,10.25,11.0,10.0,,10.5,2000"])

    frame = fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")

    assert math.isnan(frame["close"].iloc[1])
    assert frame["adj_close"].iloc[1] == 10.5


def test_caret_ticker_reads_underscore_file(tmp_path: Path) -> None:
    write_prices(tmp_path, "^RUT", ROWS)

    frame = fetch(tmp_path, ["^RUT"], "2024-01-02", "2024-01-02")

    assert (tmp_path / "_RUT.csv").is_file()
    assert frame["ticker"].tolist() == ["^RUT"]
    assert frame["close"].tolist() == [10.25]


def test_only_requested_files_are_read(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", ROWS)
    (tmp_path / "BAD.csv").write_text("not,a,price,file\n", encoding="utf-8")

    assert len(fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")) == 4


def test_header_only_file_gives_no_rows(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", [])

    assert fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31").empty


def test_windows_line_endings_and_trailing_blank_lines_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "IWM.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n\r\n").encode("utf-8"))

    frame = fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")

    assert frame["volume"].tolist() == [1000.0, 2000.0, 1500.0, 1200.0]


def _with_row(line_number: int, row: str) -> list[str]:
    """ROWS with the data line at ``line_number`` (header = line 1) replaced by ``row``."""
    rows = list(ROWS)
    rows[line_number - 2] = row
    return rows


@pytest.mark.parametrize(
    ("rows", "line", "fragments"),
    [
        (_with_row(4, "2024/01/04,10.75,10.8,10.1,10.2,9.9,1500"), 4, ["date", "'2024/01/04'"]),
        (_with_row(3, "2024-1-03,10.25,11.0,10.0,10.75,10.5,2000"), 3, ["'2024-1-03'"]),
        (_with_row(5, "2024-02-30,10.2,10.4,9.8,10.0,9.75,1200"), 5, ["'2024-02-30'"]),
        (_with_row(3, "2024-01-03,10.25,11.0,10.0,abc,10.5,2000"), 3, ["close", "'abc'"]),
        (_with_row(2, "2024-01-02,nan,10.5,9.5,10.25,10.0,1000"), 2, ["open", "'nan'"]),
        (_with_row(4, "2024-01-04,10.75,10.8,10.1,10.2,inf,1500"), 4, ["adj_close", "'inf'"]),
        (_with_row(5, "2024-01-05,10.2,10.4,9.8,10.0,9.75,n/a"), 5, ["volume", "'n/a'"]),
        (_with_row(4, "2024-01-04,10.75,10.8,10.1,10.2,9.9"), 4, ["6 fields, expected 7"]),
        (_with_row(3, "2024-01-03,10.25,11.0,10.0,10.75,10.5,2000,7"), 3, ["8 fields"]),
        (_with_row(3, ""), 3, ["blank line"]),
        (_with_row(5, "2024-01-03,10.2,10.4,9.8,10.0,9.75,1200"), 5, ["duplicate date 2024-01-03"]),
    ],
    ids=[
        "slashed-date",
        "unpadded-date",
        "impossible-date",
        "text-price",
        "nan-text",
        "infinite",
        "text-volume",
        "short-row",
        "long-row",
        "blank-line",
        "duplicate-date",
    ],
)
def test_malformed_line_is_named(
    tmp_path: Path, rows: list[str], line: int, fragments: list[str]
) -> None:
    path = write_prices(tmp_path, "IWM", rows)

    # The window holds none of the bad lines: the whole file is validated all the same.
    with pytest.raises(MalformedPriceFileError) as raised:
        fetch(tmp_path, ["IWM"], "2024-01-02", "2024-01-02")

    message = str(raised.value)
    assert str(path) in message
    assert f" line {line}:" in message
    for fragment in fragments:
        assert fragment in message


def test_duplicate_date_names_both_lines(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", _with_row(5, "2024-01-03,10.2,10.4,9.8,10.0,9.75,1200"))

    with pytest.raises(MalformedPriceFileError, match=r"IWM\.csv line 5: .*also on line 3"):
        fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")


def test_first_bad_line_is_reported_with_a_count_of_the_rest(tmp_path: Path) -> None:
    rows = _with_row(3, "2024-01-03,10.25,11.0,10.0,x,10.5,2000")
    rows[3] = "2024-01-05,10.2,10.4,9.8,10.0,9.75,y"

    with pytest.raises(MalformedPriceFileError, match=r"line 3: close 'x'.*1 more bad line"):
        fetch(write_prices(tmp_path, "IWM", rows).parent, ["IWM"], "2024-01-01", "2024-01-31")


@pytest.mark.parametrize(
    ("header", "fragments"),
    [
        ("date,open,high,low,close,volume", ["missing column(s) adj_close"]),
        (
            "date,open,high,low,close,adjclose,volume",
            ["missing column(s) adj_close", "unexpected column(s) 'adjclose'"],
        ),
        # 'Date' would be read as date (Yahoo's header): a misspelt name is not.
        ("Dates,open,high,low,close,adj_close,volume", ["missing column(s) date", "'Dates'"]),
        ("date,open,high,low,close,close,adj_close,volume", ["repeated column(s) close"]),
    ],
    ids=["missing", "renamed", "misspelt", "repeated"],
)
def test_bad_header_is_line_1_and_names_the_missing_columns(
    tmp_path: Path, header: str, fragments: list[str]
) -> None:
    columns = len(header.split(","))
    rows = [",".join(r.split(",")[:columns]) for r in ROWS]
    path = write_prices(tmp_path, "IWM", rows, header=header)

    with pytest.raises(MalformedPriceFileError) as raised:
        fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")

    message = str(raised.value)
    assert f"{path} line 1:" in message
    for fragment in fragments:
        assert fragment in message


def test_empty_file_is_malformed(tmp_path: Path) -> None:
    (tmp_path / "IWM.csv").write_text("", encoding="utf-8")

    with pytest.raises(MalformedPriceFileError, match=r"IWM\.csv line 1: empty file"):
        fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")


def test_missing_file_names_ticker_path_and_window(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", ROWS)

    with pytest.raises(MissingPricesError) as raised:
        fetch(tmp_path, ["IWM", "^RUT", "SPY"], "2024-01-02", "2024-01-05")

    message = str(raised.value)
    assert "^RUT" in message and "SPY" in message and "IWM (" not in message
    assert str(tmp_path / "_RUT.csv") in message
    assert "2024-01-02..2024-01-05" in message


def test_missing_folder_names_folder_and_env_var(tmp_path: Path) -> None:
    folder = tmp_path / "absent"

    with pytest.raises(PriceSourceError) as raised:
        fetch(folder, ["IWM"], "2024-01-01", "2024-01-31")

    assert not isinstance(raised.value, MissingPricesError | MalformedPriceFileError)
    assert str(folder) in str(raised.value)
    assert "ROTATION_PRICE_DIR" in str(raised.value)


def test_unchanged_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_prices(tmp_path, "IWM", ROWS)
    parsed: list[Path] = []
    real_parse = csv_prices._parse_price_file

    def counting_parse(path: Path) -> pd.DataFrame:
        parsed.append(path)
        return real_parse(path)

    monkeypatch.setattr(csv_prices, "_parse_price_file", counting_parse)

    fetch(tmp_path, ["IWM"], "2024-01-02", "2024-01-03")
    second = fetch(tmp_path, ["IWM"], "2024-01-04", "2024-01-05")

    assert len(parsed) == 1
    assert second["close"].tolist() == [10.2, 10.0]


def test_cache_follows_a_rewrite_of_the_same_size(tmp_path: Path) -> None:
    path = write_prices(tmp_path, "IWM", ROWS)
    assert fetch(tmp_path, ["IWM"], "2024-01-02", "2024-01-02")["close"].tolist() == [10.25]

    size = path.stat().st_size
    write_prices(tmp_path, "IWM", [ROWS[0].replace("10.25", "10.26"), *ROWS[1:]])
    # Force a different mtime even on file systems with coarse timestamps.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    assert path.stat().st_size == size
    assert fetch(tmp_path, ["IWM"], "2024-01-02", "2024-01-02")["close"].tolist() == [10.26]


def test_cache_follows_a_file_that_turns_bad(tmp_path: Path) -> None:
    write_prices(tmp_path, "IWM", ROWS)
    assert len(fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")) == 4

    write_prices(tmp_path, "IWM", [*ROWS, "2024-01-08,1,2,0.5,1.5,1.5,oops"])

    with pytest.raises(MalformedPriceFileError, match=r"IWM\.csv line 6: volume 'oops'"):
        fetch(tmp_path, ["IWM"], "2024-01-01", "2024-01-31")


def _read_with_csv_module(path: Path, start: str, end: str) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if start <= row["date"] <= end]


@pytest.mark.skipif(
    not REAL_PRICE_DIR.is_dir(),
    reason=f"real price folder {REAL_PRICE_DIR} is absent (reference data outside the repo)",
)
def test_real_folder_matches_the_files() -> None:
    start, end = "2026-01-02", "2026-02-13"
    expected = _read_with_csv_module(REAL_PRICE_DIR / "IWM.csv", start, end)

    frame = fetch(REAL_PRICE_DIR, ["IWM", "^RUT"], start, end)
    iwm = frame[frame["ticker"] == "IWM"]

    assert len(expected) > 25
    assert len(iwm) == len(expected)
    assert iwm["trade_date"].dt.strftime("%Y-%m-%d").tolist() == [r["date"] for r in expected]
    for column in ["open", "high", "low", "close", "adj_close", "volume"]:
        assert iwm[column].tolist() == [float(r[column]) for r in expected], column
    # An index's volume is read as its file states it (Yahoo's figure for ^RUT, PROVENANCE.md),
    # a 0 (no figure) as empty, as the yfinance source stores it.
    rut = frame[frame["ticker"] == "^RUT"]
    rut_expected = _read_with_csv_module(REAL_PRICE_DIR / "_RUT.csv", start, end)
    assert len(rut) == len(expected) == len(rut_expected)
    assert rut["volume"].fillna(0.0).tolist() == [float(r["volume"]) for r in rut_expected]
    assert rut["volume"].isna().tolist() == [float(r["volume"]) == 0 for r in rut_expected]
