"""The whole graph over the real price history (1990 to the files' end), through Dagster.

Prints what the warehouse finds (current streaks, the 2000-2006 and 2016-2017 parallels, the
claims verdicts) and cross-checks figures against values computed here straight from the CSVs.
Run it alone with: python -m pytest rotation_assets_tests/test_real_history.py -s
"""

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from rotation_assets.reporting.findings import findings_markdown, replace_between_markers
from rotation_assets_tests.conftest import SHARED_PRICES, requires_shared_prices

pytestmark = requires_shared_prices


def _last_date() -> dt.date:
    with (SHARED_PRICES / "_GSPC.csv").open() as f:
        return dt.date.fromisoformat(f.readlines()[-1].split(",")[0])


def closes(ticker: str) -> pd.Series:
    frame = pd.read_csv(SHARED_PRICES / (ticker.replace("^", "_") + ".csv"), parse_dates=["date"])
    return frame.set_index("date")["close"]


@pytest.fixture(scope="module")
def real_run(real_history_run) -> tuple[str, dict[str, str]]:
    """The warehouse built from every file, and the descriptions of the checks that warned."""
    return real_history_run


@pytest.fixture(scope="module")
def warehouse(real_run) -> str:
    return real_run[0]


def query(db: str, sql: str) -> pd.DataFrame:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql).df()


def test_current_streaks_match_a_recount_from_the_files(warehouse):
    current = query(
        warehouse,
        "SELECT pair_id, leader, start_date, end_date, sessions, spread, longest_since "
        "FROM analytics.outperformance_streaks WHERE is_current ORDER BY pair_id",
    )
    print("\nCurrent streaks:\n" + current.to_string(index=False))
    # Recount RUT_GSPC's current run from the raw closes (indices: price = total return).
    rut, spx = closes("^RUT").pct_change(), closes("^GSPC").pct_change()
    spread = (rut - spx).dropna()
    leader = spread.apply(lambda s: "small" if s > 0 else "large" if s < 0 else "tie")
    run = 1
    while leader.iloc[-1 - run] == leader.iloc[-1]:
        run += 1
    row = current[current["pair_id"] == "RUT_GSPC"].iloc[0]
    assert row["leader"] == leader.iloc[-1] and row["sessions"] == run
    assert row["end_date"] == spread.index[-1]


def test_2000_2006_and_2016_2017_parallels_match_the_closes(warehouse):
    parallels = query(
        warehouse,
        "SELECT period_id, pair_id, first_session, last_session, sessions, small_price_return, "
        "large_price_return, relative_return, small_led_share, longest_small_streak, "
        "max_relative_drawdown FROM analytics.historical_parallels "
        "WHERE period_id IN ('dotcom_rotation_2000_2006', 'post_election_2016') "
        "ORDER BY period_id, pair_id",
    )
    print("\nHistorical parallels:\n" + parallels.to_string(index=False))
    row = parallels[
        (parallels["period_id"] == "dotcom_rotation_2000_2006")
        & (parallels["pair_id"] == "RUT_GSPC")
    ].iloc[0]
    rut = closes("^RUT")
    base = rut[rut.index < pd.Timestamp(row["first_session"])].iloc[-1]
    expected = rut[pd.Timestamp(row["last_session"])] / base - 1
    assert row["small_price_return"] == pytest.approx(expected, rel=1e-9)
    assert row["first_session"] == pd.Timestamp("2000-03-10")
    assert row["last_session"] == pd.Timestamp("2006-12-29")


def test_claims_have_verdicts_and_every_named_ticker_is_computed(warehouse):
    verdicts = query(
        warehouse,
        "SELECT claim_id, claimed_value, computed_value, difference, verdict, reason "
        "FROM analytics.claims_check ORDER BY claim_id",
    )
    with pd.option_context("display.max_colwidth", 70, "display.width", 250):
        print("\nClaims:\n" + verdicts.to_string(index=False))
    assert set(verdicts["verdict"]) <= {"confirmed", "close", "contradicted", "not_computable"}
    claims = pd.read_csv("seeds/claims.csv")
    assert len(verdicts) == len(claims)
    # GM and HUM, outside the universe before, are priced now: their claims are computed.
    named = claims[claims["tickers"].str.contains(r"\bGM\b|\bHUM\b", regex=True)]["claim_id"]
    joined = verdicts[verdicts["claim_id"].isin(named)]
    assert len(named) >= 2 and len(joined) == len(named)
    # History from 1990 reaches back far enough for every claim (2000-2006 needs 1999-12-31,
    # "longest since 1996" the streaks of 1996).
    assert (verdicts["verdict"] != "not_computable").all()
    assert not verdicts["reason"].fillna("").str.contains("not in the universe").any()
    computable = verdicts[verdicts["verdict"] != "not_computable"]
    assert computable["computed_value"].notna().all()
    assert (
        computable["difference"] - (computable["computed_value"] - computable["claimed_value"])
    ).abs().max() < 1e-12


def test_every_file_loads_to_its_end_and_the_stale_tails_are_warned(real_run):
    db, warned = real_run
    last = query(db, "SELECT ticker, max(trade_date) AS last FROM raw.prices GROUP BY ticker")
    stored = dict(zip(last["ticker"], last["last"].dt.date, strict=True))
    files = {
        path.stem.replace("_", "^"): dt.date.fromisoformat(path.read_text().split()[-1][:10])
        for path in SHARED_PRICES.glob("*.csv")
    }
    assert stored == files
    # The files that end before the others' 2026-08-21 are named with their last session.
    message = warned["no_stale_tails"]
    for ticker, end in (("EXPI", "2026-02-11"), ("IWN", "2026-06-08"), ("IWO", "2026-06-08")):
        assert f"{ticker} (last_session={end}," in message
    assert "^NDX (last_session=2026-07-10," in message
    assert "on 4 rows" in message
    stale = query(
        db,
        "SELECT pair_id, stale_since, stale_legs FROM analytics.rotation_dashboard "
        "WHERE stale_since IS NOT NULL ORDER BY pair_id",
    )
    assert stale.to_dict("records") == [
        {
            "pair_id": "IWN_IWO",
            "stale_since": pd.Timestamp("2026-06-08"),
            "stale_legs": "IWN (last 2026-06-08), IWO (last 2026-06-08)",
        },
        {
            "pair_id": "RUT_NDX",
            "stale_since": pd.Timestamp("2026-07-10"),
            "stale_legs": "^NDX (last 2026-07-10)",
        },
    ]


def test_the_readme_findings_are_what_the_tables_say(warehouse):
    """The README's "What the pipeline found" is generated: regenerate it when this fails with
    python -m rotation_assets.reporting.findings --warehouse W --write README.md."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    with duckdb.connect(warehouse, read_only=True) as con:
        body = findings_markdown(con)
    assert replace_between_markers(readme, body) == readme
