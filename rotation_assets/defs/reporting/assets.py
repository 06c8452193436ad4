"""Reporting: the rotation charts, rendered after the analytics they draw, written to the reports
folder and attached to their assets so they show in the Dagster UI.

One multi-asset reads the warehouse once (read-only) and draws every selected chart; each chart
is still its own asset with its own lineage.
"""

import base64

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from rotation_assets.catalog import table
from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL, progress
from rotation_assets.defs.reporting.reports_folder import ReportsFolder
from rotation_assets.defs.table_assets import table_key
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.reporting.inputs import CHARTS, read_report_inputs, render_chart


def _keys(*tables: str) -> list[AssetKey]:
    return [table_key(table(name)) for name in tables]


# The tables each chart draws from.
CHART_DEPS = {
    "iwm_qqq_rebased": _keys("analytics.relative_strength"),
    "ratio_history": _keys(
        "analytics.relative_strength",
        "analytics.outperformance_streaks",
        "analytics.rotation_episodes",
        "reference.rotation_pairs",
    ),
    # Figures up to the latest session of the pairs (point in time).
    "valuation_gap": _keys("analytics.valuation_gap", "analytics.relative_strength"),
    "episode_overlay": _keys(
        "analytics.relative_strength",
        "analytics.rotation_episodes",
        "analytics.episode_similarity",
        "reference.rotation_pairs",
    ),
    # Drawn as of the pairs' latest session.
    "relative_rotation": _keys("analytics.relative_rotation", "analytics.relative_strength"),
}


def chart_key(name: str) -> AssetKey:
    return AssetKey(["reporting", name])


def image_markdown(name: str, png: bytes) -> str:
    """Markdown showing ``png`` inline (a base64 data URI, which the Dagster UI renders)."""
    return f"![{name}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


@multi_asset(
    specs=[
        AssetSpec(
            chart_key(name),
            group_name="reporting",
            kinds={"matplotlib", "duckdb"},
            owners=OWNERS,
            deps=CHART_DEPS[name],
            description=f"{description}. PNG written to the reports folder "
            f"(ROTATION_REPORTS_DIR, default reports/) as {name}.png and shown in this asset's "
            "metadata.",
        )
        for name, description in CHARTS.items()
    ],
    name="rotation_charts",
    backfill_policy=SINGLE_RUN,
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def rotation_charts(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, reports: ReportsFolder
):
    """Draw the selected charts from one read of the warehouse."""
    with warehouse.connect(read_only=True) as con:
        inputs = read_report_inputs(con)
    for name in CHARTS:
        if chart_key(name) not in context.selected_asset_keys:
            continue
        png = render_chart(name, inputs)
        path = reports.write(f"{name}.png", png)
        progress.info(f"reporting/{name}: {len(png):,} bytes written to {path}")
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
        yield MaterializeResult(asset_key=chart_key(name), metadata=metadata)
