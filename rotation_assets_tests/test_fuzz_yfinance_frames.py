"""Fuzzed yfinance-shaped frames (yfinance 1.x ``download``: MultiIndex columns (Price, Ticker))
through the yfinance source and the audit that runs before any write.

``yfinance.download`` is replaced by a function returning the generated frame (logging
nothing), and the window is fetched and audited by ``stage_price_window``, as ``raw_prices``
does before it opens the warehouse. Properties: a frame only laid out differently (levels
swapped, tickers in lower case, rows or columns shuffled, extra columns and tickers, a tz-aware
index) stages the same rows; a frame with one defect raises a ``PriceSourceError`` or
``PriceAuditError`` naming the ticker (and the date, for a bad row), never another exception.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from unittest import mock

import duckdb
import numpy as np
import pandas as pd
import pytest
import yfinance
from hypothesis import given
from hypothesis import strategies as st

from rotation_assets.defs.prices.sources import YFinancePriceSource
from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.universe import load_universe
from rotation_assets.sources.base import PriceSourceError
from rotation_assets.sources.price_window import PriceAuditError, stage_price_window
from rotation_assets.trading_days import sessions_between
from rotation_assets_tests.fuzz_inputs import examples, price_numbers

SESSIONS = sessions_between(dt.date(2026, 2, 2), dt.date(2026, 2, 6))
TICKERS = ["IWM", "SPY", "^GSPC"]
UNIVERSE = load_universe(SEEDS_DIR / "universe.csv").query("ticker in @TICKERS")
FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
LOADED_AT = dt.datetime(2026, 2, 7, 12, 0)


@st.composite
def ticker_blocks(draw) -> dict[str, pd.DataFrame]:
    """Per ticker, valid bars on every session: yfinance's columns, 0 for no action."""
    blocks = {}
    for ticker in TICKERS:
        rows = []
        for _ in SESSIONS:
            low, a, b, high = sorted(draw(st.lists(price_numbers, min_size=4, max_size=4)))
            opened, closed = draw(st.permutations([a, b]))
            adj = draw(price_numbers)
            volume = float(draw(st.integers(0, 10**9)))
            rows.append([adj, closed, high, low, opened, volume])
        frame = pd.DataFrame(rows, columns=FIELDS, index=pd.DatetimeIndex(SESSIONS, name="Date"))
        frame["Dividends"] = 0.0
        frame["Stock Splits"] = 0.0
        blocks[ticker] = frame
    return blocks


def plain_blocks() -> dict[str, pd.DataFrame]:
    """Valid bars, the same for every ticker: open 10, high 11, low 9, close 10.5, adj 10.4."""
    rows = [[10.4, 10.5, 11.0, 9.0, 10.0, 1000.0]] * len(SESSIONS)
    blocks = {}
    for ticker in TICKERS:
        frame = pd.DataFrame(rows, columns=FIELDS, index=pd.DatetimeIndex(SESSIONS, name="Date"))
        blocks[ticker] = frame.assign(**{"Dividends": 0.0, "Stock Splits": 0.0})
    return blocks


def wide(blocks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The frame ``yfinance.download(group_by='column', multi_level_index=True)`` returns."""
    frame = pd.concat(blocks, axis=1, names=["Ticker", "Price"])
    frame.columns = frame.columns.swaplevel(0, 1)
    return frame.sort_index(axis=1, level=0)


def stage(frame: pd.DataFrame) -> pd.DataFrame:
    """The window staged from ``frame`` (rows as raw.prices gets them, without loaded_at)."""
    with (
        mock.patch.object(yfinance, "download", lambda **kwargs: frame.copy()),
        tempfile.TemporaryDirectory(prefix="fuzz-yf-") as folder,
    ):
        staged = stage_price_window(
            YFinancePriceSource(), UNIVERSE, SESSIONS, LOADED_AT, Path(folder)
        )
        with duckdb.connect() as con:
            return con.execute(
                f"SELECT * EXCLUDE (loaded_at) FROM {staged.prices} ORDER BY ticker, trade_date"
            ).df()


@given(blocks=ticker_blocks(), data=st.data())
@examples(30)
def test_a_frame_laid_out_differently_stages_the_same_rows(blocks, data) -> None:
    canonical = stage(wide(blocks))
    variant = {t: b.copy() for t, b in blocks.items()}
    if data.draw(st.booleans(), label="extra ticker"):
        variant["ZZZZ"] = next(iter(blocks.values())).copy()
    if data.draw(st.booleans(), label="extra columns"):
        for block in variant.values():
            block["Repaired?"] = False
            block["Capital Gains"] = 0.0
    if data.draw(st.booleans(), label="rows shuffled"):
        order = data.draw(st.permutations(range(len(SESSIONS))))
        variant = {t: b.iloc[order] for t, b in variant.items()}
    if data.draw(st.booleans(), label="lower-case tickers"):
        variant = {t.lower(): b for t, b in variant.items()}
    frame = wide(variant)
    if data.draw(st.booleans(), label="tz-aware index"):
        frame.index = frame.index.tz_localize("America/New_York")
    if data.draw(st.booleans(), label="(Ticker, Price) levels"):
        frame.columns = frame.columns.swaplevel(0, 1)
        frame.columns.names = ["Ticker", "Price"]
    columns = data.draw(st.permutations(range(frame.shape[1])), label="column order")
    frame = frame.iloc[:, list(columns)]

    pd.testing.assert_frame_equal(stage(frame), canonical)
    assert len(canonical) == len(TICKERS) * len(SESSIONS)


YF_DEFECTS = (
    "price column missing",
    "price column renamed",
    "text in a price column",
    "NaN price",
    "infinite price",
    "non-positive price",
    "high below low",
    "duplicate date",
    "ticker missing",
    "empty frame",
    "NaT in the index",
)


@given(blocks=ticker_blocks(), data=st.data())
@examples(80)
def test_a_malformed_frame_fails_naming_the_ticker_before_any_write(blocks, data) -> None:
    kind = data.draw(st.sampled_from(YF_DEFECTS), label="kind")
    ticker = data.draw(st.sampled_from(TICKERS), label="ticker")
    row = data.draw(st.integers(0, len(SESSIONS) - 1), label="row")
    block = blocks[ticker]
    day = SESSIONS[row].isoformat()
    fragments = [ticker]
    if kind == "price column missing":
        blocks[ticker] = block.drop(columns=[data.draw(st.sampled_from(["Close", "Adj Close"]))])
    elif kind == "price column renamed":
        old = data.draw(st.sampled_from(["Close", "Adj Close"]))
        new = data.draw(st.sampled_from(["close", "Adj_Close", "Close*", " Close"]))
        blocks[ticker] = block.rename(columns={old: new})
    elif kind == "text in a price column":
        column = data.draw(st.sampled_from(["Open", "High", "Low", "Close", "Adj Close"]))
        block[column] = block[column].astype(object)
        block.iloc[row, block.columns.get_loc(column)] = data.draw(
            st.sampled_from(["abc", "", "1,5", None, "N/A"])
        )
        fragments.append(day)
    elif kind == "NaN price":
        column = data.draw(st.sampled_from(["Close", "Adj Close"]))
        block.iloc[row, block.columns.get_loc(column)] = np.nan
        fragments.append(day)
    elif kind == "infinite price":
        columns = data.draw(
            st.lists(
                st.sampled_from(["Open", "High", "Low", "Close", "Adj Close"]),
                min_size=1,
                unique=True,
            )
        )
        for column in columns:
            block.iloc[row, block.columns.get_loc(column)] = data.draw(
                st.sampled_from([np.inf, -np.inf])
            )
        fragments.append(day)
    elif kind == "non-positive price":
        column = data.draw(st.sampled_from(["Open", "High", "Low", "Close", "Adj Close"]))
        block.iloc[row, block.columns.get_loc(column)] = data.draw(st.sampled_from([0.0, -1.5]))
        fragments.append(day)
    elif kind == "high below low":
        block.iloc[row, block.columns.get_loc("High")] = block["Low"].iloc[row] * 0.5
        fragments.append(day)
    elif kind == "duplicate date":
        # yfinance aligns every ticker on one index: the date is repeated for all of them.
        blocks = {t: pd.concat([b, b.iloc[[row]]]).sort_index() for t, b in blocks.items()}
        fragments.append(day)
    elif kind == "ticker missing":
        del blocks[ticker]
    elif kind == "empty frame":
        blocks = {}
        fragments = TICKERS
    else:  # NaT in the index: that row is no bar, a hole (on the last session it would be a
        # stale tail: every series stops early, which the audit warns about, by design)
        row = min(row, len(SESSIONS) - 2)
        day = SESSIONS[row].isoformat()
        fragments = [ticker]
        index = block.index.to_list()
        index[row] = pd.NaT
        for t in TICKERS:
            blocks[t].index = pd.DatetimeIndex(index, name="Date")
        fragments.append(day)
    frame = wide(blocks) if blocks else pd.DataFrame()

    with pytest.raises((PriceSourceError, PriceAuditError)) as raised:
        stage(frame)

    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, (kind, fragment, message)


# Found by probing the frame shapes this suite generates (fixed in wide_to_long).
def test_an_index_that_is_not_dates_is_a_typed_error() -> None:
    frame = wide(plain_blocks())
    frame.index = pd.Index(["a", "b", "c", "d", "e"], name="Date")
    with pytest.raises(PriceSourceError, match="IWM"):
        stage(frame)


def test_a_repeated_column_is_a_typed_error() -> None:
    frame = wide(plain_blocks())
    frame = pd.concat([frame, frame[[("Close", "IWM")]]], axis=1)
    with pytest.raises(PriceSourceError, match="IWM"):
        stage(frame)
