"""relative_strength: indices from base 100, windows, ytd, drawdown, point-in-time percentile."""

import time

import duckdb
import numpy as np
import pandas as pd
import pytest

from rotation_assets.metrics.outperformance_streaks import (
    outperformance_streaks,
    streak_sessions_add_up,
)
from rotation_assets.metrics.pair_spreads import leader_of, pair_spreads
from rotation_assets.metrics.relative_strength import (
    RELATIVE_STRENGTH,
    WINDOW_LABELS,
    relative_measures_agree,
    relative_strength,
)
from rotation_assets.paths import SEEDS_DIR


def spreads_frame(
    pair_id: str, dates: list[str] | pd.DatetimeIndex, small: list[float], large: list[float]
) -> pd.DataFrame:
    """A pair_spreads-shaped frame for one pair."""
    frame = pd.DataFrame(
        {
            "trade_date": pd.to_datetime(dates),
            "pair_id": pair_id,
            "small": "S",
            "large": "L",
            "small_return": np.asarray(small, dtype="float64"),
            "large_return": np.asarray(large, dtype="float64"),
        }
    )
    frame["spread"] = frame["small_return"] - frame["large_return"]
    frame["leader"] = leader_of(frame["spread"])
    return frame


def pair_rows(out: pd.DataFrame, pair_id: str) -> pd.DataFrame:
    return out[out["pair_id"] == pair_id].reset_index(drop=True)


THREE = spreads_frame(
    "P", ["2024-01-02", "2024-01-03", "2024-01-04"], [0.10, -0.10, 0.0], [0.0, 0.10, -0.5]
)


def test_indices_ratio_and_one_session_measures_by_hand():
    out = relative_strength(THREE)
    # small_index: 100*1.1 = 110, *0.9 = 99, *1.0 = 99; large_index: 100, 110, 55.
    assert list(out["small_index"]) == pytest.approx([110.0, 99.0, 99.0])
    assert list(out["large_index"]) == pytest.approx([100.0, 110.0, 55.0])
    # ratio = 100 * small / large: 110, 90, 180.
    assert list(out["ratio"]) == pytest.approx([110.0, 90.0, 180.0])
    # ratio_change_1: 110/100 - 1 (from the base), 90/110 - 1 = -2/11, 180/90 - 1 = 1.
    assert list(out["ratio_change_1"]) == pytest.approx([0.10, -2 / 11, 1.0])
    # return_difference_1 = s - l: 0.1 - 0, -0.1 - 0.1, 0 - (-0.5).
    assert list(out["return_difference_1"]) == pytest.approx([0.10, -0.20, 0.50])
    assert list(out["spread_sum_1"]) == list(out["spread"])
    # Running max incl. base 100: 110, 110, 180 -> drawdown 0, 90/110 - 1 = -2/11, 0.
    assert list(out["ratio_drawdown"]) == pytest.approx([0.0, -2 / 11, 0.0])


def test_windows_longer_than_the_history_are_null_and_ytd_starts_at_the_base():
    out = relative_strength(THREE)
    for window in (5, 20, 60, 90, 252):
        for measure in ("ratio_change", "return_difference", "spread_sum"):
            assert out[f"{measure}_{window}"].isna().all()
    assert out["ratio_change_252_percentile"].isna().all()
    # First calendar year: base 100. Last row: 180/100 - 1 = 0.8;
    # (99/100 - 1) - (55/100 - 1) = -0.01 + 0.45 = 0.44; 0.1 - 0.2 + 0.5 = 0.4.
    assert list(out["ratio_change_ytd"]) == pytest.approx([0.10, -0.10, 0.80])
    assert list(out["return_difference_ytd"]) == pytest.approx([0.10, -0.11, 0.44])
    assert list(out["spread_sum_ytd"]) == pytest.approx([0.10, -0.10, 0.40])


def test_a_window_of_w_sessions_counts_the_base_as_session_0():
    dates = pd.bdate_range("2024-01-01", periods=6)
    spreads = spreads_frame(
        "P", dates, [0.01, 0.02, -0.01, 0.0, 0.03, 0.04], [0.0, 0.0, 0.0, 0.0, 0.0, 0.02]
    )
    out = relative_strength(spreads)
    assert out["ratio_change_5"].iloc[:4].isna().all()
    assert out["spread_sum_5"].iloc[:4].isna().all()
    # k=5 from the base: 1.01 * 1.02 * 0.99 * 1.0 * 1.03 = 1.05049494 (large flat).
    assert out["ratio_change_5"].iloc[4] == pytest.approx(0.05049494)
    assert out["return_difference_5"].iloc[4] == pytest.approx(0.05049494)
    assert out["spread_sum_5"].iloc[4] == pytest.approx(0.05)
    # k=6 from k=1: small 1.02 * 0.99 * 1.0 * 1.03 * 1.04 = 1.08169776, large 1.02.
    # ratio_change = 1.08169776 / 1.02 - 1 = 0.060488;
    # return_difference = 0.08169776 - 0.02 = 0.06169776;
    # spread_sum = 0.02 - 0.01 + 0 + 0.03 + (0.04 - 0.02) = 0.06.
    assert out["ratio_change_5"].iloc[5] == pytest.approx(0.060488)
    assert out["return_difference_5"].iloc[5] == pytest.approx(0.06169776)
    assert out["spread_sum_5"].iloc[5] == pytest.approx(0.06)


def test_ytd_across_a_year_boundary_uses_the_previous_year_end():
    spreads = spreads_frame(
        "Y",
        ["2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03"],
        [0.10, 0.0, 0.10, -0.5],
        [0.0, 0.10, 0.0, 0.0],
    )
    out = relative_strength(spreads)
    # small_index 110, 110, 121, 60.5; large_index 100, 110, 110, 110; ratio 110, 100, 110, 55.
    assert list(out["ratio"]) == pytest.approx([110.0, 100.0, 110.0, 55.0])
    # 2023 (first year): from the base 100. 2024: from 2023-12-29 (110, 110, ratio 100):
    # 110/100 - 1 = 0.1, 55/100 - 1 = -0.45.
    assert list(out["ratio_change_ytd"]) == pytest.approx([0.10, 0.0, 0.10, -0.45])
    # 2024: (121/110 - 1) - (110/110 - 1) = 0.1; (60.5/110 - 1) - 0 = -0.45.
    assert list(out["return_difference_ytd"]) == pytest.approx([0.10, 0.0, 0.10, -0.45])
    # 2023: 0.1, 0.1 - 0.1; 2024 restarts: 0.1, 0.1 - 0.5.
    assert list(out["spread_sum_ytd"]) == pytest.approx([0.10, 0.0, 0.10, -0.40])
    # Running max 110 throughout: 0, 100/110 - 1, 0, 55/110 - 1.
    assert list(out["ratio_drawdown"]) == pytest.approx([0.0, -1 / 11, 0.0, -0.5])


def test_each_pair_has_its_own_base_and_pairs_do_not_mix():
    late = spreads_frame("Q", ["2024-01-04", "2024-01-05"], [0.02, 0.01], [0.01, 0.0])
    out = relative_strength(pd.concat([THREE, late], ignore_index=True))
    # Sorted by trade_date, pair_id.
    assert list(out["pair_id"]) == ["P", "P", "P", "Q", "Q"]
    q = pair_rows(out, "Q")
    # Q's base is just before 2024-01-04: 102 / 101 on its first row.
    assert list(q["small_index"]) == pytest.approx([102.0, 103.02])
    assert list(q["large_index"]) == pytest.approx([101.0, 101.0])
    assert q["ratio_change_1"].iloc[0] == pytest.approx(10200 / 101 / 100 - 1)
    pd.testing.assert_frame_equal(pair_rows(out, "P"), relative_strength(THREE))


def test_percentile_is_point_in_time_by_hand():
    # 255 sessions; small moves only on sessions 252..255 (+10%, -50%, +100%, -20%), large flat.
    small = [0.0] * 251 + [0.10, -0.5, 1.0, -0.2]
    dates = pd.bdate_range("2020-01-01", periods=255)
    out = relative_strength(spreads_frame("P", dates, small, [0.0] * 255))
    # ratio 252 sessions earlier is 100 for k = 252..255 (base or flat), so
    # ratio_change_252 = cumulated growth - 1: 0.1, 1.1*0.5 - 1 = -0.45, 1.1 - 1 = 0.1, 0.88 - 1.
    tail = out.iloc[251:]
    assert list(tail["ratio_change_252"]) == pytest.approx([0.10, -0.45, 0.10, -0.12])
    # Shares <= today so far: {0.1} -> 1/1; {0.1, -0.45} -> 1/2; {0.1, -0.45, 0.1} -> 3/3
    # (the tie counts); {0.1, -0.45, 0.1, -0.12} -> 2/4.
    assert list(tail["ratio_change_252_percentile"]) == pytest.approx([1.0, 0.5, 1.0, 0.5])
    assert out["ratio_change_252_percentile"].iloc[:251].isna().all()


def test_percentile_matches_a_brute_force_count_with_ties():
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2020-01-01", periods=600)
    # Sparse moves: on a session where neither end of the 252-session window moves,
    # ratio_change_252 repeats the previous value bit for bit, so ties are plentiful.
    small = rng.normal(0, 0.01, 600) * (rng.random(600) < 0.1)
    large = np.zeros(600)
    out = relative_strength(spreads_frame("P", dates, small, large))
    values = out["ratio_change_252"].to_numpy()
    assert len(np.unique(values[251:])) < len(values[251:]) / 2
    expected = [
        np.nan if np.isnan(v) else np.mean(values[251 : i + 1] <= v) for i, v in enumerate(values)
    ]
    np.testing.assert_array_equal(out["ratio_change_252_percentile"].to_numpy(), expected)


def test_adding_future_sessions_changes_no_past_row():
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2020-01-01", periods=400)
    small, large = rng.normal(0, 0.01, 400), rng.normal(0, 0.01, 400)
    full = relative_strength(spreads_frame("P", dates, small, large))
    past = relative_strength(spreads_frame("P", dates[:300], small[:300], large[:300]))
    pd.testing.assert_frame_equal(full.iloc[:300], past)
    assert full["ratio_change_252_percentile"].iloc[251:].between(0, 1).all()


def test_one_session_measures_agree():
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2020-01-01", periods=500)
    out = relative_strength(
        spreads_frame("P", dates, rng.normal(0, 0.02, 500), rng.normal(0, 0.02, 500))
    )
    assert (out["spread_sum_1"] == out["spread"]).all()
    assert np.allclose(out["return_difference_1"], out["spread"], rtol=0, atol=1e-14)
    expected = (1 + out["small_return"]) / (1 + out["large_return"]) - 1
    assert np.allclose(out["ratio_change_1"], expected, rtol=0, atol=1e-14)
    assert relative_measures_agree(out).empty


def test_disagreeing_rows_are_reported_with_the_broken_rule():
    out = relative_strength(THREE)
    out.loc[0, "spread_sum_1"] += 1e-15
    out.loc[2, "ratio_change_1"] += 1e-9
    bad = relative_measures_agree(out)
    assert list(bad["trade_date"]) == list(pd.to_datetime(["2024-01-02", "2024-01-04"]))
    assert list(bad["problem"]) == ["spread_sum_1 != spread", "ratio_change_1 !~ (1+s)/(1+l)-1"]


def test_frame_matches_the_spec_and_nan_is_stored_as_null():
    out = relative_strength(THREE)
    assert list(out.columns) == RELATIVE_STRENGTH.column_names
    assert RELATIVE_STRENGTH.qualified_name == "analytics.relative_strength"
    assert all(c.description for c in RELATIVE_STRENGTH.columns)
    for label in WINDOW_LABELS:
        for measure in ("ratio_change", "return_difference", "spread_sum"):
            assert f"{measure}_{label}" in out.columns
    con = duckdb.connect()
    con.execute("CREATE SCHEMA analytics")
    con.execute(RELATIVE_STRENGTH.create_sql())
    con.register("frame", out)
    con.execute("INSERT INTO analytics.relative_strength BY NAME SELECT * FROM frame")
    nulls = con.execute(
        "SELECT count(*) FROM analytics.relative_strength WHERE ratio_change_252 IS NULL"
    ).fetchone()[0]
    assert nulls == 3


def test_no_spreads_gives_an_empty_frame_with_the_spec_columns():
    out = relative_strength(THREE.iloc[0:0])
    assert out.empty and list(out.columns) == RELATIVE_STRENGTH.column_names


def test_performance_4_pairs_by_9000_sessions():
    """Timing sanity for all three analytics; printed (run with -s), not asserted."""
    pairs = pd.read_csv(SEEDS_DIR / "rotation_pairs.csv")
    tickers = sorted(set(pairs["small"]) | set(pairs["large"]))
    dates = pd.bdate_range("1990-01-02", periods=9001)
    rng = np.random.default_rng(3)
    returns = pd.DataFrame(
        {
            "trade_date": np.repeat(dates[1:], len(tickers)),
            "ticker": np.tile(tickers, len(dates) - 1),
            "total_return": rng.normal(0.0004, 0.012, (len(dates) - 1) * len(tickers)).round(4),
        }
    )
    returns["price_return"] = returns["total_return"]

    started = time.perf_counter()
    spreads = pair_spreads(returns, pairs)
    spread_seconds = time.perf_counter() - started
    spreads["source"] = "synthetic"  # as stored: outperformance_streaks reads the source column
    started = time.perf_counter()
    strength = relative_strength(spreads)
    strength_seconds = time.perf_counter() - started
    started = time.perf_counter()
    streaks = outperformance_streaks(spreads)
    streak_seconds = time.perf_counter() - started
    print(
        f"\n4 pairs x 9000 sessions: pair_spreads {spread_seconds:.3f}s, relative_strength "
        f"{strength_seconds:.3f}s, outperformance_streaks {streak_seconds:.3f}s "
        f"({len(streaks)} runs, {int((spreads['leader'] == 'tie').sum())} ties)"
    )
    assert len(spreads) == len(strength) == 4 * 9000
    assert relative_measures_agree(strength).empty
    assert streak_sessions_add_up(streaks, spreads).empty
