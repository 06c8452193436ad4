"""The batching SQLite event log records what Dagster's stock one does, in fewer transactions."""

import datetime as dt
import warnings

import pytest
import yaml
from dagster import AssetKey, DagsterEventType, DagsterInstance, EventRecordsFilter

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.sources import DemoPriceSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.instance.dagster_home import ensure_dagster_home
from rotation_assets.instance.event_log_storage import (
    BATCH_SIZE_ENV_VAR,
    DEFAULT_BATCH_SIZE,
    BatchingSqliteEventLogStorage,
)
from rotation_assets.trading_days import sessions_between

START, END = dt.date(2026, 1, 26), dt.date(2026, 1, 30)
# The only partitioned asset; the tables loaded with it come along (same step).
PARTITIONED = [AssetKey(["raw", "prices"])]
SELECTION = [
    *PARTITIONED,
    AssetKey(["reference", "universe"]),
    AssetKey(["reference", "rotation_pairs"]),
]


@pytest.fixture(params=["batching", "batching, an index commit fails", "stock"])
def home(request, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    # Dagster batches events only with this set; the storage itself sets nothing.
    monkeypatch.setenv(BATCH_SIZE_ENV_VAR, DEFAULT_BATCH_SIZE)
    home = ensure_dagster_home()
    if request.param == "batching, an index commit fails":
        # The first batch's index commit raises after its run shard commit: Dagster falls back
        # to storing the batch's events one by one, and none may be stored twice.
        commit = BatchingSqliteEventLogStorage._commit_shard
        failures = []

        def fail_once(self, shard, conn):
            if shard == "index" and not failures:
                failures.append(shard)
                raise OSError("injected: the index commit failed")
            commit(self, shard, conn)

        monkeypatch.setattr(BatchingSqliteEventLogStorage, "_commit_shard", fail_once)
        yield home
        assert failures, "the fault was not injected"
        return
    if request.param == "stock":
        config = yaml.safe_load((home / "dagster.yaml").read_text())
        del config["event_log_storage"]
        monkeypatch.delenv(BATCH_SIZE_ENV_VAR)
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    yield home


def test_each_partition_is_planned_and_materialized_once_and_the_latest_is_the_last(home, tmp_path):
    sessions = [d.isoformat() for d in sessions_between(START, END)]
    defs = build_definitions(
        DuckDBWarehouse(database=str(tmp_path / "w.duckdb")), DemoPriceSource()
    )
    with DagsterInstance.from_config(str(home)) as instance:
        for _ in range(2):  # a second run over the same range adds a second event per partition
            result = execute_range(defs, START, END, instance, "test", asset_selection=SELECTION)
            assert result.success, step_failures(result)
        for key in PARTITIONED:
            assert sorted(instance.get_materialized_partitions(key)) == sessions
            for event_type in (
                DagsterEventType.ASSET_MATERIALIZATION,
                DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
            ):
                with warnings.catch_warnings():  # planned events have no fetch_* method
                    warnings.simplefilter("ignore")
                    records = instance.get_event_records(
                        EventRecordsFilter(event_type, asset_key=key)
                    )
                assert len(records) == 2 * len(sessions), (key, event_type)
                assert {r.run_id for r in records[: len(sessions)]} == {result.run_id}
            record = instance.get_asset_records([key])[0]
            last = record.asset_entry.last_materialization_record
            assert last.event_log_entry.dagster_event.partition == sessions[-1]
            assert last.run_id == result.run_id
        # The run's own log holds the same events as the index (what the run page shows).
        run_events = instance.all_logs(
            result.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
        )
        assert len(run_events) == len(result.get_asset_materialization_events())
        expected = (
            "BatchingSqliteEventLogStorage"
            if "event_log_storage" in (yaml.safe_load((home / "dagster.yaml").read_text()))
            else "SqliteEventLogStorage"
        )
        assert type(instance.event_log_storage).__name__ == expected


def test_batching_storage_is_what_the_project_instance_uses(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(BATCH_SIZE_ENV_VAR, DEFAULT_BATCH_SIZE)
    home = ensure_dagster_home()
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        assert instance.event_log_storage._base_dir == str(home / "history" / "runs")
