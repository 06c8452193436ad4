import os
import socket
import subprocess

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from rotation_assets.instance.orphaned_runs import HOST_TAG, PID_TAG, reap_orphaned_runs

POOL = "duckdb_warehouse"


@pytest.fixture
def instance(tmp_path):
    with DagsterInstance.local_temp(str(tmp_path)) as inst:
        inst.event_log_storage.set_concurrency_slots(POOL, 1)
        yield inst


def started_run(instance, run_id: str, pid: int, host: str | None = None) -> DagsterRun:
    run = DagsterRun(
        job_name="rotation_job",
        run_id=run_id,
        status=DagsterRunStatus.STARTED,
        tags={PID_TAG: str(pid), HOST_TAG: host or socket.gethostname()},
    )
    return instance.add_run(run)


def test_a_dead_cli_run_is_failed_and_its_pool_slot_freed(instance):
    gone = subprocess.Popen(["true"])
    gone.wait()
    started_run(instance, "dead0000-0000-0000-0000-000000000000", gone.pid)
    claim = instance.event_log_storage.claim_concurrency_slot(
        POOL, "dead0000-0000-0000-0000-000000000000", "raw_prices"
    )
    assert claim.is_claimed
    started_run(instance, "live0000-0000-0000-0000-000000000000", os.getppid())
    started_run(instance, "else0000-0000-0000-0000-000000000000", gone.pid, host="other-host")

    lines = reap_orphaned_runs(instance)

    assert lines == [f"run dead0000 (PID {gone.pid}) had died: marked failed, slot freed"]
    status = {r.run_id[:4]: r.status for r in instance.get_runs()}
    assert status == {
        "dead": DagsterRunStatus.FAILURE,
        "live": DagsterRunStatus.STARTED,  # its process is alive
        "else": DagsterRunStatus.STARTED,  # another host: cannot tell, left alone
    }
    assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
    assert reap_orphaned_runs(instance) == []
