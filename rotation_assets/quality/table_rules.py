"""Integrity rules for the analytics tables, evaluated in SQL on the rows a refresh rebuilt.

Every table: its key is unique and no required column is null or NaN. Beside that, the
identities that tie the tables together: ``spread = small_return - large_return`` exactly, the
sessions of a pair's streaks add up to its non-tie sessions, and the three relative measures
agree on a 1-session window. Each rule returns its offending rows (``RuleResult``), so a
failure names them.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from rotation_assets.metrics.relative_strength import relative_measures_agree
from rotation_assets.quality.price_rules import RuleResult
from rotation_assets.warehouse.table_spec import TableSpec


def _since(spec: TableSpec, column: str | None, since: dt.date | None) -> tuple[str, list]:
    if since is None or column is None:
        return "", []
    return f" WHERE {column} >= ?", [since]


def keys_unique_and_values_defined(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    column: str | None = None,
    since: dt.date | None = None,
) -> RuleResult:
    """Rows (from ``since`` on, by ``column``) whose key repeats or whose required value is
    null or NaN."""
    where, params = _since(spec, column, since)
    key = ", ".join(spec.key)
    required = [c for c in spec.columns if not c.nullable]
    undefined = " OR ".join(
        f"{c.name} IS NULL" + (f" OR isnan({c.name})" if c.sql_type == "DOUBLE" else "")
        for c in required
    )
    violations = con.execute(
        f"""
        SELECT * FROM (
            SELECT *, count(*) OVER (PARTITION BY {key}) AS copies
            FROM {spec.qualified_name}{where}
        ) WHERE copies > 1 OR {undefined or "FALSE"}
        ORDER BY {key}
        """,
        params,
    ).df()
    return RuleResult(
        "keys_unique_and_values_defined",
        f"{key} unique; no null or NaN in {', '.join(c.name for c in required)}",
        violations,
    )


def spread_is_small_minus_large(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, since: dt.date | None = None
) -> RuleResult:
    """pair_spreads rows whose spread is not exactly small_return - large_return."""
    where, params = _since(spec, "trade_date", since)
    condition = "spread IS DISTINCT FROM small_return - large_return"
    violations = con.execute(
        f"SELECT * FROM {spec.qualified_name}{where} "
        f"{'AND' if where else 'WHERE'} {condition} ORDER BY trade_date, pair_id",
        params,
    ).df()
    return RuleResult(
        "spread_is_small_minus_large", "spread = small_return - large_return, exactly", violations
    )


def streak_sessions_add_up(
    con: duckdb.DuckDBPyConnection, streaks: TableSpec, spreads: TableSpec
) -> RuleResult:
    """Pairs whose streak sessions do not sum to their non-tie sessions."""
    violations = con.execute(
        f"""
        WITH in_streaks AS (
            SELECT pair_id, sum(sessions) AS streak_sessions FROM {streaks.qualified_name}
            GROUP BY pair_id
        ), in_spreads AS (
            SELECT pair_id, count(*) AS non_tie_sessions FROM {spreads.qualified_name}
            WHERE leader <> 'tie' GROUP BY pair_id
        )
        SELECT pair_id, coalesce(streak_sessions, 0) AS streak_sessions,
               coalesce(non_tie_sessions, 0) AS non_tie_sessions
        FROM in_streaks FULL JOIN in_spreads USING (pair_id)
        WHERE coalesce(streak_sessions, 0) <> coalesce(non_tie_sessions, 0)
        ORDER BY pair_id
        """
    ).df()
    return RuleResult(
        "streak_sessions_add_up",
        "per pair, the sessions of all streaks equal the pair's non-tie sessions",
        violations,
    )


def one_session_measures_agree(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, since: dt.date | None = None
) -> RuleResult:
    """relative_strength rows (from ``since`` on) whose 1-session measures disagree."""
    where, params = _since(spec, "trade_date", since)
    frame = con.execute(f"SELECT * FROM {spec.qualified_name}{where}", params).df()
    violations = relative_measures_agree(frame) if not frame.empty else pd.DataFrame()
    return RuleResult(
        "one_session_measures_agree",
        "on a 1-session window, ratio_change, return_difference and spread_sum agree with the "
        "day's returns",
        violations,
    )
