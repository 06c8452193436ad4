"""``analytics.pair_spreads``: the daily total-return spread of each rotation pair.

One row per pair and session on which BOTH sides have a total return (a ticker's first session
has no return, and a side that starts later has none before it starts: such sessions have no
row). Definitions, with returns simple (0.01 = +1%):

- ``small_return`` / ``large_return``: the session's total return of the small / large side.
- ``spread = small_return - large_return``, computed as exactly that subtraction, so the
  identity holds bit for bit in the stored values.
- ``leader``: ``'small'`` when spread > 0, ``'large'`` when spread < 0, ``'tie'`` when spread == 0
  exactly (no tolerance: only identical returns tie).
- ``source``: the price sources of the two sides' return rows, combined.

Computed in DuckDB SQL (``pair_spreads_sql``), from a start date on: a new session appends one
row per pair, a re-loaded session rebuilds from that session on.
"""

from __future__ import annotations

import pandas as pd

from rotation_assets.metrics.provenance import sql_sources_of, with_source
from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.warehouse.table_spec import Column, TableSpec

PAIR_SPREADS = with_source(
    TableSpec(
        schema="analytics",
        name="pair_spreads",
        description=(
            "Daily total-return spread of each small-cap vs large-cap pair: one row per pair and "
            "NYSE session on which both sides have a total return. "
            "spread = small_return - large_return exactly; leader is small (spread > 0), large "
            "(spread < 0) or tie (spread = 0)."
        ),
        columns=(
            Column("trade_date", "DATE", "NYSE session.", nullable=False),
            Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
            Column("small", "VARCHAR", "Ticker of the small-cap side.", nullable=False),
            Column("large", "VARCHAR", "Ticker of the large-cap side.", nullable=False),
            Column(
                "small_return",
                "DOUBLE",
                "Total return of the small-cap side over the session, simple (0.01 = +1%).",
                nullable=False,
            ),
            Column(
                "large_return",
                "DOUBLE",
                "Total return of the large-cap side over the session, simple (0.01 = +1%).",
                nullable=False,
            ),
            Column(
                "spread",
                "DOUBLE",
                "small_return - large_return (exactly that subtraction); > 0 when small-caps led.",
                nullable=False,
            ),
            Column(
                "leader",
                "VARCHAR",
                "small if spread > 0, large if spread < 0, tie if spread = 0 exactly.",
                nullable=False,
            ),
        ),
        key=("trade_date", "pair_id"),
    )
)

LEADERS = ("small", "large", "tie")


def leader_sql(spread: str) -> str:
    """SQL: 'small' / 'large' / 'tie' by the sign of ``spread`` (exact zero is a tie)."""
    return f"CASE WHEN {spread} > 0 THEN 'small' WHEN {spread} < 0 THEN 'large' ELSE 'tie' END"


def leader_of(spread: pd.Series) -> pd.Series:
    """The leader of each spread, by ``leader_sql`` (for frames built in tests)."""
    frame = pd.DataFrame({"spread": spread.astype("float64").to_numpy()})
    labels = query_frames(f"SELECT {leader_sql('spread')} AS leader FROM frame", frame=frame)
    return pd.Series(labels["leader"].to_numpy(), index=spread.index, dtype="object")


def pair_spreads_sql(returns: str, pairs: str, start: str | None = None) -> str:
    """SQL for the spreads of every session (>= ``start``, a SQL date expression, if given),
    reading ``returns`` (trade_date, ticker, total_return, source) and ``pairs`` (pair_id,
    small, large)."""
    since = f"s.trade_date >= {start}" if start else "TRUE"
    return f"""
WITH legs AS (
    SELECT p.pair_id, p.small, p.large, s.trade_date,
           CAST(s.total_return AS DOUBLE) AS small_return,
           CAST(l.total_return AS DOUBLE) AS large_return,
           {sql_sources_of("s.source", "l.source")} AS source
    FROM {pairs} p
    -- both sides must have a return on the session (a null return is no return)
    JOIN {returns} s ON s.ticker = p.small
    JOIN {returns} l ON l.ticker = p.large AND l.trade_date = s.trade_date
    WHERE s.total_return IS NOT NULL AND l.total_return IS NOT NULL AND {since}
)
SELECT trade_date, pair_id, small, large, small_return, large_return,
       small_return - large_return AS spread,
       {leader_sql("small_return - large_return")} AS leader,
       source
FROM legs
ORDER BY trade_date, pair_id
"""


def pair_spreads(returns: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per pair and session where both sides have a total return: the returns, spread, leader
    and source. ``returns`` has trade_date, ticker, total_return and source (other columns are
    ignored); ``pairs`` has pair_id, small and large. Sorted by trade_date, pair_id.
    """
    if returns.duplicated(["trade_date", "ticker"]).any():
        raise ValueError("returns has more than one total_return for a ticker and session")
    out = query_frames(pair_spreads_sql("returns", "pairs"), returns=returns, pairs=pairs)
    return PAIR_SPREADS.conform(out)
