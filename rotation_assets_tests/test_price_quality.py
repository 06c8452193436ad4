import datetime as dt

import numpy as np
import pandas as pd
import pytest

from rotation_assets.quality.price_rules import (
    audit_prices,
    duplicate_keys,
    holes_and_stale_tails,
    inconsistent_ohlc,
    large_moves,
    missing_tickers,
    nonpositive_prices,
    null_prices,
)

D1, D2 = dt.date(2026, 2, 5), dt.date(2026, 2, 6)


def frame(rows: list[tuple]) -> pd.DataFrame:
    out = pd.DataFrame(
        rows,
        columns=["trade_date", "ticker", "open", "high", "low", "close", "adj_close", "volume"],
    )
    out["trade_date"] = pd.to_datetime(out["trade_date"])
    return out


GOOD = [
    ("2026-02-05", "IWM", 260.0, 262.0, 259.0, 261.0, 261.0, 1e6),
    ("2026-02-05", "SPY", 690.0, 695.0, 688.0, 694.0, 694.0, 2e6),
    ("2026-02-06", "IWM", 261.0, 266.0, 260.5, 265.0, 265.0, 1e6),
    ("2026-02-06", "SPY", 694.0, 700.0, 693.0, 699.0, 699.0, 2e6),
]


def test_clean_frame_passes_every_blocking_rule():
    results = audit_prices(frame(GOOD), lambda day: ["IWM", "SPY"], [D1, D2])
    assert [r.name for r in results] == [
        "expected_tickers_present",
        "no_null_prices",
        "prices_positive",
        "ohlc_consistent",
        "unique_trade_date_ticker",
    ]
    assert all(r.passed for r in results)


def test_missing_ticker_is_named_with_its_session():
    missing = missing_tickers(frame(GOOD[:3]), lambda day: ["IWM", "SPY"], [D1, D2])
    assert missing.to_dict("records") == [{"trade_date": pd.Timestamp(D2), "ticker": "SPY"}]


def test_ticker_not_yet_listed_is_not_expected():
    assert missing_tickers(frame(GOOD[:1]), lambda day: ["IWM"], [D1]).empty


def test_negative_price_is_named_with_ticker_and_date():
    rows = list(GOOD)
    rows[2] = ("2026-02-06", "IWM", 261.0, 266.0, 260.5, -265.0, 265.0, 1e6)
    results = {r.name: r for r in audit_prices(frame(rows), lambda day: ["IWM", "SPY"], [D1, D2])}
    failed = results["prices_positive"]
    assert not failed.passed
    assert failed.violations[["ticker"]].values.tolist() == [["IWM"]]
    assert "IWM on 2026-02-06" in failed.summary() and "close=-265" in failed.summary()
    assert "prices_positive" in failed.summary()


def test_zero_price_is_not_positive():
    rows = [("2026-02-05", "IWM", 0.0, 262.0, 0.0, 261.0, 261.0, 1e6)]
    assert len(nonpositive_prices(frame(rows))) == 1


def test_null_price_fails_but_empty_volume_does_not():
    rows = [
        ("2026-02-05", "^RUT", 2600.0, 2610.0, 2590.0, 2605.0, 2605.0, np.nan),
        ("2026-02-05", "IWM", 260.0, 262.0, np.nan, 261.0, 261.0, 1e6),
    ]
    assert null_prices(frame(rows))["ticker"].tolist() == ["IWM"]


@pytest.mark.parametrize(
    "low, high, bad",
    [
        (259.0, 262.0, False),
        (260.7, 262.0, False),  # low 0.08% above the body's low (the 260.5 open): rounding
        (261.0, 262.0, True),  # 0.19% above the body: inconsistent
        (259.0, 260.9, False),  # high 0.04% below the close: rounding
        (259.0, 260.0, True),  # high 0.38% below the close
    ],
)
def test_ohlc_bounds_with_rounding_tolerance(low, high, bad):
    rows = [("2026-02-05", "IWM", 260.5, high, low, 261.0, 261.0, 1e6)]
    assert (len(inconsistent_ohlc(frame(rows))) == 1) is bad


def test_duplicate_keys_flag_both_rows():
    rows = [GOOD[0], GOOD[0], GOOD[1]]
    assert len(duplicate_keys(frame(rows))) == 2


def test_large_moves_compare_against_the_session_before_the_window():
    previous = frame([("2026-01-29", "SLV", 100.0, 101.0, 99.0, 100.0, 100.0, 1.0)])
    window = frame(
        [
            ("2026-01-30", "SLV", 90.0, 91.0, 68.0, 69.0, 69.0, 1.0),  # -31%
            ("2026-02-02", "SLV", 69.0, 75.0, 68.0, 74.0, 74.0, 1.0),  # +7.2%
        ]
    )
    moves = large_moves(window, previous)
    assert moves["trade_date"].tolist() == [pd.Timestamp("2026-01-30")]
    assert moves["move"].iloc[0] == pytest.approx(-0.31)
    assert large_moves(window).empty  # without the previous close the first day has no move


def test_a_close_only_bar_is_complete_but_a_bar_missing_only_some_parts_is_not():
    rows = [
        # Close-only: the vendor kept only close and adj_close (open, high, low all empty).
        ("2026-02-05", "UNF", np.nan, np.nan, np.nan, 170.35, 170.35, np.nan),
        # Open and high present, low missing: a defect.
        ("2026-02-05", "IWM", 260.0, 262.0, np.nan, 261.0, 261.0, 1e6),
        # adj_close missing: a defect even with every other field.
        ("2026-02-05", "SPY", 690.0, 695.0, 688.0, 694.0, np.nan, 2e6),
    ]
    assert null_prices(frame(rows))["ticker"].tolist() == ["IWM", "SPY"]
    assert inconsistent_ohlc(frame(rows[:1])).empty  # nothing to compare on a close-only bar


# Five sessions of the week of 2026-02-02, every ticker listed since 2000.
WEEK5 = [dt.date(2026, 2, d) for d in (2, 3, 4, 5, 6)]
LISTED = pd.DataFrame(
    {
        "ticker": ["FULL", "STOPS", "HOLE", "NEW", "GONE", "DELISTED"],
        "first_trading_date": pd.to_datetime(["2000-01-03"] * 6),
        "last_trading_date": pd.to_datetime([None, None, None, None, None, "2026-02-03"]),
    }
)


def bars_on(ticker: str, days: list[int]) -> list[tuple]:
    return [(f"2026-02-{d:02d}", ticker, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0) for d in days]


def test_a_hole_blocks_and_a_stale_tail_is_named_with_its_last_session():
    week = frame(
        bars_on("FULL", [2, 3, 4, 5, 6])
        + bars_on("STOPS", [2, 3, 4])  # stale tail: no bar after 02-04
        + bars_on("HOLE", [2, 3, 5, 6])  # 02-04 missing between 02-03 and 02-05: a hole
        + bars_on("NEW", [5, 6])  # no history: 02-02..02-04 are missing, not a tail
        + bars_on("DELISTED", [2, 3])  # delisted on 02-03: nothing expected after
        # GONE: no bar in the week, stored history up to 2026-01-30: stale since then
    )
    history = pd.DataFrame(
        {
            "ticker": ["FULL", "STOPS", "HOLE", "GONE", "DELISTED"],
            "last_stored": pd.to_datetime(["2026-01-30"] * 5),
        }
    )
    holes, stale = holes_and_stale_tails(week, LISTED, WEEK5, history)
    assert list(zip(holes["trade_date"].dt.day, holes["ticker"], strict=True)) == [
        (2, "NEW"),
        (3, "NEW"),
        (4, "HOLE"),
        (4, "NEW"),
    ]
    # STOPS: 02-05, 02-06 without a bar (2). GONE: the whole week (5), last bar 2026-01-30.
    assert stale.to_dict("records") == [
        {
            "ticker": "GONE",
            "last_session": pd.Timestamp("2026-01-30"),
            "sessions_without_bar": 5,
            "through": pd.Timestamp("2026-02-06"),
        },
        {
            "ticker": "STOPS",
            "last_session": pd.Timestamp("2026-02-04"),
            "sessions_without_bar": 2,
            "through": pd.Timestamp("2026-02-06"),
        },
    ]


def test_a_ticker_with_no_bar_and_no_history_is_missing_not_stale():
    week = frame(bars_on("FULL", [2, 3, 4, 5, 6]))
    universe = LISTED[LISTED["ticker"].isin(["FULL", "GONE"])]
    holes, stale = holes_and_stale_tails(week, universe, WEEK5)
    assert holes["ticker"].tolist() == ["GONE"] * 5
    assert stale.empty


def test_a_series_resuming_after_stored_history_ends_early_has_a_hole_before_the_window():
    # Stored bars end 2026-01-28 (Wed); the window 02-02..02-06 delivers every day. 01-29 and
    # 01-30 lie between two delivered bars: holes, though outside the window.
    week = frame(bars_on("FULL", [2, 3, 4, 5, 6]))
    history = pd.DataFrame({"ticker": ["FULL"], "last_stored": pd.to_datetime(["2026-01-28"])})
    holes, stale = holes_and_stale_tails(week, LISTED[LISTED["ticker"] == "FULL"], WEEK5, history)
    assert holes["trade_date"].tolist() == [pd.Timestamp("2026-01-29"), pd.Timestamp("2026-01-30")]
    assert stale.empty
