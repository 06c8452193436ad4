"""Fuzzed input through the Dagster steps that write the warehouse: nothing bad is written.

A module fixture stores one week (2026-02-02..06) of the default universe's bars from a csv
folder, with every reference seed, in a DuckDB warehouse. Each example copies that state,
breaks one input (IWM.csv, the universe seed, or a Shiller file), runs the step that loads it
(``raw_prices``, ``reference_seeds`` or ``shiller_monthly``) through ``rotation_job`` in
process, and compares every table before and after (``SELECT * ... ORDER BY ALL`` as text, as
the fault-injection suite does): the run fails naming the file and line (or the check, ticker
and date) and no table changed. A price file only written differently (BOM, CRLF, rows out of
order, extra column, Yahoo's header) reloads to identical tables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from dagster import DagsterInstance
from hypothesis import given
from hypothesis import strategies as st

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.assets import RAW_PRICES_KEY
from rotation_assets.defs.prices.sources import CsvPriceSource
from rotation_assets.defs.reference.assets import SEEDS
from rotation_assets.defs.table_assets import table_key
from rotation_assets.defs.valuation.assets import SHILLER_MONTHLY_KEY
from rotation_assets.defs.valuation.sources import ShillerFileSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.universe import UNIVERSE, UNIVERSE_PATH_ENV_VAR
from rotation_assets.sources.csv_prices import clear_price_file_cache
from rotation_assets.sources.shiller_monthly import SHILLER_FIELDS
from rotation_assets_tests.fuzz_inputs import (
    Corruption,
    audit_defects,
    corrupted_price_files,
    corrupted_seeds,
    corrupted_shiller_files,
    examples,
    layouts,
    parse_bars,
    render_prices,
    render_shiller,
    seed_records,
    shiller_rows,
)
from rotation_assets_tests.test_fault_injection import warehouse_dump
from rotation_assets_tests.test_raw_prices_pipeline import write_demo_csvs

WEEK = (dt.date(2026, 2, 2), dt.date(2026, 2, 6))
SEED_KEYS = [table_key(seed.spec) for seed in SEEDS]
UNIVERSE_RECORDS = seed_records(SEEDS_DIR / "universe.csv")


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """Seeds, one week of raw.prices and a Shiller load, from files under the returned folder."""
    root = tmp_path_factory.mktemp("fuzz-stored")
    write_demo_csvs(root / "prices", *WEEK)
    (root / "shiller.csv").write_bytes(
        render_shiller(
            ["month", *SHILLER_FIELDS],
            [
                ["2025-12", "6800.5", "75.1", "230.2", "320.1", "4.1", "29.5", "39.2", "42.0"],
                ["2026-01", "6900.25", "75.3", "", "321.0", "4.2", "", "39.9", "42.7"],
            ],  # fmt: skip
        )
    )
    clear_price_file_cache()
    with DagsterInstance.ephemeral() as instance:
        result = run(root, instance, [*SEED_KEYS, RAW_PRICES_KEY, SHILLER_MONTHLY_KEY])
    assert result.success, step_failures(result)
    return root


@pytest.fixture(scope="module")
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as inst:
        yield inst


def run(root: Path, instance: DagsterInstance, keys, universe: Path | None = None):
    defs = build_definitions(
        DuckDBWarehouse(database=str(root / "w.duckdb"), lock_wait_seconds=5),
        CsvPriceSource(price_dir=str(root / "prices")),
        shiller_source=ShillerFileSource(path=str(root / "shiller.csv")),
    )
    env = {UNIVERSE_PATH_ENV_VAR: str(universe)} if universe else {}
    with mock.patch.dict(os.environ, env):
        return execute_range(defs, *WEEK, instance, "test", asset_selection=keys)


@contextlib.contextmanager
def copy_of(stored: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-case-") as folder:
        root = Path(folder) / "case"
        shutil.copytree(stored, root)
        clear_price_file_cache()
        yield root
    clear_price_file_cache()


def only_failure(result) -> str:
    assert not result.success
    (message,) = step_failures(result)
    return message


@given(data=st.data())
@examples(20)
def test_a_malformed_price_file_fails_the_load_and_changes_no_table(
    stored: Path, instance: DagsterInstance, data
) -> None:
    rows = parse_bars((stored / "prices" / "IWM.csv").read_text())
    if data.draw(st.booleans(), label="caught by the reader (else by the audit)"):
        corruption = data.draw(corrupted_price_files(rows_from=st.just(rows)), label="defect")
        expected = ["MalformedPriceFileError", "IWM.csv line", *corruption.fragments]
        if corruption.line is not None:
            expected.append(f"IWM.csv line {corruption.line}:")
        content = corruption.data
    else:
        kind, content, bad = data.draw(audit_defects(rows), label="defect")
        check = {"non-positive price": "prices_positive", "high below low": "ohlc_consistent",
                 "empty close": "no_null_prices"}[kind]  # fmt: skip
        expected = ["PriceAuditError", f"check {check} failed", f"IWM on {bad.date}"]
    with copy_of(stored) as root:
        before = warehouse_dump(root / "w.duckdb")
        (root / "prices" / "IWM.csv").write_bytes(content)

        message = only_failure(run(root, instance, [RAW_PRICES_KEY]))

        for fragment in expected:
            assert fragment in message, (fragment, message)
        assert warehouse_dump(root / "w.duckdb") == before


@given(data=st.data())
@examples(8)
def test_a_price_file_written_differently_reloads_to_identical_tables(
    stored: Path, instance: DagsterInstance, data
) -> None:
    rows = parse_bars((stored / "prices" / "IWM.csv").read_text())
    layout = data.draw(layouts(len(rows)), label="layout")
    with copy_of(stored) as root:
        before = warehouse_dump(root / "w.duckdb")
        (root / "prices" / "IWM.csv").write_bytes(render_prices(rows, layout))

        result = run(root, instance, [RAW_PRICES_KEY])

        assert result.success, (layout.describe(), step_failures(result))
        # loaded_at is kept for identical rows and an unchanged load adds no price_loads row.
        assert warehouse_dump(root / "w.duckdb") == before


@given(data=st.data())
@examples(10)
def test_a_malformed_universe_fails_before_any_table_is_written(
    stored: Path, instance: DagsterInstance, data
) -> None:
    required = tuple(c.name for c in UNIVERSE.columns if not c.nullable)
    defect = data.draw(
        corrupted_seeds(
            UNIVERSE_RECORDS,
            required,
            UNIVERSE.key,
            ("first_trading_date", "last_trading_date"),
            {},
        ),
        label="defect",
    )
    with copy_of(stored) as root:
        before = warehouse_dump(root / "w.duckdb")
        seed = root / "universe.csv"
        seed.write_bytes(defect.data)

        message = only_failure(run(root, instance, SEED_KEYS, universe=seed))

        assert "SeedError" in message and str(seed) in message, message
        if defect.line is not None:
            assert f"universe.csv line {defect.line}:" in message, message
        for fragment in defect.fragments:
            assert fragment in message, (fragment, message)
        assert warehouse_dump(root / "w.duckdb") == before


@given(corruption=corrupted_shiller_files())
@examples(10)
def test_a_malformed_shiller_file_fails_its_load_and_changes_no_table(
    stored: Path, instance: DagsterInstance, corruption: Corruption
) -> None:
    with copy_of(stored) as root:
        before = warehouse_dump(root / "w.duckdb")
        (root / "shiller.csv").write_bytes(corruption.data)

        message = only_failure(run(root, instance, [SHILLER_MONTHLY_KEY]))

        assert "MalformedValuationFileError" in message and "shiller.csv" in message, message
        if corruption.line is not None:
            assert f"shiller.csv line {corruption.line}" in message, message
        for fragment in corruption.fragments:
            assert fragment in message, (fragment, message)
        assert warehouse_dump(root / "w.duckdb") == before


@given(rows=shiller_rows(min_rows=2, max_rows=4))
@examples(3)
def test_the_shiller_asset_loads_a_valid_generated_file(
    stored: Path, instance: DagsterInstance, rows
) -> None:
    """The other side of the property above: the same step accepts what is well formed."""
    header = ["month", "sp500_price", "dividend_12m", "earnings_12m", "cpi", "gs10",
              "trailing_pe", "cape", "tr_cape"]  # fmt: skip
    with copy_of(stored) as root:
        (root / "shiller.csv").write_bytes(render_shiller(header, rows))
        result = run(root, instance, [SHILLER_MONTHLY_KEY])
        assert result.success, step_failures(result)
