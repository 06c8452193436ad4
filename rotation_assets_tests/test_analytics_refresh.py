"""The analytics refresh: incremental runs equal a full rebuild, a re-loaded session rebuilds
from that session on, a subset catches up later, and a failed blocking check changes nothing."""

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.sources import CsvPriceSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics import analytics_tables
from rotation_assets.sources.csv_prices import clear_price_file_cache
from rotation_assets.trading_days import sessions_between
from rotation_assets_tests.test_raw_prices_pipeline import write_demo_csvs

FIRST = (dt.date(2025, 11, 3), dt.date(2026, 1, 30))
LATER = [dt.date(2026, 2, 2), dt.date(2026, 2, 3), dt.date(2026, 2, 4)]
ANALYTICS = [t.name for t in analytics_tables.ANALYTICS_TABLES]
# Bookkeeping of loads and refreshes, and the load time of rows: they differ between two
# warehouses built by different runs, by design.
VOLATILE = {"loaded_at", "refreshed_at"}


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture(scope="module")
def prices(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prices")
    write_demo_csvs(folder, FIRST[0], LATER[-1])
    clear_price_file_cache()
    return folder


def dump(path: str, tables: list[str]) -> dict[str, str]:
    """The tables as CSV text in a total order (equal dumps: identical contents)."""
    with duckdb.connect(path, read_only=True) as con:
        out = {}
        for name in tables:
            frame = con.execute(f"SELECT * FROM {name}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in VOLATILE])
            out[name] = frame.sort_values(list(frame.columns)).to_csv(index=False)
        return out


def definitions(db: str, prices: Path):
    return build_definitions(DuckDBWarehouse(database=db), CsvPriceSource(price_dir=str(prices)))


def run(defs, start, end, instance, selection=None):
    result = execute_range(defs, start, end, instance, "test", asset_selection=selection)
    assert result.success, step_failures(result)
    return result


def state(path: str) -> dict[str, tuple]:
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, through_load_id, rebuilt_from, rows_rebuilt FROM meta.refresh_state"
        ).fetchall()
    return {name: tuple(rest) for name, *rest in rows}


def test_daily_runs_equal_one_backfill_and_append_only_the_new_session(prices, tmp_path, instance):
    daily_db, full_db = str(tmp_path / "daily.duckdb"), str(tmp_path / "full.duckdb")
    daily = build_definitions(
        DuckDBWarehouse(database=daily_db), CsvPriceSource(price_dir=str(prices))
    )
    run(daily, *FIRST, instance)
    for day in LATER:
        run(daily, day, day, instance)
        rebuilt = state(daily_db)
        # One session of the six pairs appended (24 tickers' returns); a daily run never
        # rewrites history.
        assert rebuilt["analytics.pair_spreads"][1:] == (day, 6)
        assert rebuilt["analytics.relative_strength"][1:] == (day, 6)
        assert rebuilt["analytics.daily_returns"][1:] == (day, 24)
    full = build_definitions(
        DuckDBWarehouse(database=full_db), CsvPriceSource(price_dir=str(prices))
    )
    run(full, FIRST[0], LATER[-1], instance)
    assert state(full_db)["analytics.daily_returns"][1] is None  # built whole, once
    assert dump(daily_db, ANALYTICS) == dump(full_db, ANALYTICS)


def test_reloading_an_earlier_session_rebuilds_from_it_and_equals_a_fresh_build(
    prices, tmp_path, instance
):
    folder = tmp_path / "edited"
    folder.mkdir()
    for path in prices.glob("*.csv"):
        (folder / path.name).write_text(path.read_text())
    db, fresh_db = str(tmp_path / "w.duckdb"), str(tmp_path / "fresh.duckdb")
    defs = definitions(db, folder)
    run(defs, FIRST[0], LATER[-1], instance)
    before = dump(db, ANALYTICS)

    # A vendor correction of IWM on 2026-01-15: the close and adjusted close 1% higher.
    day = dt.date(2026, 1, 15)
    iwm = pd.read_csv(folder / "IWM.csv", dtype=str)
    row = iwm["date"] == day.isoformat()
    for column in ("close", "adj_close", "high"):
        iwm.loc[row, column] = str(round(float(iwm.loc[row, column].iloc[0]) * 1.01, 4))
    iwm.to_csv(folder / "IWM.csv", index=False)
    clear_price_file_cache()
    run(defs, day, day, instance)

    rebuilt = state(db)
    assert rebuilt["analytics.daily_returns"][1] == day
    assert rebuilt["analytics.pair_spreads"][1] == day
    with duckdb.connect(db, read_only=True) as con:
        changed = con.execute(
            "SELECT trade_date FROM analytics.daily_returns WHERE ticker = 'IWM' "
            "AND trade_date BETWEEN '2026-01-14' AND '2026-01-20' ORDER BY 1"
        ).fetchall()
    assert [d for (d,) in changed] == sessions_between(dt.date(2026, 1, 14), dt.date(2026, 1, 20))
    after = dump(db, ANALYTICS)
    assert after["analytics.daily_returns"] != before["analytics.daily_returns"]
    # Rows before the corrected session are untouched; everything equals a build from scratch.
    fresh = build_definitions(
        DuckDBWarehouse(database=fresh_db), CsvPriceSource(price_dir=str(folder))
    )
    run(fresh, FIRST[0], LATER[-1], instance)
    assert after == dump(fresh_db, ANALYTICS)


def test_a_subset_takes_in_only_what_its_upstream_has_and_catches_up_later(
    prices, tmp_path, instance
):
    db, full_db = str(tmp_path / "w.duckdb"), str(tmp_path / "full.duckdb")
    defs = definitions(db, prices)
    run(defs, *FIRST, instance)
    day = LATER[0]
    # Only raw prices and relative_strength: its upstream pair_spreads has not taken the load in.
    run(defs, day, day, instance, [AssetKey(["raw", "prices"])])
    run(defs, day, day, instance, [AssetKey(["analytics", "relative_strength"])])
    loads = state(db)
    assert loads["analytics.relative_strength"][0] == loads["analytics.pair_spreads"][0] == 1
    with duckdb.connect(db, read_only=True) as con:
        newest = con.execute("SELECT max(trade_date) FROM analytics.relative_strength").fetchone()
    assert newest == (FIRST[1],)
    run(defs, day, day, instance)  # the whole graph: everything catches up
    full = build_definitions(
        DuckDBWarehouse(database=full_db), CsvPriceSource(price_dir=str(prices))
    )
    run(full, FIRST[0], day, instance)
    assert dump(db, ANALYTICS) == dump(full_db, ANALYTICS)


def test_a_failed_blocking_check_leaves_every_analytics_table_as_it_was(
    prices, tmp_path, instance, monkeypatch
):
    db = str(tmp_path / "w.duckdb")
    defs = definitions(db, prices)
    run(defs, *FIRST, instance)
    before = dump(db, [*ANALYTICS, "meta.refresh_state"])

    original = analytics_tables.daily_returns.daily_returns_sql

    def duplicated(*args, **kwargs):  # every return twice: keys no longer unique
        sql = original(*args, **kwargs)
        return f"SELECT * FROM ({sql}) UNION ALL SELECT * FROM ({sql})"

    monkeypatch.setattr(analytics_tables.daily_returns, "daily_returns_sql", duplicated)
    day = LATER[0]
    result = execute_range(defs, day, day, instance, "test")
    assert not result.success
    (failure,) = [f for f in step_failures(result) if f.startswith("analytics")]
    assert "Blocked before publishing, analytics tables unchanged" in failure
    assert "keys_unique_and_values_defined" in failure
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.asset_key.to_user_string(), e.check_name) for e in failed] == [
        ("analytics/daily_returns", "keys_unique_and_values_defined")
    ]
    assert dump(db, [*ANALYTICS, "meta.refresh_state"]) == before
