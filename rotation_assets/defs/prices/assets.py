"""``raw.prices``: daily bars of the universe, one partition per NYSE session."""

import datetime as dt
import os

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Backoff,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)

from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL
from rotation_assets.defs.partitions import trading_day_partitions
from rotation_assets.defs.prices.sources import PriceSource
from rotation_assets.defs.table_assets import table_key, table_metadata
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.reference.universe import UNIVERSE, read_universe
from rotation_assets.sources.base import PriceSourceError, RetryablePriceSourceError
from rotation_assets.sources.price_window import (
    CORPORATE_ACTIONS,
    RAW_PRICES,
    PriceAuditError,
    fetch_price_window,
)
from rotation_assets.warehouse.connection import WarehouseError
from rotation_assets.warehouse.writes import TableWrite

# Rate limits and network errors clear with time: by default 3 retries after ~10, 20 and 40 s.
PRICE_FETCH_RETRY = RetryPolicy(
    max_retries=3,
    delay=float(os.environ.get("ROTATION_FETCH_RETRY_DELAY_SECONDS", "10")),
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)


def stored_universe(warehouse: DuckDBWarehouse) -> pd.DataFrame:
    """``reference.universe`` as stored; a Failure saying what to run when it is not there."""
    with warehouse.connect() as con:
        frame = read_universe(con)
    if frame.empty:
        raise Failure(
            "reference.universe is empty or not in the warehouse: materialize "
            "reference/universe first",
            allow_retries=False,
        )
    return frame


RAW_PRICES_KEY = table_key(RAW_PRICES)
CORPORATE_ACTIONS_KEY = table_key(CORPORATE_ACTIONS)


@multi_asset(
    specs=[
        AssetSpec(
            RAW_PRICES_KEY,
            description=RAW_PRICES.description,
            deps=[table_key(UNIVERSE)],
            group_name="prices",
            kinds={"duckdb", "python"},
            owners=OWNERS,
            metadata=table_metadata(RAW_PRICES),
        ),
        AssetSpec(
            CORPORATE_ACTIONS_KEY,
            description=CORPORATE_ACTIONS.description,
            deps=[table_key(UNIVERSE)],
            group_name="prices",
            kinds={"duckdb", "python"},
            owners=OWNERS,
            metadata=table_metadata(CORPORATE_ACTIONS),
        ),
    ],
    name="raw_prices",
    pool=WAREHOUSE_POOL,
    partitions_def=trading_day_partitions(),
    backfill_policy=SINGLE_RUN,
    retry_policy=PRICE_FETCH_RETRY,
)
def raw_prices(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, price_source: PriceSource
):
    """Daily bars (open, high, low, close, adj_close, volume) of every universe ticker, one row
    per NYSE session and ticker from its first trading date on, and the dividends and splits
    the source reports with them. ``close`` is split-adjusted; ``adj_close`` is split- and
    dividend-adjusted. ``source`` says where the row came from (yfinance, csv, or synthetic for
    the demo source, which is never market data).

    A backfill of any range is one run with one batched fetch. The fetched window is audited
    before it is written (expected tickers, no null or non-positive prices, OHLC bounds, unique
    keys): a failed fetch or audit leaves the stored rows as they were. Both tables' window is
    then replaced in one transaction; identical re-loads keep their ``loaded_at``.
    """
    sessions = [dt.date.fromisoformat(key) for key in context.partition_keys]
    window = (sessions[0], sessions[-1])
    tickers = stored_universe(warehouse)
    context.log.info(
        f"raw/prices: fetching {sessions[0]}..{sessions[-1]} ({len(sessions)} sessions) "
        f"from {price_source.label}"
    )
    try:
        fetched = fetch_price_window(
            price_source, tickers, sessions, dt.datetime.now(dt.UTC).replace(tzinfo=None)
        )
    except RetryablePriceSourceError:
        raise  # the retry policy backs off and tries again
    except (PriceSourceError, PriceAuditError) as exc:
        raise Failure(str(exc), allow_retries=False) from exc
    frame = fetched.prices

    if frame.empty:
        # No ticker is listed yet on these sessions: nothing to publish, nothing to delete.
        context.log.info("raw/prices: no universe ticker is listed on these sessions")
        yield MaterializeResult(asset_key=RAW_PRICES_KEY, metadata={"dagster/row_count": 0})
        yield MaterializeResult(asset_key=CORPORATE_ACTIONS_KEY, metadata={"dagster/row_count": 0})
        return

    writes = [TableWrite(RAW_PRICES, frame, window, keep_first_seen="loaded_at")]
    if fetched.actions is not None:
        writes.append(
            TableWrite(CORPORATE_ACTIONS, fetched.actions, window, "loaded_at", allow_empty=True)
        )
    try:
        summaries = warehouse.replace_tables(writes)
    except WarehouseError as exc:
        raise Failure(str(exc), allow_retries=False) from exc
    except Exception as exc:  # the transaction rolled back: say so, and do not retry blindly
        raise Failure(
            f"Writing {RAW_PRICES.qualified_name} for {window[0]}..{window[1]} failed and "
            f"was rolled back; stored rows are unchanged: {exc!r}",
            allow_retries=False,
        ) from exc
    written = summaries[0]
    context.log.info(
        f"raw/prices: wrote {written.rows_written} rows for {frame['ticker'].nunique()} tickers "
        f"({written.rows_changed} new or changed, {written.rows_before} replaced)"
    )
    newest = frame[frame["trade_date"] == frame["trade_date"].max()]
    yield MaterializeResult(
        asset_key=RAW_PRICES_KEY,
        metadata={
            "dagster/row_count": written.rows_written,
            "rows_new_or_changed": written.rows_changed,
            "rows_replaced": written.rows_before,
            "sessions": len(sessions),
            "tickers": int(frame["ticker"].nunique()),
            "source": price_source.label,
            "first_session": str(sessions[0]),
            "last_session": str(sessions[-1]),
            # The newest session's bars: what operators look at first.
            "preview": MetadataValue.md(
                newest.drop(columns=["loaded_at"]).to_markdown(index=False, floatfmt=".4f")
            ),
        },
    )
    if fetched.actions is None:
        note = f"the {price_source.label} source has one adjustment basis and records no actions"
        yield MaterializeResult(
            asset_key=CORPORATE_ACTIONS_KEY, metadata={"dagster/row_count": 0, "note": note}
        )
    else:
        yield MaterializeResult(
            asset_key=CORPORATE_ACTIONS_KEY,
            metadata={
                "dagster/row_count": summaries[1].rows_written,
                "source": price_source.label,
                "preview": MetadataValue.md(
                    fetched.actions.tail(20).drop(columns=["loaded_at"]).to_markdown(index=False)
                ),
            },
        )
