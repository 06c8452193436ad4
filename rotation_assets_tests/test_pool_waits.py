"""The CLI's pool-wait line: which step waits, for which pool, who holds it, who else waits."""

import io

import pytest
from dagster import (
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    EventLogEntry,
    MetadataValue,
)
from dagster._core.events import EngineEventData  # what Dagster's own blocked event carries

from rotation_assets.defs.constants import WAREHOUSE_POOL
from rotation_assets.instance.pool_waits import (
    WAIT_LINE_PREFIX,
    announce_pool_waits,
    blocked_pool,
    pool_holders,
)


@pytest.fixture
def instance(tmp_path):
    with DagsterInstance.local_temp(str(tmp_path)) as inst:
        inst.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
        yield inst


def add_run(instance: DagsterInstance, run_id: str, tags: dict[str, str]) -> None:
    instance.add_run(DagsterRun(job_name="rotation_job", run_id=run_id, tags=tags))


CLI_RUN = "aaaaaaaa-0000-0000-0000-000000000001"
UI_RUN = "bbbbbbbb-0000-0000-0000-000000000002"
SCHEDULED_RUN = "cccccccc-0000-0000-0000-000000000003"
CLI_TAGS = {
    "rotation/trigger": "cli:update",
    "rotation/pid": "4242",
    "dagster/asset_partition_range_start": "2026-02-06",
    "dagster/asset_partition_range_end": "2026-02-06",
}


def blocked_event(run_id: str, step_key: str, pool: str = WAREHOUSE_POOL) -> EventLogEntry:
    """Dagster's "Step blocked by limit for pool" engine event, as the run's log stores it."""
    event = DagsterEvent(
        event_type_value=DagsterEventType.ENGINE_EVENT.value,
        job_name="rotation_job",
        step_key=step_key,
        message=f"Step blocked by limit for pool {pool}",
        event_specific_data=EngineEventData(metadata={"pool": MetadataValue.pool(pool)}),
    )
    return EventLogEntry(
        error_info=None,
        level="DEBUG",
        user_message=event.message,
        run_id=run_id,
        timestamp=0.0,
        step_key=step_key,
        job_name="rotation_job",
        dagster_event=event,
    )


def test_the_line_names_the_holding_cli_run_and_the_other_runs_waiting(instance):
    add_run(instance, CLI_RUN, CLI_TAGS)
    add_run(instance, UI_RUN, {"dagster/partition": "2026-02-06"})
    add_run(instance, SCHEDULED_RUN, {"dagster/schedule_name": "after_close_schedule"})
    storage = instance.event_log_storage
    storage.claim_concurrency_slot(WAREHOUSE_POOL, CLI_RUN, "shiller_monthly")  # takes the slot
    storage.claim_concurrency_slot(WAREHOUSE_POOL, UI_RUN, "reference_seeds")  # waits
    storage.claim_concurrency_slot(WAREHOUSE_POOL, UI_RUN, "raw_prices")  # waits
    storage.claim_concurrency_slot(WAREHOUSE_POOL, SCHEDULED_RUN, "reference_seeds")  # waits

    out = io.StringIO()
    announce_pool_waits(instance, out)(blocked_event(UI_RUN, "reference_seeds"))

    # One line: the waiting step and pool, the holder with its trigger, PID and range, and the
    # scheduled run's one step also waiting (the UI run's own two are not "others").
    (line,) = out.getvalue().splitlines()
    assert line.endswith(
        f"{WAIT_LINE_PREFIX}: step reference_seeds waits for pool duckdb_warehouse, held by "
        "run aaaaaaaa (step shiller_monthly, cli:update, PID 4242, 2026-02-06..2026-02-06); "
        "also waiting: run cccccccc (1 step)"
    )


def test_a_run_launched_from_the_ui_or_a_schedule_is_named_by_what_started_it(instance):
    add_run(instance, UI_RUN, {"dagster/partition": "2026-02-06"})
    add_run(instance, SCHEDULED_RUN, {"dagster/schedule_name": "after_close_schedule"})
    storage = instance.event_log_storage
    storage.claim_concurrency_slot(WAREHOUSE_POOL, UI_RUN, "analytics")
    assert pool_holders(instance, WAREHOUSE_POOL, CLI_RUN) == (
        "held by run bbbbbbbb (step analytics, launched from the UI or Dagster's CLI, 2026-02-06)"
    )
    storage.free_concurrency_slots_for_run(UI_RUN)
    storage.claim_concurrency_slot(WAREHOUSE_POOL, SCHEDULED_RUN, "raw_prices")
    assert pool_holders(instance, WAREHOUSE_POOL, CLI_RUN) == (
        "held by run cccccccc (step raw_prices, schedule after_close_schedule)"
    )
    # The waiting run's own step holding the slot is said to be its own.
    assert pool_holders(instance, WAREHOUSE_POOL, SCHEDULED_RUN) == (
        "held by this run's step raw_prices"
    )


def test_other_engine_events_print_nothing(instance):
    out = io.StringIO()
    other = blocked_event(UI_RUN, "analytics")
    other.dagster_event.event_specific_data.metadata.clear()  # an engine event without a pool
    assert blocked_pool(other) is None
    announce_pool_waits(instance, out)(other)
    assert out.getvalue() == ""
