"""``analytics.rotation_dashboard``: one row per rotation pair with where the rotation stands now.

A DuckDB VIEW over the analytics tables, so it is never stale against them:

- the pair's comparison (size or style) and basis (price or total return) from
  ``reference.rotation_pairs``: every measure of the row is on that basis;
- the pair's latest row of ``analytics.relative_strength`` (its newest session): the year-to-date,
  20- and 60-session ratio change, return difference and spread sum, the 252-session ratio change
  and its point-in-time percentile;
- whether the pair is stale: its latest session (the legs' last common session) is before the
  warehouse's latest session (``analytics.daily_returns``), because a leg's series stopped; then
  ``stale_since`` is that session and ``stale_legs`` names the legs that stopped, each with its
  last session;
- the pair's current streak (``analytics.outperformance_streaks`` where ``is_current``): leader,
  sessions, start and ``longest_since``; null when the last session was a tie;
- the pair's latest valuation discount (``analytics.valuation_gap``, rows with this pair_id):
  the newest ``as_of``; on one date, forward before trailing P/E, then the higher-confidence
  figure; null when the pair has no valuation row.

Every pair of ``reference.rotation_pairs`` has a row, with nulls where it has no data yet.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb

from rotation_assets.metrics.relative_strength import RELATIVE_STRENGTH
from rotation_assets.warehouse.table_spec import Column, TableSpec

# Relative measures are shown as relative_strength defines them (one definition per metric).
_MEASURES = [
    "ratio",
    *(
        f"{m}_{w}"
        for w in ("ytd", "20", "60")
        for m in ("ratio_change", "return_difference", "spread_sum")
    ),
    "ratio_change_252",
    "ratio_change_252_percentile",
]

_VALUATION = (
    "of the pair's latest analytics.valuation_gap row (newest as_of; on one date forward before "
    "trailing P/E, then the higher confidence); null when the pair has none"
)

ROTATION_DASHBOARD = TableSpec(
    schema="analytics",
    name="rotation_dashboard",
    description=(
        "VIEW: one row per rotation pair with its basis (price or total return), its latest "
        "session's year-to-date, 20- and 60-session relative measures, whether it is stale (a "
        "leg's series stopped: since when, and which leg), the current streak and since when it "
        "is the longest, the latest valuation discount and the 252-session ratio change with "
        "its percentile. Always current with the analytics tables it reads."
    ),
    columns=(
        Column("pair_id", "VARCHAR", "Rotation pair from reference.rotation_pairs."),
        Column("small", "VARCHAR", "Ticker of the small leg (small caps; value for a style pair)."),
        Column(
            "large", "VARCHAR", "Ticker of the large leg (large caps; growth for a style pair)."
        ),
        Column("comparison", "VARCHAR", "size (small vs large caps) or style (value vs growth)."),
        Column(
            "basis",
            "VARCHAR",
            "What the measures compare: total_return (dividends reinvested) or price (price "
            "indices), from reference.rotation_pairs.",
        ),
        Column(
            "trade_date",
            "DATE",
            "The pair's latest session in analytics.relative_strength (its legs' last common "
            "session); null before its first.",
        ),
        Column(
            "stale_since",
            "DATE",
            "The pair's latest session when it is before the warehouse's latest session (a leg's "
            "series stopped there, so every measure of the row is as of then); null when the "
            "pair is current or has no session yet.",
        ),
        Column(
            "stale_legs",
            "VARCHAR",
            "When stale_since is set: the legs whose series stopped, each with its last "
            "session, e.g. 'IWO (last 2026-06-08)'; null otherwise.",
        ),
        Column(
            "source",
            "VARCHAR",
            "Price source(s) of that session's row: yfinance, csv or synthetic (demo data, never "
            "market data).",
        ),
        *(replace(RELATIVE_STRENGTH.column(name), nullable=True) for name in _MEASURES),
        Column(
            "streak_leader",
            "VARCHAR",
            "Side leading the current streak (small or large); null when the last session tied.",
        ),
        Column("streak_sessions", "INTEGER", "Sessions in the current streak."),
        Column("streak_start_date", "DATE", "First session of the current streak."),
        Column(
            "streak_longest_since",
            "DATE",
            "End of the most recent earlier streak of the same leader at least as long; null "
            "when the current streak is the longest on record.",
        ),
        Column("valuation_as_of", "DATE", f"as_of {_VALUATION}."),
        Column("valuation_metric", "VARCHAR", f"metric (forward_pe or trailing_pe) {_VALUATION}."),
        Column(
            "valuation_discount",
            "DOUBLE",
            f"discount = 1 - small P/E / large P/E (0.25 = small caps 25% cheaper) {_VALUATION}.",
        ),
        Column("valuation_source", "VARCHAR", f"Citation (source) {_VALUATION}."),
    ),
    key=("pair_id",),
)

# The view's columns are exactly the spec's, in order (a test holds them together).
SELECT_SQL = """
WITH latest AS (
    SELECT * FROM analytics.relative_strength
    QUALIFY row_number() OVER (PARTITION BY pair_id ORDER BY trade_date DESC) = 1
),
streak AS (
    SELECT pair_id, leader, sessions, start_date, longest_since
    FROM analytics.outperformance_streaks
    WHERE is_current
),
market AS (
    SELECT max(trade_date) AS latest FROM analytics.daily_returns
),
leg_end AS (
    SELECT ticker, max(trade_date) AS last_session FROM analytics.daily_returns GROUP BY ticker
),
valuation AS (
    SELECT pair_id, as_of, metric, discount, source
    FROM analytics.valuation_gap
    WHERE pair_id IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY pair_id
        ORDER BY as_of DESC,
                 metric = 'forward_pe' DESC,
                 list_position(['high', 'medium', 'medium-low', 'low'], confidence),
                 origin, source
    ) = 1
)
SELECT
    p.pair_id, p.small, p.large, p.comparison, p.basis,
    l.trade_date,
    CASE WHEN l.trade_date < m.latest THEN l.trade_date END AS stale_since,
    CASE WHEN l.trade_date < m.latest THEN nullif(concat_ws(', ',
        CASE WHEN se.last_session < m.latest
             THEN p.small || ' (last ' || strftime(se.last_session, '%Y-%m-%d') || ')' END,
        CASE WHEN le.last_session < m.latest
             THEN p.large || ' (last ' || strftime(le.last_session, '%Y-%m-%d') || ')' END
    ), '') END AS stale_legs,
    l.source, l.ratio,
    l.ratio_change_ytd, l.return_difference_ytd, l.spread_sum_ytd,
    l.ratio_change_20, l.return_difference_20, l.spread_sum_20,
    l.ratio_change_60, l.return_difference_60, l.spread_sum_60,
    l.ratio_change_252, l.ratio_change_252_percentile,
    s.leader AS streak_leader,
    CAST(s.sessions AS INTEGER) AS streak_sessions,
    s.start_date AS streak_start_date,
    s.longest_since AS streak_longest_since,
    v.as_of AS valuation_as_of,
    v.metric AS valuation_metric,
    v.discount AS valuation_discount,
    v.source AS valuation_source
FROM reference.rotation_pairs p
CROSS JOIN market m
LEFT JOIN leg_end se ON se.ticker = p.small
LEFT JOIN leg_end le ON le.ticker = p.large
LEFT JOIN latest l USING (pair_id)
LEFT JOIN streak s USING (pair_id)
LEFT JOIN valuation v USING (pair_id)
ORDER BY p.pair_id
"""


def create_view_sql() -> str:
    return f"CREATE OR REPLACE VIEW {ROTATION_DASHBOARD.qualified_name} AS {SELECT_SQL}"


def create_dashboard_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the view and its comments; the tables it reads must exist."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ROTATION_DASHBOARD.schema}")
    con.execute(create_view_sql())
    # Replacing a view drops its comments, so they are set again every time.
    for statement in ROTATION_DASHBOARD.comment_sql():
        con.execute(statement)


def view_exists(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
        [ROTATION_DASHBOARD.schema, ROTATION_DASHBOARD.name],
    ).fetchone()
    return bool(found and found[0])


def read_dashboard(con: duckdb.DuckDBPyConnection):
    """The dashboard rows: from the view, or its query when the view is not there (read-only
    warehouses built before it existed)."""
    sql = f"SELECT * FROM {ROTATION_DASHBOARD.qualified_name}" if view_exists(con) else SELECT_SQL
    return con.execute(sql).df()
