"""fetch_valuation_snapshot with a fake Ticker factory: Yahoo is never called."""

import datetime as dt
import math

import pandas as pd
import pytest
import yfinance

from rotation_assets.sources.valuation_snapshots import (
    SNAPSHOT_SOURCE,
    VALUATION_SNAPSHOTS,
    fetch_valuation_snapshot,
)

SESSION = dt.date(2026, 2, 13)


class FakeTicker:
    """Stands in for yfinance.Ticker: ``.info`` returns the scripted dict or raises it."""

    def __init__(self, info: object):
        self._info = info

    @property
    def info(self) -> object:
        if isinstance(self._info, Exception):
            raise self._info
        return self._info


def factory_for(infos: dict[str, object]):
    calls: list[str] = []

    def factory(symbol: str) -> FakeTicker:
        calls.append(symbol)
        return FakeTicker(infos[symbol])

    factory.calls = calls
    return factory


def row_of(frame: pd.DataFrame, ticker: str) -> pd.Series:
    rows = frame[frame["ticker"] == ticker]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_values_and_missing_keys_become_rows_with_nulls_where_yahoo_has_none():
    factory = factory_for(
        {
            "IWM": {"quoteType": "ETF", "trailingPE": 18.25, "forwardPE": 15.5},
            "SPY": {"quoteType": "ETF", "trailingPE": 27},  # no forwardPE key at all
            "^RUT": {"quoteType": "INDEX", "shortName": "Russell 2000"},  # neither
            "QQQ": {"quoteType": "ETF", "trailingPE": None, "forwardPE": "31.5"},
        }
    )
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    frame, problems = fetch_valuation_snapshot(["IWM", "SPY", "^RUT", "QQQ"], SESSION, factory)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    assert problems == []
    assert list(frame.columns) == VALUATION_SNAPSHOTS.column_names
    assert list(frame["ticker"]) == ["IWM", "SPY", "^RUT", "QQQ"]
    assert (frame["trade_date"] == pd.Timestamp("2026-02-13")).all()
    assert (frame["source"] == SNAPSHOT_SOURCE).all()
    assert frame["fetched_at"].between(pd.Timestamp(before), pd.Timestamp(after)).all()
    assert str(frame["trade_date"].dtype) == "datetime64[ns]"
    assert str(frame["forward_pe"].dtype) == "float64"

    iwm, spy, rut, qqq = (row_of(frame, t) for t in ("IWM", "SPY", "^RUT", "QQQ"))
    assert (iwm["trailing_pe"], iwm["forward_pe"]) == (18.25, 15.5)
    assert spy["trailing_pe"] == 27.0 and math.isnan(spy["forward_pe"])
    assert math.isnan(rut["trailing_pe"]) and math.isnan(rut["forward_pe"])
    assert math.isnan(qqq["trailing_pe"]) and qqq["forward_pe"] == 31.5  # numeric string


def test_a_ticker_whose_info_raises_or_is_empty_is_skipped_and_reported():
    factory = factory_for(
        {
            "IWM": {"trailingPE": 18.0, "forwardPE": 15.0},
            "SPY": RuntimeError("Too Many Requests. Rate limited. Try after a while."),
            "NOPE": {},
            "GONE": {"trailingPegRatio": None},  # what yfinance returns for unknown symbols
        }
    )
    frame, problems = fetch_valuation_snapshot(["IWM", "SPY", "NOPE", "GONE"], SESSION, factory)

    assert list(frame["ticker"]) == ["IWM"]
    assert problems == [
        "SPY: Ticker.info raised RuntimeError: Too Many Requests. Rate limited. Try after a "
        "while.; no row",
        "NOPE: Ticker.info is empty; no row",
        "GONE: Ticker.info is empty; no row",
    ]


def test_the_factory_itself_raising_is_reported_like_info_raising():
    def factory(symbol: str) -> FakeTicker:
        raise ValueError(f"bad symbol {symbol}")

    frame, problems = fetch_valuation_snapshot(["X"], SESSION, factory)
    assert frame.empty and list(frame.columns) == VALUATION_SNAPSHOTS.column_names
    assert problems == ["X: Ticker.info raised ValueError: bad symbol X; no row"]


@pytest.mark.parametrize("value", ["Infinity", float("inf"), 0, -12.5, "n/a", True])
def test_values_that_are_not_positive_finite_are_stored_as_null_and_reported(value):
    factory = factory_for({"IWM": {"trailingPE": value, "forwardPE": 15.0}})
    frame, problems = fetch_valuation_snapshot(["IWM"], SESSION, factory)

    iwm = row_of(frame, "IWM")
    assert math.isnan(iwm["trailing_pe"]) and iwm["forward_pe"] == 15.0
    assert problems == [
        f"IWM: trailingPE {value!r} is not a positive finite number; stored as null"
    ]


def test_duplicate_tickers_are_fetched_once_and_no_tickers_give_an_empty_frame():
    factory = factory_for({"IWM": {"trailingPE": 18.0}})
    frame, problems = fetch_valuation_snapshot(["IWM", "IWM"], SESSION, factory)
    assert factory.calls == ["IWM"] and len(frame) == 1 and problems == []

    empty, problems = fetch_valuation_snapshot([], SESSION, factory)
    assert empty.empty and problems == []
    assert list(empty.columns) == VALUATION_SNAPSHOTS.column_names


def test_default_factory_is_yfinance_ticker(monkeypatch):
    # Replaced before the call: proves the default goes through yfinance.Ticker, offline.
    monkeypatch.setattr(yfinance, "Ticker", lambda symbol: FakeTicker({"forwardPE": 20.0}))
    frame, problems = fetch_valuation_snapshot(["SPY"], SESSION)
    assert row_of(frame, "SPY")["forward_pe"] == 20.0 and problems == []


def test_spec_is_a_trading_day_partitioned_raw_table():
    assert VALUATION_SNAPSHOTS.qualified_name == "raw.valuation_snapshots"
    assert VALUATION_SNAPSHOTS.window_column == "trade_date"
    assert VALUATION_SNAPSHOTS.column_names == [
        "trade_date",
        "ticker",
        "trailing_pe",
        "forward_pe",
        "source",
        "fetched_at",
    ]
    assert "never" in VALUATION_SNAPSHOTS.description  # backfills get no snapshot
