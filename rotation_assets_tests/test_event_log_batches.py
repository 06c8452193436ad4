"""A batch stored by the batching event log ends exactly as Dagster's stock SQLite event log
stores the same events one by one: with mixed event types, across runs, and when a write or a
commit fails (Dagster then falls back to storing the batch's events one by one)."""

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterEventType, DagsterInstance, EventLogEntry, EventRecordsFilter

from rotation_assets.instance.event_log_storage import (
    BatchingSqliteEventLogStorage,
    check_dagster_version,
)

PARTITIONS = dg.StaticPartitionsDefinition(
    ["2026-01-26", "2026-01-27", "2026-01-28", "2026-01-29", "2026-01-30"]
)
RANGE_TAGS = {
    "dagster/asset_partition_range_start": "2026-01-26",
    "dagster/asset_partition_range_end": "2026-01-30",
}


@dg.asset(partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run())
def prices(context: dg.AssetExecutionContext):
    yield dg.MaterializeResult(data_version=dg.DataVersion("v1"))
    # Observations after the materializations: the last event for the asset in the batch is
    # not a materialization, and last_materialization must still be set.
    for partition in context.partition_keys:
        context.log_event(
            dg.AssetObservation(asset_key=context.asset_key, partition=partition, metadata={"n": 1})
        )


@dg.multi_asset(
    outs={"universe": dg.AssetOut(), "pairs": dg.AssetOut()},
    check_specs=[
        dg.AssetCheckSpec("not_empty", asset="universe"),
        dg.AssetCheckSpec("balanced", asset="pairs"),
    ],
)
def reference(context: dg.AssetExecutionContext):
    yield dg.Output(1, "universe", data_version=dg.DataVersion("u1"))
    yield dg.Output(2, "pairs")
    context.log_event(dg.AssetObservation(asset_key="universe", metadata={"rows": 3}))
    yield dg.AssetCheckResult(check_name="not_empty", asset_key="universe", passed=True)
    yield dg.AssetCheckResult(check_name="balanced", asset_key="pairs", passed=False)


ASSET_KEYS = [dg.AssetKey("prices"), dg.AssetKey("universe"), dg.AssetKey("pairs")]
CHECK_KEYS = [
    dg.AssetCheckKey(dg.AssetKey("universe"), "not_empty"),
    dg.AssetCheckKey(dg.AssetKey("pairs"), "balanced"),
]
MIRRORED_TYPES = [DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS]


def _events_of(instance: DagsterInstance, run_id: str) -> list[EventLogEntry]:
    return list(instance.all_logs(run_id))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[tuple[str, list[EventLogEntry]]]:
    """Three real runs' events: a single-run backfill of a partitioned asset (planned events,
    materializations and observations per partition), a multi-asset with checks, and that
    multi-asset again."""
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("source"))) as source:
        results = [
            dg.materialize([prices], instance=source, tags=RANGE_TAGS),
            dg.materialize([reference], instance=source),
            dg.materialize([reference], instance=source),
        ]
        assert all(r.success for r in results)
        return [(r.run_id, _events_of(source, r.run_id)) for r in results]


ASSET_TYPES = {
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_OBSERVATION,
}
CHECK_TYPES = {
    DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}
# How the runs' events are cut into batches, stored one after the other.
BATCHINGS = {
    # Every event type there is, for several assets and checks, across two run shards.
    "whole runs": lambda runs: [runs[0] + runs[1], runs[2]],
    # What Dagster batches (planned events, a range's materializations), mixed, one run each:
    # the last event of an asset in a batch is an observation after its materialization.
    "asset events of a run": lambda runs: [_only(r, ASSET_TYPES) for r in runs],
    "asset and check events": lambda runs: [
        _only(runs[0] + runs[1], ASSET_TYPES | CHECK_TYPES),
        _only(runs[2], ASSET_TYPES | CHECK_TYPES),
    ],
}


def _only(entries: list[EventLogEntry], types: set[DagsterEventType]) -> list[EventLogEntry]:
    return [e for e in entries if e.is_dagster_event and e.dagster_event_type in types]


def _batches(batching: str, runs) -> list[list[EventLogEntry]]:
    batches = BATCHINGS[batching]([entries for _, entries in runs])
    types = {e.dagster_event_type for batch in batches for e in batch if e.is_dagster_event}
    assert types >= ASSET_TYPES
    return batches


def _instance(tmp_path: Path, batching: bool):
    overrides = {}
    if batching:
        overrides["event_log_storage"] = {
            "module": "rotation_assets.instance.event_log_storage",
            "class": "BatchingSqliteEventLogStorage",
            "config": {"base_dir": str(tmp_path / "history" / "runs")},
        }
    return dg.instance_for_test(temp_dir=str(tmp_path), overrides=overrides)


def _store_like_dagster(instance: DagsterInstance, events: Sequence[EventLogEntry]) -> bool:
    """What DagsterInstance.handle_new_event does with a batch: store_event_batch, and on any
    error store_event for each event. Returns whether the batch went through."""
    storage = instance.event_log_storage
    try:
        storage.store_event_batch(events)
    except Exception:
        for entry in events:
            storage.store_event(entry)
        return False
    return True


def _state(instance: DagsterInstance, run_ids: Sequence[str]) -> dict:
    """Everything the event log tells about these runs, assets and checks, with storage ids."""
    storage = instance.event_log_storage
    state: dict = {}
    for run_id in run_ids:
        records = storage.get_records_for_run(run_id, limit=10_000).records
        state[f"run {run_id}"] = [(r.storage_id, r.event_log_entry) for r in records]
    for key in ASSET_KEYS:
        with warnings.catch_warnings():  # planned events have no fetch_* method
            warnings.simplefilter("ignore")
            planned = storage.get_event_records(
                EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=key),
                ascending=True,
            )
        (record,) = storage.get_asset_records([key])
        entry = record.asset_entry
        last = entry.last_materialization_record
        fetched = {
            "materializations": storage.fetch_materializations(key, limit=1000).records,
            "observations": storage.fetch_observations(key, limit=1000).records,
            "planned": planned,
        }
        state[f"asset {key.to_user_string()}"] = {
            **{
                name: [(r.storage_id, r.event_log_entry) for r in records]
                for name, records in fetched.items()
            },
            "last_materialization": last and (last.storage_id, last.event_log_entry),
            "last_run_id": entry.last_run_id,
            "last_event_storage_id": entry.last_event_storage_id,
            "last_observation": entry.last_observation_record
            and entry.last_observation_record.event_log_entry,
            "materialized_partitions": storage.get_materialized_partitions(key),
            "latest_by_partition": storage.get_latest_storage_id_by_partition(
                key, DagsterEventType.ASSET_MATERIALIZATION
            ),
            "tags": [  # the indexed tags (data versions) of each materialization
                (r.storage_id, storage.get_event_tags_for_asset(key, filter_event_id=r.storage_id))
                for r in fetched["materializations"]
            ],
        }
    for check_key in CHECK_KEYS:
        history = storage.get_asset_check_execution_history(check_key, limit=100)
        state[f"check {check_key.to_user_string()}"] = [
            (r.id, r.run_id, r.status, r.partition, r.event) for r in history
        ]
    for event_type in MIRRORED_TYPES:
        records = storage.fetch_run_status_changes(event_type, limit=100).records
        state[f"mirrored {event_type.value}"] = [(r.storage_id, r.event_log_entry) for r in records]
    state["asset keys"] = sorted(k.to_user_string() for k in storage.all_asset_keys())
    return state


@pytest.fixture(scope="module", params=list(BATCHINGS))
def batching(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def stock_state(batching, runs, tmp_path_factory) -> dict:
    """The stock storage, fed the same batches (Dagster's base store_event_batch stores them one
    by one)."""
    with _instance(tmp_path_factory.mktemp("stock"), batching=False) as instance:
        assert type(instance.event_log_storage) is not BatchingSqliteEventLogStorage
        for batch in _batches(batching, runs):
            _store_like_dagster(instance, batch)
        return _state(instance, [run_id for run_id, _ in runs])


class Fault:
    """Makes one write or commit of the batching storage raise, once."""

    def __init__(self, where: str | None):
        self.where = where
        self.fired = False
        self.run_commits = 0

    def install(self, storage: BatchingSqliteEventLogStorage, monkeypatch) -> None:
        if self.where == "index write":
            # The index shard's tags insert for the 4th asset event: the run shard and the
            # index have both been written to for earlier events and for this one's run row.
            store_tags = storage._store_asset_event_tags
            calls = []

            def failing_tags(conn, events, event_ids):
                calls.append(1)
                if len(calls) == 4 and not self.fired:
                    self.fired = True
                    raise OSError("injected: index shard write failed")
                return store_tags(conn, events, event_ids)

            monkeypatch.setattr(storage, "_store_asset_event_tags", failing_tags)
        elif self.where is not None:
            commit = storage._commit_shard

            def failing_commit(shard, conn):
                is_index = shard == "index"
                if not is_index:
                    self.run_commits += 1
                target = {
                    "index commit": is_index,
                    "first run commit": not is_index and self.run_commits == 1,
                    "second run commit": not is_index and self.run_commits == 2,
                }[self.where]
                if target and not self.fired:
                    self.fired = True
                    raise OSError(f"injected: {self.where} failed")
                commit(shard, conn)

            monkeypatch.setattr(storage, "_commit_shard", failing_commit)


@pytest.mark.parametrize(
    "fault",
    [None, "index write", "first run commit", "second run commit", "index commit"],
)
def test_batches_end_as_the_stock_storage_stores_their_events(
    fault, batching, runs, stock_state, tmp_path, monkeypatch
):
    batches = _batches(batching, runs)
    with _instance(tmp_path, batching=True) as instance:
        storage = instance.event_log_storage
        assert type(storage) is BatchingSqliteEventLogStorage
        injected = Fault(fault)
        injected.install(storage, monkeypatch)
        # Later batches land on existing rows: asset key rows and check executions exist.
        went_through = [_store_like_dagster(instance, batch) for batch in batches]
        assert injected.fired == (fault is not None)
        assert went_through.count(False) == (fault is not None)
        state = _state(instance, [run_id for run_id, _ in runs])
    assert state.keys() == stock_state.keys()
    for key, expected in stock_state.items():
        assert state[key] == expected, key
    # Each event stored once, in the order of the batches.
    for run_id, _ in runs:
        expected = [e for batch in batches for e in batch if e.run_id == run_id]
        assert [entry for _, entry in state[f"run {run_id}"]] == expected


def test_a_watcher_sees_each_batch_of_a_run_it_follows(tmp_path, runs):
    """The UI follows a run through storage.watch: it sees the batches of a run that existed
    when it started watching, and the storage is disposed of with the watcher running."""
    run_id, entries = runs[0]
    seen: list[EventLogEntry] = []
    arrived = threading.Condition()

    def on_event(entry: EventLogEntry, _cursor) -> None:
        with arrived:
            seen.append(entry)
            arrived.notify_all()

    def wait_for(expected: list[EventLogEntry]) -> None:
        # Until as many events as expected have arrived (the bound only ends a hang), then
        # compare: a wrong or duplicated event fails here, not after a timeout.
        with arrived:
            arrived.wait_for(lambda: len(seen) >= len(expected), timeout=600)
            assert seen == expected

    with _instance(tmp_path, batching=True) as instance:
        storage = instance.event_log_storage
        storage.store_event(entries[0])  # the run's shard exists before the watcher starts
        storage.watch(run_id, None, on_event)
        middle = len(entries) // 2
        storage.store_event_batch(entries[1:middle])
        wait_for(entries[:middle])  # from the start: the watcher has no cursor
        storage.store_event_batch(entries[middle:])
        wait_for(entries)
    # Leaving the block disposed of the storage with the watcher still running.


def test_a_wipe_leaves_nothing_behind_and_later_writes_land(tmp_path, runs):
    """After a wipe, old runs are gone and later batches are written where they are read."""
    (run_id, entries), (other_id, other) = runs[:2]
    with _instance(tmp_path, batching=True) as instance:
        storage = instance.event_log_storage
        storage.store_event_batch(entries)
        storage.wipe()
        assert storage.get_logs_for_run(run_id) == []
        assert storage.get_materialized_partitions(dg.AssetKey("prices")) == set()
        storage.store_event_batch(other)
        assert storage.get_logs_for_run(other_id) == other


def test_it_refuses_another_dagster_minor(monkeypatch, tmp_path):
    check_dagster_version("1.13.0")
    with pytest.raises(RuntimeError, match="Remove the `event_log_storage:` block"):
        check_dagster_version("1.14.0")
    monkeypatch.setattr(dg, "__version__", "1.14.2")
    with pytest.raises(RuntimeError, match="built for Dagster 1.13"):
        BatchingSqliteEventLogStorage(str(tmp_path))
