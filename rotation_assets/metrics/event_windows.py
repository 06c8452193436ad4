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

Tickers without a return row in the range get no row. A ticker whose data starts inside the
range is measured from its first return (the close of its first session).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

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
                "last_session (split-adjusted close).",
            ),
            Column(
                "total_return",
                "DOUBLE",
                "prod(1 + daily total_return) - 1 over the same sessions (adj_close, "
                "dividends reinvested).",
            ),
            *vs_columns,
            Column(
                "rank",
                "INTEGER",
                "Rank by total_return within the event, 1 = best; ties share the best rank.",
            ),
        ),
        key=("event_id", "ticker"),
    )


EVENT_WINDOWS = event_windows_spec()


def window_returns(
    returns: pd.DataFrame, start: pd.Timestamp | str, end: pd.Timestamp | str
) -> pd.DataFrame:
    """Per ticker with a return row in [start, end]: sessions and compounded returns.

    Columns ticker, first_session, last_session, sessions, price_return, total_return; the
    returns run from the close before first_session to the close of last_session.
    """
    in_window = returns[
        (returns["trade_date"] >= pd.Timestamp(start))
        & (returns["trade_date"] <= pd.Timestamp(end))
    ]
    frame = in_window.assign(
        price_growth=1.0 + in_window["price_return"].astype("float64"),
        total_growth=1.0 + in_window["total_return"].astype("float64"),
    )
    grouped = frame.groupby("ticker", sort=True)
    out = grouped.agg(
        first_session=("trade_date", "min"),
        last_session=("trade_date", "max"),
        sessions=("trade_date", "size"),
        price_growth=("price_growth", "prod"),
        total_growth=("total_growth", "prod"),
        price_count=("price_growth", "count"),
        total_count=("total_growth", "count"),
    )
    # groupby prod skips NaN, which would silently drop a session: null it out instead.
    out["price_return"] = (out["price_growth"] - 1.0).where(out["price_count"] == out["sessions"])
    out["total_return"] = (out["total_growth"] - 1.0).where(out["total_count"] == out["sessions"])
    columns = ["first_session", "last_session", "sessions", "price_return", "total_return"]
    return out[columns].reset_index()


def add_relative_and_rank(
    frame: pd.DataFrame, group: str, benchmarks: Sequence[str], rank_mask: pd.Series | None = None
) -> pd.DataFrame:
    """Adds vs_<benchmark> (total_return minus the benchmark's in the same group) and rank.

    ``rank`` ranks total_return within each ``group`` value (1 = best, ties share the best
    rank), counting only rows where ``rank_mask`` is true (all rows when it is None).
    """
    out = frame.copy()
    for b in benchmarks:
        bench = out.loc[out["ticker"] == b].set_index(group)["total_return"]
        out[benchmark_column(b)] = out["total_return"] - out[group].map(bench)
    ranked = out if rank_mask is None else out.loc[rank_mask]
    rank = ranked.groupby(group)["total_return"].rank(method="min", ascending=False)
    out["rank"] = rank.reindex(out.index).astype("Int64")
    return out


def event_windows(
    events: pd.DataFrame,
    returns: pd.DataFrame,
    universe: pd.DataFrame,
    benchmarks: Sequence[str] = DEFAULT_BENCHMARKS,
) -> pd.DataFrame:
    """Per event and universe ticker with data in the window: returns, relatives, rank.

    ``events`` has event_id, start_date, end_date; ``returns`` the daily trade_date, ticker,
    price_return, total_return; ``universe`` ticker and role. Sorted by event start_date,
    event_id, rank. See the module docstring for the definitions.
    """
    spec = event_windows_spec(benchmarks)
    roles = universe.set_index("ticker")["role"]
    known = returns[returns["ticker"].isin(roles.index)]
    parts = []
    for event in events.sort_values(["start_date", "event_id"], kind="stable").itertuples():
        part = window_returns(known, event.start_date, event.end_date)
        parts.append(part.assign(event_id=event.event_id))
    if not parts or all(p.empty for p in parts):
        return spec.conform(pd.DataFrame({c: [] for c in spec.column_names}))
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    frame["role"] = frame["ticker"].map(roles)
    frame = add_relative_and_rank(frame, "event_id", benchmarks)
    # Events keep their chronological order from the loop; within one, best first.
    frame["_order"] = frame["event_id"].map(
        {e: i for i, e in enumerate(frame["event_id"].unique())}
    )
    frame = frame.sort_values(["_order", "rank", "ticker"], kind="stable", na_position="last")
    return spec.conform(frame)
