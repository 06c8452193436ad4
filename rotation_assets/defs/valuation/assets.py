"""``raw.shiller_monthly``: Robert Shiller's monthly S&P 500 data, with its load record
(``raw.shiller_loads``), from the configured Shiller source.

Part of ``rotation_job`` like every asset, and cheap on a daily run: the source's bytes are
hashed and, when the latest load read the same bytes, nothing is parsed or written. A changed
file is parsed whole (a malformed one fails naming the file and line before anything is
written) and replaces the table in one transaction with its load record; identical rows keep
their ``loaded_at``.
"""

import datetime as dt

from dagster import AssetSpec, Failure, MaterializeResult, multi_asset

from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL, progress
from rotation_assets.defs.prices.assets import PRICE_FETCH_RETRY
from rotation_assets.defs.table_assets import materialization_metadata, table_key, table_metadata
from rotation_assets.defs.valuation.sources import ShillerSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.sources.shiller_monthly import (
    SHILLER_LOADS,
    SHILLER_MONTHLY,
    ValuationSourceError,
    ValuationSourceUnavailableError,
    latest_load,
    record_load,
)
from rotation_assets.warehouse.connection import WarehouseError
from rotation_assets.warehouse.writes import (
    TableWrite,
    ensure_table,
    replace_tables_in_transaction,
    transaction,
)

SHILLER_MONTHLY_KEY = table_key(SHILLER_MONTHLY)
SHILLER_LOADS_KEY = table_key(SHILLER_LOADS)


def _spec(spec, description: str) -> AssetSpec:
    return AssetSpec(
        table_key(spec),
        description=description,
        group_name="valuation",
        kinds={"duckdb", "python"},
        owners=OWNERS,
        metadata=table_metadata(spec),
    )


@multi_asset(
    specs=[
        _spec(
            SHILLER_MONTHLY,
            SHILLER_MONTHLY.description + " Read from the source set by "
            "ROTATION_SHILLER_SOURCE (file: ROTATION_SHILLER_FILE, default the CSV copy in "
            "../shared; workbook: Shiller's ie_data.xls at ROTATION_SHILLER_URL); loaded only "
            "when its bytes changed.",
        ),
        _spec(SHILLER_LOADS, SHILLER_LOADS.description),
    ],
    name="shiller_monthly",
    pool=WAREHOUSE_POOL,
    backfill_policy=SINGLE_RUN,
    retry_policy=PRICE_FETCH_RETRY,
)
def shiller_monthly(warehouse: DuckDBWarehouse, shiller_source: ShillerSource):
    """Load Shiller's monthly data when the source's bytes differ from the latest load's."""
    try:
        yield from _load(warehouse, shiller_source)
    except WarehouseError as exc:  # a locked file: the lock wait was the retry
        raise Failure(str(exc), allow_retries=False) from exc


def _load(warehouse: DuckDBWarehouse, shiller_source: ShillerSource):
    where = shiller_source.location
    if not shiller_source.available():
        why = f"no Shiller file at {where} (set ROTATION_SHILLER_FILE to load one)"
        progress.warning(f"raw.shiller_monthly: nothing loaded: {why}")
        with warehouse.connect() as con:
            for spec in (SHILLER_MONTHLY, SHILLER_LOADS):
                ensure_table(con, spec)
        yield from _results(warehouse, f"nothing loaded: {why}")
        return
    try:
        content = shiller_source.read()
    except ValuationSourceUnavailableError as exc:
        progress.warning(f"raw.shiller_monthly: {exc}; retrying with backoff")
        raise  # the retry policy backs off and tries again
    except ValuationSourceError as exc:
        raise Failure(str(exc), allow_retries=False) from exc
    with warehouse.connect() as con:
        previous = latest_load(con)
    if previous is not None and previous.content_md5 == content.md5:
        note = f"unchanged since load {previous.load_id} (md5 {content.md5} of {where})"
        progress.info(f"raw.shiller_monthly: {note}")
        yield from _results(warehouse, note)
        return
    try:
        frame = shiller_source.parse(content)
    except ValuationSourceError as exc:
        raise Failure(str(exc), allow_retries=False) from exc
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    frame["loaded_at"] = loaded_at
    with warehouse.connect() as con, transaction(con):
        (written,) = replace_tables_in_transaction(
            con, [TableWrite(SHILLER_MONTHLY, frame, keep_first_seen="loaded_at")]
        )
        load_id = record_load(con, content, frame, written, loaded_at)
    note = (
        f"load {load_id}: {written.rows_written} months from {where} "
        f"({written.rows_changed} new or changed)"
    )
    progress.info(f"raw.shiller_monthly: {note}")
    yield from _results(warehouse, note)


def _results(warehouse: DuckDBWarehouse, note: str):
    with warehouse.connect() as con:
        newest = con.execute(
            f"SELECT * FROM {SHILLER_MONTHLY.qualified_name} ORDER BY month DESC LIMIT 12"
        ).df()
        (months,) = con.execute(f"SELECT count(*) FROM {SHILLER_MONTHLY.qualified_name}").fetchone()
        loads = con.execute(
            f"SELECT * FROM {SHILLER_LOADS.qualified_name} ORDER BY load_id DESC LIMIT 20"
        ).df()
        (load_count,) = con.execute(
            f"SELECT count(*) FROM {SHILLER_LOADS.qualified_name}"
        ).fetchone()
    yield MaterializeResult(
        asset_key=SHILLER_MONTHLY_KEY,
        metadata={**materialization_metadata(newest, int(months)), "load": note},
    )
    yield MaterializeResult(
        asset_key=SHILLER_LOADS_KEY,
        metadata={**materialization_metadata(loads, int(load_count)), "load": note},
    )
