import os
from pathlib import Path

import pytest

# Read when the definitions are imported: keep retry back-off short in tests.
os.environ.setdefault("ROTATION_FETCH_RETRY_DELAY_SECONDS", "0.2")


@pytest.fixture(autouse=True, scope="session")
def reports_outside_the_project(tmp_path_factory):
    """Jobs run by tests render their charts into a temporary folder, not the project's."""
    os.environ["ROTATION_REPORTS_DIR"] = str(tmp_path_factory.mktemp("reports"))


SHARED_PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"

requires_shared_prices = pytest.mark.skipif(
    not SHARED_PRICES.exists(),
    reason=f"real prices are not on this machine ({SHARED_PRICES} is absent)",
)

# What the Shiller load writes; empty where the default Shiller file is absent (it then loads
# nothing and says so).
SHILLER_TABLES = {"raw.shiller_monthly", "raw.shiller_loads", "analytics.valuation_history"}
