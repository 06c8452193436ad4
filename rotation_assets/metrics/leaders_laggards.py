"""``analytics.leaders_laggards``: the universe's stocks ranked by return, as of one date.

The rows are the universe's stocks (role ``stock``) plus the yardsticks IWM and SPY (when in the
universe), over these windows, each an inclusive date range [window_start, window_end] that
never reaches past ``as_of`` (nothing after ``as_of`` is read):

- ``mtd``: from the first day of as_of's month to as_of; the return runs from the close of the
  last session of the previous month.
- ``ytd``: from January 1 of as_of's year to as_of; from the close of the previous year's last
  session.
- one per market event (``window_id`` = event_id) that starts on or before as_of: from its
  start_date to min(end_date, as_of).

Per window and ticker with at least one daily return row in the window (returns simple):

- ``total_return = prod(1 + total_return) - 1`` over the ticker's return rows in the window:
  from the close before its first session in the window to the close of its last (dividends
  reinvested). A null daily return inside the window makes it null.
- ``vs_iwm = total_return - total_return of IWM`` in the same window; ``vs_spy`` likewise.
- ``rank``: rank by total_return among the window's stocks only, 1 = best (leader), equal
  returns share the best rank (1, 1, 3); null for the yardsticks and for a null return.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rotation_assets.metrics.event_windows import add_relative_and_rank, window_returns
from rotation_assets.warehouse.table_spec import Column, TableSpec

YARDSTICKS = ("IWM", "SPY")

LEADERS_LAGGARDS = TableSpec(
    schema="analytics",
    name="leaders_laggards",
    description=(
        "The universe's stocks ranked by total return month to date, year to date and over each "
        "market event up to the as-of date, with IWM and SPY as unranked yardsticks and every "
        "return also shown relative to them."
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
        Column("role", "VARCHAR", "The ticker's role in the universe (stock for ranked rows)."),
        Column(
            "total_return",
            "DOUBLE",
            "prod(1 + daily total_return) - 1 over the ticker's sessions in the window: from "
            "the close before the first to the close of the last.",
        ),
        Column("vs_iwm", "DOUBLE", "total_return - IWM's total_return over the same window."),
        Column("vs_spy", "DOUBLE", "total_return - SPY's total_return over the same window."),
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
    ),
    key=("window_id", "ticker"),
)


def _windows(
    events: pd.DataFrame, as_of: pd.Timestamp
) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """(window_id, start, end) for mtd, ytd and the events begun by as_of, in that order."""
    windows = [
        ("mtd", as_of.replace(day=1), as_of),
        ("ytd", as_of.replace(month=1, day=1), as_of),
    ]
    for event in events.sort_values(["start_date", "event_id"], kind="stable").itertuples():
        start = pd.Timestamp(event.start_date)
        if start <= as_of:
            windows.append((event.event_id, start, min(pd.Timestamp(event.end_date), as_of)))
    return windows


def leaders_laggards(
    returns: pd.DataFrame,
    universe: pd.DataFrame,
    events: pd.DataFrame,
    as_of: dt.date | str | pd.Timestamp,
) -> pd.DataFrame:
    """Stocks and yardsticks per window (mtd, ytd, events) with returns, relatives and ranks.

    ``returns`` has trade_date, ticker, total_return; ``universe`` ticker and role; ``events``
    event_id, start_date, end_date. Sorted by window (mtd, ytd, events by date), stocks by
    rank, then yardsticks. See the module docstring for the definitions.
    """
    as_of_ts = pd.Timestamp(as_of).normalize()
    roles = universe.set_index("ticker")["role"]
    stocks = set(roles.index[roles == "stock"])
    yardsticks = [y for y in YARDSTICKS if y in roles.index]
    wanted = returns[
        returns["ticker"].isin(stocks | set(yardsticks)) & (returns["trade_date"] <= as_of_ts)
    ]

    parts = []
    for window_id, start, end in _windows(events, as_of_ts):
        part = window_returns(wanted, start, end)
        parts.append(part.assign(window_id=window_id, window_start=start, window_end=end))
    frame = pd.concat(parts, ignore_index=True)
    if frame.empty:
        return LEADERS_LAGGARDS.conform(
            pd.DataFrame({c: [] for c in LEADERS_LAGGARDS.column_names})
        )
    frame["role"] = frame["ticker"].map(roles)
    frame["is_yardstick"] = frame["ticker"].isin(yardsticks)
    frame = add_relative_and_rank(frame, "window_id", YARDSTICKS, ~frame["is_yardstick"])
    order = {w: i for i, (w, _, _) in enumerate(_windows(events, as_of_ts))}
    frame["_order"] = frame["window_id"].map(order)
    frame = frame.sort_values(
        ["_order", "is_yardstick", "rank", "ticker"], kind="stable", na_position="last"
    )
    return LEADERS_LAGGARDS.conform(frame)
