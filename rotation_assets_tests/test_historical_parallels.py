"""historical_parallels: period comparison, rotation episodes and episode similarity, by hand
(and the 2026 episode on the real prices)."""

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from rotation_assets.defs.analytics.assets import AnalyticsConfig
from rotation_assets.metrics import analytics_tables
from rotation_assets.metrics.analytics_tables import EPISODE_SETTINGS
from rotation_assets.metrics.historical_parallels import (
    EPISODES,
    PERIOD_COMPARISON,
    SIMILARITY,
    detect_episodes,
    episode_similarity,
    period_comparison,
)
from rotation_assets.metrics.pair_spreads import pair_spreads
from rotation_assets.metrics.refresh import Scope
from rotation_assets.metrics.relative_strength import relative_strength
from rotation_assets.reference.historical_periods import load_historical_periods
from rotation_assets.reference.seed_files import SeedError
from rotation_assets.warehouse.writes import replace_rows
from rotation_assets_tests.conftest import requires_shared_prices, shared_csv_returns

# Sessions d0..d8 (2024-01-02 is a Tuesday; 2024-01-06/07 are a weekend).
D = pd.to_datetime(
    [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
        "2024-01-09",
        "2024-01-10",
        "2024-01-11",
        "2024-01-12",
    ]
)
PAIRS = pd.DataFrame(
    {
        "pair_id": ["P"],
        "small": ["S"],
        "large": ["L"],
        "basis": ["total_return"],
        "description": ["test"],
    }
)


def returns_frame(total: dict[str, list[float]], price: dict[str, list[float]] | None = None):
    """Daily returns from session d0 on (a ticker's list may start later: pad with None)."""
    price = price or {}
    rows = []
    for ticker, values in total.items():
        prices = price.get(ticker, values)
        for date, tr, pr in zip(D, values, prices, strict=False):
            if tr is not None:
                rows.append((date, ticker, pr, tr, "csv"))
    return pd.DataFrame(
        rows, columns=["trade_date", "ticker", "price_return", "total_return", "source"]
    )


def compare(returns, periods, **kwargs):
    spreads = pair_spreads(returns, PAIRS)
    return period_comparison(periods, PAIRS, returns, spreads, relative_strength(spreads), **kwargs)


def periods_frame(*rows):
    frame = pd.DataFrame(rows, columns=["period_id", "start_date", "end_date"])
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    return frame


# ---- period_comparison ----------------------------------------------------------------------


def test_period_returns_count_the_start_day_move_and_ties_stay_in_the_share():
    # d0..d5; spread = S - L: +0.10, -0.10, 0 (tie), +0.04, -0.10, +0.01
    returns = returns_frame(
        {"S": [0.10, -0.10, 0.05, 0.02, 0.00, 0.01], "L": [0.00, 0.00, 0.05, -0.02, 0.10, 0.00]},
        # S pays a dividend on d3: price return 0.01 against a total return of 0.02.
        price={"S": [0.10, -0.10, 0.05, 0.01, 0.00, 0.01]},
    )
    # Window 2024-01-03..2024-01-08 = sessions d1..d4, measured from the close of d0.
    out = compare(returns, periods_frame(("p", "2024-01-03", "2024-01-08")))
    (row,) = out.to_dict("records")
    assert row["first_session"] == D[1] and row["last_session"] == D[4]
    assert row["sessions"] == 4
    # small TR: 0.90 * 1.05 * 1.02 * 1.00 = 0.9639 -> -0.0361 (d1's -10% is in: start day counts)
    assert row["small_total_return"] == pytest.approx(-0.0361)
    # large TR: 1.00 * 1.05 * 0.98 * 1.10 = 1.1319 -> +0.1319
    assert row["large_total_return"] == pytest.approx(0.1319)
    assert row["relative_return"] == pytest.approx(-0.0361 - 0.1319)
    # small price: 0.90 * 1.05 * 1.01 * 1.00 = 0.95445 -> -0.04555; large price = large TR.
    assert row["small_price_return"] == pytest.approx(-0.04555)
    assert row["large_price_return"] == pytest.approx(0.1319)
    # leaders d1..d4: large, tie, small, large -> 1 small of 4 (not 1 of 3: the tie counts).
    assert row["small_led_share"] == pytest.approx(0.25)
    assert row["longest_small_streak"] == 1
    assert not row["is_current"]
    assert pd.isna(row["coverage_note"])


def test_longest_small_streak_is_clipped_to_the_window_and_broken_by_a_tie():
    # leaders d0..d8: S S S S L S S T S  (L = 0 every day, so leader = sign of S)
    small = [0.01, 0.01, 0.01, 0.01, -0.01, 0.01, 0.01, 0.00, 0.01]
    returns = returns_frame({"S": small, "L": [0.0] * 9})
    # Window d2..d8: the d0-d3 run counts only d2, d3 (2, not 4); d5, d6 = 2; the tie on d7 ends
    # that run, so d8 alone is 1 (3 if ties did not break runs).
    out = compare(returns, periods_frame(("p", D[2], D[8])))
    assert out.loc[0, "longest_small_streak"] == 2
    # 5 small-led sessions of 7: d2, d3, d5, d6, d8.
    assert out.loc[0, "small_led_share"] == pytest.approx(5 / 7)


def test_max_relative_drawdown_starts_its_running_high_at_the_base_close():
    # L is flat, so ratio = 100 * small index: d0 110, d1 121, d2 60.5, d3 121, d4 133.1,
    # d5 99.825.
    returns = returns_frame({"S": [0.10, 0.10, -0.50, 1.00, 0.10, -0.25], "L": [0.0] * 6})
    out = compare(
        returns,
        periods_frame(("from_d2", D[2], D[5]), ("from_d0", D[0], D[1]), ("d4_d5", D[4], D[5])),
    ).set_index("period_id")
    # from_d2: base close d1 = 121; highs 121, 121, 133.1, 133.1 -> 60.5/121 - 1 = -0.5, 0, 0,
    # 99.825/133.1 - 1 = -0.25; min -0.5 (without the base it would be -0.25).
    assert out.loc["from_d2", "max_relative_drawdown"] == pytest.approx(-0.5)
    # from_d0: the pair's first session, base 100; 110, 121 are new highs -> 0.
    assert out.loc["from_d0", "max_relative_drawdown"] == pytest.approx(0.0)
    # d4_d5: base d3 = 121; 133.1 is a high, then 99.825 / 133.1 - 1 = -0.25.
    assert out.loc["d4_d5", "max_relative_drawdown"] == pytest.approx(-0.25)


def test_open_ended_period_is_current_and_runs_to_the_last_session():
    returns = returns_frame({"S": [0.01] * 5, "L": [0.0] * 5})
    out = compare(returns, periods_frame(("now", D[3], None)))
    (row,) = out.to_dict("records")
    assert row["is_current"]
    assert row["first_session"] == D[3] and row["last_session"] == D[4]
    assert row["sessions"] == 2
    # 1.01 * 1.01 - 1 = 0.0201
    assert row["small_total_return"] == pytest.approx(0.0201)


def test_pair_without_data_has_no_row_and_a_late_start_is_noted():
    # S's first return is d3 (its first close is d2); L has returns from d0.
    returns = returns_frame({"S": [None, None, None, 0.01, 0.02], "L": [0.0] * 5})
    periods = periods_frame(
        ("before", "2023-06-01", "2023-12-29"),  # no data at all: no row, not a NaN row
        ("early", "2024-01-02", "2024-01-04"),  # L only: the pair has no session
        ("span", "2024-01-02", "2024-01-08"),
        ("covered", "2024-01-05", "2024-01-08"),
    )
    out = compare(returns, periods).set_index("period_id")
    assert list(out.index) == ["span", "covered"]
    assert out.loc["span", "first_session"] == D[3]
    assert out.loc["span", "coverage_note"] == "S returns start 2024-01-05"
    assert pd.isna(out.loc["covered", "coverage_note"])

    closes = pd.DataFrame({"trade_date": D[2:5], "ticker": "S", "close": [10.0, 10.1, 10.3]})
    with_closes = compare(returns, periods, prices_close=closes).set_index("period_id")
    assert with_closes.loc["span", "coverage_note"] == "S starts 2024-01-04"


def test_period_comparison_without_rows_is_an_empty_conformed_frame():
    returns = returns_frame({"S": [0.01] * 3, "L": [0.0] * 3})
    out = compare(returns, periods_frame(("before", "2020-01-02", "2020-12-31")))
    assert out.empty and list(out.columns) == PERIOD_COMPARISON.column_names


# ---- detect_episodes ------------------------------------------------------------------------

# Sessions s0, s1, ... (business days from Monday 2024-01-01; the dates are only labels).
S = pd.bdate_range("2024-01-01", periods=60)


def ratio_frame(ratio, pair_id: str = "P") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trade_date": S[: len(ratio)],
            "pair_id": pair_id,
            "ratio": np.asarray(ratio, dtype="float64"),
        }
    )


# s0..s9. With window 5 and threshold 5%: s2's 103 is +3% over the low 100; s3's 106 is +6%, so
# the first leg is confirmed on s3 and starts at its trough, s1 (the last of the equal lows s0,
# s1). Highs 110 (s4) and 112 (s6); dips 105 (s5: 4.5% below 110) and 106 (s7: 5.4% below 112).
HYSTERESIS = [100, 100, 103, 106, 110, 105, 112, 106, 104, 105]


def test_a_dip_smaller_than_end_drawdown_does_not_end_the_episode_a_larger_one_does():
    frame = pd.concat([ratio_frame([100, 101, 102, 103], "Q"), ratio_frame(HYSTERESIS)])
    out = detect_episodes(frame, threshold=0.05, window=5, end_drawdown=0.05, merge_gap_sessions=0)
    # Q rises 3% in all: never 5% over a trough, no episode.
    (episode,) = out.to_dict("records")
    # s5: 105 > 110 * 0.95 = 104.5, a 4.5% dip: the leg runs on to the new high 112 on s6.
    # s7: 106 <= 112 * 0.95 = 106.4, a 5.4% fall: the leg ends at its peak s6, known on s7.
    # s8, s9 (104, 105) stand under 1% over the new trough 104 (sought from the peak s6 on).
    assert episode["pair_id"] == "P" and episode["episode_id"] == "P:2024-01-02"
    assert episode["start_date"] == S[1]
    assert episode["confirmed_date"] == S[3]
    assert episode["peak_date"] == S[6] and episode["end_date"] == S[6]
    assert episode["ended_date"] == S[7]
    assert episode["sessions"] == 5  # s2..s6 after the trough s1
    assert episode["legs"] == 1
    # 112 / 100 - 1 from the trough, both to the peak and to the end.
    assert episode["peak_ratio_change"] == pytest.approx(0.12)
    assert episode["ratio_change_over_episode"] == pytest.approx(0.12)
    assert not episode["is_current"]
    assert (episode["window_sessions"], episode["threshold"]) == (5, 0.05)
    assert (episode["end_drawdown"], episode["merge_gap_sessions"]) == (0.05, 0)


def test_legs_fewer_than_merge_gap_sessions_apart_merge_into_one_episode():
    frame = ratio_frame(HYSTERESIS)
    # end_drawdown 4%: s5's 105 <= 110 * 0.96 = 105.6 ends the first leg at its peak s4 (known
    # s5). From s6 the trough is sought from that peak on: the low of s4..s6 (110, 105, 112) is
    # s5's 105 and 112 / 105 - 1 = 6.7% > 5% opens a second leg at s5, confirmed s6; s7's 106 <=
    # 112 * 0.96 = 107.52 ends it at s6.
    apart = detect_episodes(frame, 0.05, 5, end_drawdown=0.04, merge_gap_sessions=1)
    # The second leg's trough comes 1 session after the first's peak (s5 - s4): not fewer than 1.
    assert list(apart["start_date"]) == [S[1], S[5]]
    assert list(apart["confirmed_date"]) == [S[3], S[6]]
    assert list(apart["end_date"]) == [S[4], S[6]]
    assert list(apart["ended_date"]) == [S[5], S[7]]
    assert list(apart["sessions"]) == [3, 1]
    # 110 / 100 - 1; 112 / 105 - 1 = 7/105.
    assert list(apart["peak_ratio_change"]) == pytest.approx([0.10, 7 / 105])

    (merged,) = detect_episodes(frame, 0.05, 5, 0.04, merge_gap_sessions=2).to_dict("records")
    # 1 < 2: one episode from the first trough s1 to the second leg's peak s6, ended on s7.
    assert merged["start_date"] == S[1] and merged["confirmed_date"] == S[3]
    assert merged["peak_date"] == S[6] and merged["end_date"] == S[6]
    assert merged["ended_date"] == S[7]
    assert (merged["sessions"], merged["legs"]) == (5, 2)
    assert merged["peak_ratio_change"] == pytest.approx(0.12)


def test_an_episode_starts_at_the_trough_of_the_last_window_sessions():
    ratio = [100, 97, 95, 96, 99, 101]
    # Window 3: s4's 99 is 4.2% over the low 95 (s2); s5's 101 is 6/95 = 6.3% over it. The
    # episode starts at the trough s2, not on s5 when it became visible, and runs on: current.
    (episode,) = detect_episodes(ratio_frame(ratio), 0.05, 3, 0.05, 0).to_dict("records")
    assert episode["start_date"] == S[2] and episode["confirmed_date"] == S[5]
    assert episode["peak_date"] == S[5] and episode["end_date"] == S[5]
    assert pd.isna(episode["ended_date"]) and episode["is_current"]
    assert episode["sessions"] == 3
    assert episode["ratio_change_over_episode"] == pytest.approx(6 / 95)
    # Window 2: s5 looks back over s3..s5 only; the trough is s3's 96 and 101/96 - 1 = 5.2%.
    (short,) = detect_episodes(ratio_frame(ratio), 0.05, 2, 0.05, 0).to_dict("records")
    assert short["start_date"] == S[3] and short["sessions"] == 2
    assert short["ratio_change_over_episode"] == pytest.approx(5 / 96)


def test_episodes_as_of_a_session_use_only_the_rows_up_to_it():
    frame = ratio_frame(HYSTERESIS)
    as_of_s6 = detect_episodes(frame, 0.05, 5, 0.05, 0, as_of=S[6])
    pd.testing.assert_frame_equal(as_of_s6, detect_episodes(frame.iloc[:7], 0.05, 5, 0.05, 0))
    # On s6 the 5.4% fall of s7 has not happened: the episode is current, ending on s6.
    (episode,) = as_of_s6.to_dict("records")
    assert episode["is_current"] and pd.isna(episode["ended_date"])
    assert episode["start_date"] == S[1] and episode["end_date"] == S[6]


def test_episode_parameters_are_checked_and_no_episode_is_an_empty_frame():
    out = detect_episodes(ratio_frame([100, 101, 102]))
    assert out.empty and list(out.columns) == EPISODES.column_names
    frame = ratio_frame(HYSTERESIS)
    for bad, message in [
        ({"window": 0}, "window"),
        ({"threshold": -0.01}, "threshold"),
        ({"end_drawdown": 0.0}, "end_drawdown"),
        ({"end_drawdown": 1.0}, "end_drawdown"),
        ({"merge_gap_sessions": -1}, "merge_gap_sessions"),
    ]:
        with pytest.raises(ValueError, match=message):
            detect_episodes(frame, **bad)


def test_the_launchpad_settings_reach_the_episodes_table():
    # The analytics op's config (the launchpad) is EPISODE_SETTINGS key for key, defaults too.
    assert AnalyticsConfig().model_dump() == EPISODE_SETTINGS
    # A pair whose ratio is HYSTERESIS (small returns r_k / r_(k-1) - 1, large flat).
    ratio = np.asarray(HYSTERESIS, dtype="float64")
    small = ratio / np.concatenate(([100.0], ratio[:-1])) - 1.0
    spreads = pd.DataFrame(
        {
            "trade_date": S[:10],
            "pair_id": "P",
            "small_return": small,
            "large_return": 0.0,
            "spread": small,
            "source": "csv",
        }
    )
    settings = {"threshold": 0.05, "window": 5, "end_drawdown": 0.04, "merge_gap_sessions": 2}
    with duckdb.connect() as con:
        replace_rows(con, analytics_tables.RELATIVE_STRENGTH, relative_strength(spreads))
        out = analytics_tables.build_episodes(con, Scope(None, settings))
    # As in the merge test: one episode of two legs, s1 to s6, with the settings on the row.
    (row,) = out.to_dict("records")
    assert (row["start_date"], row["end_date"], row["legs"]) == (S[1], S[6], 2)
    assert (row["window_sessions"], row["end_drawdown"], row["merge_gap_sessions"]) == (5, 0.04, 2)
    assert row["source"] == "csv"


# ---- episode_similarity ---------------------------------------------------------------------

# Daily log changes of the ratio into s1..s13, in units of 0.01: consecutive changes differ by
# exactly 1 unit up to s10, so with a 2-session volatility sigma_j = |c_(j-1) - c_j| / sqrt(2)
# = 0.01 / sqrt(2) at every start j = 2..10 (s1 has one change only: no volatility). A path
# z_j(k) = sum(c_(j+1..j+k)) * 0.01 / sigma_j is then sqrt(2) times the cumulative units.
CHANGES = [0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0]
SIM_RATIO = 100 * np.exp(0.01 * np.concatenate(([0], np.cumsum(CHANGES))))


def episode_rows(*rows: tuple[int, int, bool]) -> pd.DataFrame:
    """Episodes of pair P by hand: (start position, sessions, is_current)."""
    return pd.DataFrame(
        [
            {
                "pair_id": "P",
                "episode_id": f"P:{S[start]:%Y-%m-%d}",
                "start_date": S[start],
                "end_date": S[start + sessions],
                "sessions": sessions,
                "is_current": current,
            }
            for start, sessions, current in rows
        ]
    )


def test_similarity_of_normalised_paths_its_base_rate_and_one_ranking():
    # Current episode from s10 to the last session s13: N = 3, units (c11, c12, c13) = 1, 1, 0,
    # cumulative (1, 2, 2). Windows: starts j with a volatility and j + 3 <= 10, j = 2..7:
    #   j   units c_(j+1..j+3)  cumulative   minus current   sum of squares  distance
    #   2   2, 1, 0             2, 3, 3      1, 1, 1         3               sqrt(2 * 3/3)
    #   3   1, 0, 1             1, 1, 2      0, -1, 0        1               sqrt(2 * 1/3)
    #   4   0, 1, 2             0, 1, 3      -1, -1, 1       3               sqrt(2)
    #   5   1, 2, 1             1, 3, 4      0, 1, 2         5               sqrt(2 * 5/3)
    #   6   2, 1, 0             2, 3, 3      1, 1, 1         3               sqrt(2)
    #   7   1, 0, 1             1, 1, 2      0, -1, 0        1               sqrt(2/3)
    # Past episodes at s2, s3, s5 and s7 are compared; s1 (no volatility) and s8 (8 + 3 > 10:
    # its path would share sessions with the current one) are not.
    episodes = episode_rows((1, 2, False), (2, 2, False), (3, 2, False), (5, 1, False))
    episodes = pd.concat(
        [episodes, episode_rows((7, 1, False), (8, 1, False), (10, 3, True))], ignore_index=True
    )
    out = episode_similarity(
        ratio_frame(SIM_RATIO),
        episodes,
        min_sessions=3,
        volatility_sessions=2,
        min_volatility_sessions=2,
    ).set_index("past_start_date")
    assert list(out.index) == [S[3], S[7], S[2], S[5]]  # by rank, then start
    assert set(out["current_episode_id"]) == {"P:2024-01-15"}
    assert set(out["sessions_compared"]) == {3} and set(out["windows_compared"]) == {6}
    assert list(out["distance"]) == pytest.approx(
        [math.sqrt(2 / 3), math.sqrt(2 / 3), math.sqrt(2), math.sqrt(10 / 3)]
    )
    # One ranking, by distance; equal distances share the best rank.
    assert list(out["rank"]) == [1, 1, 3, 4]
    # Base rate: windows strictly closer. s3, s7: none (only each other, equal); s2: j = 3, 7
    # of 6; s5: all but itself, 5 of 6.
    assert list(out["distance_percentile"]) == pytest.approx([0, 0, 2 / 6, 5 / 6])
    # Correlation (scale-free: on the cumulative units) with the current (1, 2, 2), deviations
    # (-2/3, 1/3, 1/3), sum of squares 6/9:
    #   s3 (1, 1, 2): deviations (-1/3, -1/3, 2/3), products 2/9 - 1/9 + 2/9 = 1/3, squares 6/9
    #     -> (1/3) / (6/9) = 1/2
    #   s2 (2, 3, 3) = current + 1: correlation 1, ranked 3rd all the same (distance rules)
    #   s5 (1, 3, 4): deviations (-5/3, 1/3, 4/3), products 15/9, squares 42/9
    #     -> (15/9) / sqrt(42/9 * 6/9) = 15 / sqrt(252) = 5 / (2 sqrt(7))
    assert out.loc[S[3], "correlation"] == pytest.approx(0.5)
    assert out.loc[S[2], "correlation"] == pytest.approx(1.0)
    assert out.loc[S[5], "correlation"] == pytest.approx(5 / (2 * math.sqrt(7)))
    # The ratio N = 3 sessions after each start: exp(0.01 * units) - 1, e.g. s3: 1 + 0 + 1.
    assert out.loc[S[3], "past_ratio_change"] == pytest.approx(math.exp(0.02) - 1)
    assert out.loc[S[5], "past_ratio_change"] == pytest.approx(math.exp(0.04) - 1)
    assert out.loc[S[2], "past_episode_sessions"] == 2
    # Nothing reaches 20 sessions past s(p + 3) in 14 sessions: every outcome is null.
    assert out[[f"ratio_change_after_{h}" for h in (20, 60, 120, 250)]].isna().all().all()


def linear_similarity(relative: pd.DataFrame, **kwargs) -> pd.DataFrame:
    # Past episodes from s2 and s12; the current one from s30 to s35 (N = 5).
    episodes = episode_rows((2, 3, False), (12, 3, False), (30, 5, True))
    return episode_similarity(
        relative, episodes, volatility_sessions=2, min_volatility_sessions=2, **kwargs
    ).set_index("past_start_date")


def test_outcomes_20_sessions_after_the_current_age_and_never_after_as_of():
    # ratio = 100 + k on s0..s59; the view is as of s35, the current episode's last session.
    relative = ratio_frame(100.0 + np.arange(60))
    out = linear_similarity(relative, as_of=S[35], min_sessions=5)
    # From s2: at the current age s7 (107), 107/102 - 1; 20 sessions on, s27: 127/107 - 1.
    assert out.loc[S[2], "past_ratio_change"] == pytest.approx(5 / 102)
    assert out.loc[S[2], "ratio_change_after_20"] == pytest.approx(20 / 107)
    # s7 + 60 = s67 lies beyond s35 (and beyond the data).
    assert pd.isna(out.loc[S[2], "ratio_change_after_60"])
    # From s12: age reached on s17 (117/112 - 1); s37 is after s35: null although the rows to
    # s59 exist. The view as of s35 equals the one from the rows up to s35 alone.
    assert out.loc[S[12], "past_ratio_change"] == pytest.approx(5 / 112)
    assert pd.isna(out.loc[S[12], "ratio_change_after_20"])
    pd.testing.assert_frame_equal(out, linear_similarity(relative.iloc[:36], min_sessions=5))
    # Episodes as of s35 against rows to s59 are not the same view: refused.
    with pytest.raises(ValueError, match="not as of the same session"):
        linear_similarity(relative, min_sessions=5)
    # A current episode younger than min_sessions is not compared yet.
    assert linear_similarity(relative, as_of=S[35], min_sessions=6).empty


def test_pair_without_a_current_episode_has_no_similarity_rows():
    out = episode_similarity(ratio_frame(SIM_RATIO), episode_rows((2, 2, False)))
    assert out.empty and list(out.columns) == SIMILARITY.column_names


# ---- the real prices ------------------------------------------------------------------------


def real_relative() -> pd.DataFrame:
    """relative_strength of RUT_GSPC and IWM_SPY from the shared csv files, from 1990-01-02 on
    (the README's backfill): returns from close and adj_close, as the csv source loads them; the
    index pair on its price basis, the ETF pair on total return (reference.rotation_pairs)."""
    pairs = pd.DataFrame(
        {
            "pair_id": ["RUT_GSPC", "IWM_SPY"],
            "small": ["^RUT", "IWM"],
            "large": ["^GSPC", "SPY"],
            "basis": ["price", "total_return"],
        }
    )
    returns = shared_csv_returns(["^RUT", "^GSPC", "IWM", "SPY"], start="1990-01-02")
    return relative_strength(pair_spreads(returns, pairs))


@requires_shared_prices
def test_on_the_real_prices_the_2026_rotation_starts_at_its_november_trough():
    relative = real_relative()
    day = pd.Timestamp("2026-02-13")
    episodes = detect_episodes(relative, as_of=day)
    current = episodes[episodes["is_current"] & (episodes["pair_id"] == "RUT_GSPC")]
    (row,) = current.to_dict("records")
    # The ratio's low was 2025-11-17; it stood 5% above it from 2025-12-04; the high so far is
    # 2026-01-22. The old rule started this episode on 2026-02-06.
    assert row["start_date"] == pd.Timestamp("2025-11-17")
    assert row["confirmed_date"] == pd.Timestamp("2025-12-04")
    assert row["peak_date"] == pd.Timestamp("2026-01-22") and row["legs"] == 1
    # The streak from 2026-01-02 rose off the 2025-12-31 low, which was only 3.4% below the
    # 2025-12-11 high: a pullback inside the episode. Splitting there takes an end_drawdown
    # under 3.4%, which also ends the episode in the 4.2% fall of 2026-01-22..30: no current
    # episode at all on 2026-02-13.
    ratio = relative[relative["pair_id"] == "RUT_GSPC"].set_index("trade_date")["ratio"]
    assert ratio["2025-12-31"] / ratio["2025-12-11"] - 1 == pytest.approx(-0.0342, abs=5e-4)
    assert ratio["2026-01-30"] / ratio["2026-01-22"] - 1 == pytest.approx(-0.0422, abs=5e-4)
    assert ratio[:"2026-02-13"].loc["2025-11-17":].idxmin() == pd.Timestamp("2025-11-17")
    tighter = detect_episodes(relative, end_drawdown=0.03, as_of=day)
    assert not tighter[tighter["pair_id"] == "RUT_GSPC"]["is_current"].any()

    # As of 2026-02-13 the episode is 60 sessions old: compared over 60 sessions, one ranking.
    similarity = episode_similarity(relative, episodes, as_of=day)
    rut = similarity[similarity["pair_id"] == "RUT_GSPC"]
    assert set(rut["sessions_compared"]) == {60} and (rut["rank"] == 1).sum() == 1
    assert rut["distance_percentile"].between(0, 1).all()
    # Every compared path ends (60 sessions after its start) by the current start.
    position = pd.Series(np.arange(len(ratio)), index=ratio.index)
    assert (position[rut["past_start_date"]].to_numpy() + 60 <= position[row["start_date"]]).all()

    # The README's counts with the default settings, data through 2026-08-21.
    counts = detect_episodes(relative, as_of=pd.Timestamp("2026-08-21")).groupby("pair_id").size()
    assert counts.to_dict() == {"IWM_SPY": 33, "RUT_GSPC": 46}


# ---- historical_periods seed ----------------------------------------------------------------

HEADER = "period_id,name,start_date,end_date,description,source\n"


def write_seed(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "historical_periods.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines))
    return path


def test_project_seed_loads_with_the_current_period_open_ended():
    periods = load_historical_periods().set_index("period_id")
    assert {"dotcom_rotation_2000_2006", "post_election_2016", "great_rotation_2026"} <= set(
        periods.index
    )
    assert periods.loc["dotcom_rotation_2000_2006", "start_date"] == pd.Timestamp("2000-03-10")
    assert periods.loc["dotcom_rotation_2000_2006", "end_date"] == pd.Timestamp("2006-12-29")
    assert pd.isna(periods.loc["great_rotation_2026", "end_date"])
    assert periods["end_date"].isna().sum() == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["a,A,2000-3-10,2000-12-29,d,s"], r"line 2: start_date '2000-3-10' is not YYYY-MM-DD"),
        (
            ["a,A,2000-03-10,2000-12-29,d,s", "b,B,2001-01-02,2001-02-30,d,s"],
            r"line 3: end_date '2001-02-30' is not YYYY-MM-DD",
        ),
        (["a,A,2001-03-10,2000-12-29,d,s"], r"line 2: start_date 2001-03-10 is after end_date"),
        (
            ["a,A,2000-03-10,,d,s", "a,A2,2001-01-02,2001-02-01,d,s"],
            r"line 3: duplicate period_id \['a'\]",
        ),
        (["a,A,,2000-12-29,d,s"], r"line 2: empty start_date"),
    ],
    ids=["loose-date", "impossible-date", "reversed", "duplicate-id", "no-start"],
)
def test_seed_errors_name_the_file_and_line(tmp_path, lines, message):
    path = write_seed(tmp_path, *lines)
    with pytest.raises(SeedError, match=message) as error:
        load_historical_periods(path)
    assert str(path) in str(error.value)
