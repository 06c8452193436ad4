"""``analytics.pair_spreads``: the daily total-return spread of each rotation pair.

One row per pair and session on which BOTH sides have a total return (a ticker's first session
has no return, and a side that starts later has none before it starts: such sessions have no
row). Definitions, with returns simple (0.01 = +1%):

- ``small_return`` / ``large_return``: the session's total return of the small / large side.
- ``spread = small_return - large_return``, computed as exactly that subtraction, so the
  identity holds bit for bit in the stored values.
- ``leader``: ``'small'`` when spread > 0, ``'large'`` when spread < 0, ``'tie'`` when spread == 0
  exactly (no tolerance: only identical returns tie).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rotation_assets.warehouse.table_spec import Column, TableSpec

PAIR_SPREADS = TableSpec(
    schema="analytics",
    name="pair_spreads",
    description=(
        "Daily total-return spread of each small-cap vs large-cap pair: one row per pair and "
        "NYSE session on which both sides have a total return, partitioned by trade_date. "
        "spread = small_return - large_return exactly; leader is small (spread > 0), large "
        "(spread < 0) or tie (spread = 0)."
    ),
    columns=(
        Column("trade_date", "DATE", "NYSE session (the partition key).", nullable=False),
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
    partition_column="trade_date",
)

LEADERS = ("small", "large", "tie")


def leader_of(spread: pd.Series) -> pd.Series:
    """'small' / 'large' / 'tie' by the sign of ``spread`` (exact zero is a tie)."""
    values = spread.to_numpy(dtype="float64")
    labels = np.select([values > 0, values < 0], ["small", "large"], default="tie")
    return pd.Series(labels, index=spread.index, dtype="object")


def pair_spreads(returns: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per pair and session where both sides have a total return: the returns, spread, leader.

    ``returns`` has trade_date, ticker and total_return (other columns are ignored); ``pairs``
    has pair_id, small and large. Sorted by trade_date, pair_id.
    """
    # A NaN total return is no return: the session drops out like a missing row.
    total = returns.loc[returns["total_return"].notna(), ["trade_date", "ticker", "total_return"]]
    if total.duplicated(["trade_date", "ticker"]).any():
        raise ValueError("returns has more than one total_return for a ticker and session")

    small = total.rename(columns={"ticker": "small", "total_return": "small_return"})
    large = total.rename(columns={"ticker": "large", "total_return": "large_return"})
    frame = (
        pairs.loc[:, ["pair_id", "small", "large"]]
        .merge(small, on="small", how="inner")
        # The inner join on both date and ticker keeps only sessions where both sides exist.
        .merge(large, on=["trade_date", "large"], how="inner")
    )
    frame["small_return"] = frame["small_return"].astype("float64")
    frame["large_return"] = frame["large_return"].astype("float64")
    frame["spread"] = frame["small_return"] - frame["large_return"]
    frame["leader"] = leader_of(frame["spread"])
    frame = frame.sort_values(["trade_date", "pair_id"], kind="stable")
    return PAIR_SPREADS.conform(frame)
