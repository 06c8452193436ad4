"""Reference seeds: the universe of instruments and the small/large pairs, from ``seeds/``."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from rotation_assets.defs.constants import OWNERS, WAREHOUSE_POOL
from rotation_assets.project_paths import SEEDS_DIR
from rotation_assets.table_spec import TableSpec
from rotation_assets.universe import (
    ROTATION_PAIRS,
    UNIVERSE,
    load_rotation_pairs,
    load_universe,
)
from rotation_assets.warehouse import DuckDBWarehouse


def _publish_seed(
    context: AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    spec: TableSpec,
    frame: pd.DataFrame,
) -> MaterializeResult:
    summary = warehouse.replace_rows(spec, frame)
    context.log.info(f"{spec.qualified_name}: {summary.rows_written} rows")
    return MaterializeResult(
        metadata={
            "dagster/row_count": summary.rows_written,
            "dagster/table_name": spec.qualified_name,
            "preview": MetadataValue.md(frame.to_markdown(index=False)),
        }
    )


def _seed_metadata(spec: TableSpec, seed: str) -> dict:
    return {
        "dagster/column_schema": spec.dagster_schema(),
        "dagster/table_name": spec.qualified_name,
        "seed": str(SEEDS_DIR / seed),
    }


@asset(
    key=["reference", "universe"],
    group_name="reference",
    kinds={"duckdb", "csv"},
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    metadata=_seed_metadata(UNIVERSE, "universe.csv"),
)
def universe(context: AssetExecutionContext, warehouse: DuckDBWarehouse) -> MaterializeResult:
    """Instruments loaded every NYSE session: ticker, name, role (small_cap, large_cap, index,
    stock, macro), instrument type and first trading date, from ``seeds/universe.csv``. A
    ticker is expected in ``raw.prices`` on every session from its first trading date on."""
    return _publish_seed(context, warehouse, UNIVERSE, load_universe())


@asset(
    key=["reference", "rotation_pairs"],
    group_name="reference",
    kinds={"duckdb", "csv"},
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    deps=[universe],
    metadata=_seed_metadata(ROTATION_PAIRS, "rotation_pairs.csv"),
)
def rotation_pairs(context: AssetExecutionContext, warehouse: DuckDBWarehouse) -> MaterializeResult:
    """Small-cap vs large-cap pairs (pair_id, small, large, description) from
    ``seeds/rotation_pairs.csv``; both sides must be universe tickers."""
    return _publish_seed(context, warehouse, ROTATION_PAIRS, load_rotation_pairs(load_universe()))
