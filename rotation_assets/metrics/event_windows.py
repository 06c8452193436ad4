"""``analytics.event_windows``: how every instrument moved over each dated market event.

Events come from ``seeds/market_events.csv`` (``reference.market_events``): an id, a name and an
inclusive date range [start_date, end_date]. Returns are simple (0.01 = +1%). For each event and
each universe ticker with at least one daily return row whose trade_date lies in the range:

- ``first_session`` / ``last_session``: the first and last such trade_date; ``sessions``: the
  number of such rows.
- ``price_return = prod(1 + price_return) - 1`` over those rows: the change from the close of
  the session before ``first_session`` to the close of ``last_session`` (split-adjusted close).
  ``total_return`` likewise from the daily total returns (adj_close: dividends reinvested).
  A null daily return inside the window makes the compounded return null (never skipped).
- ``vs_iwm = total_return - total_return of IWM`` over the same event (null when IWM has no row
  for the event); ``vs_spy`` likewise with SPY.
- ``rank``: rank by ``total_return`` within the event, 1 = highest; equal returns share the best
  rank (1, 1, 3); null when ``total_return`` is null.
- ``source``: the combined price source of the ticker's return rows in the range ('csv',
  'csv+synthetic', ...; ``metrics.provenance``).

Tickers without a return row in the range get no row. A ticker whose data starts inside the
range is measured from its first return (the close of its first session). Computed in SQL
(``event_windows_sql``; the compounding is ``metrics.window_returns``, shared with
leaders_laggards).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import pandas as pd

from rotation_assets.metrics.provenance import source_column
from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.metrics.window_returns import (
    rank_sql,
    relative_return_sql,
    sql_identifier,
    window_returns_sql,
)
from rotation_assets.warehouse.table_spec import Column, TableSpec

DEFAULT_BENCHMARKS = ("IWM", "SPY")


def benchmark_column(ticker: str) -> str:
    """Name of the relative-return column for a benchmark: IWM -> vs_iwm, ^RUT -> vs_rut."""
    return "vs_" + ticker.lstrip("^").lower()


def event_windows_spec(benchmarks: Sequence[str] = DEFAULT_BENCHMARKS) -> TableSpec:
    """The event_windows table with one vs_<benchmark> column per benchmark."""
    vs_columns = tuple(
        Column(
            benchmark_column(b),
            "DOUBLE",
            f"total_return - total_return of {b} over the same event; null when {b} has no row.",
        )
        for b in benchmarks
    )
    return TableSpec(
        schema="analytics",
        name="event_windows",
        description=(
            "Per market event (reference.market_events) and universe ticker: price and total "
            "return compounded over the event's sessions (from the close before the first to "
            f"the close of the last), relative to {', '.join(benchmarks)}, and the rank within "
            "the event by total return. Tickers without data in the window have no row."
        ),
        columns=(
            Column("event_id", "VARCHAR", "Event from reference.market_events.", nullable=False),
            Column("ticker", "VARCHAR", "Universe ticker.", nullable=False),
            Column("role", "VARCHAR", "The ticker's role in the universe."),
            Column(
                "first_session",
                "DATE",
                "First session inside [start_date, end_date] with a return for the ticker.",
                nullable=False,
            ),
            Column(
                "last_session",
                "DATE",
                "Last session inside [start_date, end_date] with a return for the ticker.",
                nullable=False,
            ),
            Column("sessions", "INTEGER", "Return rows in the window.", nullable=False),
            Column(
                "price_return",
                "DOUBLE",
                "prod(1 + daily price_return) - 1: close before first_session to close of "
                "last_session (split-adjusted close; it includes dividends for an adjusted-only "
                "ticker, reference.universe.return_basis total_return_only).",
            ),
            Column(
                "total_return",
                "DOUBLE",
                "prod(1 + daily total_return) - 1 over the same sessions (adj_close, "
                "dividends reinvested; a price index has none: its price return).",
            ),
            *vs_columns,
            Column(
                "rank",
                "INTEGER",
                "Rank by total_return within the event, 1 = best; ties share the best rank.",
            ),
            source_column("the ticker's daily_returns rows in the event's window"),
        ),
        key=("event_id", "ticker"),
    )


EVENT_WINDOWS = event_windows_spec()


def event_windows_sql(
    events: str = "events",
    returns: str = "returns",
    universe: str = "universe",
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
) -> str:
    """SQL for the event_windows rows, sorted by event start_date, event_id, rank (nulls last),
    ticker.

    The arguments name relations (tables or parenthesised subqueries): ``events`` with
    event_id, start_date, end_date; ``returns`` the daily trade_date, ticker, price_return,
    total_return, source; ``universe`` ticker, role. The result has exactly
    ``event_windows_spec(benchmarks)``'s columns, in order.
    """
    relatives = "".join(
        f"\n        {relative_return_sql(b, 'window_id')} AS {sql_identifier(benchmark_column(b))},"
        for b in benchmarks
    )
    compounded = textwrap.indent(window_returns_sql("windows", "known"), "    ")
    vs_columns = "".join(f"\n    c.{sql_identifier(benchmark_column(b))}," for b in benchmarks)
    return f"""
WITH windows AS (
    SELECT event_id AS window_id, start_date AS window_start, end_date AS window_end
    FROM {events}
),
known AS (
    SELECT trade_date, ticker, price_return, total_return, source
    FROM {returns}
    WHERE ticker IN (SELECT ticker FROM {universe})
),
compounded AS ({compounded}),
ranked AS (
    SELECT
        *,{relatives}
        {rank_sql("window_id")} AS rank
    FROM compounded
)
SELECT
    c.window_id AS event_id,
    c.ticker,
    u.role,
    c.first_session,
    c.last_session,
    c.sessions,
    c.price_return,
    c.total_return,{vs_columns}
    c.rank,
    c.source
FROM ranked AS c
JOIN {universe} AS u ON u.ticker = c.ticker
JOIN windows AS w ON w.window_id = c.window_id
ORDER BY w.window_start, c.window_id, c.rank NULLS LAST, c.ticker
"""


def event_windows(
    events: pd.DataFrame,
    returns: pd.DataFrame,
    universe: pd.DataFrame,
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
) -> pd.DataFrame:
    """Per event and universe ticker with data in the window: returns, relatives, rank.

    ``events`` has event_id, start_date, end_date; ``returns`` the daily trade_date, ticker,
    price_return, total_return, source; ``universe`` ticker and role. Sorted by event
    start_date, event_id, rank. See the module docstring for the definitions.
    """
    sql = event_windows_sql("events", "returns", "universe", benchmarks)
    frame = query_frames(sql, events=events, returns=returns, universe=universe)
    return event_windows_spec(benchmarks).conform(frame)
