"""Reporting: the rotation charts, rendered after the analytics they draw, written to the reports
folder and attached to their assets so they show in the Dagster UI."""

import base64

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from rotation_assets.defs.constants import OWNERS, WAREHOUSE_POOL
from rotation_assets.defs.reference.assets import rotation_pairs
from rotation_assets.report_inputs import CHARTS, read_report_inputs, render_chart
from rotation_assets.reports_folder import ReportsFolder
from rotation_assets.warehouse import DuckDBWarehouse

RELATIVE_STRENGTH_KEY = AssetKey(["analytics", "relative_strength"])

# The analytics each chart draws from.
CHART_DEPS = {
    "iwm_qqq_rebased": [RELATIVE_STRENGTH_KEY],
    "ratio_history": [
        RELATIVE_STRENGTH_KEY,
        AssetKey(["analytics", "outperformance_streaks"]),
        AssetKey(["analytics", "rotation_episodes"]),
        rotation_pairs,
    ],
    "valuation_gap": [AssetKey(["analytics", "valuation_gap"])],
    "episode_overlay": [
        RELATIVE_STRENGTH_KEY,
        AssetKey(["analytics", "rotation_episodes"]),
        AssetKey(["analytics", "episode_similarity"]),
        rotation_pairs,
    ],
}


def image_markdown(name: str, png: bytes) -> str:
    """Markdown showing ``png`` inline (a base64 data URI, which the Dagster UI renders)."""
    return f"![{name}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def chart_asset(name: str, description: str) -> AssetsDefinition:
    @asset(
        key=["reporting", name],
        group_name="reporting",
        kinds={"matplotlib", "duckdb"},
        owners=OWNERS,
        pool=WAREHOUSE_POOL,
        deps=CHART_DEPS[name],
        description=f"{description}. PNG written to the reports folder (ROTATION_REPORTS_DIR, "
        f"default reports/) as {name}.png and shown in this asset's metadata.",
    )
    def _chart(
        context: AssetExecutionContext, warehouse: DuckDBWarehouse, reports: ReportsFolder
    ) -> MaterializeResult:
        with warehouse.connect(read_only=True) as con:
            inputs = read_report_inputs(con)
        png = render_chart(name, inputs)
        path = reports.write(f"{name}.png", png)
        context.log.info(f"reporting/{name}: {len(png):,} bytes written to {path}")
        metadata = {
            "chart": MetadataValue.md(image_markdown(name, png)),
            "path": MetadataValue.path(str(path)),
        }
        if name == "valuation_gap":  # published P/E figures and snapshots, not prices
            metadata["valuation_rows"] = len(inputs.valuation)
        else:
            latest = inputs.latest_session
            metadata["source"] = inputs.source
            metadata["latest_session"] = str(latest.date()) if latest is not None else "none"
        return MaterializeResult(metadata=metadata)

    return _chart


REPORTING_ASSETS = [chart_asset(name, description) for name, description in CHARTS.items()]
