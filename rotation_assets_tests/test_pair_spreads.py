"""pair_spreads: both legs required, spread exactly small - large on the pair's basis, leader by
sign, spec."""

import numpy as np
import pandas as pd
import pytest

from rotation_assets.metrics.pair_spreads import PAIR_SPREADS, leader_of, pair_spreads
from rotation_assets.reference.universe import load_rotation_pairs, load_universe

D1, D2, D3, D4, D5 = pd.to_datetime(
    ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
)
PAIRS = pd.DataFrame(
    {
        "pair_id": ["A", "B"],
        "small": ["S1", "S1"],
        "large": ["L1", "L2"],
        "basis": ["total_return", "total_return"],
        "description": ["S1 vs L1", "S1 vs L2 (L2 starts later)"],
    }
)


def returns_frame(rows: list[tuple[pd.Timestamp, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["trade_date", "ticker", "total_return"])
    # A different price return proves the spread uses total returns.
    frame["price_return"] = frame["total_return"] - 0.001
    frame["source"] = "csv"
    return frame[["trade_date", "ticker", "price_return", "total_return", "source"]]


# S1 and L1 start on D1 (no return row that day); L2 starts on D3 (first row on D4).
RETURNS = returns_frame(
    [
        (D2, "S1", 0.01),
        (D3, "S1", -0.02),
        (D4, "S1", 0.005),
        (D5, "S1", 0.03),
        (D2, "L1", 0.004),
        (D3, "L1", -0.02),
        (D4, "L1", 0.01),
        (D5, "L1", 0.01),
        (D4, "L2", 0.0),
        (D5, "L2", 0.05),
    ]
)


def test_one_row_per_pair_and_session_where_both_sides_have_a_return():
    out = pair_spreads(RETURNS, PAIRS)
    # D1: first session of every ticker, no returns -> no row. B has no row before L2's D4.
    # Sorted by trade_date, then pair_id.
    assert list(zip(out["trade_date"], out["pair_id"], strict=True)) == [
        (D2, "A"),
        (D3, "A"),
        (D4, "A"),
        (D4, "B"),
        (D5, "A"),
        (D5, "B"),
    ]
    assert list(out["small"]) == ["S1"] * 6
    assert list(out["large"]) == ["L1", "L1", "L1", "L2", "L1", "L2"]
    # A: D2 0.01 - 0.004 = 0.006; D3 -0.02 - -0.02 = 0 (tie); D4 0.005 - 0.01 = -0.005;
    # B: D4 0.005 - 0 = 0.005; A: D5 0.03 - 0.01 = 0.02; B: D5 0.03 - 0.05 = -0.02.
    assert list(out["small_return"]) == pytest.approx([0.01, -0.02, 0.005, 0.005, 0.03, 0.03])
    assert list(out["large_return"]) == pytest.approx([0.004, -0.02, 0.01, 0.0, 0.01, 0.05])
    assert list(out["spread"]) == pytest.approx([0.006, 0.0, -0.005, 0.005, 0.02, -0.02])
    assert list(out["leader"]) == ["small", "tie", "large", "small", "small", "large"]


def test_a_price_pair_compares_price_returns():
    # Pair A on the price basis: price_return = total_return - 0.001 for every row, so
    # D2: (0.01 - 0.001) - (0.004 - 0.001) = 0.009 - 0.003 = 0.006, the same spread as on the
    # total-return basis, while the legs' returns are 0.001 lower.
    pairs = PAIRS.assign(basis=["price", "total_return"])
    out = pair_spreads(RETURNS, pairs)
    a = out[out["pair_id"] == "A"].set_index("trade_date")
    assert a.loc[D2, "basis"] == "price"
    assert a.loc[D2, "small_return"] == pytest.approx(0.009)
    assert a.loc[D2, "large_return"] == pytest.approx(0.003)
    assert a.loc[D2, "spread"] == pytest.approx(0.006)
    b = out[out["pair_id"] == "B"].set_index("trade_date")
    assert b.loc[D4, "small_return"] == pytest.approx(0.005)  # B stays on total return
    assert set(b["basis"]) == {"total_return"}


def test_a_leg_that_stops_ends_the_pair_at_the_last_common_session():
    # L1 has no return after D3 (its series stopped): pair A ends on D3, with no half row on
    # D4 or D5; pair B (S1 vs L2) goes on.
    returns = RETURNS[~((RETURNS["ticker"] == "L1") & (RETURNS["trade_date"] > D3))]
    out = pair_spreads(returns, PAIRS)
    assert list(out.loc[out["pair_id"] == "A", "trade_date"]) == [D2, D3]
    assert list(out.loc[out["pair_id"] == "B", "trade_date"]) == [D4, D5]
    assert out[["small_return", "large_return", "spread"]].notna().all().all()


def test_spread_is_exactly_the_subtraction_and_a_tie_is_exactly_zero():
    out = pair_spreads(RETURNS, PAIRS)
    assert (out["spread"] == out["small_return"] - out["large_return"]).all()
    tie = out[out["leader"] == "tie"]
    assert len(tie) == 1 and tie["spread"].iloc[0] == 0.0


def test_a_missing_or_nan_total_return_drops_the_session():
    returns = RETURNS.copy()
    returns.loc[(returns["ticker"] == "L1") & (returns["trade_date"] == D5), "total_return"] = (
        np.nan
    )
    returns = returns[~((returns["ticker"] == "S1") & (returns["trade_date"] == D4))]
    out = pair_spreads(returns, PAIRS)
    # A loses D4 (S1 missing) and D5 (L1 NaN); B loses D4 (S1 missing).
    assert list(zip(out["trade_date"], out["pair_id"], strict=True)) == [
        (D2, "A"),
        (D3, "A"),
        (D5, "B"),
    ]


def test_leader_by_sign_with_exact_zero_as_tie():
    spread = pd.Series([1e-300, -1e-300, 0.0, -0.0, 0.5])
    assert list(leader_of(spread)) == ["small", "large", "tie", "tie", "small"]


def test_frame_matches_the_table_spec():
    out = pair_spreads(RETURNS, PAIRS)
    assert list(out.columns) == PAIR_SPREADS.column_names
    assert str(out["trade_date"].dtype) == "datetime64[ns]"
    assert out["spread"].dtype == "float64"
    assert PAIR_SPREADS.qualified_name == "analytics.pair_spreads"
    # Rebuilt from a session on by the analytics refresh, never written by windows.
    assert PAIR_SPREADS.window_column is None
    assert all(c.description for c in PAIR_SPREADS.columns)


def test_no_returns_gives_an_empty_frame_with_the_spec_columns():
    out = pair_spreads(RETURNS.iloc[0:0], PAIRS)
    assert out.empty
    assert list(out.columns) == PAIR_SPREADS.column_names


def test_every_seeded_pair_gets_spreads():
    pairs = load_rotation_pairs(load_universe())
    tickers = sorted(set(pairs["small"]) | set(pairs["large"]))
    # Ticker i returns 0.001 * i on D2 and D3: spread = 0.001 * (i_small - i_large).
    returns = returns_frame(
        [(day, t, 0.001 * i) for day in (D2, D3) for i, t in enumerate(tickers)]
    )
    out = pair_spreads(returns, pairs)
    assert len(out) == 2 * len(pairs)
    assert set(out["pair_id"]) == set(pairs["pair_id"])
    position = {t: i for i, t in enumerate(tickers)}
    expected = [
        0.001 * position[small] - 0.001 * position[large]
        for small, large in zip(out["small"], out["large"], strict=True)
    ]
    assert list(out["spread"]) == pytest.approx(expected)


def test_source_combines_the_two_sides():
    returns = RETURNS.copy()
    returns.loc[(returns["ticker"] == "L1") & (returns["trade_date"] == D2), "source"] = "synthetic"
    out = pair_spreads(returns, PAIRS)
    a = out[out["pair_id"] == "A"].set_index("trade_date")["source"]
    assert a[D2] == "csv+synthetic"
    assert a[D3] == "csv"
