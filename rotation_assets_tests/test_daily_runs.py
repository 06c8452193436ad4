"""Daily runs through Dagster: returns stay right when days are loaded by separate runs."""

import datetime as dt

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.sources import YFinancePriceSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.reference.universe import load_universe
from rotation_assets_tests.test_yfinance_prices import assemble, history_frame

FEB2, FEB3, FEB4 = dt.date(2026, 2, 2), dt.date(2026, 2, 3), dt.date(2026, 2, 4)
# SPY pays 1.00 going ex on Feb 4: closes 101 (Feb 2), 100 (Feb 3), 99.50 (Feb 4).
SPY_CLOSE = {FEB2: 101.0, FEB3: 100.0, FEB4: 99.5}
EXPECTED_TOTAL = 99.5 / (100.0 - 1.0) - 1  # Yahoo's convention: close_d / (close_p - dividend)


class YahooAsOf:
    """yf.download as Yahoo answers it: adj_close re-based to the dividends known by `end`."""

    def __init__(self, tickers: list[str]):
        self.tickers = tickers

    def __call__(self, tickers, start, end, **kwargs):
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end) - dt.timedelta(1)
        days = [d for d in SPY_CLOSE if first <= d <= last]
        frames = {}
        for ticker in tickers:
            rows, actions = {}, {}
            for day in days:
                close = SPY_CLOSE[day] if ticker == "SPY" else 50.0 + day.day
                # Yahoo scales history before an ex-date it knows of by 1 - dividend / close_p.
                factor = 1 - 1.0 / 100.0 if ticker == "SPY" and day < FEB4 <= last else 1.0
                rows[day.isoformat()] = (close, close + 1, close - 1, close, close * factor, 1e6)
                if ticker == "SPY" and day == FEB4:
                    actions[day.isoformat()] = (1.0, 0.0)
            frames[ticker] = history_frame(rows, actions)
        return assemble(frames)


@pytest.fixture
def yahoo(monkeypatch):
    import yfinance

    fake = YahooAsOf(list(load_universe()["ticker"]))
    monkeypatch.setattr(yfinance, "download", fake)
    return fake


def spy_returns(db: str) -> pd.DataFrame:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(
            "SELECT trade_date, price_return, total_return, source FROM analytics.daily_returns "
            "WHERE ticker = 'SPY' ORDER BY trade_date"
        ).df()


def test_ex_dividend_day_loaded_by_separate_daily_runs_keeps_its_dividend(tmp_path, yahoo):
    db = str(tmp_path / "daily.duckdb")
    defs = build_definitions(DuckDBWarehouse(database=db), YFinancePriceSource())
    with DagsterInstance.ephemeral() as instance:
        for day in (FEB2, FEB3, FEB4):  # three schedule runs, one session each
            result = execute_range(defs, day, day, instance, "schedule")
            assert result.success, step_failures(result)

    returns = spy_returns(db).set_index("trade_date")
    feb4 = returns.loc[pd.Timestamp(FEB4)]
    assert feb4["price_return"] == pytest.approx(99.5 / 100.0 - 1)
    assert feb4["total_return"] == pytest.approx(EXPECTED_TOTAL)
    assert returns.loc[pd.Timestamp(FEB3), "total_return"] == pytest.approx(100.0 / 101.0 - 1)
    with duckdb.connect(db, read_only=True) as con:
        actions = con.execute(
            "SELECT trade_date, ticker, dividend, split_ratio FROM raw.corporate_actions"
        ).fetchall()
    assert actions == [(FEB4, "SPY", 1.0, 1.0)]

    # One backfill of the same days (Yahoo answering after the ex-date) gives the same returns.
    db2 = str(tmp_path / "backfill.duckdb")
    defs2 = build_definitions(DuckDBWarehouse(database=db2), YFinancePriceSource())
    with DagsterInstance.ephemeral() as instance:
        assert execute_range(defs2, FEB2, FEB4, instance, "backfill").success
    pd.testing.assert_frame_equal(spy_returns(db2), spy_returns(db))
