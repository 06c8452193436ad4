"""What ``rotation`` prints while its run executes: the assets' progress lines, not the engine's.

Dagster's console logger prints every engine event. People running ``rotation backfill`` want
to see which asset is doing what, with how many rows; failures and failed checks come in the
summary at the end. So the CLI silences Dagster's console logger for its runs and prints the
records of the assets' progress logger (``defs.constants.progress``, a ``get_dagster_logger``
logger: Dagster stores the same lines in the run's event log for the UI).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import TextIO

from dagster import DagsterExecutionStepExecutionError, get_dagster_logger

# Dagster's console logger, silenced: the progress lines replace it.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
PROGRESS_LOGGER = "rotation"


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


@contextlib.contextmanager
def printed_progress(out: TextIO = sys.stdout, level: int = logging.INFO) -> Iterator[None]:
    """Print the assets' progress lines on ``out`` while the block runs."""
    log = get_dagster_logger(PROGRESS_LOGGER)
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("  %(asctime)s  %(message)s", datefmt="%H:%M:%S"))
    handler.setLevel(level)
    previous = log.level
    log.setLevel(min(level, previous or level))
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)
