"""The resources every definition uses, configured from environment variables.

| variable | meaning | default |
|---|---|---|
| ROTATION_DUCKDB_PATH | the warehouse file | data/rotation.duckdb under the project root |
| ROTATION_SNAPSHOT_PATH | the read-only copy for analysts | <warehouse>_snapshot.duckdb beside it |
| ROTATION_PRICE_SOURCE | yfinance, csv or demo | yfinance |
| ROTATION_PRICE_DIR | folder of per-ticker CSVs for the csv source | none (required for csv) |
| ROTATION_REPORTS_DIR | folder for chart PNGs and HTML reports | reports/ under the project root |

Values that come from the environment are bound as ``EnvVar`` so the UI shows where they come
from, and every field can be overridden per run in the launchpad's resource config.
"""

from __future__ import annotations

import os

from dagster import EnvVar

from rotation_assets.csv_prices import CsvPriceSource
from rotation_assets.demo_prices import DemoPriceSource
from rotation_assets.price_source import PriceSource
from rotation_assets.reports_folder import ReportsFolder
from rotation_assets.warehouse import DuckDBWarehouse
from rotation_assets.yfinance_prices import YFinancePriceSource

PRICE_SOURCES = ("yfinance", "csv", "demo")


class ConfigurationError(ValueError):
    """An environment variable holds a value the project cannot use."""


def configured_warehouse() -> DuckDBWarehouse:
    settings = {
        field: EnvVar(variable)
        for field, variable in (
            ("path", "ROTATION_DUCKDB_PATH"),
            ("snapshot_path", "ROTATION_SNAPSHOT_PATH"),
        )
        if os.environ.get(variable)
    }
    return DuckDBWarehouse(**settings)


def configured_reports_folder() -> ReportsFolder:
    if os.environ.get("ROTATION_REPORTS_DIR"):
        return ReportsFolder(path=EnvVar("ROTATION_REPORTS_DIR"))
    return ReportsFolder()


def configured_price_source() -> PriceSource:
    """The price source named by ROTATION_PRICE_SOURCE (default: yfinance, real data)."""
    name = os.environ.get("ROTATION_PRICE_SOURCE", "yfinance").strip().lower()
    if name == "yfinance":
        return YFinancePriceSource()
    if name == "demo":
        return DemoPriceSource()
    if name == "csv":
        if not os.environ.get("ROTATION_PRICE_DIR"):
            raise ConfigurationError(
                "ROTATION_PRICE_SOURCE=csv needs ROTATION_PRICE_DIR, the folder of per-ticker "
                "CSVs (e.g. ROTATION_PRICE_DIR=../shared/data/prices)"
            )
        return CsvPriceSource(price_dir=EnvVar("ROTATION_PRICE_DIR"))
    raise ConfigurationError(
        f"ROTATION_PRICE_SOURCE={name!r} is not one of {', '.join(PRICE_SOURCES)}"
    )
