"""Itemise a run from its stored events: per step wall time, and what lies between the steps.

    DAGSTER_HOME=... python benchmarks/run_events.py [--run-id ID]

Opens the instance in DAGSTER_HOME (the project's event log storage, read as Dagster stores
it), takes the newest run (or ``--run-id``), and prints one JSON line: the run's first and
last event (epoch seconds), each step's STEP_START -> STEP_SUCCESS/STEP_FAILURE interval, and
the number of events by type. The harness subtracts the process start time it recorded to get
the start-up (imports, definitions, instance) before the first event.
"""

import argparse
import json
from collections import Counter

from dagster import DagsterInstance

ENDS = ("STEP_SUCCESS", "STEP_FAILURE")


def itemise(instance: DagsterInstance, run_id: str | None) -> dict:
    if run_id is None:
        (record,) = instance.get_run_records(limit=1)  # newest first
        run_id = record.dagster_run.run_id
    records = instance.get_records_for_run(run_id).records
    steps: dict[str, dict] = {}
    kinds: Counter[str] = Counter()
    stamps = []
    for r in records:
        entry = r.event_log_entry
        stamps.append(entry.timestamp)
        kind = entry.dagster_event_type.value if entry.dagster_event_type else "LOG"
        kinds[kind] += 1
        if entry.step_key is None:
            continue
        step = steps.setdefault(entry.step_key, {"events": 0})
        step["events"] += 1
        if kind == "STEP_START":
            step["start"] = entry.timestamp
        elif kind in ENDS:
            step["end"] = entry.timestamp
            step["outcome"] = kind
    for step in steps.values():
        if "start" in step and "end" in step:
            step["seconds"] = round(step["end"] - step["start"], 3)
    run = instance.get_run_by_id(run_id)
    return {
        "run_id": run_id,
        "job": run.job_name if run else None,
        "status": run.status.value if run else None,
        "first_event": min(stamps),
        "last_event": max(stamps),
        "events": len(records),
        "events_by_type": dict(kinds.most_common()),
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-id")
    args = parser.parse_args()
    with DagsterInstance.get() as instance:
        print(json.dumps(itemise(instance, args.run_id)))


if __name__ == "__main__":
    main()
