"""`rotation report --as-of 2026-02-13` over the real price history (1990 to the files' end).

The warehouse runs to 2026-08-21; the report as of 2026-02-13 must show that session's
rotation: facts cross-checked against values computed here straight from the csv files.
"""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from rotation_assets.cli import main
from rotation_assets.reporting.inputs import read_report_inputs
from rotation_assets.reporting.point_in_time import NotALoadedSession, require_session
from rotation_assets_tests.conftest import SHARED_PRICES, requires_shared_prices

pytestmark = requires_shared_prices

AS_OF = dt.date(2026, 2, 13)
T = pd.Timestamp


def closes(ticker: str) -> pd.Series:
    frame = pd.read_csv(SHARED_PRICES / (ticker.replace("^", "_") + ".csv"), parse_dates=["date"])
    return frame.set_index("date")["close"]


@pytest.fixture(scope="module")
def warehouse(real_history_run) -> str:
    return real_history_run[0]


def rut_gspc_runs(until: dt.date) -> pd.DataFrame:
    """RUT_GSPC's runs of one leader up to ``until``, recounted from the closes (indices:
    price return; a tie ends a run): leader, start, end, sessions."""
    rut, spx = closes("^RUT"), closes("^GSPC")
    both = pd.concat([rut, spx], axis=1, join="inner").loc[: T(until)]
    spread = (both.iloc[:, 0].pct_change() - both.iloc[:, 1].pct_change()).dropna()
    leader = spread.apply(lambda s: "small" if s > 0 else "large" if s < 0 else "tie")
    run_id = (leader != leader.shift()).cumsum()
    runs = (
        pd.DataFrame({"leader": leader, "run": run_id})
        .reset_index(names="date")
        .groupby("run")
        .agg(leader=("leader", "first"), start=("date", "min"), end=("date", "max"))
    )
    runs["sessions"] = leader.groupby(run_id).size().to_numpy()
    return runs[runs["leader"] != "tie"].reset_index(drop=True)


def longest_since(runs: pd.DataFrame) -> pd.Timestamp | None:
    """End of the latest earlier run of the last run's leader with at least its sessions."""
    current = runs.iloc[-1]
    earlier = runs[
        (runs["leader"] == current["leader"])
        & (runs["end"] < current["start"])
        & (runs["sessions"] >= current["sessions"])
    ]
    return earlier["end"].max() if not earlier.empty else None


@pytest.mark.parametrize("day", [AS_OF, dt.date(2026, 1, 15)])
def test_the_dashboard_streak_as_of_a_session_is_a_recount_of_the_closes(warehouse, day):
    runs = rut_gspc_runs(day)
    current = runs.iloc[-1]
    assert current["end"] == T(day)  # RUT_GSPC has no tie on either session
    with duckdb.connect(warehouse, read_only=True) as con:
        row = con.execute(
            "SELECT * FROM analytics.rotation_dashboard_as_of(?) WHERE pair_id = 'RUT_GSPC'",
            [day],
        ).df()
    (row,) = row.to_dict("records")
    assert row["trade_date"] == T(day)
    assert (row["streak_leader"], row["streak_sessions"]) == (
        current["leader"],
        current["sessions"],
    )
    assert row["streak_start_date"] == current["start"]
    assert row["streak_longest_since"] == longest_since(runs)


def test_2026_01_15_is_inside_a_run_that_went_on_after_it(warehouse):
    # The small-led run of 2026-01-02..2026-01-22 (14 sessions): as of 2026-01-15 it had 10
    # (Jan 2, 5-9, 12-15).
    runs = rut_gspc_runs(dt.date(2026, 1, 22))
    assert runs.iloc[-1][["leader", "start", "sessions"]].tolist() == ["small", T("2026-01-02"), 14]
    with duckdb.connect(warehouse, read_only=True) as con:
        (sessions,) = con.execute(
            "SELECT streak_sessions FROM analytics.rotation_dashboard_as_of(DATE '2026-01-15') "
            "WHERE pair_id = 'RUT_GSPC'"
        ).fetchone()
    assert sessions == 10


def test_the_report_as_of_2026_02_13_from_a_warehouse_through_august(warehouse, tmp_path):
    output = tmp_path / "r.html"
    assert (
        main(["report", "--warehouse", warehouse, "--as-of", "2026-02-13", "--output", str(output)])
        == 0
    )
    html = output.read_text()
    assert "<h1>Small-cap vs large-cap rotation: 2026-02-13 (as of)</h1>" in html
    assert "The warehouse holds sessions through 2026-08-21" in html
    with duckdb.connect(warehouse, read_only=True) as con:
        inputs = read_report_inputs(con, AS_OF)
        stored = con.execute(
            "SELECT episode_id, is_current, ended_date FROM analytics.rotation_episodes "
            "WHERE episode_id = 'RUT_GSPC:2025-11-17'"
        ).df()
        stored_current = con.execute(
            "SELECT DISTINCT current_episode_id FROM analytics.episode_similarity "
            "WHERE pair_id = 'RUT_GSPC'"
        ).fetchall()

    # The current RUT_GSPC episode as of 2026-02-13 starts at the ratio's trough of 2025-11-17
    # and peaked on 2026-01-22; in the tables (through August) it ended on 2026-03-12.
    episodes = inputs.episodes.set_index("episode_id")
    current = episodes.loc["RUT_GSPC:2025-11-17"]
    assert current["is_current"] and current["end_date"] == T(AS_OF)
    assert current["peak_date"] == T("2026-01-22") and pd.isna(current["ended_date"])
    ratio = (closes("^RUT") / closes("^GSPC")).dropna()
    window = ratio.loc["2025-11-17":"2026-02-13"]
    assert window.idxmin() == T("2025-11-17") and window.idxmax() == T("2026-01-22")
    assert current["peak_ratio_change"] == pytest.approx(window.max() / window.iloc[0] - 1, 1e-9)
    # 60 sessions after the trough (2025-11-18 .. 2026-02-13).
    assert current["sessions"] == len(window) - 1 == 60
    assert stored.to_dict("records") == [
        {
            "episode_id": "RUT_GSPC:2025-11-17",
            "is_current": False,
            "ended_date": T("2026-03-12"),
        }
    ]
    # Similarity as of then: that episode against the past ones, over its 60 sessions (the
    # stored table compares the later current episode).
    similar = inputs.similarity[inputs.similarity["pair_id"] == "RUT_GSPC"]
    assert set(similar["current_episode_id"]) == {"RUT_GSPC:2025-11-17"}
    assert set(similar["sessions_compared"]) == {60}
    assert stored_current == [("RUT_GSPC:2026-03-12",)]

    # Valuation: the note's 18x vs 26x of 2026-02-04 (FactSet's 2026-02-16 is not out).
    dashboard = inputs.dashboard.set_index("pair_id")
    assert dashboard.loc["RUT_GSPC", "valuation_as_of"] == T("2026-02-04")
    assert dashboard.loc["RUT_GSPC", "valuation_discount"] == pytest.approx(8 / 26, abs=1e-12)
    assert inputs.valuation["as_of"].max() == T("2026-02-04")
    # No pair stale on 2026-02-13 (IWN, IWO and ^NDX stop in June and July).
    assert dashboard["stale_since"].isna().all()
    assert "Stale pairs" not in html
    # Relative rotation: D's week, nothing later; EXPI's series stopped on 2026-02-11.
    assert inputs.rotation["week_end"].max() == T(AS_OF)
    assert inputs.rotation.loc[inputs.rotation["ticker"] == "EXPI", "week_end"].max() == T(
        "2026-02-11"
    )
    # Claims: both documents are out (2026-02-04, 2026-02-11); every claim but the forward P/E
    # one, which is checked against points published on 2026-02-16.
    with duckdb.connect(warehouse, read_only=True) as con:
        every = set(con.execute("SELECT claim_id FROM analytics.claims_check").df()["claim_id"])
    assert set(inputs.claims["claim_id"]) == every - {"forward_pe_18_vs_26"}
    assert inputs.claims["latest_session_used"].max() <= T(AS_OF)


def test_the_stale_pairs_as_of_a_session_in_june(warehouse):
    with duckdb.connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT pair_id, stale_since, stale_legs FROM "
            "analytics.rotation_dashboard_as_of(DATE '2026-06-30') WHERE stale_since IS NOT NULL"
        ).df()
        # A Sunday is no session: the error names the sessions around it.
        with pytest.raises(NotALoadedSession, match="2026-02-13 and 2026-02-17"):
            require_session(con, dt.date(2026, 2, 15))
    # ^NDX still trades on 2026-06-30; IWN and IWO stopped on 2026-06-08.
    assert rows.to_dict("records") == [
        {
            "pair_id": "IWN_IWO",
            "stale_since": T("2026-06-08"),
            "stale_legs": "IWN (last 2026-06-08), IWO (last 2026-06-08)",
        }
    ]


def test_a_seeded_period_running_past_the_session_is_measured_to_it_and_says_so(warehouse):
    with duckdb.connect(warehouse, read_only=True) as con:
        inputs = read_report_inputs(con, dt.date(2004, 6, 30))
    parallels = inputs.parallels.set_index(["period_id", "pair_id"])
    # 2000-2006 as of mid-2004: measured to 2004-06-30, said; the later periods have no row.
    row = parallels.loc[("dotcom_rotation_2000_2006", "RUT_GSPC")]
    assert (row["first_session"], row["last_session"]) == (T("2000-03-10"), T("2004-06-30"))
    assert row["coverage_note"] == "period ends 2006-12-29: measured to 2004-06-30"
    rut = closes("^RUT")
    base = rut[rut.index < T("2000-03-10")].iloc[-1]
    assert row["small_price_return"] == pytest.approx(rut[T("2004-06-30")] / base - 1, rel=1e-9)
    assert set(inputs.parallels["period_id"]) == {"dotcom_rotation_2000_2006"}
