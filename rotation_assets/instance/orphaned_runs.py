"""Runs whose process died: mark them failed and give their pool slots back.

The CLI executes ``rotation_job`` in its own process. If that process is killed (SIGKILL, a
crash, a closed terminal), Dagster never records the end of the run: it stays STARTED in the UI
and keeps its slot in the ``duckdb_warehouse`` pool, so every later run waits for that slot
forever. Each CLI run therefore records its host and PID as tags, and the next CLI run reaps
runs from this host whose process is gone before it starts.
"""

from __future__ import annotations

import os
import socket

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

PID_TAG = "rotation/pid"
HOST_TAG = "rotation/host"


def process_tags() -> dict[str, str]:
    """Tags that let a later run tell whether this run's process is still alive."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def reap_orphaned_runs(instance: DagsterInstance) -> list[str]:
    """Fail every unfinished CLI run of this host whose process is gone; free its pool slots.

    Returns one line per reaped run, for the CLI to print. Runs from other hosts, runs launched
    by ``dg dev`` (no PID tag) and live processes are left alone.
    """
    host = socket.gethostname()
    unfinished = instance.get_run_records(
        RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
            tags={HOST_TAG: host},
        )
    )
    reaped = []
    for record in unfinished:
        run = record.dagster_run
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid <= 0 or pid == os.getpid() or _alive(pid):
            continue
        message = (
            f"Its process (PID {pid} on {host}) ended without finishing the run; "
            "marked failed by the next `rotation` run, which freed its warehouse pool slot."
        )
        instance.report_run_failed(run, message)
        # What Dagster's own run monitoring calls for a run that ended holding slots.
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(f"run {run.run_id[:8]} (PID {pid}) had died: marked failed, slot freed")
    return reaped
