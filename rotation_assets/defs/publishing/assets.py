"""``reporting/warehouse_snapshot``: the read-only copy of the warehouse that analysts open."""

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from rotation_assets.catalog import ASSET_TABLES
from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL, progress
from rotation_assets.defs.table_assets import table_key
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.warehouse.snapshot import publish_snapshot

SNAPSHOT_KEY = AssetKey(["reporting", "warehouse_snapshot"])


@asset(
    key=SNAPSHOT_KEY,
    backfill_policy=SINGLE_RUN,
    group_name="reporting",
    kinds={"duckdb"},
    owners=OWNERS,
    # It reads the live file while holding it, like a writer: one slot with the writers.
    pool=WAREHOUSE_POOL,
    # Every table and view of the catalog: it runs last and copies them all.
    deps=[table_key(spec) for spec in ASSET_TABLES],
)
def warehouse_snapshot(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    """A read-only copy of the whole warehouse for analysts and BI tools
    (``data/rotation_snapshot.duckdb`` beside the live file by default), with every table,
    view and ``COMMENT ON`` description. It is built to a temporary file while the run
    holds the warehouse, checked against it, and swapped in atomically with ``os.replace``
    as the last step of ``rotation_job``; an analyst holding it open never delays a run,
    and keeps reading the previous copy until reconnecting. A failed run, or a failed
    blocking check upstream, skips this step: the previous snapshot stays as it was."""
    target = warehouse.published_snapshot_path()
    with warehouse.connect() as con:
        published = publish_snapshot(con, target)
    progress.info(
        f"published {published.path}: {len(published.table_rows)} tables, "
        f"{published.total_rows:,} rows, {published.size_bytes / 1e6:.1f} MB"
    )
    tables = pd.DataFrame(
        sorted(published.table_rows.items()), columns=["table", "rows"]
    ).to_markdown(index=False)
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(published.path)),
            "tables": MetadataValue.md(tables),
            "views": published.views,
            "rows": published.total_rows,
            "size_bytes": published.size_bytes,
            "published_at": MetadataValue.timestamp(published.published_at),
            "open_with": f"duckdb -readonly {published.path}",
        }
    )
