"""DemoPriceSource: deterministic, window-independent, consistent bars on XNYS sessions only."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from rotation_assets.defs.prices.sources import DemoPriceSource
from rotation_assets.paths import PROJECT_ROOT, SEEDS_DIR
from rotation_assets.sources import demo_prices
from rotation_assets.sources.base import PRICE_FRAME_COLUMNS
from rotation_assets.sources.demo_prices import demo_bars
from rotation_assets.trading_days import FIRST_SESSION, calendar_last_date, sessions_between

UNIVERSE = pd.read_csv(SEEDS_DIR / "universe.csv")["ticker"].tolist()
FULL_START = dt.date(1990, 1, 2)
# One instance: Dagster warns (pydantic __fields__) each time a field-less resource is built.
SOURCE = DemoPriceSource()


@pytest.fixture(scope="module")
def full_universe() -> pd.DataFrame:
    return SOURCE.fetch(UNIVERSE, FULL_START, calendar_last_date())


def fetch(tickers: list[str], start: str, end: str) -> pd.DataFrame:
    return SOURCE.fetch(tickers, dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_label() -> None:
    assert SOURCE.label == "synthetic"


def test_frame_shape_and_types() -> None:
    frame = fetch(["IWM", "^RUT"], "2024-01-02", "2024-01-31")

    assert list(frame.columns) == PRICE_FRAME_COLUMNS
    assert frame["trade_date"].dtype == np.dtype("datetime64[ns]")
    assert (frame["trade_date"] == frame["trade_date"].dt.normalize()).all()
    assert frame["ticker"].tolist() == ["IWM"] * 21 + ["^RUT"] * 21
    assert frame[["open", "high", "low", "close", "adj_close", "volume"]].dtypes.eq("float64").all()


def test_overlapping_windows_agree_on_shared_dates() -> None:
    tickers = ["IWM", "^VIX", "^GSPC"]
    early = fetch(tickers, "2019-11-01", "2020-06-30")
    late = fetch(tickers, "2020-03-01", "2021-03-31")

    shared = early.merge(late, on=["trade_date", "ticker"], suffixes=("_early", "_late"))

    assert len(shared) == 3 * len(sessions_between("2020-03-01", "2020-06-30"))
    for column in ["open", "high", "low", "close", "adj_close", "volume"]:
        pd.testing.assert_series_equal(
            shared[f"{column}_early"], shared[f"{column}_late"], check_names=False
        )


def test_path_does_not_depend_on_calendar_length(monkeypatch: pytest.MonkeyPatch) -> None:
    full = demo_bars("SPY")
    demo_bars.cache_clear()
    monkeypatch.setattr(demo_prices, "_sessions", lambda: full["trade_date"].iloc[:1000])
    try:
        short = demo_bars("SPY")
    finally:
        demo_bars.cache_clear()

    assert len(short) == 1000
    pd.testing.assert_frame_equal(short, full.iloc[:1000])


def test_same_values_in_another_process() -> None:
    # Seeds come from CRC-32, not hash(): a different PYTHONHASHSEED must not change anything.
    code = (
        "import datetime as dt, pandas as pd;"
        "from rotation_assets.defs.prices.sources import DemoPriceSource;"
        "f = DemoPriceSource().fetch(['TSLA', '^VIX'], dt.date(2015, 3, 2), dt.date(2015, 3, 6));"
        "print(len(f), pd.util.hash_pandas_object(f, index=False).sum())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    here = fetch(["TSLA", "^VIX"], "2015-03-02", "2015-03-06")

    digest = pd.util.hash_pandas_object(here, index=False).sum()
    assert result.stdout.split() == ["10", str(digest)]


def test_tickers_get_different_paths() -> None:
    frame = fetch(["IWM", "SPY"], "2022-01-03", "2022-12-30")
    iwm = frame.loc[frame["ticker"] == "IWM", "close"].to_numpy()
    spy = frame.loc[frame["ticker"] == "SPY", "close"].to_numpy()

    assert not np.allclose(np.diff(np.log(iwm)), np.diff(np.log(spy)))


def test_dates_are_exactly_the_sessions(full_universe: pd.DataFrame) -> None:
    sessions = [pd.Timestamp(d) for d in sessions_between(FULL_START, calendar_last_date())]

    for ticker, bars in full_universe.groupby("ticker"):
        assert bars["trade_date"].tolist() == sessions, ticker


def test_window_is_clipped_to_origin_and_calendar() -> None:
    last = calendar_last_date()
    frame = fetch(["QQQ"], "1985-01-02", (last + dt.timedelta(days=400)).isoformat())

    assert frame["trade_date"].iloc[0] == pd.Timestamp(FIRST_SESSION)
    assert frame["trade_date"].iloc[-1] == pd.Timestamp(last)


def test_weekend_and_reversed_windows_are_empty() -> None:
    weekend = fetch(["IWM"], "2024-01-06", "2024-01-07")
    reversed_window = fetch(["IWM"], "2024-01-10", "2024-01-02")

    assert weekend.empty and reversed_window.empty
    assert list(weekend.columns) == PRICE_FRAME_COLUMNS


def test_ohlc_consistent_and_positive(full_universe: pd.DataFrame) -> None:
    f = full_universe
    low_body = np.minimum(f["open"], f["close"])
    high_body = np.maximum(f["open"], f["close"])

    assert (f[["open", "high", "low", "close", "adj_close"]] > 0).all().all()
    assert (f["low"] <= low_body).all()
    assert (high_body <= f["high"]).all()
    assert f[["open", "high", "low", "close", "adj_close"]].notna().all().all()


def test_adjusted_close_and_volume_by_kind(full_universe: pd.DataFrame) -> None:
    f = full_universe
    index = f["ticker"].str.startswith("^")

    assert (f["adj_close"] <= f["close"]).all()
    assert (f.loc[index, "adj_close"] == f.loc[index, "close"]).all()
    # Dividends: before the anchor date every traded instrument is discounted.
    early = ~index & (f["trade_date"] < pd.Timestamp("2026-01-01"))
    assert (f.loc[early, "adj_close"] < f.loc[early, "close"]).all()
    assert f.loc[index, "volume"].isna().all()
    traded = f.loc[~index, "volume"]
    assert (traded >= 1).all()
    assert (traded == np.round(traded)).all()


def test_daily_moves_are_plausible(full_universe: pd.DataFrame) -> None:
    for ticker, bars in full_universe.groupby("ticker"):
        daily = np.diff(np.log(bars["close"].to_numpy())).std()
        if ticker == "^VIX":
            assert 0.03 < daily < 0.09
        else:
            assert 0.007 < daily < 0.025, ticker


def test_vix_reverts_around_20(full_universe: pd.DataFrame) -> None:
    vix = full_universe.loc[full_universe["ticker"] == "^VIX", "close"]

    assert 15 < vix.median() < 26
    assert vix.min() > 5 and vix.max() < 100
