"""``raw.prices``: fetch a window of sessions, audit it, and stage it for the warehouse.

Audit before publish: the fetched bars are checked with the blocking rules of
``quality.price_rules`` before anything is written, so a bad fetch fails the run and leaves
stored rows as they were. The window is fetched in chunks of tickers and staged as Parquet
files in a scratch folder, so memory stays bounded by a chunk however many tickers and years a
backfill spans; the audit and the write both read the staged files with DuckDB.

A source with one adjustment basis per file (no recorded actions: csv, demo) is also read on
the ``OVERLAP_SESSIONS`` sessions on each side of the window; those bars are staged apart, never
written, and compared with the stored rows in the write's transaction
(``sources.vendor_rebasing``), so that a file the vendor re-based is re-based in the warehouse
too, or refused, never joined to the stored rows with a jump at the seam.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from rotation_assets.quality.price_rules import (
    STALE_TAILS,
    RuleResult,
    audit,
    expected_bars_sql,
    no_history,
    register_window,
    stale_tails_sql,
)
from rotation_assets.reference.universe import tickers_in_window
from rotation_assets.sources.base import (
    ACTION_COLUMNS,
    PRICE_FRAME_COLUMNS,
    BarSource,
    empty_price_frame,
)
from rotation_assets.sources.vendor_rebasing import Rebasing, overlap_sessions
from rotation_assets.warehouse.connection import table_exists
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import WriteSummary, ensure_table

RAW_PRICES = TableSpec(
    schema="raw",
    name="prices",
    description=(
        "Daily bars of the universe, one row per NYSE session and ticker, partitioned by "
        "trade_date. Loaded by the raw_prices asset from the configured price source."
    ),
    columns=(
        Column("trade_date", "DATE", "NYSE session (the partition key).", nullable=False),
        Column("ticker", "VARCHAR", "Yahoo Finance symbol.", nullable=False),
        Column(
            "open",
            "DOUBLE",
            "Opening price, on close's basis; empty on a close-only bar (open, high and low "
            "all empty: the vendor kept only the close).",
        ),
        Column("high", "DOUBLE", "Session high, on close's basis; empty on a close-only bar."),
        Column("low", "DOUBLE", "Session low, on close's basis; empty on a close-only bar."),
        Column(
            "close",
            "DOUBLE",
            "Closing price, split-adjusted. Not dividend-adjusted, except where the source has "
            "only an adjusted series: reference.universe.return_basis = total_return_only (the "
            "adjusted-only csv files), whose close already includes dividends (= adj_close).",
            nullable=False,
        ),
        Column(
            "adj_close",
            "DOUBLE",
            "Close adjusted for splits and dividends (total return); its base moves with every "
            "new dividend, so compare adj_close values only within one load. Equals close for a "
            "price index (return_basis price_only: no dividends in it) and a non-payer.",
            nullable=False,
        ),
        Column(
            "volume",
            "DOUBLE",
            "Shares traded, as the vendor reports it; for an index (^ symbols) the vendor's "
            "figure for its constituents, empty where it is 0 or missing (an index trades no "
            "shares of its own; every source applies the same rule).",
        ),
        Column(
            "source",
            "VARCHAR",
            "Where the row came from: yfinance, csv or synthetic (demo data, never market data).",
            nullable=False,
        ),
        Column(
            "loaded_at",
            "TIMESTAMP",
            "UTC time this exact row was first loaded; re-loading identical values keeps it.",
            nullable=False,
        ),
    ),
    key=("trade_date", "ticker"),
    window_column="trade_date",
)


CORPORATE_ACTIONS = TableSpec(
    schema="raw",
    name="corporate_actions",
    description=(
        "Dividends and splits by ex-date, as reported by yfinance (actions=True) with each load; "
        "the csv and demo sources have one adjustment basis per file and record none."
    ),
    columns=(
        Column("trade_date", "DATE", "Ex-date (an NYSE session).", nullable=False),
        Column("ticker", "VARCHAR", "Yahoo Finance symbol.", nullable=False),
        Column(
            "dividend",
            "DOUBLE",
            "Cash dividend per share going ex on trade_date, on the split basis of loaded_at.",
        ),
        Column("split_ratio", "DOUBLE", "New shares per old share (2.0 = 2-for-1); 1 if none."),
        Column("source", "VARCHAR", "Where the action came from (yfinance).", nullable=False),
        Column("loaded_at", "TIMESTAMP", "UTC time the action was fetched.", nullable=False),
    ),
    key=("trade_date", "ticker"),
    window_column="trade_date",
)


class PriceAuditError(Exception):
    """A fetched window broke a blocking quality rule; nothing was written."""

    def __init__(self, failures: list[RuleResult]):
        self.failures = failures
        super().__init__(
            "Blocked before write, stored rows unchanged: "
            + " | ".join(f.summary() for f in failures)
        )


# Tickers fetched and staged at a time: bounds the memory of a backfill of any width.
CHUNK_TICKERS = 250


@dataclass(frozen=True)
class StagedWindow:
    """A fetched and audited window, staged as Parquet files, ready to publish."""

    prices: str  # SQL relation of the raw.prices rows
    actions: str | None  # of the raw.corporate_actions rows; None when the source has none
    rows: int
    tickers: int
    audit: list[RuleResult]
    stale_tails: RuleResult  # tickers whose bars stop early: a warning, never blocking
    # The file's bars on the sessions around the window, to compare with the stored rows
    # (sources.vendor_rebasing); None when the source records actions (not compared).
    overlap: str | None = None


def _staged(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """``frame`` with exactly ``spec``'s columns (nulls allowed: the audit judges them)."""
    return frame.loc[:, spec.column_names].reset_index(drop=True)


def _copy_to_parquet(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, spec, path) -> None:
    casts = ", ".join(f"CAST({c.name} AS {c.sql_type}) AS {c.name}" for c in spec.columns)
    con.register("chunk", frame)
    try:
        con.execute(f"COPY (SELECT {casts} FROM chunk) TO '{path}' (FORMAT parquet)")
    finally:
        con.unregister("chunk")


def stage_price_window(
    source: BarSource,
    universe: pd.DataFrame,
    sessions: list[dt.date],
    loaded_at: dt.datetime,
    folder: Path,
    chunk_tickers: int = CHUNK_TICKERS,
    history: pd.DataFrame | None = None,
) -> StagedWindow:
    """Fetch, stage and audit the bars of ``sessions`` for the universe, ready for raw.prices.

    Only tickers expected on some session of the window (listed by its end, not delisted before
    its start) are asked for, ``chunk_tickers`` at a time, and rows outside the sessions (a
    vendor's non-session bars, a ticker's bars before its first or after its last trading date)
    are dropped. ``history`` (ticker, last_stored: each ticker's last stored bar before the
    window) tells a series that stopped (a stale tail: reported, not blocking) from a missing
    one. Raises ``PriceAuditError`` when any blocking rule failed (a hole included). A source
    without recorded actions is also read on the overlap sessions around the window
    (``vendor_rebasing.overlap_sessions``): those bars are staged apart as ``overlap``, never
    audited or written.
    """
    history = no_history() if history is None else history
    start, end = sessions[0], sessions[-1]
    tickers = tickers_in_window(universe, start, end)
    with_history = frozenset(history["ticker"])
    first_date = universe.set_index("ticker")["first_trading_date"]
    last_date = (
        universe.set_index("ticker")["last_trading_date"]
        if "last_trading_date" in universe
        else pd.Series(dtype="datetime64[ns]")
    )
    session_index = pd.DatetimeIndex(pd.to_datetime(sessions))
    compared = not source.records_actions
    before, after = overlap_sessions(sessions) if compared else ([], [])
    overlap_index = pd.DatetimeIndex(pd.to_datetime([*before, *after]))
    read_from, read_to = (before or [start])[0], (after or [end])[-1]
    folder.mkdir(parents=True, exist_ok=True)
    # Its own in-memory database: the warehouse file is not opened until the write.
    with duckdb.connect(config={"memory_limit": "512MB"}) as con:
        chunks = [tickers[i : i + chunk_tickers] for i in range(0, len(tickers), chunk_tickers)]
        for n, chunk in enumerate(chunks or [[]]):
            frame = (
                source.fetch(chunk, read_from, read_to, with_history=with_history & set(chunk))
                if chunk
                else no_bars(source)
            )
            frame = frame.assign(trade_date=pd.to_datetime(frame["trade_date"]).dt.normalize())
            delisted = frame["ticker"].map(last_date)
            listed = (frame["trade_date"] >= frame["ticker"].map(first_date)) & ~(
                frame["trade_date"] > delisted
            )
            if compared:
                around = frame[listed & frame["trade_date"].isin(overlap_index)].assign(
                    source=source.label, loaded_at=pd.Timestamp(loaded_at)
                )
                _copy_to_parquet(
                    con, _staged(around, RAW_PRICES), RAW_PRICES, folder / f"o{n}.parquet"
                )
            keep = frame["trade_date"].isin(session_index) & listed
            frame = frame[keep].assign(source=source.label, loaded_at=pd.Timestamp(loaded_at))
            _copy_to_parquet(con, _staged(frame, RAW_PRICES), RAW_PRICES, folder / f"p{n}.parquet")
            if source.records_actions:
                has_action = (frame["dividend"].fillna(0) != 0) | (
                    frame["split_ratio"].fillna(1) != 1
                )
                actions = _staged(frame[has_action], CORPORATE_ACTIONS)
                _copy_to_parquet(con, actions, CORPORATE_ACTIONS, folder / f"a{n}.parquet")
        prices = f"read_parquet('{folder}/p*.parquet')"
        window_start = register_window(con, universe, sessions, history)
        expected = f"({expected_bars_sql('universe', 'sessions', prices, 'history', window_start)})"
        results = audit(con, prices, expected)
        stale = con.execute(
            stale_tails_sql(prices, "universe", "sessions", "history", window_start)
        ).df()
        rows, count = con.execute(
            f"SELECT count(*), count(DISTINCT ticker) FROM {prices}"
        ).fetchone()
    failures = [r for r in results if not r.passed]
    if failures:
        raise PriceAuditError(failures)
    actions_relation = f"read_parquet('{folder}/a*.parquet')" if source.records_actions else None
    return StagedWindow(
        prices,
        actions_relation,
        int(rows),
        int(count),
        results,
        stale_tails_result(stale),
        f"read_parquet('{folder}/o*.parquet')" if compared else None,
    )


def last_stored_before(con: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    """ticker, last_stored: each ticker's last raw.prices bar before ``day`` (none before the
    table exists)."""
    if not table_exists(con, RAW_PRICES.schema, RAW_PRICES.name):
        return no_history()
    frame = con.execute(
        f"SELECT ticker, max(trade_date) AS last_stored FROM {RAW_PRICES.qualified_name} "
        "WHERE trade_date < ? GROUP BY ticker ORDER BY ticker",
        [day],
    ).df()
    return frame.astype({"last_stored": "datetime64[ns]"})


def stale_tails_result(stale: pd.DataFrame) -> RuleResult:
    """The stale tails found (``stale_tails_sql`` rows) as a non-blocking rule result."""
    return RuleResult(
        STALE_TAILS,
        "a series stops before the window's last session: its rows load up to its "
        "last_session, nothing else is blocked",
        stale,
        blocking=False,
    )


def no_bars(source: BarSource) -> pd.DataFrame:
    """No bars, with the columns ``source`` delivers (when no ticker is listed yet)."""
    columns = [*PRICE_FRAME_COLUMNS, *(ACTION_COLUMNS if source.records_actions else [])]
    frame = empty_price_frame()
    for column in columns[len(PRICE_FRAME_COLUMNS) :]:
        frame[column] = pd.Series(dtype="float64")
    return frame


PRICE_LOADS = TableSpec(
    schema="raw",
    name="price_loads",
    description=(
        "One row per write of raw.prices that changed something: the window of sessions it "
        "replaced and how many rows changed (an identical re-load adds no row). The analytics "
        "read it to rebuild only from the first changed session on."
    ),
    columns=(
        Column("load_id", "BIGINT", "Increasing number of the load.", nullable=False),
        Column(
            "first_session",
            "DATE",
            "First session the load changed: the first of the window it replaced, or the "
            "first stored session it rescaled when the vendor re-based a file "
            "(sources.vendor_rebasing).",
            nullable=False,
        ),
        Column("last_session", "DATE", "Last session of the window replaced.", nullable=False),
        Column("sessions", "INTEGER", "Sessions in the window replaced.", nullable=False),
        Column("rows_written", "BIGINT", "raw.prices rows written for the window.", nullable=False),
        Column(
            "rows_changed",
            "BIGINT",
            "raw.prices and raw.corporate_actions rows new, changed, removed or rescaled (a "
            "vendor re-basing) by this load; 0 when an identical re-load changed nothing (the "
            "analytics then have nothing to do).",
            nullable=False,
        ),
        Column(
            "source",
            "VARCHAR",
            "Price source of the load: yfinance, csv or synthetic.",
            nullable=False,
        ),
        Column("loaded_at", "TIMESTAMP", "UTC time of the load.", nullable=False),
    ),
    key=("load_id",),
)


def record_load(
    con: duckdb.DuckDBPyConnection,
    sessions: list[dt.date],
    summaries: list[WriteSummary],
    source: str,
    loaded_at: dt.datetime,
    rebased: Sequence[Rebasing] = (),
) -> int:
    """Append the load of ``sessions`` to raw.price_loads (inside the caller's transaction, with
    the writes it describes) and return its load_id; a load that changed nothing is not
    recorded (the newest load_id is returned), so re-loading identical data changes no table.
    Stored rows ``rebased`` by the load count as changed, and its first_session is then the
    first of them (the analytics rebuild from there)."""
    ensure_table(con, PRICE_LOADS)
    (last,) = con.execute(
        f"SELECT coalesce(max(load_id), 0) FROM {PRICE_LOADS.qualified_name}"
    ).fetchone()
    changed = sum(s.rows_changed + (s.rows_before - s.rows_unchanged) for s in summaries)
    changed += sum(r.rows for r in rebased)
    first = min([sessions[0], *(r.first_session for r in rebased)])
    if changed == 0:
        return int(last)
    load_id = int(last) + 1
    con.execute(
        f"INSERT INTO {PRICE_LOADS.qualified_name} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            first,
            sessions[-1],
            len(sessions),
            summaries[0].rows_written,
            changed,
            source,
            loaded_at,
        ],
    )
    return load_id
