"""outperformance_streaks: maximal same-leader runs, ties, ranks, longest_since, is_current."""

import pandas as pd
import pytest

from rotation_assets.metrics.outperformance_streaks import (
    OUTPERFORMANCE_STREAKS,
    outperformance_streaks,
    streak_sessions_add_up,
)
from rotation_assets.metrics.pair_spreads import leader_of

# Session returns (small, large) by leader; the spread's sign sets the leader.
SMALL_DAY = (0.01, 0.0)
LARGE_DAY = (0.0, 0.01)
TIE_DAY = (0.005, 0.005)


def spreads_frame(pair_id: str, dates: list[str], days: list[tuple[float, float]]) -> pd.DataFrame:
    """A pair_spreads-shaped frame for one pair from (small_return, large_return) per session."""
    frame = pd.DataFrame(days, columns=["small_return", "large_return"])
    frame.insert(0, "trade_date", pd.to_datetime(dates))
    frame.insert(1, "pair_id", pair_id)
    frame["spread"] = frame["small_return"] - frame["large_return"]
    frame["leader"] = leader_of(frame["spread"])
    frame["source"] = "csv"
    return frame


DATES = list(pd.bdate_range("2024-01-01", periods=11).strftime("%Y-%m-%d"))
# Pair A, 11 sessions: S S S L T S L L S S S; the last run uses returns that compound visibly:
# small 1.10 * 0.95 * 1.02 - 1 = 0.0659, large 1.00 * 0.90 * 1.01 - 1 = -0.091.
A = spreads_frame(
    "A",
    DATES,
    [SMALL_DAY] * 3
    + [LARGE_DAY, TIE_DAY, SMALL_DAY]
    + [LARGE_DAY] * 2
    + [(0.10, 0.0), (-0.05, -0.10), (0.02, 0.01)],
)
# Pair B ends on a tie: L S S T -> no current run.
B = spreads_frame("B", DATES[:4], [LARGE_DAY, SMALL_DAY, SMALL_DAY, TIE_DAY])


def dates(*days: int) -> list[pd.Timestamp]:
    """Sessions by 1-based number in DATES."""
    return [pd.Timestamp(DATES[d - 1]) for d in days]


def test_runs_of_pair_a_by_hand():
    out = outperformance_streaks(A)
    assert list(out["leader"]) == ["small", "large", "small", "large", "small"]
    # The tie on session 5 ends the large run of session 4 and belongs to no run.
    assert list(out["start_date"]) == dates(1, 4, 6, 7, 9)
    assert list(out["end_date"]) == dates(3, 4, 6, 8, 11)
    assert list(out["sessions"]) == [3, 1, 1, 2, 3]
    # Run 1: 1.01^3 - 1 = 0.030301 vs 0; run 4: 0 vs 1.01^2 - 1 = 0.0201.
    assert list(out["small_return"]) == pytest.approx([0.030301, 0.0, 0.01, 0.0, 0.0659])
    assert list(out["large_return"]) == pytest.approx([0.0, 0.01, 0.0, 0.0201, -0.091])
    # Last run: 0.0659 - (-0.091) = 0.1569.
    assert list(out["spread"]) == pytest.approx([0.030301, -0.01, 0.01, -0.0201, 0.1569])


def test_rank_ties_share_the_best_rank():
    out = outperformance_streaks(A)
    # Small runs 3, 1, 3 sessions -> ranks 1, 3, 1 (method='min'); large runs 1, 2 -> 2, 1.
    assert list(out["rank"]) == [1, 2, 3, 1, 1]


def test_longest_since_is_the_latest_earlier_run_at_least_as_long():
    out = outperformance_streaks(A)
    # Small: run 1 (3) has no earlier run -> null; run 3 (1) -> run 1 ended session 3;
    # run 5 (3) skips run 3 (1 < 3) and takes the equal-length run 1 -> session 3.
    # Large: run 2 (1) -> null; run 4 (2) -> run 2 is shorter -> null.
    expected = [pd.NaT, pd.NaT, *dates(3), pd.NaT, *dates(3)]
    assert list(out["longest_since"].isna()) == [pd.isna(x) for x in expected]
    assert list(out["longest_since"].dropna()) == dates(3, 3)


def test_longest_since_takes_the_most_recent_qualifying_run():
    # small runs of 2, 3, 1, 2 sessions separated by single large sessions.
    days = [SMALL_DAY] * 2 + [LARGE_DAY] + [SMALL_DAY] * 3 + [LARGE_DAY]
    days += [SMALL_DAY] + [LARGE_DAY] + [SMALL_DAY] * 2
    sessions = pd.bdate_range("2024-01-01", periods=11)
    small = outperformance_streaks(spreads_frame("C", list(sessions), days)).query(
        "leader == 'small'"
    )
    assert list(small["sessions"]) == [2, 3, 1, 2]
    # Run 2 (3) has no earlier run as long -> null; run 3 (1) -> run 2, ended session 6.
    # Run 4 (2): run 3 is too short; runs 1 and 2 qualify and run 2 (session 6) is the latest.
    assert small["longest_since"].iloc[0] is pd.NaT and small["longest_since"].iloc[1] is pd.NaT
    assert list(small["longest_since"].iloc[2:]) == [sessions[5], sessions[5]]
    assert list(small["rank"]) == [2, 1, 4, 2]


def test_is_current_only_for_the_run_reaching_the_last_session():
    out = outperformance_streaks(pd.concat([A, B], ignore_index=True))
    a, b = out[out["pair_id"] == "A"], out[out["pair_id"] == "B"]
    assert list(a["is_current"]) == [False, False, False, False, True]
    # B's last session is a tie: it has runs L (1), S (2) and none is current.
    assert list(b["leader"]) == ["large", "small"]
    assert list(b["sessions"]) == [1, 2]
    assert not b["is_current"].any()


def test_a_session_without_a_spread_row_does_not_break_a_run():
    frame = spreads_frame("D", ["2024-01-02", "2024-01-03", "2024-01-05"], [SMALL_DAY] * 3)
    out = outperformance_streaks(frame)
    assert len(out) == 1
    assert out["sessions"].iloc[0] == 3
    assert out["start_date"].iloc[0] == pd.Timestamp("2024-01-02")
    assert out["end_date"].iloc[0] == pd.Timestamp("2024-01-05")
    assert bool(out["is_current"].iloc[0])


def test_input_order_does_not_matter_and_output_is_sorted():
    both = pd.concat([A, B], ignore_index=True)
    shuffled = both.sample(frac=1.0, random_state=5)
    pd.testing.assert_frame_equal(outperformance_streaks(shuffled), outperformance_streaks(both))
    out = outperformance_streaks(both)
    assert list(out["pair_id"]) == ["A"] * 5 + ["B"] * 2


def test_sessions_add_up_to_the_non_tie_sessions():
    spreads = pd.concat([A, B], ignore_index=True)
    streaks = outperformance_streaks(spreads)
    assert streak_sessions_add_up(streaks, spreads).empty
    # Dropping A's last run (3 sessions) leaves 7 of its 10 non-tie sessions.
    bad = streak_sessions_add_up(streaks.iloc[[0, 1, 2, 3, 5, 6]], spreads)
    assert bad.to_dict("records") == [
        {"pair_id": "A", "streak_sessions": 7, "non_tie_sessions": 10}
    ]


def test_frame_matches_the_spec():
    out = outperformance_streaks(A)
    assert list(out.columns) == OUTPERFORMANCE_STREAKS.column_names
    assert OUTPERFORMANCE_STREAKS.qualified_name == "analytics.outperformance_streaks"
    assert all(c.description for c in OUTPERFORMANCE_STREAKS.columns)
    assert str(out["start_date"].dtype) == "datetime64[ns]"
    assert str(out["longest_since"].dtype) == "datetime64[ns]"
    assert str(out["sessions"].dtype) == "Int64"
    assert str(out["is_current"].dtype) == "boolean"


def test_source_is_the_combined_source_of_the_run_rows():
    out = outperformance_streaks(A)
    assert (out["source"] == "csv").all()
    # A synthetic session inside pair A's last run (sessions 9-11) marks that run only; the
    # tie on session 5 belongs to no run, so its source marks none.
    mixed = A.copy()
    mixed.loc[[4, 9], "source"] = "synthetic"
    out = outperformance_streaks(mixed)
    assert list(out["source"]) == ["csv"] * 4 + ["csv+synthetic"]
    mixed.loc[[8, 10], "source"] = "synthetic"
    assert outperformance_streaks(mixed)["source"].iloc[-1] == "synthetic"


def test_all_ties_or_no_rows_give_no_runs():
    ties = spreads_frame("T", DATES[:3], [TIE_DAY] * 3)
    assert outperformance_streaks(ties).empty
    empty = outperformance_streaks(A.iloc[0:0])
    assert empty.empty and list(empty.columns) == OUTPERFORMANCE_STREAKS.column_names
    assert streak_sessions_add_up(empty, ties).empty
