"""historical_parallels: period comparison, rotation episodes and episode similarity, by hand."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rotation_assets.metrics.historical_parallels import (
    EPISODES,
    PERIOD_COMPARISON,
    SIMILARITY,
    detect_episodes,
    episode_similarity,
    period_comparison,
)
from rotation_assets.metrics.pair_spreads import pair_spreads
from rotation_assets.metrics.relative_strength import relative_strength
from rotation_assets.reference.historical_periods import load_historical_periods
from rotation_assets.reference.seed_files import SeedError

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


def relative_frame(pair_id: str, ratio: list[float], change: list[float], column="ratio_change_60"):
    return pd.DataFrame(
        {
            "trade_date": D[: len(ratio)],
            "pair_id": pair_id,
            "ratio": np.asarray(ratio, dtype="float64"),
            column: np.asarray(change, dtype="float64"),
        }
    )


# change > 0.05:       no    no    yes   yes   no    no (0.05 is not > 0.05)  yes   yes
P_RELATIVE = relative_frame(
    "P",
    [100, 102, 104, 103, 106, 108, 107, 110],
    [np.nan, 0.02, 0.06, 0.07, 0.04, 0.05, 0.06, 0.08],
)
# Q's first row is already above the threshold; a null change (d2) splits two runs.
Q_RELATIVE = relative_frame("Q", [105, 110, 100, 120], [0.10, 0.10, np.nan, 0.10])


def test_episodes_split_by_a_dip_and_the_last_one_is_current():
    out = detect_episodes(pd.concat([Q_RELATIVE, P_RELATIVE]))
    p = out[out["pair_id"] == "P"].reset_index(drop=True)
    assert list(p["episode_id"]) == ["P:2024-01-04", "P:2024-01-10"]
    assert list(p["start_date"]) == [D[2], D[6]]
    assert list(p["end_date"]) == [D[3], D[7]]
    assert list(p["sessions"]) == [2, 2]
    assert list(p["peak_ratio_change"]) == pytest.approx([0.07, 0.08])
    assert list(p["peak_date"]) == [D[3], D[7]]
    # ratio at end / ratio the session before start - 1: 103/102 - 1; 110/108 - 1.
    assert list(p["ratio_change_over_episode"]) == pytest.approx([1 / 102, 2 / 108])
    assert list(p["is_current"]) == [False, True]
    assert set(out["window_sessions"]) == {60} and set(out["threshold"]) == {0.05}

    q = out[out["pair_id"] == "Q"].reset_index(drop=True)
    # Q's first episode starts on its first session: measured from the base 100 -> 110/100 - 1.
    # The second: 120 / 100 (d2's ratio) - 1 = 0.2, running to Q's last session.
    assert list(q["ratio_change_over_episode"]) == pytest.approx([0.10, 0.20])
    assert list(q["is_current"]) == [False, True]


def test_episode_parameters_pick_the_column_threshold_and_minimum_length():
    relative = relative_frame(
        "P", [100, 101, 102, 103], [0.01, 0.03, 0.03, 0.01], "ratio_change_20"
    )
    (episode,) = detect_episodes(relative, threshold=0.02, window=20).to_dict("records")
    assert episode["start_date"] == D[1] and episode["sessions"] == 2
    assert not episode["is_current"]
    assert detect_episodes(relative, threshold=0.02, window=20, min_sessions=3).empty
    assert list(detect_episodes(P_RELATIVE, min_sessions=3).columns) == EPISODES.column_names
    with pytest.raises(ValueError, match="ratio_change_90"):
        detect_episodes(relative, window=90)


# ---- episode_similarity ---------------------------------------------------------------------

# Pair P, 16 sessions. Episodes (change 0.1 = above the threshold):
#   D rows 1-3 from base 100: path 111, 113, 112
#   A rows 5-7 from base 100: path 101, 103, 102      (the current path exactly)
#   B rows 9-10 from base 100: path 102, 104, then row 11 (95) continues it: 102, 104, 95
#   C rows 13-15 from base 200: 202, 206, 204 -> path 101, 103, 102 (current, to the last row)
SIM_RATIO = [100, 111, 113, 112, 100, 101, 103, 102, 100, 102, 104, 95, 200, 202, 206, 204]
SIM_CHANGE = [0, 0.1, 0.1, 0.1, 0, 0.1, 0.1, 0.1, 0, 0.1, 0.1, 0, 0, 0.1, 0.1, 0.1]


def sim_relative() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trade_date": pd.bdate_range("2024-01-01", periods=len(SIM_RATIO)),
            "pair_id": "P",
            "ratio": np.asarray(SIM_RATIO, dtype="float64"),
            "ratio_change_60": SIM_CHANGE,
        }
    )


def test_identical_past_path_has_rmse_zero_correlation_one_and_ranks_first():
    relative = sim_relative()
    episodes = detect_episodes(relative)
    assert list(episodes["sessions"]) == [3, 3, 2, 3]
    out = episode_similarity(relative, episodes).set_index("past_episode_id")
    dates = relative["trade_date"].dt.strftime("%Y-%m-%d")
    a, b, d = (f"P:{dates[i]}" for i in (5, 9, 1))
    assert set(out["current_episode_id"]) == {f"P:{dates[13]}"}
    assert list(out.index) == [a, b, d]  # sorted by rank
    assert set(out["sessions_compared"]) == {3}

    assert out.loc[a, "rmse"] == 0.0
    assert out.loc[a, "correlation"] == pytest.approx(1.0)
    assert out.loc[a, "rank"] == 1
    # B (2 sessions, continued by row 11): differences 1, 1, -7 -> sqrt((1 + 1 + 49) / 3).
    assert out.loc[b, "past_episode_sessions"] == 2
    assert out.loc[b, "rmse"] == pytest.approx(math.sqrt(17))
    # Deviations from the means: current -1, 1, 0; B 5/3, 11/3, -16/3 (mean 301/3).
    # Pearson = (-5/3 + 11/3) / sqrt(2 * 402/9) = 2 / (sqrt(804) / 3) = 6 / sqrt(804).
    assert out.loc[b, "correlation"] == pytest.approx(6 / math.sqrt(804))
    assert out.loc[b, "rank"] == 2
    # D is the same shape 10 points higher: rmse 10, correlation 1.
    assert out.loc[d, "rmse"] == pytest.approx(10.0)
    assert out.loc[d, "correlation"] == pytest.approx(1.0)
    assert out.loc[d, "rank"] == 3
    # By correlation A and D tie at 1 (sharing rank 1), B is third.
    assert out.loc[a, "rank_by_correlation"] == 1 and out.loc[d, "rank_by_correlation"] == 1
    assert out.loc[b, "rank_by_correlation"] == 3


def test_similarity_over_fewer_sessions_has_no_correlation_below_three():
    relative = sim_relative()
    out = episode_similarity(relative, detect_episodes(relative), n_sessions=2)
    # First 2 sessions: current 101, 103; A 101, 103 (0); B 102, 104 (1); D 111, 113 (10).
    assert list(out["rmse"]) == pytest.approx([0.0, 1.0, 10.0])
    assert list(out["rank"]) == [1, 2, 3]
    assert set(out["sessions_compared"]) == {2}
    assert out["correlation"].isna().all() and out["rank_by_correlation"].isna().all()


def test_pair_without_a_current_episode_has_no_similarity_rows():
    relative = sim_relative().iloc[:12]  # ends after B: nothing current
    out = episode_similarity(relative, detect_episodes(relative))
    assert out.empty and list(out.columns) == SIMILARITY.column_names


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
