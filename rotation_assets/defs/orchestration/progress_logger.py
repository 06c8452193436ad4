"""A console logger for runs: the project's own progress lines and failures, not engine chatter.

Dagster's default console logger prints every engine event; people running ``rotation backfill``
or watching a run worker want to see which asset is doing what, with how many rows, and why a
step failed. Everything still goes to the event log the UI shows.
"""

from __future__ import annotations

import logging
import sys

import dagster as dg
from dagster import Field, InitLoggerContext, logger
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR

# Engine events worth a line on the console.
_SHOWN_EVENTS = {"STEP_FAILURE", "STEP_UP_FOR_RETRY", "RUN_FAILURE", "ASSET_CHECK_EVALUATION"}


class _ProgressFilter(logging.Filter):
    skips_reported = False

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None)
        if not meta:
            return True
        event = meta.get("dagster_event")
        if event is None:
            message = meta.get("orig_message", record.msg)
            if isinstance(message, str) and message.startswith("Dependencies for step "):
                # The engine logs one long line per skipped step; one short line says it all.
                if self.skips_reported:
                    return False
                self.skips_reported = True
                message = "steps downstream of the failure are skipped; stored rows are unchanged"
            record.msg, record.args = message, ()
            return True
        if event.event_type_value not in _SHOWN_EVENTS:
            return False
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                return False
        step = meta.get("step_key") or ""
        record.msg, record.args = f"{step}: {meta.get('orig_message', '')}", ()
        return True


@logger(
    config_schema={"log_level": Field(str, is_required=False, default_value="INFO")},
    description="Concise progress lines: the project's log messages, failures and failed checks.",
)
def progress_console_logger(init_context: InitLoggerContext) -> logging.Logger:
    level = init_context.logger_config["log_level"]
    log = logging.Logger("rotation_progress", level=level)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(asctime)s  %(message)s", datefmt="%H:%M:%S"))
    handler.addFilter(_ProgressFilter())
    log.addHandler(handler)
    return log


@dg.definitions
def loggers() -> dg.Definitions:
    return dg.Definitions(loggers={"progress": progress_console_logger})
