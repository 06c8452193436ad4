"""Where the project's files live: seeds, the default warehouse, reports and the Dagster home."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_ROOT / "seeds"
DEFAULT_WAREHOUSE_PATH = PROJECT_ROOT / "data" / "rotation.duckdb"
DEFAULT_REPORTS_DIR = PROJECT_ROOT / "reports"
DEFAULT_DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"
