"""The ``analytics.rotation_dashboard`` view: (re)created after the tables it reads."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue

from rotation_assets.defs.analytics.assets import (
    OUTPERFORMANCE_STREAKS,
    RELATIVE_STRENGTH,
    VALUATION_GAP,
    analytics_outperformance_streaks,
    analytics_relative_strength,
    analytics_valuation_gap,
    warehouse_asset,
)
from rotation_assets.defs.table_assets import table_key
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics import rotation_dashboard
from rotation_assets.reference.universe import ROTATION_PAIRS
from rotation_assets.warehouse.writes import ensure_table

ROTATION_DASHBOARD = rotation_dashboard.ROTATION_DASHBOARD


@warehouse_asset(
    ROTATION_DASHBOARD,
    deps=[
        analytics_relative_strength,
        analytics_outperformance_streaks,
        analytics_valuation_gap,
        table_key(ROTATION_PAIRS),
    ],
    description=rotation_dashboard.__doc__.strip(),
    kinds=frozenset({"duckdb", "sql"}),
)
def analytics_rotation_dashboard(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    with warehouse.connect() as con:
        # A table still without rows may not exist yet (first runs); the view must bind anyway.
        for spec in (ROTATION_PAIRS, RELATIVE_STRENGTH, OUTPERFORMANCE_STREAKS, VALUATION_GAP):
            ensure_table(con, spec)
        con.execute("BEGIN TRANSACTION")
        rotation_dashboard.create_dashboard_view(con)
        con.execute("COMMIT")
        rows = rotation_dashboard.read_dashboard(con)
    context.log.info(f"{ROTATION_DASHBOARD.qualified_name}: view over {len(rows)} pairs")
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "preview": MetadataValue.md(rows.to_markdown(index=False, floatfmt=".4f")),
        }
    )
