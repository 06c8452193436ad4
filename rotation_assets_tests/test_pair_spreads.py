"""pair_spreads: both legs required, both returns over the same interval (aligned legs),
spread exactly small - large on the pair's basis, leader by sign, spec."""

import numpy as np
import pandas as pd
import pytest

from rotation_assets.metrics.pair_spreads import (
    PAIR_SPREADS,
    leader_of,
    pair_spreads,
    pair_spreads_sql,
)
from rotation_assets.metrics.sql_on_frames import query_frames
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
    # Every row runs from the session before; B's first from D3, L2's first price.
    assert list(out["previous_date"]) == [D1, D2, D3, D3, D4, D4]


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


def test_a_missing_return_compounds_the_other_leg_and_a_nan_return_drops_its_interval():
    returns = RETURNS.copy()
    returns.loc[(returns["ticker"] == "L1") & (returns["trade_date"] == D5), "total_return"] = (
        np.nan
    )
    # S1 has no bar on D4: its D5 return (0.03) runs from D3 (previous_date is S1's previous
    # row, as daily_returns computes it).
    returns = returns[~((returns["ticker"] == "S1") & (returns["trade_date"] == D4))]
    out = pair_spreads(returns, PAIRS)
    # A (S1 vs L1): common sessions D1, D2, D3, D5. D2 and D3 as before; D5 runs from D3, and
    # L1's return over D4..D5 holds its NaN on D5: unknown, so A has no row on D5.
    # B (S1 vs L2): L2 is priced from D3 (its D4 row runs from there); common sessions D3, D5:
    # no row on D4 (S1 missing), and on D5 both legs run from D3:
    #   S1: 0.03 (one row, D3 -> D5); L2: (1 + 0.0) * (1 + 0.05) - 1 = 0.05
    #   spread = 0.03 - 0.05 = -0.02 (large). Before legs were aligned, B's D5 row compared
    #   S1's two-session 0.03 with L2's one-session 0.05 (equal here only because L2's D4
    #   return is 0).
    assert list(zip(out["trade_date"], out["pair_id"], strict=True)) == [
        (D2, "A"),
        (D3, "A"),
        (D5, "B"),
    ]
    b = out.iloc[2]
    assert b["previous_date"] == D3
    assert b["small_return"] == pytest.approx(0.03)
    assert b["large_return"] == pytest.approx(0.05)
    assert b["spread"] == pytest.approx(-0.02)
    assert b["leader"] == "large"


# Aligned legs, by hand: D1..D5 as above, S and L priced from D1.
ALIGNED = pd.DataFrame(
    {
        "pair_id": ["P"],
        "small": ["S"],
        "large": ["L"],
        "basis": ["total_return"],
        "description": ["S vs L"],
    }
)


def test_a_session_missing_on_one_leg_compounds_the_other_leg_over_both_sessions():
    # L has no bar on D3: its D4 return 0.03 runs from D2.
    returns = returns_frame(
        [
            (D2, "S", 0.01),
            (D3, "S", 0.02),
            (D4, "S", -0.01),
            (D5, "S", 0.03),
            (D2, "L", 0.005),
            (D4, "L", 0.03),
            (D5, "L", 0.01),
        ]
    )
    out = pair_spreads(returns, ALIGNED).set_index("trade_date")
    # Common sessions D1, D2, D4, D5: no row on D3.
    assert list(out.index) == [D2, D4, D5]
    assert list(out["previous_date"]) == [D1, D2, D4]
    # D2: 0.01 - 0.005 = 0.005.
    # D4, from D2: S = (1 + 0.02) * (1 - 0.01) - 1 = 1.0098 - 1 = 0.0098; L = 0.03;
    #   spread = 0.0098 - 0.03 = -0.0202 (joined on trade_date alone it was -0.01 - 0.03 = -0.04).
    # D5, from D4: 0.03 - 0.01 = 0.02.
    assert list(out["small_return"]) == pytest.approx([0.01, 0.0098, 0.03])
    assert list(out["large_return"]) == pytest.approx([0.005, 0.03, 0.01])
    assert list(out["spread"]) == pytest.approx([0.005, -0.0202, 0.02])
    assert list(out["leader"]) == ["small", "large", "small"]
    # One row per leg on D2 and D5: taken as it is, bit for bit.
    assert out.loc[D2, "small_return"] == 0.01 and out.loc[D5, "large_return"] == 0.01


def test_a_nan_return_drops_only_the_interval_it_falls_in():
    returns = returns_frame(
        [
            (D2, "S", 0.01),
            (D3, "S", np.nan),
            (D4, "S", 0.02),
            (D5, "S", -0.01),
            (D2, "L", 0.0),
            (D3, "L", 0.01),
            (D4, "L", 0.01),
            (D5, "L", 0.0),
        ]
    )
    out = pair_spreads(returns, ALIGNED).set_index("trade_date")
    # S is priced on D3 (it has a row there, measured from D2) but its D2 -> D3 return is
    # unknown: no row on D3. D4 runs from D3: 0.02 - 0.01 = 0.01; D5: -0.01 - 0.0 = -0.01.
    assert list(out.index) == [D2, D4, D5]
    assert out.loc[D4, "previous_date"] == D3
    assert list(out["spread"]) == pytest.approx([0.01, 0.01, -0.01])


def test_a_nan_inside_a_compounded_interval_drops_that_interval():
    # S has no bar on D3 and L's D3 return is NaN: S's D4 return runs from D2, and L's return
    # over D3..D4 is unknown, so no row on D4; D5 runs from D4: 0.03 - 0.02 = 0.01.
    returns = returns_frame(
        [
            (D2, "S", 0.01),
            (D4, "S", 0.02),
            (D5, "S", 0.03),
            (D2, "L", 0.0),
            (D3, "L", np.nan),
            (D4, "L", 0.01),
            (D5, "L", 0.02),
        ]
    )
    out = pair_spreads(returns, ALIGNED)
    assert list(out["trade_date"]) == [D2, D5]
    assert list(out["spread"]) == pytest.approx([0.01, 0.01])


def test_legs_that_stop_at_different_sessions_run_to_their_last_common_session():
    # S stops after D4, L after D5; T (the large leg of Q) stops after D3.
    returns = returns_frame(
        [
            (D2, "S", 0.01),
            (D3, "S", 0.02),
            (D4, "S", -0.03),
            (D2, "L", 0.02),
            (D3, "L", 0.01),
            (D4, "L", 0.01),
            (D5, "L", 0.05),
            (D2, "T", -0.01),
            (D3, "T", 0.04),
        ]
    )
    pairs = pd.concat(
        [ALIGNED, ALIGNED.assign(pair_id="Q", large="T", description="S vs T")],
        ignore_index=True,
    )
    out = pair_spreads(returns, pairs)
    p = out[out["pair_id"] == "P"].set_index("trade_date")
    q = out[out["pair_id"] == "Q"].set_index("trade_date")
    # P: last common session D4 (L's D5 has no S to compare with).
    # D2: 0.01 - 0.02 = -0.01; D3: 0.02 - 0.01 = 0.01; D4: -0.03 - 0.01 = -0.04.
    assert list(p.index) == [D2, D3, D4]
    assert list(p["spread"]) == pytest.approx([-0.01, 0.01, -0.04])
    # Q: last common session D3. D2: 0.01 - (-0.01) = 0.02; D3: 0.02 - 0.04 = -0.02.
    assert list(q.index) == [D2, D3]
    assert list(q["spread"]) == pytest.approx([0.02, -0.02])


def test_from_a_start_session_the_rows_equal_those_of_the_whole_history():
    # L misses D3, so the row of D4 runs from D2, before the start: the SQL reads it anyway.
    returns = returns_frame(
        [
            (D2, "S", 0.01),
            (D3, "S", 0.02),
            (D4, "S", -0.01),
            (D5, "S", 0.03),
            (D2, "L", 0.005),
            (D4, "L", 0.03),
            (D5, "L", 0.01),
        ]
    )
    returns["previous_date"] = returns["trade_date"].map({D2: D1, D3: D2, D4: D3, D5: D4})
    returns.loc[(returns["ticker"] == "L") & (returns["trade_date"] == D4), "previous_date"] = D2
    since = query_frames(
        pair_spreads_sql("returns", "pairs", "DATE '2024-01-05'"), returns=returns, pairs=ALIGNED
    )
    whole = pair_spreads(returns, ALIGNED)
    # D4 (2024-01-05) and D5, the D4 row from D2: S (1.02)(0.99) - 1 = 0.0098 against L 0.03.
    assert list(pd.to_datetime(since["trade_date"])) == [D4, D5]
    assert list(since["spread"]) == pytest.approx([-0.0202, 0.02])
    assert list(since["spread"]) == list(whole["spread"].iloc[1:])


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
