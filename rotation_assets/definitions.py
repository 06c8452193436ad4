"""The code location: every domain's definitions plus the configured resources."""

from dagster import Definitions, load_assets_from_modules

from rotation_assets.configured_resources import (
    configured_price_source,
    configured_reports_folder,
    configured_warehouse,
)
from rotation_assets.defs.analytics import assets as analytics_assets
from rotation_assets.defs.analytics import dashboard as dashboard_assets
from rotation_assets.defs.analytics.checks import ANALYTICS_CHECKS
from rotation_assets.defs.orchestration import daily
from rotation_assets.defs.prices import assets as price_assets
from rotation_assets.defs.prices import checks as price_checks
from rotation_assets.defs.prices import freshness
from rotation_assets.defs.publishing.assets import build_warehouse_snapshot_asset, warehouse_keys
from rotation_assets.defs.reference import assets as reference_assets
from rotation_assets.defs.reporting import assets as reporting_assets
from rotation_assets.price_source import PriceSource
from rotation_assets.progress_logger import progress_console_logger
from rotation_assets.reports_folder import ReportsFolder
from rotation_assets.warehouse import DuckDBWarehouse


def build_definitions(
    warehouse: DuckDBWarehouse, price_source: PriceSource, reports: ReportsFolder | None = None
) -> Definitions:
    """All assets, checks, the jobs and the schedules, bound to the given resources.

    ``reports`` defaults to the configured folder (ROTATION_REPORTS_DIR, else reports/).
    """
    assets = [
        *load_assets_from_modules([reference_assets, price_assets, analytics_assets]),
        dashboard_assets.analytics_rotation_dashboard,
    ]
    # The snapshot depends on every warehouse asset, so it runs last and includes new ones.
    snapshot = build_warehouse_snapshot_asset(warehouse_keys(assets))
    return Definitions(
        assets=[*assets, snapshot, *reporting_assets.REPORTING_ASSETS],
        asset_checks=[
            price_checks.raw_prices_blocking_checks,
            price_checks.raw_prices_large_moves,
            price_checks.raw_prices_great_expectations,
            freshness.raw_prices_freshness,
            *ANALYTICS_CHECKS,
        ],
        jobs=[daily.rotation_job, freshness.raw_prices_freshness_job],
        schedules=[daily.after_close_schedule, freshness.raw_prices_freshness_schedule],
        loggers={"progress": progress_console_logger},
        resources={
            "warehouse": warehouse,
            "price_source": price_source,
            "reports": reports or configured_reports_folder(),
        },
    )


defs = build_definitions(configured_warehouse(), configured_price_source())
