"""analytics.rotation_dashboard on a warehouse written by hand: which rows the view picks."""

import datetime as dt
import math

import pandas as pd
import pytest
from dagster import materialize

from rotation_assets.defs.analytics.assets import (
    DAILY_RETURNS,
    DASHBOARD_KEY,
    OUTPERFORMANCE_STREAKS,
    PRICE_PROXY,
    RELATIVE_STRENGTH,
    VALUATION_GAP,
    VALUATION_HISTORY,
    analytics,
)
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics.outperformance_streaks import outperformance_streaks
from rotation_assets.metrics.pair_spreads import PAIR_SPREADS
from rotation_assets.metrics.rotation_dashboard import (
    ROTATION_DASHBOARD,
    create_dashboard_view,
    read_dashboard,
)
from rotation_assets.metrics.valuation_gap import valuation_gap
from rotation_assets.reference.universe import ROTATION_PAIRS
from rotation_assets.reference.valuation_points import load_valuation_points
from rotation_assets.sources.valuation_snapshots import VALUATION_SNAPSHOTS
from rotation_assets.warehouse.writes import ensure_table

D = pd.Timestamp


def relative_row(trade_date: str, pair_id: str, **values) -> dict:
    row = dict.fromkeys(RELATIVE_STRENGTH.column_names, math.nan)
    row.update(
        trade_date=D(trade_date),
        pair_id=pair_id,
        small_return=0.0,
        large_return=0.0,
        spread=0.0,
        small_index=100.0,
        large_index=100.0,
        ratio=100.0,
        ratio_drawdown=0.0,
        source="csv",
    )
    row.update(values)
    return row


def streak(pair_id, leader, start, end, sessions, longest_since, is_current) -> dict:
    return {
        "pair_id": pair_id,
        "leader": leader,
        "start_date": D(start),
        "end_date": D(end),
        "sessions": sessions,
        "small_return": 0.0,
        "large_return": 0.0,
        "spread": 0.0,
        "rank": 1,
        "longest_since": D(longest_since) if longest_since else pd.NaT,
        "is_current": is_current,
        "source": "csv",
    }


def valuation(as_of, pair_id, metric, discount, confidence, origin="published") -> dict:
    return {
        "as_of": D(as_of),
        "pair_id": pair_id,
        "small_label": "small",
        "large_label": "large",
        "metric": metric,
        "small_pe": math.nan,
        "large_pe": math.nan,
        "relative_pe": 1.0 - discount,
        "discount": discount,
        "source": f"{metric} {as_of} {confidence}",
        "confidence": confidence,
        "origin": origin,
    }


def proxy(trade_date: str, pair_id: str, percentile: float) -> dict:
    return {
        "trade_date": D(trade_date),
        "pair_id": pair_id,
        "ratio": 100.0,
        "price_ratio_percentile": percentile,
        "window_start": D("2001-01-02"),
        "window_sessions": 6000,
        "measure": "price ratio percentile (proxy, not P/E)",
        "source": "csv",
    }


def month(month, cape, pe, cape_usable_from, usable_from) -> dict:
    """A valuation_history row; percentiles are the value / 100 so each is recognisable."""
    return {
        "month": D(month),
        "sp500_price": 100.0,
        "earnings_12m": 4.0,
        "cape": cape,
        "cape_percentile_25y": cape / 100,
        "cape_percentile_since_1881": cape / 100 + 0.001,
        "trailing_pe": pe,
        "trailing_pe_percentile_25y": pe / 100,
        "trailing_pe_percentile_since_1881": pe / 100 + 0.001,
        "cape_usable_from": D(cape_usable_from),
        "usable_from": D(usable_from),
        "source": "shiller",
    }


def pairs(pair_ids: list[str], basis: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pair_id": pair_ids,
            "small": [p.split("_")[0] for p in pair_ids],
            "large": [p.split("_")[1] for p in pair_ids],
            "comparison": "size",
            "small_leg_kind": "small_cap",
            "large_leg_kind": "large_cap",
            "basis": basis,
            "description": [p.lower() for p in pair_ids],
        }
    )


def daily_returns(last_session: dict[str, str]) -> pd.DataFrame:
    """Two return rows per ticker, the second on its last session."""
    rows = [
        (D(day) - pd.Timedelta(days=1), ticker, 0.0, 0.0, None, "csv")
        for ticker, day in last_session.items()
    ] + [(D(day), ticker, 0.0, 0.0, None, "csv") for ticker, day in last_session.items()]
    return pd.DataFrame(rows, columns=DAILY_RETURNS.column_names)


@pytest.fixture
def warehouse(tmp_path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(database=str(tmp_path / "w.duckdb"), lock_wait_seconds=2)
    wh.replace_rows(
        ROTATION_PAIRS,
        pairs(["AAA_BBB", "CCC_DDD", "EEE_FFF"], ["total_return", "price", "total_return"]),
    )
    # DDD's series stops on 2026-01-05, a session before the others' last (2026-01-06).
    wh.replace_rows(
        DAILY_RETURNS,
        daily_returns(
            {"AAA": "2026-01-06", "BBB": "2026-01-06", "CCC": "2026-01-06", "DDD": "2026-01-05"}
        ),
    )
    wh.replace_rows(
        RELATIVE_STRENGTH,
        pd.DataFrame(
            [
                # An older AAA_BBB row with other values: the view must take 2026-01-06.
                relative_row("2026-01-05", "AAA_BBB", ratio_change_ytd=-0.5, ratio=90.0),
                relative_row(
                    "2026-01-06",
                    "AAA_BBB",
                    ratio=105.0,
                    ratio_change_ytd=0.05,
                    return_difference_ytd=0.04,
                    spread_sum_ytd=0.03,
                    ratio_change_20=0.02,
                    return_difference_20=0.021,
                    spread_sum_20=0.022,
                    ratio_change_60=0.06,
                    return_difference_60=0.061,
                    spread_sum_60=0.062,
                    ratio_change_252=0.25,
                    ratio_change_252_percentile=0.9,
                ),
                # CCC_DDD stops a session earlier (DDD stopped): its own latest row counts.
                relative_row("2026-01-05", "CCC_DDD", ratio_change_ytd=-0.01, source="synthetic"),
            ]
        ),
    )
    wh.replace_rows(
        OUTPERFORMANCE_STREAKS,
        pd.DataFrame(
            [
                streak("AAA_BBB", "small", "2025-11-03", "2025-12-01", 20, None, False),
                streak("AAA_BBB", "large", "2025-12-02", "2026-01-01", 3, "2025-10-01", False),
                streak("AAA_BBB", "small", "2026-01-02", "2026-01-06", 3, "2025-12-01", True),
                # CCC_DDD's last session was a tie: no current streak.
                streak("CCC_DDD", "large", "2026-01-02", "2026-01-02", 1, None, False),
            ]
        ),
    )
    wh.replace_rows(
        VALUATION_GAP,
        pd.DataFrame(
            [
                # AAA_BBB's session is 2026-01-06. Highest confidence first: the three 'high'
                # rows up to that date beat the 'low' snapshot of the same date; of them the
                # newest date, and on that date forward before trailing: 0.15.
                valuation("2025-12-01", "AAA_BBB", "forward_pe", 0.30, "high"),
                valuation("2026-01-06", "AAA_BBB", "trailing_pe", 0.10, "high"),
                valuation("2026-01-06", "AAA_BBB", "forward_pe", 0.15, "high"),
                valuation("2026-01-06", "AAA_BBB", "forward_pe", 0.20, "low", "snapshot"),
                # Published after the session: never shown as of 2026-01-06.
                valuation("2026-01-07", "AAA_BBB", "forward_pe", 0.40, "high"),
                # CCC_DDD's session is 2026-01-05: its only figure is a day newer.
                valuation("2026-01-06", "CCC_DDD", "forward_pe", 0.25, "medium"),
                # A comparison that is no pair is never a pair's discount.
                valuation("2026-02-01", None, "forward_pe", 0.50, "high"),
            ]
        ),
    )
    wh.replace_rows(
        PRICE_PROXY,
        pd.DataFrame(
            [
                proxy("2026-01-05", "AAA_BBB", 0.3),
                proxy("2026-01-06", "AAA_BBB", 0.8),
                proxy("2026-01-05", "CCC_DDD", 0.1),
            ]
        ),
    )
    wh.replace_rows(
        VALUATION_HISTORY,
        pd.DataFrame(
            [
                month("2025-09", 38.0, 27.0, "2025-10-01", "2025-12-01"),
                # Usable, but no trailing P/E (earnings not published): the P/E is 2025-09's.
                month("2025-10", 38.5, math.nan, "2025-11-03", "2025-12-01"),
                month("2025-11", 39.0, 28.0, "2025-12-01", "2026-03-02"),
                # Usable from AAA_BBB's session exactly, one session after CCC_DDD's.
                month("2025-12", 40.0, 29.0, "2026-01-06", "2026-03-02"),
                month("2026-01", 41.0, 30.0, "2026-02-02", "2026-06-01"),
            ]
        ),
    )
    with wh.connect() as con:
        create_dashboard_view(con)
    return wh


def test_one_row_per_pair_with_latest_session_streak_and_valuation(warehouse):
    rows = warehouse.query("SELECT * FROM analytics.rotation_dashboard").set_index("pair_id")
    assert list(rows.index) == ["AAA_BBB", "CCC_DDD", "EEE_FFF"]
    assert ["pair_id", *rows.columns] == ROTATION_DASHBOARD.column_names

    a = rows.loc["AAA_BBB"]
    assert (a["small"], a["large"], a["source"]) == ("AAA", "BBB", "csv")
    assert (a["comparison"], a["basis"]) == ("size", "total_return")
    assert a["trade_date"] == D("2026-01-06") and a["ratio"] == 105.0
    assert pd.isna(a["stale_since"]) and pd.isna(a["stale_legs"])
    assert (a["ratio_change_ytd"], a["return_difference_ytd"], a["spread_sum_ytd"]) == (
        0.05,
        0.04,
        0.03,
    )
    assert (a["ratio_change_20"], a["return_difference_20"], a["spread_sum_20"]) == (
        0.02,
        0.021,
        0.022,
    )
    assert (a["ratio_change_60"], a["return_difference_60"], a["spread_sum_60"]) == (
        0.06,
        0.061,
        0.062,
    )
    assert (a["ratio_change_252"], a["ratio_change_252_percentile"]) == (0.25, 0.9)
    assert (a["streak_leader"], a["streak_sessions"]) == ("small", 3)
    assert a["streak_start_date"] == D("2026-01-02")
    assert a["streak_longest_since"] == D("2025-12-01")
    assert a["valuation_as_of"] == D("2026-01-06")
    assert (a["valuation_metric"], a["valuation_discount"]) == ("forward_pe", 0.15)
    assert a["valuation_source"] == "forward_pe 2026-01-06 high"
    assert a["price_proxy_percentile_25y"] == 0.8
    # As of 2026-01-06: CAPE of 2025-12 (usable from that very session), P/E of 2025-09.
    assert (a["sp500_cape_month"], a["sp500_cape"]) == (D("2025-12-01"), 40.0)
    assert (a["sp500_cape_percentile_25y"], a["sp500_cape_percentile_since_1881"]) == (
        0.40,
        0.401,
    )
    assert (a["sp500_trailing_pe_month"], a["sp500_trailing_pe"]) == (D("2025-09-01"), 27.0)
    assert a["sp500_trailing_pe_percentile_25y"] == 0.27
    assert a["sp500_trailing_pe_percentile_since_1881"] == 0.271

    c = rows.loc["CCC_DDD"]
    assert c["trade_date"] == D("2026-01-05") and c["source"] == "synthetic"
    assert c["basis"] == "price"
    # Stale: its last common session 2026-01-05 is before the latest, 2026-01-06; DDD stopped.
    assert c["stale_since"] == D("2026-01-05")
    assert c["stale_legs"] == "DDD (last 2026-01-05)"
    assert c["ratio_change_ytd"] == -0.01
    assert pd.isna(c["streak_leader"]) and pd.isna(c["streak_sessions"])
    assert pd.isna(c["valuation_discount"]) and pd.isna(c["valuation_as_of"])
    assert c["price_proxy_percentile_25y"] == 0.1
    # As of 2026-01-05: 2025-12's CAPE is a session away, so 2025-11's.
    assert (c["sp500_cape_month"], c["sp500_cape"]) == (D("2025-11-01"), 39.0)
    assert (c["sp500_trailing_pe_month"], c["sp500_trailing_pe"]) == (D("2025-09-01"), 27.0)

    # A pair without any data yet still has its row, all measures null.
    e = rows.loc["EEE_FFF"]
    assert e["small"] == "EEE"
    assert e.drop(["small", "large", "comparison", "basis"]).isna().all()


def test_view_and_columns_carry_their_descriptions_in_duckdb(warehouse):
    with warehouse.connect(read_only=True) as con:
        (view_comment,) = con.execute(
            "SELECT comment FROM duckdb_views() "
            "WHERE schema_name = 'analytics' AND view_name = 'rotation_dashboard'"
        ).fetchone()
        comments = dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() "
                "WHERE schema_name = 'analytics' AND table_name = 'rotation_dashboard'"
            ).fetchall()
        )
    assert view_comment == ROTATION_DASHBOARD.description
    assert comments == {c.name: c.description for c in ROTATION_DASHBOARD.columns}


def test_asset_creates_the_view_with_preview_and_schema(warehouse):
    with warehouse.connect() as con:
        con.execute("DROP VIEW analytics.rotation_dashboard")
    result = materialize([analytics], selection=[DASHBOARD_KEY], resources={"warehouse": warehouse})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    mat = event.materialization
    assert mat.metadata["dagster/row_count"].value == 3
    preview = mat.metadata["preview"].value
    assert "AAA_BBB" in preview and "2026-01-06" in preview and "0.1500" in preview
    spec = analytics.specs_by_key[DASHBOARD_KEY]
    schema = spec.metadata["dagster/column_schema"]
    assert [c.name for c in schema.columns] == ROTATION_DASHBOARD.column_names
    assert spec.group_name == "analytics" and set(spec.kinds) == {"duckdb", "sql"}
    assert warehouse.query("SELECT count(*) AS n FROM analytics.rotation_dashboard")["n"][0] == 3


def test_asset_binds_the_view_before_the_analytics_tables_exist(tmp_path):
    wh = DuckDBWarehouse(database=str(tmp_path / "fresh.duckdb"), lock_wait_seconds=2)
    wh.replace_rows(ROTATION_PAIRS, pairs(["X_Y"], ["price"]))
    result = materialize([analytics], selection=[DASHBOARD_KEY], resources={"warehouse": wh})
    assert result.success
    rows = wh.query("SELECT * FROM analytics.rotation_dashboard")
    assert list(rows["pair_id"]) == ["X_Y"] and rows["trade_date"].isna().all()


@pytest.mark.parametrize(
    ("session", "as_of", "confidence", "discount"),
    [
        # The 2026-02-13 view: FactSet's 16x vs 21x is dated 2026-02-16, after the session, so
        # the only figure then is the note's 18x vs 26x: 1 - 18/26 = 8/26.
        ("2026-02-13", "2026-02-04", "low", 8 / 26),
        # From the first session after it (2026-02-16 is Presidents' Day): the medium-confidence
        # figure beats the low one: 1 - 16/21 = 5/21.
        ("2026-02-17", "2026-02-16", "medium", 5 / 21),
    ],
)
def test_the_seeded_pe_gap_is_never_newer_than_the_session(
    tmp_path, session, as_of, confidence, discount
):
    index_pair = pairs(["RUT_GSPC"], ["price"]).assign(small="^RUT", large="^GSPC")
    wh = DuckDBWarehouse(database=str(tmp_path / "w.duckdb"), lock_wait_seconds=2)
    wh.replace_rows(ROTATION_PAIRS, index_pair)
    wh.replace_rows(RELATIVE_STRENGTH, pd.DataFrame([relative_row(session, "RUT_GSPC")]))
    wh.replace_rows(DAILY_RETURNS, daily_returns({"^RUT": session, "^GSPC": session}))
    gap = valuation_gap(load_valuation_points(), VALUATION_SNAPSHOTS.empty(), index_pair)
    wh.replace_rows(VALUATION_GAP, gap)
    with wh.connect() as con:
        for spec in (OUTPERFORMANCE_STREAKS, PRICE_PROXY, VALUATION_HISTORY):
            ensure_table(con, spec)
        create_dashboard_view(con)
    (row,) = wh.query("SELECT * FROM analytics.rotation_dashboard").to_dict("records")
    assert row["valuation_as_of"] == D(as_of)
    assert row["valuation_metric"] == "forward_pe"
    assert row["valuation_discount"] == pytest.approx(discount, abs=1e-12)
    assert gap.loc[gap["as_of"] == D(as_of), "confidence"].tolist() == [confidence]


# --- As of a date: analytics.rotation_dashboard_as_of(d) -------------------------------------

SESSIONS = ["2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
SESSIONS += ["2026-01-12"]


@pytest.fixture
def history(tmp_path) -> DuckDBWarehouse:
    """Seven sessions 2026-01-02..2026-01-12 of two pairs, with rows after 2026-01-07 that a
    view as of 2026-01-07 must not use."""
    wh = DuckDBWarehouse(database=str(tmp_path / "h.duckdb"), lock_wait_seconds=2)
    wh.replace_rows(ROTATION_PAIRS, pairs(["AAA_BBB", "CCC_DDD"], ["total_return", "price"]))
    # DDD stops on 2026-01-08: CCC_DDD is stale in the latest view, not as of 2026-01-07.
    last = {"AAA": "2026-01-12", "BBB": "2026-01-12", "CCC": "2026-01-12", "DDD": "2026-01-08"}
    wh.replace_rows(
        DAILY_RETURNS,
        pd.DataFrame(
            [
                (D(day), ticker, 0.0, 0.0, None, "csv")
                for ticker, end in last.items()
                for day in SESSIONS
                if D(day) <= D(end)
            ],
            columns=DAILY_RETURNS.column_names,
        ),
    )
    # AAA_BBB's ratio is 100 + i on its i-th session (i = 0..6), its ytd change i / 100.
    rows = [
        relative_row(day, "AAA_BBB", ratio=100.0 + i, ratio_change_ytd=i / 100)
        for i, day in enumerate(SESSIONS)
    ]
    rows += [
        relative_row(day, "CCC_DDD", ratio_change_ytd=-i / 100)
        for i, day in enumerate(SESSIONS[:5])
    ]
    wh.replace_rows(RELATIVE_STRENGTH, pd.DataFrame(rows))
    # The latest table (through 2026-01-12). AAA_BBB's leaders by session: small (01-02),
    # large (01-05), small (01-06..01-09), large (01-12); and an older 2-session small run.
    wh.replace_rows(
        OUTPERFORMANCE_STREAKS,
        pd.DataFrame(
            [
                streak("AAA_BBB", "small", "2025-12-01", "2025-12-02", 2, None, False),
                streak("AAA_BBB", "small", "2026-01-02", "2026-01-02", 1, "2025-12-02", False),
                streak("AAA_BBB", "large", "2026-01-05", "2026-01-05", 1, None, False),
                streak("AAA_BBB", "small", "2026-01-06", "2026-01-09", 4, None, False),
                streak("AAA_BBB", "large", "2026-01-12", "2026-01-12", 1, "2026-01-05", True),
                streak("CCC_DDD", "small", "2026-01-02", "2026-01-08", 5, None, True),
            ]
        ),
    )
    wh.replace_rows(
        VALUATION_GAP,
        pd.DataFrame(
            [
                valuation("2026-01-05", "AAA_BBB", "forward_pe", 0.10, "high"),
                # Published on 2026-01-08: after 2026-01-07.
                valuation("2026-01-08", "AAA_BBB", "forward_pe", 0.20, "high"),
            ]
        ),
    )
    wh.replace_rows(
        PRICE_PROXY,
        pd.DataFrame([proxy("2026-01-07", "AAA_BBB", 0.3), proxy("2026-01-12", "AAA_BBB", 0.9)]),
    )
    wh.replace_rows(
        VALUATION_HISTORY,
        pd.DataFrame(
            [
                month("2025-11", 39.0, 28.0, "2025-12-01", "2025-12-01"),
                # Its CAPE is out on 2026-01-08, after 2026-01-07.
                month("2025-12", 40.0, 29.0, "2026-01-08", "2026-03-02"),
            ]
        ),
    )
    with wh.connect() as con:
        create_dashboard_view(con)
    return wh


def test_the_dashboard_as_of_a_date_uses_only_rows_on_or_before_it(history):
    rows = history.query(
        "SELECT * FROM analytics.rotation_dashboard_as_of(DATE '2026-01-07')"
    ).set_index("pair_id")
    assert ["pair_id", *rows.columns] == ROTATION_DASHBOARD.column_names
    a = rows.loc["AAA_BBB"]
    # The 2026-01-07 row: i = 3, ratio 103, ytd 0.03.
    assert (a["trade_date"], a["ratio"], a["ratio_change_ytd"]) == (D("2026-01-07"), 103.0, 0.03)
    assert pd.isna(a["stale_since"])
    # The small run of 01-06..01-09 is cut at 01-07: 2 sessions (01-06, 01-07). The latest
    # earlier small run (ended before 01-06) with >= 2 sessions: 2025-12-01..12-02 (the
    # 1-session run of 01-02 is shorter), so longest since 2025-12-02, where the whole 4-session
    # run is the longest on record (null).
    assert (a["streak_leader"], a["streak_sessions"]) == ("small", 2)
    assert a["streak_start_date"] == D("2026-01-06")
    assert a["streak_longest_since"] == D("2025-12-02")
    # The P/E discount of 2026-01-08 is not out yet: 0.10 of 2026-01-05.
    assert (a["valuation_as_of"], a["valuation_discount"]) == (D("2026-01-05"), 0.10)
    assert a["price_proxy_percentile_25y"] == 0.3
    # 2025-12's CAPE is usable from 2026-01-08: 2025-11's 39.
    assert (a["sp500_cape_month"], a["sp500_cape"]) == (D("2025-11-01"), 39.0)
    assert (a["sp500_trailing_pe_month"], a["sp500_trailing_pe"]) == (D("2025-11-01"), 28.0)

    c = rows.loc["CCC_DDD"]
    # DDD still trades on 2026-01-07: not stale then. Its 01-02..01-08 small run cut at 01-07:
    # 01-02, 01-05, 01-06, 01-07 = 4 sessions; no earlier small run: longest on record.
    assert c["trade_date"] == D("2026-01-07") and c["ratio_change_ytd"] == -0.03
    assert pd.isna(c["stale_since"]) and pd.isna(c["stale_legs"])
    assert (c["streak_leader"], c["streak_sessions"]) == ("small", 4)
    assert c["streak_start_date"] == D("2026-01-02") and pd.isna(c["streak_longest_since"])


def test_the_view_is_the_macro_at_the_latest_session(history):
    latest = history.query("SELECT * FROM analytics.rotation_dashboard").set_index("pair_id")
    a, c = latest.loc["AAA_BBB"], latest.loc["CCC_DDD"]
    assert (a["trade_date"], a["ratio"]) == (D("2026-01-12"), 106.0)
    assert (a["streak_leader"], a["streak_sessions"]) == ("large", 1)
    assert a["streak_longest_since"] == D("2026-01-05")
    assert (a["valuation_as_of"], a["valuation_discount"]) == (D("2026-01-08"), 0.20)
    assert (a["price_proxy_percentile_25y"], a["sp500_cape"]) == (0.9, 40.0)
    assert c["stale_since"] == D("2026-01-08") and c["stale_legs"] == "DDD (last 2026-01-08)"
    assert (c["streak_sessions"], c["streak_start_date"]) == (5, D("2026-01-02"))
    macro = history.query(
        "SELECT * FROM analytics.rotation_dashboard_as_of(DATE '2026-01-12')"
    ).set_index("pair_id")
    pd.testing.assert_frame_equal(latest, macro)
    # A date without a session (a Saturday) reads as the session before it.
    saturday = history.query("SELECT * FROM analytics.rotation_dashboard_as_of(DATE '2026-01-10')")
    friday = history.query("SELECT * FROM analytics.rotation_dashboard_as_of(DATE '2026-01-09')")
    pd.testing.assert_frame_equal(saturday, friday)
    assert set(friday["trade_date"]) == {D("2026-01-09"), D("2026-01-08")}


def test_read_dashboard_as_of_without_the_macro_runs_the_same_query(history):
    with history.connect(read_only=True) as con:
        with_macro = read_dashboard(con, dt.date(2026, 1, 7))
        (comment,) = con.execute(
            "SELECT comment FROM duckdb_functions() WHERE function_name = "
            "'rotation_dashboard_as_of'"
        ).fetchone()
    assert comment.startswith("TABLE MACRO: analytics.rotation_dashboard as of the date d")
    with history.connect() as con:
        con.execute("DROP VIEW analytics.rotation_dashboard")
        con.execute("DROP MACRO TABLE analytics.rotation_dashboard_as_of")
    with history.connect(read_only=True) as con:
        pd.testing.assert_frame_equal(read_dashboard(con, dt.date(2026, 1, 7)), with_macro)
        latest = read_dashboard(con)
    assert set(latest["trade_date"]) == {D("2026-01-12"), D("2026-01-08")}


def test_the_streak_as_of_each_session_is_the_streak_recomputed_from_its_rows(tmp_path):
    """The macro's cut of the stored runs agrees with outperformance_streaks on the spreads up
    to each session (every session of a sequence with ties and a record)."""
    leaders = list("SSLSSSTSSSSLLS")
    days = pd.bdate_range("2026-01-05", periods=len(leaders))
    spreads = pd.DataFrame(
        [
            {
                **dict.fromkeys(PAIR_SPREADS.column_names),
                "trade_date": day,
                "pair_id": "AAA_BBB",
                "small": "AAA",
                "large": "BBB",
                "basis": "total_return",
                "small_return": {"S": 0.01, "L": -0.01, "T": 0.0}[leader],
                "large_return": 0.0,
                "spread": {"S": 0.01, "L": -0.01, "T": 0.0}[leader],
                "leader": {"S": "small", "L": "large", "T": "tie"}[leader],
                "source": "csv",
            }
            for day, leader in zip(days, leaders, strict=True)
        ]
    )
    wh = DuckDBWarehouse(database=str(tmp_path / "s.duckdb"), lock_wait_seconds=2)
    wh.replace_rows(ROTATION_PAIRS, pairs(["AAA_BBB"], ["total_return"]))
    wh.replace_rows(
        DAILY_RETURNS,
        pd.DataFrame(
            [(day, t, 0.0, 0.0, None, "csv") for day in days for t in ("AAA", "BBB")],
            columns=DAILY_RETURNS.column_names,
        ),
    )
    wh.replace_rows(
        RELATIVE_STRENGTH, pd.DataFrame([relative_row(str(d.date()), "AAA_BBB") for d in days])
    )
    wh.replace_rows(OUTPERFORMANCE_STREAKS, outperformance_streaks(spreads))
    with wh.connect() as con:
        for spec in (VALUATION_GAP, PRICE_PROXY, VALUATION_HISTORY):
            ensure_table(con, spec)
        create_dashboard_view(con)
    for day in days:
        expected = outperformance_streaks(spreads[spreads["trade_date"] <= day])
        current = expected[expected["is_current"]]
        with wh.connect(read_only=True) as con:
            (row,) = read_dashboard(con, day.date()).to_dict("records")
        if current.empty:  # the session tied
            assert pd.isna(row["streak_leader"]), day
            continue
        (run,) = current.to_dict("records")
        assert (row["streak_leader"], row["streak_sessions"]) == (run["leader"], run["sessions"])
        assert row["streak_start_date"] == run["start_date"], day
        assert (pd.isna(row["streak_longest_since"]) and pd.isna(run["longest_since"])) or (
            row["streak_longest_since"] == run["longest_since"]
        ), day
    # By hand, as of the 10th session (2026-01-16, the third S after the tie): 3 sessions since
    # 01-14, and the latest earlier small run of >= 3 sessions is 01-08..01-12: longest since
    # 2026-01-12.
    with wh.connect(read_only=True) as con:
        (row,) = read_dashboard(con, dt.date(2026, 1, 16)).to_dict("records")
    assert (row["streak_sessions"], row["streak_start_date"]) == (3, D("2026-01-14"))
    assert row["streak_longest_since"] == D("2026-01-12")
