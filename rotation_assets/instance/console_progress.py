"""What ``rotation`` prints while its run executes: the project's progress lines and failures.

Dagster's console logger prints every engine event. People running ``rotation backfill`` want
to see which asset is doing what, with how many rows, and why a step failed. So the CLI
silences the console logger and, beside the run, reads the run's own records from the instance
(the same event log the UI shows) and prints:

- the project's messages (INFO and WARNING log lines of the assets);
- a failed step with its cause, once, and that the steps after it are skipped;
- a retry, and every check that did not pass.

Only structured fields of the records are read (event type, level, step, the error chain).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from typing import TextIO

from dagster import DagsterEventType, DagsterExecutionStepExecutionError, DagsterInstance

# Dagster's console logger, silenced: these lines replace it.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def failure_reason(error) -> str:
    """The user-facing cause of a step failure (a serialized error chain), without Dagster's
    wrapper around the exception the asset raised."""
    chain = []
    while error is not None:
        if error.cls_name != DagsterExecutionStepExecutionError.__name__:
            chain.append(error.message.strip())
        error = error.cause
    # A Failure raised from a typed error repeats its text: keep the typed one (the cause).
    texts = [m.split(": ", 1)[-1] for m in chain]
    parts = [m for i, m in enumerate(chain) if texts[i] not in texts[i + 1 :]]
    return " <- ".join(parts) or "unknown failure"


class RunProgress:
    """Prints the progress of run ``run_id`` from its records while it runs (a context manager
    around the run's execution)."""

    def __init__(
        self,
        instance: DagsterInstance,
        run_id: str,
        out: TextIO = sys.stdout,
        interval_seconds: float = 0.3,
        level: int = logging.INFO,
    ):
        self._instance = instance
        self._run_id = run_id
        self._out = out
        self._interval = interval_seconds
        self._level = level
        self._cursor: str | None = None
        self._failed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="rotation-progress", daemon=True)

    def __enter__(self) -> RunProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._print_new()  # whatever the run stored after the last poll

    def _follow(self) -> None:
        while not self._stop.wait(self._interval):
            self._print_new()

    def _print_new(self) -> None:
        connection = self._instance.get_records_for_run(self._run_id, cursor=self._cursor)
        self._cursor = connection.cursor
        for record in connection.records:
            line = self.describe(record.event_log_entry)
            if line:
                stamp = dt.datetime.fromtimestamp(record.event_log_entry.timestamp)
                print(f"  {stamp:%H:%M:%S}  {line}", file=self._out, flush=True)

    def describe(self, entry) -> str | None:
        """The console line for one stored record, or None to stay quiet about it."""
        event = entry.dagster_event
        step = entry.step_key or ""
        if event is None:
            # The project's own messages; the engine's ERROR lines repeat failures shown below.
            if self._level <= entry.level < logging.ERROR:
                return entry.user_message
            return None
        kind = event.event_type
        if kind == DagsterEventType.STEP_FAILURE:
            line = f"{step}: failed: {failure_reason(event.step_failure_data.error)}"
            if not self._failed:
                line += "\n  the steps after it are skipped; stored rows are unchanged"
            self._failed = True
            return line
        if kind == DagsterEventType.STEP_UP_FOR_RETRY:
            return f"{step}: will retry: {failure_reason(event.step_retry_data.error)}"
        if kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.passed:
                return None
            return (
                f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
                f"{evaluation.severity.value.lower()}: {evaluation.description or ''}".rstrip()
            )
        return None
