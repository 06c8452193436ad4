"""Fuzzed price files through the csv reader (``sources.csv_prices.read_prices``).

Properties, each over generated files (fuzz_inputs.py): what is only written differently reads
to the same frame; every malformed file raises ``MalformedPriceFileError`` naming the file and
the line (and the column and value where there is one), before returning anything; a number or
a date field is accepted exactly when it is one; any bytes at all give a frame or that error,
never another exception. test_fuzz_price_load.py runs the same defects through the warehouse.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rotation_assets.sources.base import (
    PRICE_FRAME_COLUMNS,
    MalformedPriceFileError,
    MissingPricesError,
)
from rotation_assets.sources.csv_prices import (
    FILE_COLUMNS,
    clear_price_file_cache,
    price_file_name,
    read_prices,
)
from rotation_assets_tests.fuzz_inputs import (
    Bar,
    Corruption,
    Layout,
    bars,
    corrupted_price_files,
    date_like,
    examples,
    field_chars,
    garbage_bytes,
    is_iso_date,
    is_number,
    layouts,
    number_like,
    render_prices,
)

EVERYTHING = (dt.date(1678, 1, 1), dt.date(2261, 12, 31))
HEADER_LINE = b"date,open,high,low,close,adj_close,volume\n"
tickers = st.sampled_from(["IWM", "^RUT", "BRK-B", "ES=F", "^GSPC"])


@contextlib.contextmanager
def price_file(ticker: str, data: bytes) -> Iterator[Path]:
    """A fresh folder holding ``data`` as the file of ``ticker``; the parse cache cleared."""
    clear_price_file_cache()
    with tempfile.TemporaryDirectory(prefix="fuzz-prices-") as folder:
        path = Path(folder) / price_file_name(ticker)
        path.write_bytes(data)
        yield path
    clear_price_file_cache()


@contextlib.contextmanager
def warnings_of(logger: str) -> Iterator[list[str]]:
    """The WARNING+ messages ``logger`` emits while the block runs."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Keep(logging.WARNING)
    target = logging.getLogger(logger)
    target.addHandler(handler)
    try:
        yield messages
    finally:
        target.removeHandler(handler)


def read(ticker: str, data: bytes) -> pd.DataFrame:
    with price_file(ticker, data) as path:
        return read_prices(path.parent, [ticker], *EVERYTHING)


def expected_frame(ticker: str, rows: list[Bar], ticker_dtype) -> pd.DataFrame:
    """What the reader must return for ``rows``: numbers as written, empty volume as NaN, and
    an index's volume of 0 as NaN (no figure)."""
    frame = pd.DataFrame(
        {
            "trade_date": pd.to_datetime([r.date for r in rows]).astype("datetime64[ns]"),
            # The reader's own dtype (object when empty, str otherwise): not what is pinned here.
            "ticker": pd.Series([ticker] * len(rows), dtype=ticker_dtype),
            **{
                c: np.array(
                    [float(getattr(r, c)) if getattr(r, c) != "" else np.nan for r in rows],
                    dtype="float64",
                )
                for c in FILE_COLUMNS[1:]
            },
        }
    )
    if ticker.startswith("^"):
        frame.loc[frame["volume"] == 0.0, "volume"] = np.nan
    return frame[PRICE_FRAME_COLUMNS]


@given(ticker=tickers, data=st.data())
@examples(150)
@example(  # the header of Yahoo's own CSV download, nothing else changed
    ticker="IWM", data=None
).via("Yahoo header")
def test_a_file_written_differently_reads_to_the_same_rows(ticker: str, data) -> None:
    if data is None:
        rows = [Bar(dt.date(2024, 1, 2), "10.0", "10.5", "9.5", "10.25", "10.0", "1000")]
        layout = Layout(yahoo_header=True)
    else:
        rows = data.draw(bars(), label="rows")
        layout = data.draw(layouts(len(rows)), label="layout")

    canonical = read(ticker, render_prices(rows))
    with warnings_of("rotation_assets.sources.csv_prices") as warned:
        variant = read(ticker, render_prices(rows, layout))

    pd.testing.assert_frame_equal(
        canonical, expected_frame(ticker, rows, canonical["ticker"].dtype), rtol=1e-15
    )
    pd.testing.assert_frame_equal(variant, canonical, check_exact=True)
    # Each extra column is ignored with a warning naming the file and the column.
    if layout.extra_columns:
        (message,) = warned
        assert f"{price_file_name(ticker)} line 1: ignoring column(s)" in message
        for _, name, _ in layout.extra_columns:
            assert repr(name) in message, (name, message)
    else:
        assert warned == []


def assert_refused(error: MalformedPriceFileError, path: Path, corruption: Corruption) -> None:
    message = str(error)
    assert message.startswith(f"{path} line "), message
    if corruption.line is not None:
        assert message.startswith(f"{path} line {corruption.line}:"), message
    for fragment in corruption.fragments:
        assert fragment in message, (fragment, message)


@given(ticker=tickers, corruption=corrupted_price_files())
@examples(200)
@example(
    ticker="IWM",
    corruption=Corruption(
        "control characters in a line",
        HEADER_LINE + b"2000-01-01\r,1,1,1,1,1,\n2000-01-02,1,1,1,1,1,\n",
        ("carriage return",),
        2,
    ),
).via("found by this property: a lone CR shifted the line named to 3 (date '')")
@example(
    ticker="IWM",
    corruption=Corruption(
        "control characters in a line",
        HEADER_LINE + b"\r2000-01-01,1,1,1,1,1,\n2000-01-02,1,1,1,1,1,\n",
        ("carriage return",),
        2,
    ),
).via("found by this property: a CR at the start of a line was read as a blank line")
def test_a_malformed_file_is_refused_naming_file_line_and_value(
    ticker: str, corruption: Corruption
) -> None:
    with price_file(ticker, corruption.data) as path, pytest.raises(MalformedPriceFileError) as e:
        read_prices(path.parent, [ticker], *EVERYTHING)
    assert_refused(e.value, path, corruption)


# What a field holds: for a number column any text from number_like or a valid number.
valid_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["+1.5", ".5", "5.", "1e3", "1E-3", "-0", "007", ""]),
)


@given(
    rows=bars(min_rows=1, max_rows=4),
    at=st.integers(0, 3),
    column=st.sampled_from(FILE_COLUMNS[1:]),
    text=st.one_of(valid_numbers, number_like, st.text(field_chars, max_size=6)),
)
@examples(200)
def test_a_number_field_is_read_exactly_when_it_is_a_number(
    rows: list[Bar], at: int, column: str, text: str
) -> None:
    at %= len(rows)
    rows = [*rows[:at], Bar(**{**rows[at].__dict__, column: text}), *rows[at + 1 :]]
    data = render_prices(rows)
    if text == "" or is_number(text):
        frame = read("IWM", data)
        value = frame.at[at, column]
        assert np.isnan(value) if text == "" else value == float(text), (text, value)
        return
    with price_file("IWM", data) as path, pytest.raises(MalformedPriceFileError) as e:
        read_prices(path.parent, ["IWM"], *EVERYTHING)
    assert_refused(e.value, path, Corruption("", data, (column, repr(text)), at + 2))


@given(
    rows=bars(min_rows=1, max_rows=4),
    at=st.integers(0, 3),
    text=st.one_of(st.dates().map(dt.date.isoformat), date_like),
)
@example(
    rows=[Bar(dt.date(2000, 1, 3), "1.0", "1.0", "1.0", "1.0", "1.0", "")], at=0, text="2263-01-01"
).via("found by this property: crashed with OutOfBoundsDatetime")
@examples(200)
def test_a_date_field_is_read_exactly_when_it_is_a_zero_padded_iso_date(
    rows: list[Bar], at: int, text: str
) -> None:
    at %= len(rows)
    if is_iso_date(text) and any(r.date.isoformat() == text for r in rows):
        return  # a duplicate date: its own class
    rows = [*rows[:at], Bar(dt.date(2000, 1, 1), *rows[at].fields()[1:]), *rows[at + 1 :]]
    lines = render_prices(rows).decode().split("\n")
    lines[at + 1] = text + lines[at + 1][len("2000-01-01") :]
    data = "\n".join(lines).encode()
    if is_iso_date(text):
        frame = read("IWM", data)
        assert pd.Timestamp(text) in set(frame["trade_date"])
        return
    with price_file("IWM", data) as path, pytest.raises(MalformedPriceFileError) as e:
        read_prices(path.parent, ["IWM"], *EVERYTHING)
    assert_refused(e.value, path, Corruption("", data, ("date", repr(text)), at + 2))


_LINE = re.compile(r" line (\d+)")


@given(data=garbage_bytes())
@examples(200)
def test_any_bytes_give_bars_or_a_typed_error_naming_the_line(data: bytes) -> None:
    with price_file("IWM", data) as path:
        try:
            frame = read_prices(path.parent, ["IWM"], *EVERYTHING)
        except MalformedPriceFileError as error:
            message = str(error)
            assert message.startswith(f"{path} line "), message
            line = int(_LINE.search(message).group(1))
            assert 1 <= line <= data.count(b"\n") + 1, message
            return
    # Read: well-formed bars, one per date, in order, numbers finite or empty.
    assert list(frame.columns) == PRICE_FRAME_COLUMNS
    assert frame["trade_date"].is_monotonic_increasing and frame["trade_date"].is_unique
    numbers = frame[FILE_COLUMNS[1:]].to_numpy()
    assert not np.isinf(numbers).any()


@given(
    present=st.lists(tickers, unique=True, max_size=2),
    missing=st.lists(
        st.text(st.sampled_from("ABCXYZ^=-.0"), min_size=1, max_size=6), min_size=1, max_size=3
    ),
)
@examples(50)
def test_a_ticker_without_a_file_is_named_with_the_path_expected(
    present: list[str], missing: list[str]
) -> None:
    missing = [t for t in dict.fromkeys(missing) if price_file_name(t) not in
               {price_file_name(p) for p in present}]  # fmt: skip
    if not missing:
        return
    clear_price_file_cache()
    with tempfile.TemporaryDirectory() as folder:
        for ticker in present:
            (Path(folder) / price_file_name(ticker)).write_bytes(render_prices([]))
        with pytest.raises(MissingPricesError) as e:
            read_prices(folder, [*present, *missing], *EVERYTHING)
    message = str(e.value)
    for ticker in missing:
        assert f"{ticker} (expected {Path(folder) / price_file_name(ticker)})" in message
    for ticker in present:
        assert f"{ticker} (expected" not in message
