import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

# Read when the definitions are imported: keep retry back-off short in tests.
os.environ.setdefault("ROTATION_FETCH_RETRY_DELAY_SECONDS", "0.2")
# A developer's own Dagster instance setting must not reach the tests: every test that runs the
# CLI or opens a home would record its runs in that PostgreSQL database. Tests that want the
# Postgres instance set it themselves (test_postgres_instance.py).
os.environ.pop("ROTATION_DAGSTER_POSTGRES_URL", None)

# The fuzz suites (test_fuzz_*.py): the same inputs on every run and machine (derandomize, no
# example database), no per-example deadline (a loaded machine must not fail them). Each
# property sets its own number of examples (fuzz_inputs.examples); HYPOTHESIS_PROFILE=explore
# draws from a random seed instead, with ROTATION_FUZZ_SCALE=20 for 20x as many, to look for
# new failures (a failure prints the example to pin).
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    parent=settings.get_profile("ci"),
    derandomize=False,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def reports_outside_the_project(tmp_path_factory):
    """Jobs run by tests render their charts into a temporary folder, not the project's."""
    os.environ["ROTATION_REPORTS_DIR"] = str(tmp_path_factory.mktemp("reports"))


SHARED_PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"

requires_shared_prices = pytest.mark.skipif(
    not SHARED_PRICES.exists(),
    reason=f"real prices are not on this machine ({SHARED_PRICES} is absent)",
)


@pytest.fixture(scope="session")
def real_history_run(tmp_path_factory) -> tuple[str, dict[str, str]]:
    """The whole graph over every shared file, 1990-01-02 to the files' last session, through
    Dagster, built once per test session (several modules read it; none writes to it): the
    warehouse path and the descriptions of the checks that warned."""
    import datetime as dt

    from dagster import DagsterInstance

    from rotation_assets.cli import execute_range, step_failures
    from rotation_assets.definitions import build_definitions
    from rotation_assets.defs.prices.sources import CsvPriceSource
    from rotation_assets.defs.warehouse import DuckDBWarehouse

    if not SHARED_PRICES.exists():
        pytest.skip(f"real prices are not on this machine ({SHARED_PRICES} is absent)")
    db = str(tmp_path_factory.mktemp("real") / "rotation.duckdb")
    with (SHARED_PRICES / "_GSPC.csv").open() as f:
        last = dt.date.fromisoformat(f.readlines()[-1].split(",")[0])
    defs = build_definitions(
        DuckDBWarehouse(database=db), CsvPriceSource(price_dir=str(SHARED_PRICES))
    )
    with DagsterInstance.ephemeral() as instance:
        result = execute_range(defs, dt.date(1990, 1, 2), last, instance, "test")
    assert result.success, step_failures(result)
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    assert [e.check_name for e in evaluations if e.severity.value == "ERROR"] == []
    warned = {e.check_name: e.description for e in evaluations if e.severity.value == "WARN"}
    return db, warned


def shared_csv_returns(tickers: list[str] | None = None, start: str | None = None) -> pd.DataFrame:
    """Daily returns from the shared csv files (all of them, or ``tickers``), as the csv source
    loads them: price_return from close, total_return from adj_close, source csv. Rows before
    ``start`` are dropped first, so a ticker's first session from ``start`` on has no return."""
    paths = (
        [SHARED_PRICES / f"{t.replace('^', '_')}.csv" for t in tickers]
        if tickers is not None
        else sorted(SHARED_PRICES.glob("*.csv"))
    )
    parts = []
    for path in paths:
        bars = pd.read_csv(path, parse_dates=["date"])
        if start is not None:
            bars = bars[bars["date"] >= start]
        parts.append(
            pd.DataFrame(
                {
                    "trade_date": bars["date"],
                    "ticker": path.stem.replace("_", "^", 1) if path.stem[0] == "_" else path.stem,
                    "price_return": bars["close"].pct_change(),
                    "total_return": bars["adj_close"].pct_change(),
                    "source": "csv",
                }
            ).iloc[1:]
        )
    return pd.concat(parts, ignore_index=True)


# What the Shiller load writes; empty where the default Shiller file is absent (it then loads
# nothing and says so).
SHILLER_TABLES = {"raw.shiller_monthly", "raw.shiller_loads", "analytics.valuation_history"}
