"""Claims part by part: parts and worst-part verdicts, each sensitivity reading, short history,
each kind, and the seed reader's errors. Expected numbers are worked by hand in the comments."""

import pandas as pd
import pytest

from rotation_assets import trading_days
from rotation_assets.metrics.claim_parts import CLAIM_PARTS, claim_parts
from rotation_assets.metrics.claim_readings import ClaimInputs
from rotation_assets.metrics.claim_verdicts import VERDICTS, part_verdict, worst
from rotation_assets.metrics.claims_check import CLAIMS_CHECK, check_claims
from rotation_assets.reference.claims import CLAIM_KINDS, ClaimSeedError, load_claims
from rotation_assets.reference.seed_files import SeedError
from rotation_assets.reference.universe import load_rotation_pairs, load_universe

UNIVERSE = pd.DataFrame(
    {
        "ticker": ["AAA", "BBB", "CCC", "DDD", "SML", "LRG"],
        "benchmark": ["BBB", None, None, "BBB", None, None],
        "role": [
            "small_cap_stock",
            "large_cap_etf",
            "large_cap_etf",
            "small_cap_stock",
            "small_cap_index",
            "large_cap_index",
        ],
    }
)
PAIRS = pd.DataFrame(
    {
        "pair_id": ["P1", "P2", "P3"],
        "small": ["EEE", "AAA", "SML"],
        "large": ["FFF", "CCC", "LRG"],
    }
)

# Sessions 2026-02-02 .. 2026-02-05. total_return is price_return + 0.01 everywhere, so a check
# that used total returns would give other numbers. CCC has no rows; DDD's first return is
# 02-04 (its first loaded session is 02-03, so its history starts 2026-02-03).
_PRICE = [
    ("2026-02-02", "AAA", 0.01),
    ("2026-02-03", "AAA", 0.10),
    ("2026-02-04", "AAA", -0.05),
    ("2026-02-05", "AAA", 0.02),
    ("2026-02-02", "BBB", 0.00),
    ("2026-02-03", "BBB", 0.00),
    ("2026-02-04", "BBB", 0.00),
    ("2026-02-05", "BBB", 0.00),
    ("2026-02-04", "DDD", 0.03),
    ("2026-02-05", "DDD", 0.03),
]
RETURNS = pd.DataFrame(_PRICE, columns=["trade_date", "ticker", "price_return"])
RETURNS["trade_date"] = pd.to_datetime(RETURNS["trade_date"])
RETURNS["total_return"] = RETURNS["price_return"] + 0.01


def _spreads(rows: list[tuple[str, str, float]], pair_id: str = "P1") -> pd.DataFrame:
    """pair_spreads rows from (date, leader, spread): small_return = spread, large_return = 0."""
    frame = pd.DataFrame(rows, columns=["trade_date", "leader", "spread"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame.assign(
        pair_id=pair_id, small_return=frame["spread"], large_return=0.0, source="csv"
    )


def _sessions(start: str, end: str) -> list[str]:
    return [d.isoformat() for d in trading_days.sessions_between(start, end)]


# P1's runs, as in outperformance_streaks: large 1995-12-29 (1); small 15 (14 sessions from
# 1996-03-01, then 1996-05-07); large 2 (1996-05-08, 05-09); small 14 (2026-01-02 .. 01-22, the
# 14 NYSE sessions); large 1 (01-23); small 2 (02-02, 02-03); large 2 (02-04, 02-05).
STREAK_ROWS = (
    [("1995-12-29", "large", -0.01)]
    + [(d, "small", 0.01) for d in _sessions("1996-03-01", "1996-04-30")[:14]]
    + [("1996-05-07", "small", 0.01), ("1996-05-08", "large", -0.01)]
    + [("1996-05-09", "large", -0.01)]
    + [(d, "small", 0.01) for d in _sessions("2026-01-02", "2026-01-22")]
    + [("2026-01-23", "large", -0.01), ("2026-02-02", "small", 0.01)]
    + [("2026-02-03", "small", 0.01), ("2026-02-04", "large", -0.01)]
    + [("2026-02-05", "large", -0.01)]
)
SPREADS = _spreads(STREAK_ROWS)


def _claims(rows: list[tuple]) -> pd.DataFrame:
    """Claims from (id, kind, tickers, start, end, claimed, tolerance[, alternatives[, as_of]])."""
    full = [(*row, None, None)[:9] for row in rows]
    frame = pd.DataFrame(
        full,
        columns=[
            "claim_id",
            "kind",
            "tickers",
            "start_date",
            "end_date",
            "claimed",
            "tolerance",
            "alternative_tickers",
            "as_of_date",
        ],
    )
    frame["as_of_date"] = frame["as_of_date"].fillna(frame["end_date"])
    for column in ("start_date", "end_date", "as_of_date"):
        frame[column] = pd.to_datetime(frame[column])
    frame["claimed"] = frame["claimed"].astype(str)
    frame["tolerance"] = frame["tolerance"].astype(str)
    frame["document"] = "note"
    frame["text"] = "claim " + frame["claim_id"]
    return frame


def _inputs(**overrides) -> ClaimInputs:
    base = dict(returns=RETURNS, universe=UNIVERSE, pairs=PAIRS, spreads=SPREADS)
    return ClaimInputs(**{**base, **overrides})


def _check(rows: list[tuple], **overrides) -> pd.DataFrame:
    result = check_claims(_claims(rows), _inputs(**overrides))
    assert list(result.columns) == CLAIMS_CHECK.column_names
    return result.set_index("claim_id")


def _parts(rows: list[tuple], **overrides) -> pd.DataFrame:
    result = claim_parts(_claims(rows), _inputs(**overrides))
    assert list(result.columns) == CLAIM_PARTS.column_names
    return result.set_index(["claim_id", "part"])


# -- verdict rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("computed", "comparison", "claimed", "tolerance", "verdict"),
    [
        (0.045, "about", 0.04, 0.01, "confirmed"),  # |0.005| <= 0.01
        (0.065, "about", 0.04, 0.01, "contradicted"),  # 0.025 > 2 * 0.01
        (0.055, "about", 0.04, 0.01, "close"),  # 0.015 in (0.01, 0.02]
        (0.08, "at_least", 0.08, 0.01, "confirmed"),  # the bound itself holds
        (0.075, "at_least", 0.08, 0.01, "close"),  # short by 0.005 <= 0.01
        (0.06, "at_least", 0.08, 0.01, "contradicted"),  # short by 0.02
        (-0.02, "at_most", 0.0, 0.01, "confirmed"),
        (0.005, "at_most", 0.0, 0.01, "close"),
        (0.03, "at_most", 0.0, 0.01, "contradicted"),
        (None, "about", 1996, 0, "contradicted"),  # computed as null: "longest on record"
    ],
)
def test_part_verdicts(computed, comparison, claimed, tolerance, verdict):
    assert part_verdict(computed, comparison, claimed, tolerance) == verdict


def test_the_claim_verdict_is_its_worst_part_and_not_computable_ranks_last():
    assert worst(["confirmed", "confirmed"]) == "confirmed"
    assert worst(["confirmed", "close"]) == "close"
    assert worst(["close", "contradicted", "confirmed"]) == "contradicted"
    assert worst(["contradicted", "not_computable"]) == "not_computable"
    assert VERDICTS == ("confirmed", "close", "contradicted", "not_computable")


# -- return kinds (ported pins) ------------------------------------------------------------------


def test_return_claims_use_price_returns_and_get_every_numeric_verdict():
    # AAA over 02-03..02-04, from the 02-02 close: 1.10 * 0.95 - 1 = 0.045 (total: 1.11 * 0.96
    # - 1 = 0.0656, which would change every verdict below).
    result = _check(
        [
            ("confirmed", "period_return", "AAA", "2026-02-03", "2026-02-04", "0.04", "0.01"),
            ("close", "period_return", "AAA", "2026-02-03", "2026-02-04", "0.03", "0.01"),
            ("contradicted", "period_return", "AAA", "2026-02-03", "2026-02-04", "0", "0.01"),
            # |0.045 - 0.055| = 0.01 = tolerance, 0.010000000000000071 in floats: confirmed.
            ("boundary", "period_return", "AAA", "2026-02-03", "2026-02-04", "0.055", "0.01"),
            # Only the gap stated: AAA 0.045 minus BBB 0.00 = 0.045; claimed 0.05 -> -0.005.
            (
                "relative",
                "relative_return",
                "AAA|BBB",
                "2026-02-03",
                "2026-02-04",
                "||0.05",
                "||0.01",
            ),
            # Largest gain 02-02..02-05: 0.10 on 02-03; claimed 0.11 -> -0.01 within 0.02.
            ("jump", "max_daily_move", "AAA", "2026-02-02", "2026-02-05", "0.11", "0.02"),
            # Largest drop: -0.05 on 02-04; claimed -0.08 -> 0.03, within 2 * 0.02.
            ("drop", "max_daily_move", "AAA", "2026-02-02", "2026-02-05", "-0.08", "0.02"),
        ]
    )
    assert result.loc["confirmed", "computed_value"] == pytest.approx(0.045)
    assert result.loc["confirmed", "difference"] == pytest.approx(0.005)
    assert result["verdict"].to_dict() == {
        "confirmed": "confirmed",
        "close": "close",
        "contradicted": "contradicted",
        "boundary": "confirmed",
        "relative": "confirmed",
        "jump": "confirmed",
        "drop": "close",
    }
    assert result.loc["confirmed", "reason"] == (
        "AAA price return 2026-02-02 close -> 2026-02-04 close, 2 sessions: +4.50%"
    )
    assert result.loc["relative", "difference"] == pytest.approx(-0.005)
    assert result.loc["relative", "part_count"] == 1
    assert result.loc["jump", "computed_value"] == pytest.approx(0.10)
    assert "on 2026-02-03" in result.loc["jump", "reason"]
    assert result.loc["drop", "computed_value"] == pytest.approx(-0.05)
    assert result.loc["drop", "reason"] == (
        "AAA largest one-session price decline in 2026-02-02..2026-02-05 (4 sessions): "
        "-5.00% on 2026-02-04"
    )
    assert result.loc["confirmed", "text"] == "claim confirmed"


def test_a_relative_claim_with_a_contradicted_leg_is_not_confirmed():
    # AAA 0.045 (claimed 0.04: confirmed), BBB 0.0 (claimed -0.04 +/- 0.01: off by 0.04,
    # contradicted), gap 0.045 (claimed 0.05 +/- 0.02: confirmed). Worst part: the BBB leg.
    rows = [
        (
            "legs",
            "relative_return",
            "AAA|BBB",
            "2026-02-03",
            "2026-02-04",
            "0.04|-0.04|0.05",
            "0.01|0.01|0.02",
        )
    ]
    parts = _parts(rows).loc["legs"]
    assert list(parts.index) == ["AAA leg", "BBB leg", "gap"]
    assert parts["verdict"].to_dict() == {
        "AAA leg": "confirmed",
        "BBB leg": "contradicted",
        "gap": "confirmed",
    }
    assert parts.loc["gap", "computed_value"] == pytest.approx(0.045)
    claim = _check(rows).loc["legs"]
    assert claim["verdict"] == "contradicted"
    assert claim["deciding_part"] == "BBB leg"
    assert claim["computed_value"] == 0.0 and claim["claimed_value"] == -0.04
    assert claim["parts"].startswith("AAA leg: +4.5% vs +4.0% (±1.0pp) -> confirmed")
    assert "BBB leg: +0.0% vs -4.0% (±1.0pp) -> contradicted" in claim["parts"]


def test_vs_benchmark_parts_and_a_part_that_is_not_computable():
    # AAA minus its benchmark BBB over 02-03..02-04: 0.045 - 0 = 0.045 >= 0: confirmed. DDD's
    # history starts 2026-02-03, the window needs the 02-02 close: not computable, so the claim
    # is not computable although its other part holds.
    rows = [("w", "vs_benchmark", "AAA|DDD", "2026-02-03", "2026-02-04", ">=0|>=0", "0.01|0.01")]
    parts = _parts(rows).loc["w"]
    assert parts.loc["AAA vs benchmark", "computed_value"] == pytest.approx(0.045)
    assert parts.loc["AAA vs benchmark", "verdict"] == "confirmed"
    assert parts.loc["DDD vs benchmark", "verdict"] == "not_computable"
    assert parts.loc["DDD vs benchmark", "detail"] == (
        "DDD history starts 2026-02-03 (the window's base close needs 2026-02-02)"
    )
    claim = _check(rows).loc["w"]
    assert claim["verdict"] == "not_computable"
    assert claim["deciding_part"] == "DDD vs benchmark"
    assert pd.isna(claim["computed_value"])


# -- sensitivity ---------------------------------------------------------------------------------


def test_price_vs_total_return_reading_flips_a_claim():
    # As stated 0.045 vs 0.04 +/- 0.01: confirmed. Total return: 1.11 * 0.96 - 1 = 0.0656,
    # off by 0.0256 > 0.02: contradicted. It is the first reading in order, so the one shown.
    result = _check(
        [("c", "period_return", "AAA", "2026-02-03", "2026-02-04", "0.04", "0.01")]
    ).loc["c"]
    assert result["verdict"] == "confirmed"
    assert result["flips"]
    assert result["alternative_reading"] == "total return (adj_close) instead of price return"
    assert result["alternative_value"] == pytest.approx(0.0656)
    assert result["alternative_verdict"] == "contradicted"
    assert result["sensitivity"] == (
        "flips to contradicted under total return (adj_close) instead of price return "
        "(AAA return +6.6%)"
    )


def test_other_basis_of_the_named_alternative_instrument():
    # AAA on 02-05: +0.02 vs 0.02 +/- 0.005: confirmed. The document's alternative instrument DDD,
    # total return on 02-05: 0.03 + 0.01 = 0.04, off by 0.02 > 0.01: contradicted.
    rows = [("c", "period_return", "AAA", "2026-02-05", "2026-02-05", "0.02", "0.005", "DDD")]
    part = _parts(rows).loc[("c", "AAA return")]
    assert part["verdict"] == "confirmed"
    assert part["alternative_reading"] == "total return of DDD for AAA"
    assert part["alternative_value"] == pytest.approx(0.04)
    assert part["alternative_verdict"] == "contradicted" and part["flips"]


def test_session_before_and_after_move_a_one_session_window():
    # AAA on 02-04: -0.05 vs -0.05 +/- 0.01: confirmed. Total return -0.04: off by exactly 0.01,
    # still confirmed (no flip). Session before (02-03): +0.10, contradicted: the first flip.
    # Session after (02-05): +0.02, contradicted. The latest session any reading used: 02-05.
    rows = [("c", "period_return", "AAA", "2026-02-04", "2026-02-04", "-0.05", "0.01")]
    part = _parts(rows).loc[("c", "AAA return")]
    assert part["verdict"] == "confirmed"
    assert part["alternative_reading"] == "session before (2026-02-03)"
    assert part["alternative_value"] == pytest.approx(0.10)
    assert part["flips"]
    assert part["readings"] == (
        "total return (adj_close) instead of price return: -4.0% confirmed; "
        "session before (2026-02-03): +10.0% contradicted; "
        "session after (2026-02-05): +2.0% contradicted"
    )
    assert part["latest_session_used"] == pd.Timestamp("2026-02-05")
    claim = _check(rows).loc["c"]
    assert claim["latest_session_used"] == pd.Timestamp("2026-02-05")


def test_a_window_that_ends_on_the_last_session_has_no_session_after():
    # AAA 02-03..02-05: 1.10 * 0.95 * 1.02 - 1 = 0.0659 vs 0.0659 +/- 0.005: confirmed. No
    # session after 02-05 in the data: that reading is not computable and never a flip. Total
    # return 1.11 * 0.96 * 1.03 - 1 = 0.097568 and session before (02-04) 0.045 both contradict.
    rows = [("c", "period_return", "AAA", "2026-02-03", "2026-02-05", "0.0659", "0.005")]
    part = _parts(rows).loc[("c", "AAA return")]
    assert part["computed_value"] == pytest.approx(0.0659)
    assert (
        "session after: - not computable (no session after 2026-02-05 in the data)"
        in (part["readings"])
    )
    assert part["alternative_value"] == pytest.approx(0.097568)
    assert "session before (2026-02-04): +4.5% contradicted" in part["readings"]
    assert part["alternative_verdict"] == "contradicted" and part["flips"]


def test_a_max_move_window_widened_by_a_session():
    # Largest AAA drop in 02-03..02-05 is -0.05 (02-04) vs -0.10 +/- 0.02: contradicted (off by
    # 0.05). Widened to 02-02 (session before) it is still -0.05; the claim holds under no
    # reading; the total-return reading is the first computable one: -0.04.
    rows = [("c", "max_daily_move", "AAA", "2026-02-03", "2026-02-05", "-0.10", "0.02")]
    claim = _check(rows).loc["c"]
    assert claim["verdict"] == "contradicted" and not claim["flips"]
    assert claim["alternative_value"] == pytest.approx(-0.04)
    assert claim["sensitivity"].startswith("holds under every nearest reading")
    part = _parts(rows).loc[("c", "largest one-session move")]
    assert "session before (2026-02-02): -5.0% contradicted" in part["readings"]


def test_streak_claims():
    # P1's small-led runs ending in 2026-01-02..2026-02-13: 14 sessions (ends 01-22) and 2
    # sessions (ends 02-03); the longest is 14, the longest since 1996-05-07.
    result = _check(
        [
            ("fifteen", "streak", "P1", "2026-01-02", "2026-02-13", "15|", "0|"),
            ("fourteen", "streak", "P1", "2026-01-02", "2026-02-13", "14|", "0|"),
            ("off_by_two", "streak", "P1", "2026-01-02", "2026-02-13", "16|", "1|"),
            ("since", "streak", "P1", "2026-01-02", "2026-02-13", "|1996", "|0"),
            # Only the large-led run 02-04..02-05 lies in this window: 0 small-led sessions.
            ("none_small", "streak", "P1", "2026-02-04", "2026-02-05", "2|", "0|"),
            # The 1996 run is the longest on record: no longest_since year (the history, from
            # 1995-12-28, covers 1996).
            ("record", "streak", "P1", "1996-01-01", "1996-12-31", "|1996", "|0"),
        ]
    )
    assert result["verdict"].to_dict() == {
        "fifteen": "contradicted",
        "fourteen": "confirmed",
        "off_by_two": "close",
        "since": "confirmed",
        "none_small": "contradicted",
        "record": "contradicted",
    }
    assert result.loc["fifteen", "computed_value"] == 14
    assert result.loc["fifteen", "difference"] == -1
    assert result.loc["fifteen", "reason"] == (
        "longest small-led P1 run ending in 2026-01-02..2026-02-13: 14 sessions "
        "2026-01-02 -> 2026-01-22, longest since 1996-05-07"
    )
    assert result.loc["since", "computed_value"] == 1996
    assert result.loc["none_small", "computed_value"] == 0
    assert pd.isna(result.loc["record", "computed_value"])
    assert "longest on record" in result.loc["record", "reason"]


# A streak decided by a near tie: P4's spread on 2025-12-31 is -1.1 bp (lost by about 1 bp).
# Runs: large 1995-12-28..29, small 1996-01-02..01-04 (3), large 01-05, large 2025-12-30 and
# 12-31, small 2026-01-02 and 01-05 (2), large 01-06.
NEAR_TIE_ROWS = [
    ("1995-12-28", "large", -0.001),
    ("1995-12-29", "large", -0.001),
    ("1996-01-02", "small", 0.001),
    ("1996-01-03", "small", 0.001),
    ("1996-01-04", "small", 0.001),
    ("1996-01-05", "large", -0.001),
    ("2025-12-30", "large", -0.002),
    ("2025-12-31", "large", -0.00011),
    ("2026-01-02", "small", 0.001),
    ("2026-01-05", "small", 0.001),
    ("2026-01-06", "large", -0.001),
]
NEAR_PAIRS = pd.concat(
    [PAIRS, pd.DataFrame({"pair_id": ["P4"], "small": ["GGG"], "large": ["HHH"]})]
)


def test_a_streak_lost_by_about_1_bp_flips_when_counted_the_other_way():
    # As stated: the small run ending in 2026-01-02..01-06 is 01-02, 01-05: 2 sessions vs 3:
    # contradicted; longest since: the 1996 run (3 >= 2), year 1996: confirmed. Counting
    # 2025-12-31 (-1.1 bp, the session before the window) for small: 12-31, 01-02, 01-05 = 3
    # sessions, confirmed; still longest since 1996 (3 >= 3). The claim flips to confirmed.
    rows = [("s", "streak", "P4", "2026-01-02", "2026-01-06", "3|1996", "0|0")]
    spreads = _spreads(NEAR_TIE_ROWS, "P4")
    claim = _check(rows, pairs=NEAR_PAIRS, spreads=spreads).loc["s"]
    assert claim["verdict"] == "contradicted"
    assert claim["computed_value"] == 2
    assert claim["flips"]
    assert claim["alternative_reading"] == (
        "sessions decided by about 1 bp or less counted the other way"
    )
    assert claim["alternative_value"] == 3
    assert claim["alternative_verdict"] == "confirmed"
    parts = _parts(rows, pairs=NEAR_PAIRS, spreads=spreads).loc["s"]
    assert parts.loc["longest since year", "computed_value"] == 1996
    assert not parts.loc["longest since year", "flips"]


def test_a_streak_won_by_less_than_1_bp_inside_the_run_breaks_it_the_other_way():
    # 01-05 won by +0.5 bp: counted for large, the run 01-02, 01-05 breaks into 01-02 (1
    # session); claimed 2: confirmed as stated, contradicted counted the other way.
    rows = [r if r[0] != "2026-01-05" else ("2026-01-05", "small", 0.00005) for r in NEAR_TIE_ROWS]
    rows = [r if r[0] != "2025-12-31" else ("2025-12-31", "large", -0.002) for r in rows]
    claim = _check(
        [("s", "streak", "P4", "2026-01-02", "2026-01-06", "2|", "0|")],
        pairs=NEAR_PAIRS,
        spreads=_spreads(rows, "P4"),
    ).loc["s"]
    assert claim["verdict"] == "confirmed"
    assert claim["alternative_value"] == 1 and claim["alternative_verdict"] == "contradicted"


# -- short history -------------------------------------------------------------------------------


def test_a_window_reaching_before_the_first_loaded_session_is_not_computable():
    # EEE's history starts at the window's first session 02-02 (its first return is 02-03): the
    # window needs the 01-30 close. Never computed on the partial window (0.10 * ... would be
    # +4.5%), never contradicted.
    short = RETURNS[RETURNS["ticker"] == "AAA"].iloc[1:].assign(ticker="EEE")
    universe = pd.concat([UNIVERSE, pd.DataFrame({"ticker": ["EEE"]})])
    result = _check(
        [
            ("c", "period_return", "EEE", "2026-02-02", "2026-02-04", "0.045", "0.01"),
            ("rel", "relative_return", "BBB|EEE", "2026-02-02", "2026-02-04", "||-0.05", "||1"),
        ],
        returns=pd.concat([RETURNS, short]),
        universe=universe,
    )
    for claim in ("c", "rel"):
        row = result.loc[claim]
        assert row["verdict"] == "not_computable"
        assert "EEE history starts 2026-02-02" in row["reason"]
        assert pd.isna(row["computed_value"]) and not row["flips"]
    # The explicit first loaded session wins over the one derived from the returns.
    later = _check(
        [("c", "period_return", "AAA", "2026-02-03", "2026-02-04", "0.045", "0.01")],
        history_start={"AAA": pd.Timestamp("2026-02-03")},
    ).loc["c"]
    assert later["verdict"] == "not_computable"
    assert later["reason"] == (
        "AAA history starts 2026-02-03 (the window's base close needs 2026-02-02)"
    )


def test_longest_since_a_year_before_the_history_is_not_computable():
    # P1's history starts 1995-12-28 (the session before its first spread): "longest since
    # 1990" would need 1989-12-29; the claim is not computable (not contradicted, though no
    # earlier run is as long in the loaded history).
    row = _check([("c", "streak", "P1", "1996-01-01", "1996-12-31", "15|1990", "0|0")]).loc["c"]
    assert row["verdict"] == "not_computable"
    assert row["reason"] == (
        "P1 history starts 1995-12-28 (the look-back to 1990 needs 1989-12-29)"
    )


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (("c", "max_daily_move", "GM", "2026-02-02", "2026-02-05", "0.08", "0.01"), "GM is not in"),
        (
            ("c", "relative_return", "AAA|HUM", "2026-02-03", "2026-02-04", "||0", "||0.01"),
            "HUM is not",
        ),
        (
            ("c", "period_return", "CCC", "2026-02-03", "2026-02-04", "0.0", "0.01"),
            "no CCC returns",
        ),
        (
            ("c", "period_return", "AAA", "2025-01-02", "2025-01-10", "0.0", "0.01"),
            "no sessions in the data between 2025-01-02 and 2025-01-10",
        ),
        (
            ("c", "period_return", "DDD", "2026-02-03", "2026-02-05", "0.0", "0.01"),
            "DDD history starts 2026-02-03",
        ),
        (
            ("c", "period_return", "AAA", "2026-02-04", "2026-02-10", "0.0", "0.01"),
            "data ends 2026-02-05, before the window end 2026-02-10",
        ),
        (
            ("c", "streak", "NOPE", "2026-01-02", "2026-02-13", "15|", "0|"),
            "NOPE is not a rotation",
        ),
        (("c", "streak", "P2", "2026-01-02", "2026-02-13", "15|", "0|"), "no streaks for pair P2"),
        (
            ("c", "streak", "P1", "2030-01-02", "2030-02-13", "15|", "0|"),
            "no P1 sessions between 2030-01-02 and 2030-02-13",
        ),
        (
            ("c", "streak", "P1", "2026-02-04", "2026-02-05", "|1996", "|0"),
            "no small-led P1 run ends in",
        ),
    ],
)
def test_not_computable_claims_say_why(claim, reason):
    row = _check([claim]).loc["c"]
    assert row["verdict"] == "not_computable"
    assert reason in row["reason"]
    assert pd.isna(row["computed_value"]) and pd.isna(row["difference"])


def test_no_claims_gives_empty_tables():
    result = check_claims(_claims([]), _inputs())
    assert result.empty and list(result.columns) == CLAIMS_CHECK.column_names
    parts = claim_parts(_claims([]), _inputs())
    assert parts.empty and list(parts.columns) == CLAIM_PARTS.column_names


# -- the other kinds -----------------------------------------------------------------------------

# YYY on the first three sessions of 2024, 2025 and 2026 (2024-01-02, 01-03, 01-04;
# 2025-01-02, 01-03, 01-06; 2026-01-02, 01-05, 01-06). Price returns:
#   2024: 0.02, 0.01, 0.00 -> to session 3: 1.02 * 1.01 - 1 = 0.0302; to session 2: 0.0302
#   2025: 0.00, 0.01, 0.01 -> 1.01^2 - 1 = 0.0201;                     to session 2: 0.01
#   2026: 0.01, 0.01, 0.005 -> 1.0201 * 1.005 - 1 = 0.0252005;          to session 2: 0.0201
# Total returns equal them, except 2026's each 0.01 higher: 1.02 * 1.02 * 1.015 - 1 = 0.056006.
_YTD = [
    ("2024-01-02", 0.02, 0.02),
    ("2024-01-03", 0.01, 0.01),
    ("2024-01-04", 0.00, 0.00),
    ("2025-01-02", 0.00, 0.00),
    ("2025-01-03", 0.01, 0.01),
    ("2025-01-06", 0.01, 0.01),
    ("2026-01-02", 0.01, 0.02),
    ("2026-01-05", 0.01, 0.02),
    ("2026-01-06", 0.005, 0.015),
]
YTD_RETURNS = pd.DataFrame(_YTD, columns=["trade_date", "price_return", "total_return"]).assign(
    ticker="YYY", trade_date=lambda f: pd.to_datetime(f["trade_date"])
)


def test_ytd_rank_and_its_readings():
    # As of 2026-01-06 (session 3): 2024 0.0302 > 2026 0.0252 > 2025 0.0201: rank 2 vs claimed
    # 1: contradicted. Total return: 2026 0.0560 is the highest: rank 1, confirmed (flips).
    # Session before (2026-01-05, session 2): 2024 0.0302 > 2026 0.0201 > 2025 0.01: rank 2.
    # Session after: no 2026-01-07 in the data, not computable.
    universe = pd.DataFrame({"ticker": ["YYY"]})
    rows = [("r", "ytd_rank", "YYY", "2024-01-01", "2026-01-06", "1", "0")]
    claim = _check(rows, returns=YTD_RETURNS, universe=universe).loc["r"]
    assert claim["computed_value"] == 2 and claim["verdict"] == "contradicted"
    assert claim["reason"] == (
        "YYY price return to session 3 of each year 2024-2026: 2026 +2.52% (2026-01-06) ranks "
        "2 of 3; best other year 2024 +3.02%"
    )
    assert claim["flips"] and claim["alternative_value"] == 1
    assert claim["alternative_reading"] == "total return (adj_close) instead of price return"
    part = _parts(rows, returns=YTD_RETURNS, universe=universe).loc[("r", "rank")]
    assert "session before (2026-01-05): 2 contradicted" in part["readings"]
    assert "session after: - not computable" in part["readings"]
    # Counting from 2025 only, 2026 ranks first: confirmed.
    from_2025 = _check(
        [("r", "ytd_rank", "YYY", "2025-01-01", "2026-01-06", "1", "0")],
        returns=YTD_RETURNS,
        universe=universe,
    ).loc["r"]
    assert from_2025["verdict"] == "confirmed"
    # From 2023 the window needs 2022-12-30's close, before YYY's history (2023-12-29).
    from_2023 = _check(
        [("r", "ytd_rank", "YYY", "2023-01-01", "2026-01-06", "1", "0")],
        returns=YTD_RETURNS,
        universe=universe,
    ).loc["r"]
    assert from_2023["verdict"] == "not_computable"
    assert "YYY history starts 2023-12-29" in from_2023["reason"]


POINTS = pd.DataFrame(
    [
        ("2026-02-04", "Russell 2000", "SML", 18.0, "the note itself", "low"),
        ("2026-02-16", "Russell 2000", "SML", 16.0, "source A", "medium"),
        ("2026-01-20", "S&P 600", None, 17.5, "source B", "medium"),
        ("2026-02-04", "S&P 500", "LRG", 26.0, "the note itself", "low"),
        ("2026-02-10", "S&P 500", "LRG", 25.0, "source C", "high"),
        ("2026-01-01", "S&P 500", "LRG", 22.0, "source D", "high"),
    ],
    columns=["date", "index", "ticker", "value", "source", "confidence"],
).assign(metric="forward_pe", date=lambda f: pd.to_datetime(f["date"]))


def test_forward_pe_against_other_sources_nearest_the_as_of_date():
    # The note's own 18x and 26x (dated 2026-02-04) are excluded. SML: nearest other point is
    # 2026-02-16 (12 days) 16.0 vs 18 +/- 0.9: off by 2 > 1.8, contradicted; nearest on or
    # before: 2026-01-20 S&P 600 (no ticker, small side) 17.5, off by 0.5: confirmed (flips).
    # LRG: 2026-02-10 (6 days) 25.0 vs 26 +/- 1.3: confirmed; on or before: 2026-01-01 22.0,
    # off by 4 > 2.6: contradicted (flips). The claim: contradicted both ways, no flip.
    rows = [("pe", "forward_pe", "SML|LRG", "2026-02-04", "2026-02-04", "18|26", "0.9|1.3")]
    sessions = pd.DatetimeIndex(pd.to_datetime(_sessions("2026-02-02", "2026-02-20")))
    parts = _parts(rows, valuation_points=POINTS, sessions=sessions).loc["pe"]
    assert parts["computed_value"].to_dict() == {"SML forward P/E": 16.0, "LRG forward P/E": 25.0}
    assert parts["verdict"].to_dict() == {
        "SML forward P/E": "contradicted",
        "LRG forward P/E": "confirmed",
    }
    assert parts["alternative_value"].to_dict() == {
        "SML forward P/E": 17.5,
        "LRG forward P/E": 22.0,
    }
    assert parts["flips"].all()
    assert "another source: source A" in parts.loc["SML forward P/E", "detail"]
    claim = _check(rows, valuation_points=POINTS, sessions=sessions).loc["pe"]
    assert claim["verdict"] == "contradicted" and not claim["flips"]
    # Published 2026-02-16: a view as of an earlier session cannot show this check.
    assert claim["latest_session_used"] == pd.Timestamp("2026-02-16")
    # With data only to 2026-02-13 the 2026-02-16 point is not out yet: SML's nearest point is
    # 2026-01-20's 17.5 (off by 0.5, confirmed), LRG's 2026-02-10 25.0: the claim is confirmed.
    early = _check(rows, valuation_points=POINTS, sessions=sessions[sessions <= "2026-02-13"])
    assert early.loc["pe", "verdict"] == "confirmed"
    assert early.loc["pe", "latest_session_used"] == pd.Timestamp("2026-02-10")


PROXY = pd.DataFrame(
    {
        "trade_date": pd.to_datetime(["2026-02-03", "2026-02-04", "2026-02-05"]),
        "pair_id": "P3",
        "price_ratio_percentile": [0.06, 0.04, 0.07],
    }
)
SHILLER = pd.DataFrame(
    {
        "month": pd.to_datetime(["2025-12-01", "2026-01-01", "2026-02-01"]),
        "cape": [40.0, 41.0, 42.0],
        "cape_percentile_25y": [0.97, 1.0, 0.5],
        "cape_usable_from": pd.to_datetime(["2026-01-02", "2026-02-02", "2026-03-02"]),
    }
)
LONG_HISTORY = {"SML": pd.Timestamp("1990-01-02"), "LRG": pd.Timestamp("1990-01-02")}


def test_valuation_extreme_parts():
    # On 2026-02-04: price ratio percentile 0.04 <= 0.05: confirmed; CAPE of 2026-01 (usable
    # from 02-02; 2026-02 is not usable yet) at percentile 1.0 >= 0.95: confirmed. Session
    # before (02-03): 0.06, over the bound by 0.01 <= 0.05: close (flips). Session after: 0.07.
    rows = [
        ("v", "valuation_extreme", "P3", "2026-02-04", "2026-02-04", "<=0.05|>=0.95", "0.05|0.05")
    ]
    inputs = dict(price_proxy=PROXY, valuation_history=SHILLER, history_start=LONG_HISTORY)
    claim = _check(rows, **inputs).loc["v"]
    assert claim["verdict"] == "confirmed"
    assert claim["flips"] and claim["alternative_verdict"] == "close"
    assert claim["alternative_value"] == pytest.approx(0.06)
    parts = _parts(rows, **inputs).loc["v"]
    cape = parts.loc["S&P 500 CAPE percentile 25y"]
    assert cape["computed_value"] == 1.0 and "2026-01" in cape["detail"]
    assert (
        "PRICE-ONLY PROXY" in parts.loc["price ratio percentile 25y (price-only proxy)", "detail"]
    )
    # With SML's history from 2005 the 25-year window (from 2001-02-04) is not covered.
    short = _check(rows, **{**inputs, "history_start": {**LONG_HISTORY, "SML": "2005-01-03"}})
    assert short.loc["v", "verdict"] == "not_computable"
    assert short.loc["v", "reason"] == (
        "SML history starts 2005-01-03 (the 25-year window needs 2001-02-04)"
    )


# -- the seed ------------------------------------------------------------------------------------

HEADER = (
    "claim_id,document,as_of_date,kind,tickers,alternative_tickers,start_date,end_date,"
    "claimed,tolerance,text,source\n"
)
GOOD = "c1,note,2026-02-04,period_return,AAA,,2026-02-03,2026-02-04,0.04,0.01,t,s\n"
SEED_UNIVERSE = pd.DataFrame({"ticker": ["AAA", "BBB", "CCC"], "benchmark": ["BBB", None, None]})
SEED_PAIRS = pd.DataFrame({"pair_id": ["P1"], "small": ["AAA"], "large": ["BBB"]})


def test_real_claims_seed_loads():
    claims = load_claims()
    assert set(claims["kind"]) <= set(CLAIM_KINDS)
    assert set(CLAIM_KINDS) <= set(claims["kind"])  # every kind is used
    assert claims["claim_id"].is_unique
    assert {
        "rut_feb_mtd_2026_02_11",
        "rut_gspc_streak_15_since_1996",
        "amzn_feb6_drop",
        "gm_one_day_gain",
        "unh_hum_early_feb",
        "slv_one_session_crash",
        "iwm_vs_qqq_90d_note",
        "rut_vs_gspc_2000_2006",
    } <= set(claims["claim_id"])
    assert (claims["start_date"] <= claims["end_date"]).all()
    assert (claims["end_date"] <= claims["as_of_date"]).all()
    assert (claims["source"] != "").all()
    # The note's claims are as of 2026-02-04, the article's as of 2026-02-11.
    as_of = (
        claims.groupby("document")["as_of_date"].unique().map(lambda d: [str(x)[:10] for x in d])
    )
    assert as_of.to_dict() == {"article": ["2026-02-11"], "note": ["2026-02-04"]}
    # Every ticker or pair a claim names is in the universe.
    tickers = set(load_universe()["ticker"])
    pairs = set(load_rotation_pairs(load_universe())["pair_id"])
    named = {t for value in claims["tickers"] for t in value.split("|")}
    assert named - tickers - pairs == set()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "c2,note,2026-02-04,median_return,AAA,,2026-02-03,2026-02-04,0.04,0.01,t,s\n",
            "kind 'median_return'",
        ),
        (
            "c2,note,2026-02-04,relative_return,AAA,,2026-02-03,2026-02-04,0.04,0.01,t,s\n",
            "needs 2 ticker",
        ),
        (
            "c2,note,2026-02-04,period_return,AAA|,,2026-02-03,2026-02-04,0.04,0.01,t,s\n",
            "needs 1 or more ticker",
        ),
        (
            "c2,note,2026-02-04,period_return,ZZZ,,2026-02-03,2026-02-04,0.04,0.01,t,s\n",
            "'ZZZ' is not a universe ticker",
        ),
        (
            "c2,note,2026-02-04,period_return,AAA,QQQ,2026-02-03,2026-02-04,0.04,0.01,t,s\n",
            "'QQQ' is not a universe ticker",
        ),
        (
            "c2,note,2026-02-04,streak,AAA,,2026-02-03,2026-02-04,15|,0|,t,s\n",
            "'AAA' is not a rotation pair",
        ),
        (
            "c2,note,2026-02-04,vs_benchmark,BBB,,2026-02-03,2026-02-04,>=0,0.01,t,s\n",
            "BBB has no benchmark",
        ),
        (
            "c2,note,2026-02-04,period_return,AAA,,2026-02-03,2026-02-04,about 4%,0.01,t,s\n",
            "claimed 'about 4%'",
        ),
        (
            "c2,note,2026-02-04,period_return,AAA,,2026-02-03,2026-02-04,0.04,-0.01,t,s\n",
            "tolerance must",
        ),
        (
            "c2,note,2026-02-04,relative_return,AAA|BBB,,2026-02-03,2026-02-04,0.04|0.1,0|0,t,s\n",
            "has 3 part",
        ),
        ("c2,note,2026-02-04,streak,P1,,2026-02-03,2026-02-04,|,|,t,s\n", "no part is claimed"),
        (
            "c2,note,2026-02-04,period_return,AAA,,2026-02-31,2026-02-04,0.04,0.01,t,s\n",
            "start_date",
        ),
        (
            "c2,note,2026-02-04,period_return,AAA,,2026-02-04,2026-02-03,0.04,0.01,t,s\n",
            "is after end_date",
        ),
        (
            "c2,blog,2026-02-04,period_return,AAA,,2026-02-03,2026-02-04,0.04,0.01,t,s\n",
            "document 'blog'",
        ),
        (
            "c2,note,2026-02-11,period_return,AAA,,2026-02-03,2026-02-04,0.04,0.01,t,s\n",
            "is not the note's 2026-02-04",
        ),
        (
            "c2,note,2026-02-04,period_return,AAA,,2026-02-03,2026-02-05,0.04,0.01,t,s\n",
            "end_date 2026-02-05 is after the as_of_date",
        ),
    ],
)
def test_broken_claims_seed_names_file_line_and_claim(tmp_path, line, message):
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + GOOD + line)
    with pytest.raises(ClaimSeedError, match=r"claims\.csv line 3 \(claim c2\): .*" + message) as e:
        load_claims(path, SEED_UNIVERSE, SEED_PAIRS)
    assert (e.value.line, e.value.claim_id) == (3, "c2")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (GOOD, "duplicate claim_id"),
        (
            "c2,note,2026-02-04,period_return,AAA,,2026-02-03,2026-02-04,0.04,0.01,,s\n",
            "empty text",
        ),
    ],
)
def test_broken_claims_seed_rows_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + GOOD + line)
    with pytest.raises(SeedError, match=r"claims\.csv line 3: " + message):
        load_claims(path, SEED_UNIVERSE, SEED_PAIRS)
