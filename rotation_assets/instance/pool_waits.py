"""What a CLI run waits for: the warehouse pool slot, and which run holds it.

When another run (the UI's, the schedule's, a second ``rotation`` command) holds the one slot of
the ``duckdb_warehouse`` pool, Dagster blocks this run's next step and records an engine event
"Step blocked by limit for pool duckdb_warehouse". The CLI silences Dagster's console logger, so
without this the command would pause with nothing on the screen. ``announce_pool_waits``
listens to the run's events and prints one line per such event naming the step that waits and
the run and step holding the slot, so an operator knows what to wait for (or which run to stop).
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from typing import TextIO

from dagster import DagsterEventType, DagsterInstance, EventLogEntry

from rotation_assets.defs.constants import RANGE_END_TAG, RANGE_START_TAG
from rotation_assets.instance.orphaned_runs import PID_TAG

WAIT_LINE_PREFIX = "waiting for the warehouse writer"
PARTITION_TAG = "dagster/partition"
SCHEDULE_TAG = "dagster/schedule_name"
TRIGGER_TAG = "rotation/trigger"


def blocked_pool(entry: EventLogEntry) -> str | None:
    """The pool a step waits for, when ``entry`` is Dagster's "step blocked by pool" event."""
    event = entry.dagster_event
    if event is None or event.event_type != DagsterEventType.ENGINE_EVENT:
        return None
    pool = event.engine_event_data.metadata.get("pool")
    return None if pool is None else str(pool.value)


def describe_run(instance: DagsterInstance, run_id: str, step_key: str) -> str:
    """'run 1a2b3c4d (step raw_prices; cli:update, PID 123, 2026-02-06)': who holds a slot."""
    run = instance.get_run_by_id(run_id)
    parts = [f"step {step_key}"]
    if run is not None:
        tags = run.tags
        if tags.get(SCHEDULE_TAG):
            parts.append(f"schedule {tags[SCHEDULE_TAG]}")
        elif tags.get(TRIGGER_TAG):
            parts.append(tags[TRIGGER_TAG])
        else:
            parts.append("launched from the UI or Dagster's CLI")
        if tags.get(PID_TAG):
            parts.append(f"PID {tags[PID_TAG]}")
        if tags.get(PARTITION_TAG):
            parts.append(tags[PARTITION_TAG])
        elif tags.get(RANGE_START_TAG):
            parts.append(f"{tags[RANGE_START_TAG]}..{tags.get(RANGE_END_TAG, '')}")
    return f"run {run_id[:8]} ({', '.join(parts)})"


def pool_holders(instance: DagsterInstance, pool: str, run_id: str) -> str:
    """Who holds ``pool``'s slots now, and which other runs have steps waiting for it too."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    holders = [
        f"this run's step {slot.step_key}"
        if slot.run_id == run_id
        else describe_run(instance, slot.run_id, slot.step_key)
        for slot in info.claimed_slots
    ]
    # Dagster hands a freed slot to the longest-waiting step, which may be another run's.
    others = collections.Counter(
        p.run_id for p in info.pending_steps if p.run_id != run_id and p.assigned_timestamp is None
    )
    text = "held by " + ("; ".join(holders) if holders else "no run at this moment")
    if others:
        waiting = ", ".join(
            f"run {other[:8]} ({count} step{'s' if count > 1 else ''})"
            for other, count in sorted(others.items())
        )
        text += f"; also waiting: {waiting}"
    return text


def wait_line(instance: DagsterInstance, entry: EventLogEntry, pool: str) -> str:
    """The line printed for one blocked-step event."""
    held = pool_holders(instance, pool, entry.run_id)
    return f"{WAIT_LINE_PREFIX}: step {entry.step_key} waits for pool {pool}, {held}"


def announce_pool_waits(instance: DagsterInstance, out: TextIO) -> Callable[[EventLogEntry], None]:
    """An event listener for ``instance.add_event_listener`` printing each pool wait to ``out``."""

    def on_event(entry: EventLogEntry) -> None:
        pool = blocked_pool(entry)
        if pool is None:
            return
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        print(f"  {stamp}  {wait_line(instance, entry, pool)}", file=out, flush=True)

    return on_event
