import pandas as pd
import pytest

from rotation_assets.metrics.claims_check import CLAIMS_CHECK, VERDICTS, check_claims
from rotation_assets.reference.claims import CLAIM_KINDS, load_claims
from rotation_assets.reference.seed_files import SeedError
from rotation_assets.reference.universe import load_rotation_pairs, load_universe
from rotation_assets_tests.conftest import requires_shared_prices, shared_csv_returns

HEADER = "claim_id,kind,tickers,start_date,end_date,claimed_value,tolerance,unit,text,source\n"
GOOD = "c1,period_return,AAA,2026-02-03,2026-02-04,0.04,0.01,return,t,s\n"


def test_real_claims_seed_loads():
    claims = load_claims()
    assert set(claims["kind"]) <= set(CLAIM_KINDS)
    assert claims["claim_id"].is_unique
    assert {
        "rut_feb_mtd_2026_02_11",
        "rut_gspc_streak_15",
        "amzn_feb6_drop",
        "gm_one_day_gain",
        "unh_early_feb",
        "hum_early_feb",
        "slv_one_session_crash",
    } <= set(claims["claim_id"])
    assert claims["claimed_value"].dtype == "float64"
    assert (claims["start_date"] <= claims["end_date"]).all()
    assert (claims["source"] != "").all()
    # Every ticker or pair a claim names is in the universe (GM and HUM joined it with the
    # whole universe of priced instruments).
    tickers = set(load_universe()["ticker"])
    pairs = set(load_rotation_pairs(load_universe())["pair_id"])
    named = {t for value in claims["tickers"] for t in value.split("|")}
    assert named - tickers - pairs == set()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "c2,median_return,AAA,2026-02-03,2026-02-04,0.04,0.01,return,t,s\n",
            "kind 'median_return'",
        ),
        ("c2,relative_return,AAA,2026-02-03,2026-02-04,0.04,0.01,return,t,s\n", "needs 2 ticker"),
        ("c2,period_return,AAA|,2026-02-03,2026-02-04,0.04,0.01,return,t,s\n", "needs 1 ticker"),
        ("c2,streak,P1,2026-02-03,2026-02-04,15,0,return,t,s\n", "unit of streak must be"),
        ("c2,period_return,AAA,2026-02-03,2026-02-04,about 4%,0.01,return,t,s\n", "claimed_value"),
        ("c2,period_return,AAA,2026-02-03,2026-02-04,0.04,-0.01,return,t,s\n", "tolerance must"),
        ("c2,period_return,AAA,2026-02-31,2026-03-04,0.04,0.01,return,t,s\n", "start_date"),
        ("c2,period_return,AAA,2026-02-05,2026-02-04,0.04,0.01,return,t,s\n", "is after end_date"),
        ("c1,period_return,AAA,2026-02-03,2026-02-04,0.04,0.01,return,t,s\n", "duplicate claim_id"),
        ("c2,period_return,AAA,2026-02-03,2026-02-04,0.04,0.01,return,,s\n", "empty text"),
    ],
)
def test_broken_claims_seed_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + GOOD + line)
    with pytest.raises(SeedError, match=r"claims\.csv line 3: .*" + message):
        load_claims(path)


UNIVERSE = pd.DataFrame({"ticker": ["AAA", "BBB", "CCC", "DDD"]})
PAIRS = pd.DataFrame({"pair_id": ["P1", "P2"], "small": ["AAA", "AAA"], "large": ["BBB", "CCC"]})

# Sessions 2026-02-02 .. 2026-02-05. total_return is price_return + 0.01 everywhere, so a check
# that used total returns would give other numbers. CCC has no rows; DDD's first return is 02-04.
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

STREAKS = pd.DataFrame(
    [
        ("P1", "small", "1996-03-01", "1996-05-07", 15, pd.NaT),
        ("P1", "large", "1996-05-08", "1996-05-09", 2, pd.NaT),
        ("P1", "small", "2026-01-02", "2026-01-22", 14, "1996-05-07"),
        ("P1", "small", "2026-02-02", "2026-02-03", 2, "2026-01-22"),
        ("P1", "large", "2026-02-04", "2026-02-05", 2, "1996-05-09"),
    ],
    columns=["pair_id", "leader", "start_date", "end_date", "sessions", "longest_since"],
)
for _column in ("start_date", "end_date", "longest_since"):
    STREAKS[_column] = pd.to_datetime(STREAKS[_column])


def _claims(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "claim_id",
            "kind",
            "tickers",
            "start_date",
            "end_date",
            "claimed_value",
            "tolerance",
        ],
    )
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    frame["claimed_value"] = frame["claimed_value"].astype("float64")
    frame["tolerance"] = frame["tolerance"].astype("float64")
    frame["unit"] = frame["kind"].map(lambda k: CLAIM_KINDS[k][1])
    frame["text"] = "claim " + frame["claim_id"]
    return frame


def _check(rows: list[tuple]) -> pd.DataFrame:
    result = check_claims(_claims(rows), RETURNS, UNIVERSE, PAIRS, STREAKS)
    assert list(result.columns) == CLAIMS_CHECK.column_names
    return result.set_index("claim_id")


def test_return_claims_use_price_returns_and_get_every_numeric_verdict():
    # AAA over 02-03..02-04, from the 02-02 close: 1.10 * 0.95 - 1 = 0.045 (total: 1.11 * 0.96
    # - 1 = 0.0656, which would change every verdict below).
    result = _check(
        [
            ("confirmed", "period_return", "AAA", "2026-02-03", "2026-02-04", 0.04, 0.01),
            ("close", "period_return", "AAA", "2026-02-03", "2026-02-04", 0.03, 0.01),
            ("contradicted", "period_return", "AAA", "2026-02-03", "2026-02-04", 0.0, 0.01),
            # |0.045 - 0.055| = 0.01 = tolerance, 0.010000000000000071 in floats: still confirmed.
            ("boundary", "period_return", "AAA", "2026-02-03", "2026-02-04", 0.055, 0.01),
            # AAA 0.045 minus BBB 0.00 = 0.045; claimed 0.05 -> difference -0.005.
            ("relative", "relative_return", "AAA|BBB", "2026-02-03", "2026-02-04", 0.05, 0.01),
            # Largest gain 02-02..02-05: 0.10 on 02-03; claimed 0.11 -> -0.01 within 0.02.
            ("jump", "max_daily_move", "AAA", "2026-02-02", "2026-02-05", 0.11, 0.02),
            # Largest drop: -0.05 on 02-04; claimed -0.08 -> 0.03, within 2 * 0.02.
            ("drop", "max_daily_move", "AAA", "2026-02-02", "2026-02-05", -0.08, 0.02),
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
    assert result.loc["jump", "computed_value"] == pytest.approx(0.10)
    assert "on 2026-02-03" in result.loc["jump", "reason"]
    assert result.loc["drop", "computed_value"] == pytest.approx(-0.05)
    assert result.loc["drop", "reason"] == (
        "AAA largest one-session price decline in 2026-02-02..2026-02-05 (4 sessions): "
        "-5.00% on 2026-02-04"
    )
    assert result.loc["confirmed", "text"] == "claim confirmed"


def test_streak_claims():
    # P1's small-led runs ending in 2026-01-02..2026-02-13: 14 sessions (ends 01-22) and 2
    # sessions (ends 02-03); the longest is 14, the longest since 1996-05-07.
    result = _check(
        [
            ("fifteen", "streak", "P1", "2026-01-02", "2026-02-13", 15, 0),
            ("fourteen", "streak", "P1", "2026-01-02", "2026-02-13", 14, 0),
            ("off_by_two", "streak", "P1", "2026-01-02", "2026-02-13", 16, 1),
            ("since", "streak_longest_since", "P1", "2026-01-02", "2026-02-13", 1996, 0),
            # Only the large-led run 02-04..02-05 lies in this window: 0 small-led sessions.
            ("none_small", "streak", "P1", "2026-02-04", "2026-02-05", 2, 0),
            # The 1996 run is the longest on record: no longest_since year.
            ("record", "streak_longest_since", "P1", "1996-01-01", "1996-12-31", 1990, 0),
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


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (("c", "max_daily_move", "GM", "2026-02-02", "2026-02-05", 0.08, 0.01), "GM is not in"),
        (("c", "relative_return", "AAA|HUM", "2026-02-03", "2026-02-04", 0, 0.01), "HUM is not"),
        (("c", "period_return", "CCC", "2026-02-03", "2026-02-04", 0.0, 0.01), "no CCC returns"),
        (
            ("c", "period_return", "AAA", "2025-01-02", "2025-01-10", 0.0, 0.01),
            "no sessions in the data between 2025-01-02 and 2025-01-10",
        ),
        (
            ("c", "period_return", "DDD", "2026-02-03", "2026-02-05", 0.0, 0.01),
            "DDD has no return on 2026-02-03, the window's first session",
        ),
        (
            ("c", "period_return", "AAA", "2026-02-04", "2026-02-10", 0.0, 0.01),
            "data ends 2026-02-05, before the window end 2026-02-10",
        ),
        (("c", "streak", "NOPE", "2026-01-02", "2026-02-13", 15, 0), "NOPE is not a rotation"),
        (("c", "streak", "P2", "2026-01-02", "2026-02-13", 15, 0), "no streaks for pair P2"),
        (
            ("c", "streak", "P1", "2030-01-02", "2030-02-13", 15, 0),
            "no P1 sessions between 2030-01-02 and 2030-02-13",
        ),
        (
            ("c", "streak_longest_since", "P1", "2026-02-04", "2026-02-05", 1996, 0),
            "no small-led P1 run ends in",
        ),
    ],
)
def test_not_computable_claims_say_why(claim, reason):
    row = _check([claim]).loc["c"]
    assert row["verdict"] == "not_computable"
    assert reason in row["reason"]
    assert pd.isna(row["computed_value"]) and pd.isna(row["difference"])


def test_no_claims_gives_an_empty_table():
    result = check_claims(_claims([]), RETURNS, UNIVERSE, PAIRS, STREAKS)
    assert result.empty and list(result.columns) == CLAIMS_CHECK.column_names


@requires_shared_prices
def test_every_real_claim_gets_a_verdict_on_the_real_prices():
    claims = load_claims()
    universe = load_universe()
    no_streaks = STREAKS.iloc[0:0]
    result = check_claims(
        claims, shared_csv_returns(), universe, load_rotation_pairs(universe), no_streaks
    )
    assert list(result["claim_id"]) == list(claims["claim_id"])
    assert set(result["verdict"]) <= set(VERDICTS)
    assert (result["reason"] != "").all()
    computed = result["verdict"] != "not_computable"
    assert result.loc[computed, "computed_value"].notna().all()
    # Without a streaks table the streak claims cannot be checked, and say so.
    streak_rows = result[result["kind"].str.startswith("streak")]
    assert (streak_rows["verdict"] == "not_computable").all()
    assert streak_rows["reason"].str.startswith("no streaks for pair").all()
