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
- the pair's valuation discount (``analytics.valuation_gap``, rows with this pair_id) as of
  its latest session: among the rows with ``as_of`` on or before that session (never a figure
  published after it), the highest confidence, then the newest ``as_of``, then forward before
  trailing P/E; null when the pair has none;
- PRICE-ONLY PROXY, NOT A VALUATION: the percentile of the pair's small/large ratio within its
  last 25 years at that session (``analytics.valuation_price_proxy``);
- large caps against their own history, as of that session: the S&P 500's latest CAPE and
  trailing P/E usable then (``analytics.valuation_history``: ``cape_usable_from`` and
  ``usable_from`` on or before the session), with their months and their percentiles over 25
  years and since 1881. The same S&P 500 figures for every pair whose latest session is the
  same: they describe the S&P 500, whichever large-cap side the pair has.

Every pair of ``reference.rotation_pairs`` has a row, with nulls where it has no data yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import duckdb
import pandas as pd

from rotation_assets.metrics.relative_strength import RELATIVE_STRENGTH
from rotation_assets.metrics.valuation_history import VALUATION_HISTORY, standing_sql
from rotation_assets.metrics.window_returns import sql_string
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
    "of the pair's analytics.valuation_gap row chosen as of trade_date (as_of on or before it; "
    "highest confidence, then newest as_of, then forward before trailing P/E); null when the "
    "pair has none"
)


def _sp500_columns(measure: str, label: str, usable: str) -> tuple[Column, ...]:
    """The S&P 500's latest usable CAPE or trailing P/E (analytics.valuation_history)."""
    history = {c.name: c for c in VALUATION_HISTORY.columns}
    month = f"sp500_{measure}_month"
    return (
        Column(
            month,
            "DATE",
            f"Month of the S&P 500 {label} shown (analytics.valuation_history): the newest "
            f"month with {usable} <= trade_date, so nothing published after the pair's "
            "session; the S&P 500 whatever the pair's large side; null when none.",
        ),
        Column(
            f"sp500_{measure}",
            "DOUBLE",
            f"S&P 500 {label} of {month} (Robert Shiller's data): {history[measure].description}",
        ),
        *(
            Column(f"sp500_{name}", "DOUBLE", f"Of {month}: {history[name].description}")
            for name in (f"{measure}_percentile_25y", f"{measure}_percentile_since_1881")
        ),
    )


ROTATION_DASHBOARD = TableSpec(
    schema="analytics",
    name="rotation_dashboard",
    description=(
        "VIEW: one row per rotation pair with its basis (price or total return), its latest "
        "session's year-to-date, 20- and 60-session relative measures, whether it is stale (a "
        "leg's series stopped: since when, and which leg), the current streak and since when it "
        "is the longest, the 252-session ratio change with its percentile, and valuation as of "
        "that session: the published small/large P/E discount, the price-only proxy's 25-year "
        "percentile and the S&P 500's CAPE and trailing P/E against their history. Always "
        "current with the analytics tables it reads. As of an earlier date d: the table macro "
        "analytics.rotation_dashboard_as_of(d), the same columns from the rows dated on or "
        "before d only (the view is that macro at the latest session)."
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
        Column(
            "price_proxy_percentile_25y",
            "DOUBLE",
            "PRICE-ONLY PROXY, NOT A VALUATION (no earnings): percentile of the pair's "
            "small/large ratio among its sessions of the last 25 years, at trade_date "
            "(analytics.valuation_price_proxy.price_ratio_percentile).",
        ),
        *_sp500_columns("cape", "CAPE", "cape_usable_from"),
        *_sp500_columns("trailing_pe", "trailing P/E", "usable_from"),
    ),
    key=("pair_id",),
)

# The as-of form: a DuckDB table macro of one date, the view is the macro at the latest session.
AS_OF_MACRO = f"{ROTATION_DASHBOARD.schema}.{ROTATION_DASHBOARD.name}_as_of"
LATEST_SESSION_SQL = "(SELECT max(trade_date) FROM analytics.daily_returns)"


def dashboard_sql(as_of: str) -> str:
    """The dashboard's query as of ``as_of``, a SQL expression of a date (a DATE literal, the
    macro's parameter ``d`` or ``LATEST_SESSION_SQL``): every row it reads is dated on or before
    it. The one definition behind the view, the macro and the report; its columns are exactly
    the spec's, in order (a test holds them together).

    As of D, a pair's row is its latest relative_strength row on or before D; the warehouse's
    latest session (for staleness) and each leg's last session are those on or before D. The
    current streak is the stored run (``analytics.outperformance_streaks``) that contains the
    pair's session as of D, cut there: a run that went on after D counts its sessions up to D
    (the pair's rows in relative_strength, one per pair_spreads row), and its ``longest_since``
    is then re-read among the runs ended before it started (those are complete by D) with at
    least that many sessions, as ``metrics.outperformance_streaks`` defines it. A run ended on
    or before D keeps its stored figures. Valuation and the S&P 500 standing are chosen as of
    the pair's session, as in the latest view.
    """
    return f"""
WITH latest AS (
    SELECT * FROM analytics.relative_strength
    WHERE trade_date <= {as_of}
    QUALIFY row_number() OVER (PARTITION BY pair_id ORDER BY trade_date DESC) = 1
),
run_at AS (
    -- The run containing the pair's session as of the date (none when that session tied).
    SELECT s.pair_id, s.leader, s.start_date, s.end_date <= l.trade_date AS ended,
           s.sessions, s.longest_since, l.trade_date AS session
    FROM analytics.outperformance_streaks s
    JOIN latest l USING (pair_id)
    WHERE s.start_date <= l.trade_date AND s.end_date >= l.trade_date
),
cut AS (
    SELECT r.*,
        CASE WHEN r.ended THEN r.sessions ELSE (
            SELECT count(*) FROM analytics.relative_strength x
            WHERE x.pair_id = r.pair_id AND x.trade_date BETWEEN r.start_date AND r.session
        ) END AS sessions_as_of
    FROM run_at r
),
streak AS (
    SELECT c.pair_id, c.leader, c.sessions_as_of AS sessions, c.start_date,
        CASE WHEN c.ended THEN c.longest_since ELSE (
            SELECT max(e.end_date) FROM analytics.outperformance_streaks e
            WHERE e.pair_id = c.pair_id AND e.leader = c.leader
              AND e.end_date < c.start_date AND e.sessions >= c.sessions_as_of
        ) END AS longest_since
    FROM cut c
),
market AS (
    SELECT max(trade_date) AS latest FROM analytics.daily_returns WHERE trade_date <= {as_of}
),
leg_end AS (
    SELECT ticker, max(trade_date) AS last_session FROM analytics.daily_returns
    WHERE trade_date <= {as_of}
    GROUP BY ticker
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
    v.source AS valuation_source,
    x.price_ratio_percentile AS price_proxy_percentile_25y,
    h.cape_month AS sp500_cape_month,
    h.cape AS sp500_cape,
    h.cape_percentile_25y AS sp500_cape_percentile_25y,
    h.cape_percentile_since_1881 AS sp500_cape_percentile_since_1881,
    h.trailing_pe_month AS sp500_trailing_pe_month,
    h.trailing_pe AS sp500_trailing_pe,
    h.trailing_pe_percentile_25y AS sp500_trailing_pe_percentile_25y,
    h.trailing_pe_percentile_since_1881 AS sp500_trailing_pe_percentile_since_1881
FROM reference.rotation_pairs p
CROSS JOIN market m
LEFT JOIN leg_end se ON se.ticker = p.small
LEFT JOIN leg_end le ON le.ticker = p.large
LEFT JOIN latest l USING (pair_id)
LEFT JOIN streak s USING (pair_id)
-- Point in time: no figure published after the pair's session.
LEFT JOIN LATERAL (
    SELECT as_of, metric, discount, source
    FROM analytics.valuation_gap g
    WHERE g.pair_id = p.pair_id AND g.as_of <= l.trade_date
    ORDER BY list_position(['high', 'medium', 'medium-low', 'low'], g.confidence),
             g.as_of DESC,
             g.metric = 'forward_pe' DESC,
             g.origin, g.source
    LIMIT 1
) v ON true
LEFT JOIN analytics.valuation_price_proxy x
    ON x.pair_id = p.pair_id AND x.trade_date = l.trade_date
LEFT JOIN LATERAL ({standing_sql("l.trade_date")}) h ON true
ORDER BY p.pair_id
"""


# The latest session's query, for warehouses without the view (read-only, built before it).
SELECT_SQL = dashboard_sql(LATEST_SESSION_SQL)

AS_OF_MACRO_COMMENT = (
    f"TABLE MACRO: {ROTATION_DASHBOARD.qualified_name} as of the date d (a DATE): the same "
    "columns, from the rows dated on or before d only (the latest session on or before d; the "
    "streak running at d cut at d). SELECT * FROM analytics.rotation_dashboard_as_of(DATE "
    "'2026-02-13'). The view is this macro at the latest session."
)


def create_macro_sql() -> str:
    """The as-of table macro, ``analytics.rotation_dashboard_as_of(d)``."""
    return f"CREATE OR REPLACE MACRO {AS_OF_MACRO}(d) AS TABLE {dashboard_sql('d')}"


def create_view_sql() -> str:
    """The view: the as-of macro at the latest session of analytics.daily_returns."""
    return (
        f"CREATE OR REPLACE VIEW {ROTATION_DASHBOARD.qualified_name} AS "
        f"SELECT * FROM {AS_OF_MACRO}({LATEST_SESSION_SQL})"
    )


def create_dashboard_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the view and its comments; the tables it reads must exist."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ROTATION_DASHBOARD.schema}")
    con.execute(create_macro_sql())
    con.execute(f"COMMENT ON MACRO TABLE {AS_OF_MACRO} IS {sql_string(AS_OF_MACRO_COMMENT)}")
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


def macro_exists(con: duckdb.DuckDBPyConnection) -> bool:
    schema, name = AS_OF_MACRO.split(".")
    found = con.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE schema_name = ? AND function_name = ? "
        "AND function_type = 'table_macro'",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


def read_dashboard(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> pd.DataFrame:
    """The dashboard rows as of ``as_of`` (default: the latest session): from the view or the
    macro, or their one query when they are not there (read-only warehouses built before
    them)."""
    if as_of is None:
        if view_exists(con):
            return con.execute(f"SELECT * FROM {ROTATION_DASHBOARD.qualified_name}").df()
        return con.execute(SELECT_SQL).df()
    if macro_exists(con):
        return con.execute(f"SELECT * FROM {AS_OF_MACRO}(?)", [as_of]).df()
    return con.execute(dashboard_sql(f"DATE {sql_string(as_of.isoformat())}")).df()
