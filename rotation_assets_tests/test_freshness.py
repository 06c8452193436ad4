"""Freshness of raw/prices in NYSE sessions: holidays and weekends never raise a false alarm."""

import datetime as dt

import pytest
from dagster import AssetMaterialization, DagsterInstance

from rotation_assets.definitions import build_definitions
from rotation_assets.defs.partitions import trading_day_partitions
from rotation_assets.defs.prices import freshness
from rotation_assets.defs.prices.assets import RAW_PRICES_KEY
from rotation_assets.defs.prices.sources import DemoPriceSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.quality.session_freshness import due_session, session_freshness
from rotation_assets.trading_days import NEW_YORK, sessions_between


def ny(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2025-12-24 15:59", "2025-12-23"),  # Christmas Eve closes at 13:00: due at 16:00
        ("2025-12-24 16:00", "2025-12-24"),
        ("2025-12-25 20:00", "2025-12-24"),  # Christmas: the last session stays due
        ("2025-12-26 18:59", "2025-12-24"),  # before Friday's deadline
        ("2025-12-26 19:00", "2025-12-26"),
        ("2025-11-27 21:00", "2025-11-26"),  # Thanksgiving
        ("2025-11-28 15:59", "2025-11-26"),  # the day after: closes 13:00, due at 16:00
        ("2025-11-28 16:00", "2025-11-28"),
        ("2025-11-29 12:00", "2025-11-28"),  # Saturday
        ("2025-04-21 10:00", "2025-04-17"),  # Monday after Good Friday, before the close
        ("2025-04-21 19:30", "2025-04-21"),
        ("2025-07-07 09:00", "2025-07-03"),  # Monday after Friday 4 July (3 July closed 13:00)
    ],
)
def test_due_session_skips_holidays_weekends_and_honours_early_closes(now, due):
    assert due_session(ny(now)) == dt.date.fromisoformat(due)


def test_a_missing_session_is_counted_in_sessions_not_days():
    loaded = set(sessions_between("2025-12-15", "2025-12-19"))
    # Due: Friday 26th; missing 22, 23, 24 and 26 (25 is Christmas, 20-21 the weekend).
    verdict = session_freshness(ny("2025-12-26 20:00"), loaded)
    assert not verdict.passed and verdict.sessions_behind == 4
    assert verdict.latest_loaded == dt.date(2025, 12, 19)
    assert verdict.due_at == ny("2025-12-26 19:00")
    assert "lacks 2025-12-26, due since 2025-12-26 19:00 New York" in verdict.describe("raw/prices")
    assert session_freshness(ny("2025-12-26 20:00"), loaded | {dt.date(2025, 12, 26)}).passed


def test_dagsters_time_partition_check_would_expect_an_untraded_session_on_a_holiday():
    """Why the check is ours: the built-in's expected partition, computed as it does."""
    from dagster._core.definitions.partitions.context import partition_loading_context

    partitions = trading_day_partitions()
    with partition_loading_context(ny("2025-12-25 19:00"), None):
        window = partitions.get_last_partition_window()
    expected = partitions.get_partition_key_range_for_time_window(window).start
    assert expected == "2025-12-26"  # not traded yet on Christmas evening: a false alarm


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def evaluate(defs, instance, monkeypatch, now: str):
    monkeypatch.setattr(freshness, "now", lambda: ny(now))
    result = defs.resolve_job_def("raw_prices_freshness_job").execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_the_check_passes_on_holidays_with_the_last_session_and_fails_on_a_missing_one(
    tmp_path, instance, monkeypatch
):
    defs = build_definitions(
        DuckDBWarehouse(database=str(tmp_path / "w.duckdb")), DemoPriceSource()
    )
    job = defs.resolve_job_def("raw_prices_freshness_job")
    (node,) = job.nodes_in_topological_order
    assert node.name == "raw__prices_fresh_to_latest_session"
    # rotation_job loads ranges of the past too: the freshness check is not part of it.
    rotation_checks = defs.resolve_job_def("rotation_job").asset_layer.asset_graph.asset_check_keys
    assert "fresh_to_latest_session" not in {k.name for k in rotation_checks}

    def materialize(*days: str) -> None:
        for day in days:
            instance.report_runless_asset_event(AssetMaterialization(RAW_PRICES_KEY, partition=day))

    materialize("2025-11-24", "2025-11-25", "2025-11-26")
    thanksgiving = evaluate(defs, instance, monkeypatch, "2025-11-27 20:00")
    assert thanksgiving.passed
    assert thanksgiving.metadata["due_session"].value == "2025-11-26"
    after = evaluate(defs, instance, monkeypatch, "2025-11-28 17:00")  # early close missed
    assert not after.passed and after.metadata["sessions_behind"].value == 1
    assert after.severity.value == "WARN"

    materialize("2025-11-28", "2025-12-22", "2025-12-23", "2025-12-24")
    assert evaluate(defs, instance, monkeypatch, "2025-11-29 12:00").passed
    christmas = evaluate(defs, instance, monkeypatch, "2025-12-25 20:00")
    assert christmas.passed and christmas.metadata["due_session"].value == "2025-12-24"
    assert not evaluate(defs, instance, monkeypatch, "2025-12-26 20:00").passed

    materialize("2025-04-16", "2025-04-17")
    good_friday = evaluate(defs, instance, monkeypatch, "2025-04-21 09:00")  # Monday morning
    assert good_friday.passed and good_friday.metadata["due_session"].value == "2025-04-17"
    monday = evaluate(defs, instance, monkeypatch, "2025-04-21 20:00")
    assert not monday.passed and monday.metadata["due_session"].value == "2025-04-21"
