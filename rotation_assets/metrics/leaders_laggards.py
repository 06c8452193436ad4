"""``analytics.leaders_laggards``: the universe's stocks ranked by return, as of one date.

The rows are the universe's stocks (roles ``small_cap_stock`` and ``large_cap_stock``) plus the
yardsticks IWM and SPY (when in the universe), over these windows, each an inclusive date range
[window_start, window_end] that never reaches past ``as_of`` (nothing after ``as_of`` is read):

- ``mtd``: from the first day of as_of's month to as_of; the return runs from the close of the
  last session of the previous month.
- ``ytd``: from January 1 of as_of's year to as_of; from the close of the previous year's last
  session.
- one per market event (``window_id`` = event_id) that starts on or before as_of: from its
  start_date to min(end_date, as_of).

Per window and ticker with at least one daily return row in the window and a return on the
window's last session with returns (a ticker whose series stopped earlier, a stale tail, has no
row: its return would cover fewer sessions than the others' it is ranked and compared with).
Returns simple:

- ``total_return = prod(1 + total_return) - 1`` over the ticker's return rows in the window:
  from the close before its first session in the window to the close of its last (dividends
  reinvested). A null daily return inside the window makes it null.
- ``vs_iwm = total_return - total_return of IWM`` in the same window; ``vs_spy`` likewise.
- ``vs_benchmark = total_return - total_return of the ticker's own benchmark``
  (``reference.universe.benchmark``: IWM for small-cap stocks, SPY for large-cap ones) in the
  same window; null without a benchmark or when the benchmark has no row in the window.
- ``rank``: rank by total_return among the window's stocks only, 1 = best (leader), equal
  returns share the best rank (1, 1, 3); null for the yardsticks and for a null return.
- ``source``: the combined price source of the ticker's return rows in the window ('csv',
  'csv+synthetic', ...; ``metrics.provenance``).

Computed in SQL (``leaders_laggards_sql``; the compounding is ``metrics.window_returns``,
shared with event_windows). Without an explicit as_of, the SQL takes the last trade_date of
its returns relation.
"""

from __future__ import annotations

import datetime as dt
import textwrap

import pandas as pd

from rotation_assets.metrics.provenance import source_column
from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.metrics.window_returns import (
    rank_sql,
    relative_return_sql,
    sql_string,
    window_returns_sql,
)
from rotation_assets.reference.universe import STOCK_ROLES
from rotation_assets.warehouse.table_spec import Column, TableSpec

YARDSTICKS = ("IWM", "SPY")

LEADERS_LAGGARDS = TableSpec(
    schema="analytics",
    name="leaders_laggards",
    description=(
        "The universe's stocks ranked by total return month to date, year to date and over each "
        "market event up to the as-of date, with IWM and SPY as unranked yardsticks and every "
        "return also shown relative to them and to the ticker's own benchmark."
    ),
    columns=(
        Column(
            "window_id",
            "VARCHAR",
            "mtd, ytd, or the event_id of a market event.",
            nullable=False,
        ),
        Column(
            "window_start",
            "DATE",
            "First day of the window (inclusive): the 1st of the month (mtd), January 1 (ytd) or "
            "the event's start_date.",
            nullable=False,
        ),
        Column(
            "window_end",
            "DATE",
            "Last day of the window (inclusive): as_of, or the event's end_date if earlier.",
            nullable=False,
        ),
        Column("ticker", "VARCHAR", "Universe ticker.", nullable=False),
        Column(
            "role",
            "VARCHAR",
            "The ticker's role in the universe (small_cap_stock or large_cap_stock for ranked "
            "rows).",
        ),
        Column(
            "total_return",
            "DOUBLE",
            "prod(1 + daily total_return) - 1 over the ticker's sessions in the window: from "
            "the close before the first to the close of the last (the window's last session "
            "with returns; a stale ticker has no row).",
        ),
        Column("vs_iwm", "DOUBLE", "total_return - IWM's total_return over the same window."),
        Column("vs_spy", "DOUBLE", "total_return - SPY's total_return over the same window."),
        Column(
            "benchmark",
            "VARCHAR",
            "The ticker's own benchmark (reference.universe.benchmark): IWM for small-cap "
            "stocks, SPY for large-cap stocks.",
        ),
        Column(
            "vs_benchmark",
            "DOUBLE",
            "total_return - the benchmark's total_return over the same window; null without a "
            "benchmark or when the benchmark has no row in the window.",
        ),
        Column(
            "rank",
            "INTEGER",
            "Rank by total_return among the window's stocks, 1 = best; ties share the best "
            "rank; null for yardsticks.",
        ),
        Column(
            "is_yardstick",
            "BOOLEAN",
            "True for IWM and SPY, shown for comparison and not ranked.",
            nullable=False,
        ),
        source_column("the ticker's daily_returns rows in the window"),
    ),
    key=("window_id", "ticker"),
)


def leaders_laggards_sql(
    returns: str = "returns",
    universe: str = "universe",
    events: str = "events",
    as_of: str | dt.date | None = None,
) -> str:
    """SQL for the leaders_laggards rows, sorted by window (mtd, ytd, then events by start_date
    and event_id), stocks by rank (nulls last) and ticker, then the yardsticks by ticker.

    The first three arguments name relations (tables or parenthesised subqueries): ``returns``
    with the daily trade_date, ticker, total_return, source; ``universe`` ticker, role, benchmark;
    ``events`` event_id, start_date, end_date. ``as_of``: a date (becomes a DATE literal), a
    SQL expression giving one (e.g. a ``?`` parameter), or None for the last trade_date in
    ``returns``. The result has exactly ``LEADERS_LAGGARDS``'s columns, in order; no rows when
    as_of is null (no returns).
    """
    if as_of is None:
        as_of_sql = f"(SELECT max(trade_date) FROM {returns})"
    elif isinstance(as_of, dt.date):
        as_of_sql = f"DATE {sql_string(as_of.strftime('%Y-%m-%d'))}"
    else:
        as_of_sql = as_of
    yardsticks = ", ".join(sql_string(y) for y in YARDSTICKS)
    stock_roles = ", ".join(sql_string(r) for r in STOCK_ROLES)
    compounded = textwrap.indent(window_returns_sql("windows", "wanted", ("total_return",)), "    ")
    return f"""
WITH params AS (
    SELECT CAST(({as_of_sql}) AS DATE) AS as_of
),
windows AS (
    SELECT 'mtd' AS window_id, 0 AS window_order, CAST(date_trunc('month', as_of) AS DATE)
        AS window_start, as_of AS window_end
    FROM params
    UNION ALL
    SELECT 'ytd', 1, CAST(date_trunc('year', as_of) AS DATE), as_of
    FROM params
    UNION ALL
    SELECT e.event_id, 2, CAST(e.start_date AS DATE), least(CAST(e.end_date AS DATE), p.as_of)
    FROM {events} AS e, params AS p
    WHERE CAST(e.start_date AS DATE) <= p.as_of
),
members AS (
    SELECT ticker, role, benchmark, ticker IN ({yardsticks}) AS is_yardstick
    FROM {universe}
    WHERE role IN ({stock_roles}) OR ticker IN ({yardsticks})
),
wanted AS (
    -- the members and their benchmarks (a benchmark need not be a member)
    SELECT r.trade_date, r.ticker, r.total_return, r.source
    FROM {returns} AS r, params AS p
    WHERE r.trade_date <= p.as_of
      AND (r.ticker IN (SELECT ticker FROM members)
           OR r.ticker IN (SELECT benchmark FROM members WHERE benchmark IS NOT NULL))
),
compounded AS ({compounded}),
through_the_end AS (
    -- the window's last session with returns: a ticker that stopped before it is left out
    SELECT * FROM compounded
    QUALIFY last_session = max(last_session) OVER (PARTITION BY window_id)
),
ranked AS (
    SELECT
        *,
        {relative_return_sql("IWM", "window_id")} AS vs_iwm,
        {relative_return_sql("SPY", "window_id")} AS vs_spy,
        CASE WHEN NOT is_yardstick THEN {rank_sql("window_id, is_yardstick")} END AS rank
    FROM through_the_end
    JOIN members USING (ticker)
)
SELECT
    r.window_id,
    w.window_start,
    w.window_end,
    r.ticker,
    r.role,
    r.total_return,
    r.vs_iwm,
    r.vs_spy,
    r.benchmark,
    r.total_return - b.total_return AS vs_benchmark,
    r.rank,
    r.is_yardstick,
    r.source
FROM ranked AS r
JOIN windows AS w ON w.window_id = r.window_id
LEFT JOIN through_the_end AS b ON b.window_id = r.window_id AND b.ticker = r.benchmark
ORDER BY w.window_order, w.window_start, r.window_id, r.is_yardstick, r.rank NULLS LAST, r.ticker
"""


def leaders_laggards(
    returns: pd.DataFrame,
    universe: pd.DataFrame,
    events: pd.DataFrame,
    as_of: dt.date | str | pd.Timestamp,
) -> pd.DataFrame:
    """Stocks and yardsticks per window (mtd, ytd, events) with returns, relatives and ranks.

    ``returns`` has trade_date, ticker, total_return, source; ``universe`` ticker, role and
    benchmark;
    ``events`` event_id, start_date, end_date. Sorted by window (mtd, ytd, events by date),
    stocks by rank, then yardsticks. See the module docstring for the definitions.
    """
    sql = leaders_laggards_sql("returns", "universe", "events", pd.Timestamp(as_of).date())
    frame = query_frames(sql, returns=returns, universe=universe, events=events)
    return LEADERS_LAGGARDS.conform(frame)
