"""``raw.prices``: daily bars of the universe, one partition per NYSE session."""

import datetime as dt
import os

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Backoff,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)

from rotation_assets.defs.constants import OWNERS, WAREHOUSE_POOL
from rotation_assets.defs.reference.assets import universe
from rotation_assets.price_source import PriceSource, PriceSourceError, RetryablePriceSourceError
from rotation_assets.raw_prices import (
    CORPORATE_ACTIONS,
    RAW_PRICES,
    PriceAuditError,
    fetch_price_window,
)
from rotation_assets.table_spec import TableSpec
from rotation_assets.trading_day import trading_day_partitions
from rotation_assets.warehouse import DuckDBWarehouse, TableWrite, WarehouseError

# Rate limits and network errors clear with time: by default 3 retries after ~10, 20 and 40 s.
PRICE_FETCH_RETRY = RetryPolicy(
    max_retries=3,
    delay=float(os.environ.get("ROTATION_FETCH_RETRY_DELAY_SECONDS", "10")),
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)


def stored_universe(warehouse: DuckDBWarehouse) -> pd.DataFrame:
    """``reference.universe`` as stored, with first_trading_date as datetime64."""
    try:
        frame = warehouse.query("SELECT * FROM reference.universe ORDER BY ticker")
    except Exception as exc:  # a missing table is the usual cause
        raise Failure(
            "reference.universe is not in the warehouse: materialize reference/universe first "
            f"({exc})",
            allow_retries=False,
        ) from exc
    frame["first_trading_date"] = pd.to_datetime(frame["first_trading_date"])
    return frame


RAW_PRICES_KEY = AssetKey(["raw", "prices"])
CORPORATE_ACTIONS_KEY = AssetKey(["raw", "corporate_actions"])


def _table_metadata(spec: TableSpec) -> dict:
    return {
        "dagster/column_schema": spec.dagster_schema(),
        "dagster/table_name": spec.qualified_name,
        "partition_expr": spec.partition_column,
    }


@multi_asset(
    specs=[
        AssetSpec(
            RAW_PRICES_KEY,
            description=RAW_PRICES.description,
            deps=[universe],
            group_name="prices",
            kinds={"duckdb", "python"},
            owners=OWNERS,
            metadata=_table_metadata(RAW_PRICES),
        ),
        AssetSpec(
            CORPORATE_ACTIONS_KEY,
            description=CORPORATE_ACTIONS.description,
            deps=[universe],
            group_name="prices",
            kinds={"duckdb", "python"},
            owners=OWNERS,
            metadata=_table_metadata(CORPORATE_ACTIONS),
        ),
    ],
    name="raw_prices",
    pool=WAREHOUSE_POOL,
    partitions_def=trading_day_partitions(),
    backfill_policy=BackfillPolicy.single_run(),
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
