"""Relative rotation (RRG approximation) on tiny weekly series, every value worked by hand.

Conventions of the hand work: z(w) = (last - mean) / sd with the population sd of the window w;
rs_ratio = 100 + z(last N rs); roc = 100 * (rs_ratio / previous rs_ratio - 1); rs_momentum =
100 + z(last N roc). Useful z-scores of three values: a straight line (x, x+d, x+2d) gives
d / (d * sqrt(2/3)) = sqrt(3/2) = 1.224745; (x, x+d, x) gives -1/sqrt(2) = -0.707107.
"""

import datetime as dt

import pandas as pd
import pytest

from rotation_assets.metrics.relative_rotation import (
    RELATIVE_ROTATION,
    relative_rotation,
    relative_rotation_sql,
)

D = pd.Timestamp
PAIRS = pd.DataFrame({"ticker": ["AAA"], "benchmark": ["BEN"]})


def returns_from_closes(ticker: str, closes: dict[str, float], source: str = "csv"):
    """daily_returns rows of one ticker from its closes by session: the first session is the
    base (no row, as in analytics.daily_returns), each later one close / previous close - 1."""
    days = sorted(closes)
    steps = zip(days[:-1], days[1:], strict=True)
    return pd.DataFrame(
        {
            "trade_date": [D(d) for d in days[1:]],
            "ticker": ticker,
            "total_return": [closes[d] / closes[p] - 1 for p, d in steps],
            "source": source,
        }
    )


# Ten weeks, one session each (the Friday; Good Friday 2026-04-03 is a holiday, so that week's
# session is Thursday 2026-04-02). The benchmark moves; the instrument's close is rs * B / 100,
# so 100 * close / benchmark close = rs, and both are 100 in week 1 (rs = 100 there).
WEEKS = [
    "2026-02-06", "2026-02-13", "2026-02-20", "2026-02-27", "2026-03-06",
    "2026-03-13", "2026-03-20", "2026-03-27", "2026-04-02", "2026-04-10",
]  # fmt: skip
RS = [100, 104, 102, 106, 108, 110, 108, 104, 100, 104]
BENCHMARK = [100, 125, 80, 100, 50, 100, 120, 100, 75, 100]
# close = rs * B / 100: 100, 130, 81.6, 106, 54, 110, 129.6, 104, 75, 104
CLOSES = [r * b / 100 for r, b in zip(RS, BENCHMARK, strict=True)]
BASE = "2026-02-02"  # both legs' first stored session (close 100): no return row


def weekly_returns() -> pd.DataFrame:
    return pd.concat(
        [
            returns_from_closes("AAA", {BASE: 100.0, **dict(zip(WEEKS, CLOSES, strict=True))}),
            returns_from_closes("BEN", {BASE: 100.0, **dict(zip(WEEKS, BENCHMARK, strict=True))}),
        ]
    )


def test_hand_worked_ratio_momentum_and_every_quadrant():
    result = relative_rotation(weekly_returns(), PAIRS, window=3, momentum_weeks=1)
    assert list(result.columns) == RELATIVE_ROTATION.column_names

    # rs_ratio, N = 3 (weeks 1-2 have no full window):
    #  w3 (100, 104, 102): mean 102, last dev 0                      -> 100
    #  w4 (104, 102, 106): mean 104, sd sqrt(8/3) = 1.632993, dev 2  -> 100 + 1.224745
    #  w5 (102, 106, 108): mean 105.333333, devs -10/3, 2/3, 8/3, sd sqrt(168/27) = 2.494438,
    #                      z = (8/3) / 2.494438 = 1.069045            -> 101.069045
    #  w6 (106, 108, 110): a straight line                           -> 101.224745
    #  w7 (108, 110, 108): mean 108.666667, dev -2/3, sd 0.942809    -> 100 - 0.707107 = 99.292893
    #  w8 (110, 108, 104): mean 107.333333, devs 8/3, 2/3, -10/3, sd 2.494438,
    #                      z = -(10/3) / 2.494438 = -1.336306         -> 98.663694
    #  w9 (108, 104, 100): a falling line                            -> 100 - 1.224745 = 98.775255
    #  w10 (104, 100, 104): mean 102.666667, dev 4/3, sd 1.885618    -> 100 + 0.707107 = 100.707107
    # roc = 100 * (rs_ratio / previous - 1):
    #  w4 100*(101.224745/100 - 1) = 1.224745     w5 100*(101.069045/101.224745 - 1) = -0.153816
    #  w6 100*(101.224745/101.069045 - 1) = 0.154053
    #  w7 100*(99.292893/101.224745 - 1) = -1.908478
    #  w8 100*(98.663694/99.292893 - 1) = -0.633680
    #  w9 100*(98.775255/98.663694 - 1) = 0.113072
    #  w10 100*(100.707107/98.775255 - 1) = 1.955805
    # rs_momentum = 100 + z(last 3 roc), first at w6 (the first 3 roc: w4, w5, w6):
    #  w6 (1.224745, -0.153816, 0.154053): mean 0.408327, sd 0.590818, dev -0.254274,
    #      z -0.430377 -> 99.569623
    #  w7 (-0.153816, 0.154053, -1.908478): mean -0.636080, sd 0.908457, dev -1.272397,
    #      z -1.400613 -> 98.599387
    #  w8 (0.154053, -1.908478, -0.633680): mean -0.796035, sd 0.849815, dev 0.162355,
    #      z 0.191047 -> 100.191047
    #  w9 (-1.908478, -0.633680, 0.113072): mean -0.809695, sd 0.834626, dev 0.922768,
    #      z 1.105605 -> 101.105605
    #  w10 (-0.633680, 0.113072, 1.955805): mean 0.478399, sd 1.088257,
    #      dev 1.477406, z 1.357589 -> 101.357589
    expected = pd.DataFrame(
        {
            "week_end": [D(w) for w in WEEKS[5:]],
            "rs": [110.0, 108.0, 104.0, 100.0, 104.0],
            "rs_ratio": [101.224745, 99.292893, 98.663694, 98.775255, 100.707107],
            "rs_momentum": [99.569623, 98.599387, 100.191047, 101.105605, 101.357589],
            "quadrant": ["weakening", "lagging", "improving", "improving", "leading"],
        }
    )
    # No row before the 2N = 6th week: rs_momentum needs N values of roc, the first in week 4.
    assert list(result["week_end"]) == list(expected["week_end"])
    assert (result["ticker"] == "AAA").all() and (result["benchmark"] == "BEN").all()
    assert list(result["rs"]) == pytest.approx(list(expected["rs"]), abs=1e-9)
    assert list(result["rs_ratio"]) == pytest.approx(list(expected["rs_ratio"]), abs=1e-6)
    assert list(result["rs_momentum"]) == pytest.approx(list(expected["rs_momentum"]), abs=1e-6)
    assert list(result["quadrant"]) == list(expected["quadrant"])
    assert set(result["quadrant"]) == {"leading", "weakening", "lagging", "improving"}
    # Good Friday: the week's observation is its last session, Thursday 2026-04-02.
    assert D("2026-04-02") in set(result["week_end"])
    assert (result["source"] == "csv").all()


def test_no_row_before_the_windows_are_full():
    returns = weekly_returns()
    # Five weeks: rs_ratio from week 3, roc from week 4, only 2 roc by week 5 (N = 3): nothing.
    assert relative_rotation(returns[returns["trade_date"] <= D(WEEKS[4])], PAIRS, 3, 1).empty
    # With a 2-week rate of change (M = 2) the first roc is week 5 (rs_ratio w5 vs w3), so the
    # first full roc window, and the first row, is week 2N + M - 1 = 7.
    rows = relative_rotation(returns, PAIRS, window=3, momentum_weeks=2)
    assert list(rows["week_end"]) == [D(w) for w in WEEKS[6:]]
    # Its rs_ratio does not depend on M: week 7's is the one above, 100 - 1/sqrt(2).
    assert rows["rs_ratio"].iloc[0] == pytest.approx(99.292893, abs=1e-6)
    # roc over 2 weeks: w5 100*(101.069045/100 - 1) = 1.069045; w6 100*(101.224745/101.224745
    # - 1) = 0; w7 100*(99.292893/101.069045 - 1) = -1.757365. Mean -0.229440, devs 1.298485,
    # 0.229440, -1.527925; sd sqrt((1.686063 + 0.052643 + 2.334555) / 3) = 1.165227;
    # z = -1.527925 / 1.165227 = -1.311268 -> rs_momentum 98.688732 (lagging: both < 100).
    assert rows["rs_momentum"].iloc[0] == pytest.approx(98.688732, abs=1e-6)
    assert rows["quadrant"].iloc[0] == "lagging"


# Sessions for the alignment test (N = 2, so z = +1 when the later of two values is higher,
# -1 when lower): closes of AAA and BEN by session; 2025-12-31 is both legs' base.
AAA_CLOSES = {
    "2025-12-31": 100.0,
    "2026-01-09": 110.0,  # week 1: 110 / 55 = 2                      -> rs 100 (the base week)
    "2026-01-12": 200.0,  # week 2, Monday: not the week's last session
    "2026-01-16": 121.0,  # week 2: 121 / 55 = 2.2                    -> rs 110
    "2026-01-22": 132.0,  # week 3, Thursday: 132 / 66 = 2            -> rs 100
    "2026-01-23": 264.0,  # Friday: BEN has no close that day; never compared with its Thursday
    # week 4 (2026-01-26..30): no AAA session, so no observation (nothing carried forward)
    "2026-02-06": 150.0,  # week 5: 150 / 60 = 2.5                    -> rs 125
    "2026-02-13": 120.0,  # week 6: 120 / 50 = 2.4                    -> rs 120
    "2026-02-17": 110.0,  # week 7, Tuesday: 110 / 50 = 2.2           -> rs 110 (as of 02-17)
    "2026-02-18": 130.0,  # week 7, Wednesday, AAA's last: 130 / 50 = 2.6 -> rs 130
}
BEN_CLOSES = {
    "2025-12-31": 50.0,
    "2026-01-09": 55.0,
    "2026-01-12": 50.0,
    "2026-01-16": 55.0,
    "2026-01-22": 66.0,
    "2026-01-30": 60.0,
    "2026-02-06": 60.0,
    "2026-02-13": 50.0,
    "2026-02-17": 50.0,
    "2026-02-18": 50.0,
    "2026-02-20": 65.0,  # after AAA stopped: the pair ends on 2026-02-18
    "2026-02-27": 70.0,
}


def aligned_returns(synthetic_day: str | None = None) -> pd.DataFrame:
    aaa = returns_from_closes("AAA", AAA_CLOSES)
    if synthetic_day:
        aaa.loc[aaa["trade_date"] == D(synthetic_day), "source"] = "synthetic"
    return pd.concat([aaa, returns_from_closes("BEN", BEN_CLOSES)])


def test_legs_are_compared_on_one_session_and_a_missing_week_is_skipped():
    result = relative_rotation(aligned_returns(), PAIRS, window=2, momentum_weeks=1)
    # Observations (rs = 100 * (AAA / BEN) / 2, the first week's ratio being 2):
    #   01-09 100, 01-16 110, 01-22 100 (BEN's last session that week; AAA's Friday unused),
    #   [week of 01-26: AAA missing, none], 02-06 125, 02-13 120, 02-18 130 (AAA's last session).
    # rs_ratio (N = 2): up 101, down 99: 01-16 101, 01-22 99, 02-06 101, 02-13 99, 02-18 101.
    # roc: 01-22 100*(99/101 - 1) = -1.980198; 02-06 100*(101/99 - 1) = 2.020202; 02-13
    #   -1.980198; 02-18 2.020202. rs_momentum (N = 2) from the second roc: 02-06 up 101,
    #   02-13 down 99, 02-18 up 101. First row: the 2N = 4th observation, 02-06.
    assert list(result["week_end"]) == [D("2026-02-06"), D("2026-02-13"), D("2026-02-18")]
    assert list(result["rs"]) == pytest.approx([125.0, 120.0, 130.0], abs=1e-9)
    assert list(result["rs_ratio"]) == pytest.approx([101.0, 99.0, 101.0], abs=1e-9)
    assert list(result["rs_momentum"]) == pytest.approx([101.0, 99.0, 101.0], abs=1e-9)
    assert list(result["quadrant"]) == ["leading", "lagging", "leading"]
    # Had AAA's Friday 264 been set against BEN's Thursday 66, rs would be 200 in week 3 and the
    # 02-06 ratio 99 (125 < 200); had week 4 carried AAA's 264 forward against BEN's 60, rs
    # would be 220 there and the 02-06 ratio 99 as well.


def test_as_of_reads_only_sessions_on_or_before_it():
    result = relative_rotation(
        aligned_returns(), PAIRS, window=2, momentum_weeks=1, as_of=dt.date(2026, 2, 17)
    )
    # Week 7 observed on Tuesday 02-17: rs 110, down from 120 -> rs_ratio 99; roc 100*(99/99 - 1)
    # = 0, up from -1.980198 -> rs_momentum 101: improving (the full data says leading on 02-18).
    assert list(result["week_end"]) == [D("2026-02-06"), D("2026-02-13"), D("2026-02-17")]
    last = result.iloc[-1]
    assert (last["rs"], last["rs_ratio"], last["rs_momentum"]) == pytest.approx(
        (110.0, 99.0, 101.0), abs=1e-9
    )
    assert last["quadrant"] == "improving"


def test_source_names_every_price_source_the_row_was_computed_from():
    result = relative_rotation(aligned_returns("2026-02-18"), PAIRS, window=2, momentum_weeks=1)
    # Only the last row reads AAA's synthetic 02-18 return.
    assert list(result["source"]) == ["csv", "csv", "csv+synthetic"]


def test_pairs_without_a_benchmark_or_against_themselves_are_skipped():
    pairs = pd.DataFrame(
        {"ticker": ["AAA", "BEN", "CCC", "AAA"], "benchmark": ["BEN", "BEN", None, "BEN"]}
    )
    result = relative_rotation(aligned_returns(), pairs, window=2, momentum_weeks=1)
    # BEN against itself (rs always 100) and CCC without a benchmark give no rows; the duplicate
    # AAA/BEN line is one pair.
    assert set(zip(result["ticker"], result["benchmark"], strict=True)) == {("AAA", "BEN")}
    assert len(result) == 3


def test_a_window_below_two_weeks_is_refused():
    with pytest.raises(ValueError, match="at least 2 weeks"):
        relative_rotation_sql(window=1)
    with pytest.raises(ValueError, match="momentum_weeks must be at least 1"):
        relative_rotation_sql(momentum_weeks=0)
