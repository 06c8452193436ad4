"""The DuckDB writers' pool hands its one slot to one process at a time, however close together
the processes claim it.

Dagster's SQL event log claims a slot in several statements on separate connections (is a slot
unassigned? queue the step, assigned or not; take a free slot row), and on SQLite nothing locks
across processes between them (``with_for_update`` is a no-op there), so two processes claiming
together could both be told CLAIMED. ``BatchingSqliteEventLogStorage`` holds a file lock around
every change to the slots. Here several processes, released together by a barrier, claim the
pool's single slot round after round, against the project's instance config: every round must end
with exactly one holder. Without the lock, 2 processes double-claimed in 38 of 100 rounds, 3 in 35
(see the README, "The event log"); with it, in none.
"""

from __future__ import annotations

import multiprocessing
import traceback
import uuid
from pathlib import Path

from dagster import DagsterInstance

from rotation_assets.defs.constants import WAREHOUSE_POOL
from rotation_assets.instance.dagster_home import dagster_yaml

PROCESSES = 3
ROUNDS = 40
STEP_KEY = "duckdb_writer"
# Only a guard against a worker that died: a barrier left waiting breaks instead of hanging.
BARRIER_GUARD_SECONDS = 300


def _claim_rounds(
    home: str,
    worker: int,
    rounds: int,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,
) -> None:
    """In a process of its own: each round, claim the pool's slot as soon as every process is
    ready, report whether it was claimed once every process has claimed, then free it."""
    try:
        with DagsterInstance.from_config(home) as instance:
            storage = instance.event_log_storage
            for round_no in range(rounds):
                run_id = str(uuid.uuid4())
                barrier.wait(BARRIER_GUARD_SECONDS)  # everyone claims at the same moment
                status = storage.claim_concurrency_slot(WAREHOUSE_POOL, run_id, STEP_KEY)
                barrier.wait(BARRIER_GUARD_SECONDS)  # every claim is made before any is freed
                results.put((round_no, worker, status.is_claimed))
                storage.free_concurrency_slots_for_run(run_id)
                barrier.wait(BARRIER_GUARD_SECONDS)  # the pool is empty before the next round
    except BaseException:
        results.put(("error", worker, traceback.format_exc()))
        barrier.abort()


def claims_per_round(home: Path, processes: int, rounds: int) -> dict[int, int]:
    """Run ``processes`` claimants for ``rounds`` rounds on the instance at ``home``; return
    how many of them were told CLAIMED in each round."""
    ctx = multiprocessing.get_context("spawn")  # fresh processes, as separate runs are
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_claim_rounds, args=(str(home), n, rounds, barrier, results))
        for n in range(processes)
    ]
    for process in workers:
        process.start()
    claimed = {round_no: 0 for round_no in range(rounds)}
    errors = []
    for _ in range(processes * rounds):
        round_no, worker, outcome = results.get()
        if round_no == "error":
            errors.append(f"worker {worker}:\n{outcome}")
            break
        claimed[round_no] += bool(outcome)
    for process in workers:
        process.join()
    assert not errors, "\n".join(errors)
    assert [process.exitcode for process in workers] == [0] * processes
    return claimed


def test_the_one_slot_pool_has_one_holder_when_processes_claim_together(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(dagster_yaml(home))
    with DagsterInstance.from_config(str(home)) as instance:
        # Creates the tables and the pool's one slot (default_limit: 1), as a run's first claim.
        assert instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1

    claimed = claims_per_round(home, PROCESSES, ROUNDS)

    doubles = {round_no: n for round_no, n in claimed.items() if n > 1}
    assert not doubles, f"{len(doubles)} of {ROUNDS} rounds had several holders: {doubles}"
    # And the slot is never lost: the first claimant of every round gets it.
    assert set(claimed.values()) == {1}
    with DagsterInstance.from_config(str(home)) as instance:
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    assert (info.slot_count, info.claimed_slots, info.pending_steps) == (1, [], [])
