"""``analytics.outperformance_streaks``: runs of consecutive sessions led by the same side.

Built from the full history of ``analytics.pair_spreads``. A *run* is a maximal sequence of
consecutive spread rows of one pair (consecutive in that pair's rows, so sessions on which the
pair has no row do not break a run) with the same leader, ``small`` or ``large``. A ``tie``
(spread exactly 0) ends a run and belongs to none. Per run:

- ``start_date`` / ``end_date``: its first and last session; ``sessions``: its number of rows.
- ``small_return = prod(1 + small_return) - 1`` over the run, ``large_return`` likewise
  (compounded); ``spread = small_return - large_return`` of those compounded returns.
- ``rank``: rank by ``sessions`` among the pair's runs with the same leader, 1 = longest; equal
  lengths share the best rank (``method='min'``: 1, 1, 3).
- ``longest_since``: the ``end_date`` of the most recent earlier run (ending before this one
  starts) of the same pair and leader with ``sessions`` >= this run's; null if there is none.
  "The longest small-cap run since <longest_since>" (an equal run counts: "as long as").
- ``is_current``: true only for the run that contains the pair's last session (its legs' last
  common session, which for a pair whose leg stopped lies before the market's latest); a pair
  whose last session is a tie has no current run.
- ``source``: the combined price source of the pair_spreads rows of the run ('csv',
  'csv+synthetic', ...; ``metrics.provenance``).

Computed in SQL (``outperformance_streaks_sql``) as gaps and islands: a run is a group of the
pair's rows with the same leader and the same difference between the row's number among the
pair's rows and its number among the pair's rows with that leader.
"""

from __future__ import annotations

import pandas as pd

from rotation_assets.metrics.provenance import source_column, sql_sources_aggregate
from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.warehouse.table_spec import Column, TableSpec

OUTPERFORMANCE_STREAKS = TableSpec(
    schema="analytics",
    name="outperformance_streaks",
    description=(
        "Every maximal run of consecutive sessions of a pair led by the same side (small or "
        "large; a tie ends a run and belongs to none), with its compounded returns, its rank "
        "among the pair's runs of that leader, and since when it is the longest. Rebuilt from "
        "the full history of analytics.pair_spreads."
    ),
    columns=(
        Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
        Column(
            "leader",
            "VARCHAR",
            "Side that led every session of the run: small or large.",
            nullable=False,
        ),
        Column("start_date", "DATE", "First session of the run.", nullable=False),
        Column("end_date", "DATE", "Last session of the run.", nullable=False),
        Column(
            "sessions",
            "INTEGER",
            "Number of sessions in the run (consecutive spread rows of the pair).",
            nullable=False,
        ),
        Column(
            "small_return",
            "DOUBLE",
            "Small leg's return compounded over the run, on the pair's basis (price or total "
            "return): prod(1 + small_return) - 1.",
            nullable=False,
        ),
        Column(
            "large_return",
            "DOUBLE",
            "Large leg's return compounded over the run, on the pair's basis: "
            "prod(1 + large_return) - 1.",
            nullable=False,
        ),
        Column(
            "spread",
            "DOUBLE",
            "small_return - large_return of the compounded run returns (> 0 for a small run).",
            nullable=False,
        ),
        Column(
            "rank",
            "INTEGER",
            "Rank by sessions among the pair's runs with the same leader; 1 = longest, equal "
            "lengths share the best rank (1, 1, 3).",
            nullable=False,
        ),
        Column(
            "longest_since",
            "DATE",
            "end_date of the most recent earlier run of the same pair and leader with at least "
            "as many sessions; null when no earlier run is as long (longest on record).",
        ),
        Column(
            "is_current",
            "BOOLEAN",
            "True only for the run containing the pair's last session (none if that is a tie); "
            "for a pair whose leg stopped, its legs' last common session (the dashboard's "
            "stale_since).",
            nullable=False,
        ),
        source_column("the pair_spreads rows of the run"),
    ),
    key=("pair_id", "start_date"),
)


def outperformance_streaks_sql(spreads: str = "spreads") -> str:
    """SQL for the outperformance_streaks rows, sorted by pair_id, start_date.

    ``spreads`` names the pair_spreads relation (a table such as ``analytics.pair_spreads`` or
    a parenthesised subquery) with trade_date, pair_id, small_return, large_return, leader and
    source. The result has exactly ``OUTPERFORMANCE_STREAKS``'s columns, in order.
    """
    return f"""
WITH numbered AS (
    SELECT
        pair_id,
        leader,
        trade_date,
        small_return,
        large_return,
        source,
        trade_date = max(trade_date) OVER (PARTITION BY pair_id) AS is_last_session,
        -- Constant along a run of one leader, different for the next run of that leader (the
        -- rows of other leaders, ties included, in between raise the first number only).
        row_number() OVER (PARTITION BY pair_id ORDER BY trade_date)
            - row_number() OVER (PARTITION BY pair_id, leader ORDER BY trade_date) AS island
    FROM {spreads}
),
runs AS (
    SELECT
        pair_id,
        leader,
        min(trade_date) AS start_date,
        max(trade_date) AS end_date,
        count(*) AS sessions,
        product(1 + small_return ORDER BY trade_date) - 1 AS small_total,
        product(1 + large_return ORDER BY trade_date) - 1 AS large_total,
        bool_or(is_last_session) AS is_current,
        {sql_sources_aggregate("source")} AS source
    FROM numbered
    WHERE leader <> 'tie'
    GROUP BY pair_id, leader, island
),
-- Each run once per length it reaches (1 .. sessions), so "the latest earlier run with at
-- least n sessions" is an ASOF match on at_least = n: linear, unlike a self-join.
qualifying AS (
    SELECT pair_id, leader, end_date, unnest(range(1, sessions + 1)) AS at_least
    FROM runs
)
SELECT
    r.pair_id,
    r.leader,
    r.start_date,
    r.end_date,
    r.sessions,
    r.small_total AS small_return,
    r.large_total AS large_return,
    r.small_total - r.large_total AS spread,
    rank() OVER (PARTITION BY r.pair_id, r.leader ORDER BY r.sessions DESC) AS rank,
    q.end_date AS longest_since,
    r.is_current,
    r.source
FROM runs AS r
ASOF LEFT JOIN qualifying AS q
    ON q.pair_id = r.pair_id
    AND q.leader = r.leader
    AND q.at_least = r.sessions
    AND r.start_date > q.end_date
ORDER BY r.pair_id, r.start_date
"""


def outperformance_streaks(spreads: pd.DataFrame) -> pd.DataFrame:
    """Every maximal same-leader run of each pair; sorted by pair_id, start_date.

    ``spreads`` is the pair_spreads frame (trade_date, pair_id, small_return, large_return,
    leader, source). See the module docstring for the definitions.
    """
    return OUTPERFORMANCE_STREAKS.conform(
        query_frames(outperformance_streaks_sql("spreads"), spreads=spreads)
    )


def streak_sessions_add_up(streaks: pd.DataFrame, spreads: pd.DataFrame) -> pd.DataFrame:
    """Pairs whose run sessions do not sum to their number of non-tie sessions (should be none).

    Columns pair_id, streak_sessions, non_tie_sessions; a pair present on one side only counts
    0 on the other.
    """
    in_streaks = streaks.groupby("pair_id")["sessions"].sum().rename("streak_sessions")
    non_tie = spreads.loc[spreads["leader"] != "tie"]
    in_spreads = non_tie.groupby("pair_id").size().rename("non_tie_sessions")
    both = pd.concat([in_streaks, in_spreads], axis=1).fillna(0).astype("int64")
    both = both.rename_axis("pair_id").reset_index()
    return both[both["streak_sessions"] != both["non_tie_sessions"]].reset_index(drop=True)
