"""Compounded returns per ticker over date windows: the SQL shared by event_windows and
leaders_laggards.

A window is an inclusive date range [window_start, window_end]. Per window and ticker with at
least one daily return row whose trade_date lies in it:

- ``first_session`` / ``last_session``: the first and last such trade_date; ``sessions``: the
  number of such rows.
- each measure (``price_return``, ``total_return``) compounded in session order,
  ``prod(1 + r) - 1``: from the close before ``first_session`` to the close of
  ``last_session``. A null daily return makes it null (``product`` alone would skip it).
- ``source``: the combined price source of those return rows (``metrics.provenance``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rotation_assets.metrics.provenance import sql_sources_aggregate

MEASURES = ("price_return", "total_return")


def sql_string(value: str) -> str:
    """``value`` as a SQL string literal: IWM -> 'IWM'."""
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier: vs_iwm -> "vs_iwm"."""
    return '"' + name.replace('"', '""') + '"'


def window_returns_sql(windows: str, returns: str, measures: Sequence[str] = MEASURES) -> str:
    """SELECT: one row per window and ticker with a return row in the window.

    ``windows`` names a relation with window_id, window_start, window_end; ``returns`` one with
    trade_date, ticker, source and the ``measures`` (daily simple returns). Columns: window_id,
    ticker, first_session, last_session, sessions, the measures compounded, source.
    """
    compounded = "".join(
        f"""
    CASE WHEN count(r.{m}) = count(*)
        THEN product(1 + r.{m} ORDER BY r.trade_date) - 1
    END AS {m},"""
        for m in measures
    )
    return f"""
SELECT
    w.window_id,
    r.ticker,
    min(r.trade_date) AS first_session,
    max(r.trade_date) AS last_session,
    count(*) AS sessions,{compounded}
    {sql_sources_aggregate("r.source")} AS source
FROM {windows} AS w
JOIN {returns} AS r ON r.trade_date BETWEEN w.window_start AND w.window_end
GROUP BY w.window_id, r.ticker
"""


def relative_return_sql(benchmark: str, partition: str = "window_id") -> str:
    """Select-list expression over window_returns_sql rows: total_return minus the benchmark's
    total_return in the same ``partition``; null when the benchmark has no row there (or a
    null return)."""
    return (
        f"total_return - max(total_return) FILTER (WHERE ticker = {sql_string(benchmark)}) "
        f"OVER (PARTITION BY {partition})"
    )


def rank_sql(partition: str = "window_id") -> str:
    """Select-list expression over window_returns_sql rows: rank by total_return within
    ``partition``, 1 = best, equal returns share the best rank (1, 1, 3); null for a null
    return (nulls sort last, so they never push a ranked row down)."""
    return (
        "CASE WHEN total_return IS NOT NULL THEN "
        f"rank() OVER (PARTITION BY {partition} ORDER BY total_return DESC NULLS LAST) END"
    )
