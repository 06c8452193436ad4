"""Great Expectations suites: a second opinion on raw.prices and analytics.daily_returns.

One check step runs both suites, so Great Expectations (about 4 s to import) is imported once
per run, and only when the step runs: the code location never imports it. Each suite checks the
rows its table's last refresh wrote: the window of the latest ``raw.price_loads`` load, and the
``daily_returns`` rows from the session its last refresh rebuilt from.
"""

import datetime as dt
from collections.abc import Iterator

import duckdb
import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    multi_asset_check,
)

from rotation_assets.defs.constants import WAREHOUSE_POOL
from rotation_assets.defs.table_assets import table_key
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics.daily_returns import DAILY_RETURNS
from rotation_assets.metrics.refresh import REFRESH_STATE
from rotation_assets.sources.price_window import PRICE_LOADS, RAW_PRICES
from rotation_assets.warehouse.connection import table_exists

SUITE = "great_expectations_suite"


def _latest_load_window(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    if not table_exists(con, PRICE_LOADS.schema, PRICE_LOADS.name):
        return None
    row = con.execute(
        f"SELECT first_session, last_session FROM {PRICE_LOADS.qualified_name} "
        "ORDER BY load_id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else (row[0], row[1])


def _returns_rebuilt_from(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The first session of daily_returns' last rebuild (its whole table: the first session)."""
    if not table_exists(con, REFRESH_STATE.schema, REFRESH_STATE.name):
        return None
    row = con.execute(
        f"SELECT rebuilt_from FROM {REFRESH_STATE.qualified_name} WHERE table_name = ?",
        [DAILY_RETURNS.qualified_name],
    ).fetchone()
    return None if row is None else (row[0] or dt.date.min)


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            SUITE,
            asset=table_key(RAW_PRICES),
            description="Great Expectations 1.x suite over the rows of the latest load "
            "(schema, nulls, positivity, OHLC bounds, unique keys, known sources).",
            blocking=False,
        ),
        AssetCheckSpec(
            SUITE,
            asset=table_key(DAILY_RETURNS),
            description="Great Expectations 1.x suite over the daily returns the last refresh "
            "rebuilt (schema, defined values, plausible returns, unique keys, known sources).",
            blocking=False,
        ),
    ],
    name="great_expectations",
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def great_expectations(context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    """Both suites in an ephemeral GX context (nothing written)."""
    from rotation_assets.quality.expectations import (
        validate_prices_with_gx,
        validate_returns_with_gx,
    )

    selected = {key.asset_key for key in context.selected_asset_check_keys}
    with warehouse.connect() as con:
        if table_key(RAW_PRICES) in selected:
            window = _latest_load_window(con)
            start, end = window if window else (dt.date.max, dt.date.max)
            summary = validate_prices_with_gx(_chunks(con, RAW_PRICES, start, end))
            scope = f"{window[0]}..{window[1]}" if window else "no load yet"
            yield _result(RAW_PRICES, summary, scope)
        if table_key(DAILY_RETURNS) in selected:
            since = _returns_rebuilt_from(con)
            start = since if since is not None else dt.date.max
            summary = validate_returns_with_gx(_chunks(con, DAILY_RETURNS, start, dt.date.max))
            scope = f"from {since}" if since not in (None, dt.date.min) else "whole table"
            yield _result(DAILY_RETURNS, summary, scope)


# Rows handed to GX at a time: GX copies a frame more than once, so a long window goes in
# chunks of whole sessions (a key never spans two chunks).
CHUNK_ROWS = 300_000


def _chunks(
    con: duckdb.DuckDBPyConnection, spec, start: dt.date, end: dt.date
) -> Iterator[pd.DataFrame]:
    """The rows of ``spec`` with trade_date in [start, end], in chunks of whole sessions."""
    sessions = con.execute(
        f"SELECT trade_date, count(*) FROM {spec.qualified_name} "
        "WHERE trade_date BETWEEN ? AND ? GROUP BY ALL ORDER BY 1",
        [start, end],
    ).fetchall()
    if not sessions:
        yield spec.empty()
        return
    first, rows = sessions[0][0], 0
    for i, (day, count) in enumerate(sessions):
        rows += count
        if rows >= CHUNK_ROWS or i == len(sessions) - 1:
            yield con.execute(
                f"SELECT * FROM {spec.qualified_name} WHERE trade_date BETWEEN ? AND ? "
                "ORDER BY trade_date, ticker",
                [first, day],
            ).df()
            if i < len(sessions) - 1:
                first, rows = sessions[i + 1][0], 0


def _result(spec, summary, scope: str) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=SUITE,
        asset_key=table_key(spec),
        passed=summary.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={**summary.as_metadata(), "rows_checked": scope},
    )
