"""``analytics.pair_spreads``: the daily spread of each rotation pair, on the pair's basis.

A pair compares its legs on one basis (``reference.rotation_pairs.basis``, derived from the
legs' return_basis): ``total_return`` (dividends reinvested: ETFs with an adjusted close,
adjusted-only files) or ``price`` (a leg is a price index such as ^RUT, whose close carries no
dividends). One row per pair and session on which BOTH legs have a return (a ticker's first
session has no return, and a leg that starts later, or stops earlier, has none outside its own
sessions: such sessions have no row, so a pair whose leg stops ends at the legs' last common
session, never with half a row). Definitions, with returns simple (0.01 = +1%):

- ``basis``: the pair's basis, as the pairs table states it.
- ``small_return`` / ``large_return``: the session's return of the small / large leg on that
  basis: its ``total_return`` for a total_return pair, its ``price_return`` for a price pair.
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
            "Daily spread of each rotation pair on the pair's basis (price or total return, "
            "reference.rotation_pairs.basis): one row per pair and NYSE session on which both "
            "legs have a return, so a pair whose leg stops ends at the legs' last common "
            "session. spread = small_return - large_return exactly; leader is small (spread > "
            "0), large (spread < 0) or tie (spread = 0)."
        ),
        columns=(
            Column("trade_date", "DATE", "NYSE session.", nullable=False),
            Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
            Column(
                "small",
                "VARCHAR",
                "Ticker of the small leg (small caps; value for a style pair).",
                nullable=False,
            ),
            Column(
                "large",
                "VARCHAR",
                "Ticker of the large leg (large caps; growth for a style pair).",
                nullable=False,
            ),
            Column(
                "basis",
                "VARCHAR",
                "What both returns are: total_return (dividends reinvested) or price (price "
                "return), the pair's basis in reference.rotation_pairs.",
                nullable=False,
            ),
            Column(
                "small_return",
                "DOUBLE",
                "Return of the small leg over the session on the pair's basis, simple (0.01 = "
                "+1%).",
                nullable=False,
            ),
            Column(
                "large_return",
                "DOUBLE",
                "Return of the large leg over the session on the pair's basis, simple (0.01 = "
                "+1%).",
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
    reading ``returns`` (trade_date, ticker, price_return, total_return, source) and ``pairs``
    (pair_id, small, large, basis)."""
    since = f"s.trade_date >= {start}" if start else "TRUE"

    def on_basis(leg: str) -> str:
        return (
            f"CAST(CASE WHEN p.basis = 'price' THEN {leg}.price_return "
            f"ELSE {leg}.total_return END AS DOUBLE)"
        )

    return f"""
WITH legs AS (
    SELECT p.pair_id, p.small, p.large, p.basis, s.trade_date,
           {on_basis("s")} AS small_return,
           {on_basis("l")} AS large_return,
           {sql_sources_of("s.source", "l.source")} AS source
    FROM {pairs} p
    -- both legs must have a return on the session (a null return is no return)
    JOIN {returns} s ON s.ticker = p.small
    JOIN {returns} l ON l.ticker = p.large AND l.trade_date = s.trade_date
    WHERE {since}
)
SELECT trade_date, pair_id, small, large, basis, small_return, large_return,
       small_return - large_return AS spread,
       {leader_sql("small_return - large_return")} AS leader,
       source
FROM legs
WHERE small_return IS NOT NULL AND large_return IS NOT NULL
ORDER BY trade_date, pair_id
"""


def pair_spreads(returns: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per pair and session where both legs have a return on the pair's basis: the returns,
    spread, leader and source. ``returns`` has trade_date, ticker, price_return, total_return
    and source (other columns are ignored); ``pairs`` has pair_id, small, large and basis
    (price or total_return). Sorted by trade_date, pair_id.
    """
    if returns.duplicated(["trade_date", "ticker"]).any():
        raise ValueError("returns has more than one row for a ticker and session")
    out = query_frames(pair_spreads_sql("returns", "pairs"), returns=returns, pairs=pairs)
    return PAIR_SPREADS.conform(out)
