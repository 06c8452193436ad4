import os
from pathlib import Path

import pytest

# Read when the definitions are imported: keep retry back-off short in tests.
os.environ.setdefault("ROTATION_FETCH_RETRY_DELAY_SECONDS", "0.2")

SHARED_PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"

requires_shared_prices = pytest.mark.skipif(
    not SHARED_PRICES.exists(),
    reason=f"real prices are not on this machine ({SHARED_PRICES} is absent)",
)
