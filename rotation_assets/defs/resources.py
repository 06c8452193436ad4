"""The resources every definition uses, configured from environment variables.

| variable | meaning | default |
|---|---|---|
| ROTATION_DUCKDB_PATH | the warehouse file | data/rotation.duckdb under the project root |
| ROTATION_SNAPSHOT_PATH | the read-only copy for analysts | <warehouse>_snapshot.duckdb beside it |
| ROTATION_PRICE_SOURCE | yfinance, csv or demo | yfinance |
| ROTATION_PRICE_DIR | folder of per-ticker CSVs for the csv source | none (required for csv) |
| ROTATION_REPORTS_DIR | folder for chart PNGs and HTML reports | reports/ under the project root |
| ROTATION_SHILLER_SOURCE | file (a CSV copy) or workbook (Shiller's ie_data.xls) | file |
| ROTATION_SHILLER_FILE | the CSV copy for the file source | ../shared/data/valuation/ (see below) |
| ROTATION_SHILLER_URL | URL or path of ie_data.xls for the workbook source | Shiller's Yale page |

The default Shiller file is ../shared/data/valuation/shiller_sp500_monthly.csv beside the
project; when it is absent the load records nothing and warns.

Values that come from the environment are bound as ``EnvVar`` so the UI shows where they come
from, and every field can be overridden per run in the launchpad's resource config.
"""

from __future__ import annotations

import os

import dagster as dg

from rotation_assets.defs.prices.sources import (
    CsvPriceSource,
    DemoPriceSource,
    PriceSource,
    YFinancePriceSource,
)
from rotation_assets.defs.reporting.reports_folder import ReportsFolder
from rotation_assets.defs.valuation.sources import (
    ShillerFileSource,
    ShillerSource,
    ShillerWorkbookSource,
)
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.sources.shiller_csv import DEFAULT_SHILLER_FILE
from rotation_assets.sources.shiller_workbook import DEFAULT_SHILLER_URL

PRICE_SOURCES = ("yfinance", "csv", "demo")
SHILLER_SOURCES = ("file", "workbook")


class ConfigurationError(ValueError):
    """An environment variable holds a value the project cannot use."""


def configured_warehouse() -> DuckDBWarehouse:
    settings = {
        field: dg.EnvVar(variable)
        for field, variable in (
            ("database", "ROTATION_DUCKDB_PATH"),
            ("snapshot_path", "ROTATION_SNAPSHOT_PATH"),
        )
        if os.environ.get(variable)
    }
    return DuckDBWarehouse(**settings)


def configured_reports_folder() -> ReportsFolder:
    if os.environ.get("ROTATION_REPORTS_DIR"):
        return ReportsFolder(path=dg.EnvVar("ROTATION_REPORTS_DIR"))
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
        return CsvPriceSource(price_dir=dg.EnvVar("ROTATION_PRICE_DIR"))
    raise ConfigurationError(
        f"ROTATION_PRICE_SOURCE={name!r} is not one of {', '.join(PRICE_SOURCES)}"
    )


def configured_shiller_source() -> ShillerSource:
    """The Shiller data source named by ROTATION_SHILLER_SOURCE (default: the CSV copy in
    ../shared; when that default file is absent the load records nothing and warns)."""
    name = os.environ.get("ROTATION_SHILLER_SOURCE", "file").strip().lower()
    if name == "file":
        if os.environ.get("ROTATION_SHILLER_FILE"):
            return ShillerFileSource(path=dg.EnvVar("ROTATION_SHILLER_FILE"))
        return ShillerFileSource(path=str(DEFAULT_SHILLER_FILE), optional=True)
    if name == "workbook":
        if os.environ.get("ROTATION_SHILLER_URL"):
            return ShillerWorkbookSource(url=dg.EnvVar("ROTATION_SHILLER_URL"))
        return ShillerWorkbookSource(url=DEFAULT_SHILLER_URL)
    raise ConfigurationError(
        f"ROTATION_SHILLER_SOURCE={name!r} is not one of {', '.join(SHILLER_SOURCES)}"
    )


def configured_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource key the definitions use, configured from the environment."""
    return {
        "warehouse": configured_warehouse(),
        "price_source": configured_price_source(),
        "shiller_source": configured_shiller_source(),
        "reports": configured_reports_folder(),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=configured_resources())
