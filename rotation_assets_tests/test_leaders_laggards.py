import datetime as dt

import pandas as pd
import pytest

from rotation_assets.metrics.leaders_laggards import (
    LEADERS_LAGGARDS,
    leaders_laggards,
    leaders_laggards_sql,
)
from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.reference.market_events import load_market_events

UNIVERSE = pd.DataFrame(
    {
        "ticker": ["AAA", "BBB", "CCC", "IWM", "SPY", "QQQ"],
        "role": [
            "small_cap_stock",
            "large_cap_stock",
            "small_cap_stock",
            "small_cap_etf",
            "large_cap_etf",
            "large_cap_etf",
        ],
        "benchmark": ["IWM", "SPY", "IWM", "SPY", None, "SPY"],
    }
)

# (date, AAA, BBB, IWM, SPY, QQQ) total returns; CCC has no data. as_of = 2026-02-03.
_TABLE = [
    ("2025-12-31", 0.50, 0.00, 0.00, 0.00, 0.00),  # last year: outside mtd and ytd
    ("2026-01-30", 0.10, -0.20, 0.25, 0.00, 0.00),  # last session of January: in ytd only
    ("2026-02-02", 0.10, 0.00, -0.20, 0.10, 0.00),
    ("2026-02-03", -0.50, 0.10, 0.00, 0.00, 0.00),
    ("2026-02-04", 1.00, 1.00, 1.00, 1.00, 1.00),  # after as_of: never read
]
RETURNS = pd.DataFrame(
    [
        (pd.Timestamp(day), ticker, value, value)
        for day, *values in _TABLE
        for ticker, value in zip(["AAA", "BBB", "IWM", "SPY", "QQQ"], values, strict=True)
    ],
    columns=["trade_date", "ticker", "price_return", "total_return"],
).assign(source="csv")
EVENTS = pd.DataFrame(
    {
        "event_id": ["later", "runs_past_as_of", "one_day"],
        "start_date": pd.to_datetime(["2026-02-04", "2026-02-03", "2026-02-02"]),
        "end_date": pd.to_datetime(["2026-02-04", "2026-02-10", "2026-02-02"]),
    }
)


def _result() -> pd.DataFrame:
    return leaders_laggards(RETURNS, UNIVERSE, EVENTS, dt.date(2026, 2, 3))


def _window(result: pd.DataFrame, window_id: str) -> pd.DataFrame:
    return result[result["window_id"] == window_id].set_index("ticker")


def test_month_to_date_ranks_stocks_and_keeps_yardsticks_unranked():
    result = _result()
    assert list(result.columns) == LEADERS_LAGGARDS.column_names
    mtd = _window(result, "mtd")
    # From the 2026-01-30 close: AAA 1.10 * 0.50 - 1 = -0.45; BBB 1.00 * 1.10 - 1 = 0.10;
    # IWM 0.80 * 1.00 - 1 = -0.20; SPY 1.10 * 1.00 - 1 = 0.10. CCC has no data, QQQ is no stock.
    assert list(mtd.index) == ["BBB", "AAA", "IWM", "SPY"]
    assert mtd.loc["AAA", "total_return"] == pytest.approx(-0.45)
    assert mtd.loc["BBB", "total_return"] == pytest.approx(0.10)
    assert list(mtd["rank"].iloc[:2]) == [1, 2]
    assert mtd.loc[["IWM", "SPY"], "rank"].isna().all()
    assert list(mtd["is_yardstick"]) == [False, False, True, True]
    assert mtd.loc["BBB", "vs_iwm"] == pytest.approx(0.30)  # 0.10 - (-0.20)
    assert mtd.loc["AAA", "vs_spy"] == pytest.approx(-0.55)  # -0.45 - 0.10
    assert mtd.loc["IWM", "vs_spy"] == pytest.approx(-0.30)
    assert mtd.loc["SPY", "vs_spy"] == 0.0
    assert mtd.loc["BBB", "window_start"] == pd.Timestamp("2026-02-01")
    assert mtd.loc["BBB", "window_end"] == pd.Timestamp("2026-02-03")


def test_each_return_is_also_shown_against_the_tickers_own_benchmark():
    mtd = _window(_result(), "mtd")
    # mtd (from the 2026-01-30 close): AAA -0.45, BBB 0.10, IWM -0.20, SPY 0.10.
    assert mtd.loc["AAA", "benchmark"] == "IWM"
    assert mtd.loc["AAA", "vs_benchmark"] == pytest.approx(-0.25)  # -0.45 - (-0.20)
    assert mtd.loc["BBB", "vs_benchmark"] == pytest.approx(0.0)  # 0.10 - 0.10
    assert mtd.loc["IWM", "vs_benchmark"] == pytest.approx(-0.30)  # -0.20 - 0.10
    assert pd.isna(mtd.loc["SPY", "benchmark"]) and pd.isna(mtd.loc["SPY", "vs_benchmark"])
    # A benchmark that is neither a stock nor a yardstick is read but not listed: BBB against
    # QQQ, whose mtd return is 1.00 * 1.00 - 1 = 0: 0.10 - 0.00 = 0.10.
    against_qqq = UNIVERSE.assign(benchmark=["IWM", "QQQ", "IWM", "SPY", None, "SPY"])
    mtd = _window(leaders_laggards(RETURNS, against_qqq, EVENTS, dt.date(2026, 2, 3)), "mtd")
    assert "QQQ" not in mtd.index
    assert mtd.loc["BBB", "benchmark"] == "QQQ"
    assert mtd.loc["BBB", "vs_benchmark"] == pytest.approx(0.10)


def test_year_to_date_starts_after_the_previous_year_end():
    ytd = _window(_result(), "ytd")
    # From the 2025-12-31 close: AAA 1.10 * 1.10 * 0.50 - 1 = -0.395; BBB 0.80 * 1.00 * 1.10 - 1
    # = -0.12; IWM 1.25 * 0.80 * 1.00 - 1 = 0.00; SPY 1.00 * 1.10 * 1.00 - 1 = 0.10.
    assert ytd.loc["AAA", "total_return"] == pytest.approx(-0.395)
    assert ytd.loc["BBB", "total_return"] == pytest.approx(-0.12)
    assert ytd.loc["IWM", "total_return"] == pytest.approx(0.0)
    assert ytd.loc["BBB", "rank"] == 1 and ytd.loc["AAA", "rank"] == 2
    assert ytd.loc["AAA", "vs_spy"] == pytest.approx(-0.495)
    assert ytd.loc["AAA", "window_start"] == pd.Timestamp("2026-01-01")


def test_event_windows_stop_at_as_of():
    result = _result()
    # Window order: mtd, ytd, then events by start date; 'later' starts after as_of.
    assert list(result["window_id"].unique()) == ["mtd", "ytd", "one_day", "runs_past_as_of"]
    one_day = _window(result, "one_day")
    # 2026-02-02 alone: AAA 0.10 (rank 1), BBB 0.00 (rank 2), IWM -0.20, SPY 0.10.
    assert one_day.loc["AAA", "rank"] == 1 and one_day.loc["BBB", "rank"] == 2
    assert one_day.loc["AAA", "vs_iwm"] == pytest.approx(0.30)
    assert one_day.loc["AAA", "vs_spy"] == pytest.approx(0.0)
    past = _window(result, "runs_past_as_of")
    # Cut at as_of: only 2026-02-03 counts (AAA -0.50, not 0.50 * 2.00 - 1 = 0.00 with 02-04).
    assert past.loc["AAA", "total_return"] == pytest.approx(-0.50)
    assert past.loc["AAA", "window_end"] == pd.Timestamp("2026-02-03")
    assert past.loc["BBB", "rank"] == 1


def test_a_window_without_sessions_has_no_rows():
    # as_of a Sunday, 2026-02-01: the month has no session yet, so no mtd rows.
    result = leaders_laggards(RETURNS, UNIVERSE, EVENTS, "2026-02-01")
    assert "mtd" not in set(result["window_id"])
    assert set(result["window_id"]) == {"ytd"}


def test_real_events_seed_works_as_the_events_input():
    result = leaders_laggards(RETURNS, UNIVERSE, load_market_events(), "2026-02-03")
    assert {"fed_chair_nomination", "ai_disruption_selloff"} <= set(result["window_id"])


def test_source_is_the_combined_source_of_the_rows_in_the_window():
    assert (_result()["source"] == "csv").all()
    # BBB's synthetic 2026-01-30 return is in its ytd window only; IWM's synthetic 2026-02-04
    # return lies after as_of and marks nothing.
    mixed = RETURNS.copy()
    day = mixed["trade_date"]
    synthetic = ((mixed["ticker"] == "BBB") & (day == pd.Timestamp("2026-01-30"))) | (
        (mixed["ticker"] == "IWM") & (day == pd.Timestamp("2026-02-04"))
    )
    mixed.loc[synthetic, "source"] = "synthetic"
    result = leaders_laggards(mixed, UNIVERSE, EVENTS, dt.date(2026, 2, 3))
    by_row = result.set_index(["window_id", "ticker"])["source"]
    assert by_row[("ytd", "BBB")] == "csv+synthetic"
    assert (by_row.drop(("ytd", "BBB")) == "csv").all()


def test_sql_without_as_of_takes_the_last_trade_date_of_the_returns():
    frame = query_frames(leaders_laggards_sql(), returns=RETURNS, universe=UNIVERSE, events=EVENTS)
    expected = leaders_laggards(RETURNS, UNIVERSE, EVENTS, "2026-02-04")
    pd.testing.assert_frame_equal(LEADERS_LAGGARDS.conform(frame), expected)
    assert expected["window_end"].max() == pd.Timestamp("2026-02-04")


def test_a_stock_whose_series_stopped_is_left_out_of_the_windows_it_does_not_finish():
    # BBB's series stops after 2026-01-30 (a stale tail). ytd runs to 2026-02-03, where BBB has
    # no return: it has no ytd row, so AAA ranks 1 alone (-0.395, as above). In mtd BBB has no
    # return at all. The one-day event 2026-02-02 is after BBB's end too: only AAA is ranked.
    stopped = RETURNS[~((RETURNS["ticker"] == "BBB") & (RETURNS["trade_date"] > "2026-01-30"))]
    result = leaders_laggards(stopped, UNIVERSE, EVENTS, dt.date(2026, 2, 3))
    assert "BBB" not in set(result["ticker"])
    ytd = _window(result, "ytd")
    assert ytd.loc["AAA", "rank"] == 1
    assert ytd.loc["AAA", "total_return"] == pytest.approx(-0.395)
    # A window BBB does finish keeps it: as of 2026-01-30 the ytd window holds 2026-01-30 only
    # (2025-12-31 is last year's): BBB 0.80 - 1 = -0.20, AAA 1.10 - 1 = 0.10.
    early = _window(leaders_laggards(stopped, UNIVERSE, EVENTS, "2026-01-30"), "ytd")
    assert early.loc["BBB", "total_return"] == pytest.approx(-0.20)
    assert early.loc["AAA", "total_return"] == pytest.approx(0.10)
