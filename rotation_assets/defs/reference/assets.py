"""Reference seeds: the universe of instruments and the small/large pairs, from ``seeds/``."""

from collections.abc import Callable

import pandas as pd
from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset

from rotation_assets.claims_check import CLAIMS, load_claims
from rotation_assets.defs.constants import OWNERS, WAREHOUSE_POOL
from rotation_assets.event_windows import MARKET_EVENTS, load_market_events
from rotation_assets.historical_parallels import HISTORICAL_PERIODS, load_historical_periods
from rotation_assets.project_paths import SEEDS_DIR
from rotation_assets.table_spec import TableSpec
from rotation_assets.universe import (
    ROTATION_PAIRS,
    UNIVERSE,
    load_rotation_pairs,
    load_universe,
)
from rotation_assets.valuation_gap import VALUATION_POINTS, load_valuation_points
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


def seed_asset(
    name: str, spec: TableSpec, seed: str, load: Callable[[], pd.DataFrame], description: str
) -> AssetsDefinition:
    """An unpartitioned asset publishing one validated seed CSV to ``reference.<name>``."""

    @asset(
        key=["reference", name],
        group_name="reference",
        kinds={"duckdb", "csv"},
        owners=OWNERS,
        pool=WAREHOUSE_POOL,
        description=description,
        metadata=_seed_metadata(spec, seed),
    )
    def _seed(context: AssetExecutionContext, warehouse: DuckDBWarehouse) -> MaterializeResult:
        return _publish_seed(context, warehouse, spec, load())

    return _seed


market_events = seed_asset(
    "market_events",
    MARKET_EVENTS,
    "market_events.csv",
    load_market_events,
    "Dated market events of the rotation (event_id, name, start_date, end_date, description, "
    "source) from seeds/market_events.csv; analytics/event_windows measures each.",
)
claims = seed_asset(
    "claims",
    CLAIMS,
    "claims.csv",
    load_claims,
    "Quantitative claims made in commentary about the rotation, machine-readable (kind, "
    "tickers, dates, claimed value, tolerance, source) from seeds/claims.csv; "
    "analytics/claims_check computes each from the warehouse.",
)
historical_periods = seed_asset(
    "historical_periods",
    HISTORICAL_PERIODS,
    "historical_periods.csv",
    load_historical_periods,
    "Past small-cap rotations to compare with today's (period_id, name, start_date, end_date: "
    "empty = through the latest session, description, source) from "
    "seeds/historical_periods.csv; analytics/historical_parallels measures each.",
)
valuation_points = seed_asset(
    "valuation_points",
    VALUATION_POINTS,
    "valuation_points.csv",
    load_valuation_points,
    "Published forward P/E figures for small- and large-cap indices, each with its publisher "
    "and a confidence grade (seeds/valuation_points.csv, from ../shared/data/valuation/"
    "published_pe.csv). No free daily P/E history of the Russell 2000 exists: these points and "
    "the live-day snapshots are what the valuation gap stands on.",
)
