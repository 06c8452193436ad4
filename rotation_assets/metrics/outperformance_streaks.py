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
- ``is_current``: true only for the run that contains the pair's last session; a pair whose last
  session is a tie has no current run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
            "Small side's total return compounded over the run: prod(1 + small_return) - 1.",
            nullable=False,
        ),
        Column(
            "large_return",
            "DOUBLE",
            "Large side's total return compounded over the run: prod(1 + large_return) - 1.",
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
            "True only for the run containing the pair's last session (none if that is a tie).",
            nullable=False,
        ),
    ),
    key=("pair_id", "start_date"),
)


def _longest_since(sessions: np.ndarray, end_dates: np.ndarray) -> np.ndarray:
    """For runs in time order: end date of the latest earlier run at least as long, else NaT.

    A stack of runs with non-increasing lengths: a run shorter than a later one can never be
    the answer again, so each run is pushed and popped once (linear time).
    """
    out = np.full(len(sessions), np.datetime64("NaT"), dtype="datetime64[ns]")
    stack: list[int] = []
    for i, length in enumerate(sessions):
        while stack and sessions[stack[-1]] < length:
            stack.pop()
        if stack:
            out[i] = end_dates[stack[-1]]
        stack.append(i)
    return out


def outperformance_streaks(spreads: pd.DataFrame) -> pd.DataFrame:
    """Every maximal same-leader run of each pair; sorted by pair_id, start_date.

    ``spreads`` is the pair_spreads frame (trade_date, pair_id, small_return, large_return,
    leader). See the module docstring for the definitions.
    """
    frame = spreads.loc[
        :, ["trade_date", "pair_id", "small_return", "large_return", "leader"]
    ].sort_values(["pair_id", "trade_date"], kind="stable")
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    if frame.empty:
        return OUTPERFORMANCE_STREAKS.conform(
            pd.DataFrame({c: [] for c in OUTPERFORMANCE_STREAKS.column_names})
        )

    # A run starts wherever the pair or the leader changes from the previous row; ties form
    # their own runs here and are dropped below, so a tie splits the runs around it.
    starts = (frame["pair_id"] != frame["pair_id"].shift()) | (
        frame["leader"] != frame["leader"].shift()
    )
    frame["run"] = starts.cumsum()
    last_session = frame.groupby("pair_id")["trade_date"].transform("max")
    frame["is_current"] = frame["trade_date"] == last_session
    frame = frame[frame["leader"] != "tie"]
    frame = frame.assign(
        small_growth=1.0 + frame["small_return"], large_growth=1.0 + frame["large_return"]
    )

    runs = (
        frame.groupby("run", sort=True)
        .agg(
            pair_id=("pair_id", "first"),
            leader=("leader", "first"),
            start_date=("trade_date", "first"),
            end_date=("trade_date", "last"),
            sessions=("trade_date", "size"),
            small_growth=("small_growth", "prod"),
            large_growth=("large_growth", "prod"),
            is_current=("is_current", "any"),
        )
        .reset_index(drop=True)
    )
    runs["small_return"] = runs["small_growth"] - 1.0
    runs["large_return"] = runs["large_growth"] - 1.0
    runs["spread"] = runs["small_return"] - runs["large_return"]
    runs["rank"] = (
        runs.groupby(["pair_id", "leader"])["sessions"].rank(method="min", ascending=False)
    ).astype("int64")

    runs["longest_since"] = pd.Series(pd.NaT, index=runs.index, dtype="datetime64[ns]")
    # Runs are numbered in (pair, date) order, so each group is already in time order.
    for _, group in runs.groupby(["pair_id", "leader"], sort=False):
        runs.loc[group.index, "longest_since"] = _longest_since(
            group["sessions"].to_numpy(), group["end_date"].to_numpy(dtype="datetime64[ns]")
        )
    return OUTPERFORMANCE_STREAKS.conform(runs)


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
