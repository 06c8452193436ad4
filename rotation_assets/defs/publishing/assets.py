"""``reporting/warehouse_snapshot``: the read-only copy of the warehouse that analysts open."""

from collections.abc import Iterable

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from rotation_assets.defs.constants import OWNERS, WAREHOUSE_POOL
from rotation_assets.warehouse import DuckDBWarehouse
from rotation_assets.warehouse_snapshot import publish_snapshot

SNAPSHOT_KEY = AssetKey(["reporting", "warehouse_snapshot"])
# Assets whose key starts with one of these are warehouse tables (or views) the snapshot copies.
WAREHOUSE_KEY_PREFIXES = ("reference", "raw", "analytics")


def warehouse_keys(assets: Iterable[AssetsDefinition]) -> list[AssetKey]:
    """The keys of every asset that writes the warehouse, so the snapshot runs after them."""
    return sorted(
        (key for a in assets for key in a.keys if key.path[0] in WAREHOUSE_KEY_PREFIXES),
        key=lambda k: k.to_user_string(),
    )


def build_warehouse_snapshot_asset(deps: Iterable[AssetKey]) -> AssetsDefinition:
    """The snapshot asset, downstream of ``deps`` (every warehouse asset of the definitions)."""

    @asset(
        key=SNAPSHOT_KEY,
        group_name="reporting",
        kinds={"duckdb"},
        owners=OWNERS,
        # It reads the live file while holding it, like a writer: one slot with the writers.
        pool=WAREHOUSE_POOL,
        deps=list(deps),
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
        context.log.info(
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

    return warehouse_snapshot
