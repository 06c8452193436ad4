"""Freshness of ``raw/prices`` in NYSE sessions: no false alarm on a holiday or a weekend.

Dagster 1.13 offers two built-ins, and neither fits a trading-day calendar:

- ``FreshnessPolicy.cron(deadline_cron, lower_bound_delta)`` expects a materialization in the
  window before every cron tick. A cron string cannot skip exchange holidays, so a tick on
  Christmas Day (or Good Friday) reports the asset stale; it also ignores partitions.
- ``build_time_partition_freshness_checks(deadline_cron=...)`` (superseded) expects the
  partitions definition's *last* partition. Ours ends one partition after the last completed
  one (``end_offset=1``, so the after-close schedule can run today's session), and the offset
  skips the exclusions: evaluated on 2025-12-25 it expects 2025-12-26, a session not yet traded.

So this check asks ``rotation_assets.session_freshness`` which session is due (the newest whose
close plus three hours has passed) and looks for that partition among the materialized ones.
``raw_prices_freshness_schedule`` evaluates it every evening at 20:00 New York time, holidays
and weekends included, as its own small run; it is not part of ``rotation_job``, whose backfills
of past ranges say nothing about today's freshness.
"""

import datetime as dt

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetSelection,
    DefaultScheduleStatus,
    MetadataValue,
    ScheduleDefinition,
    asset_check,
    define_asset_job,
)

from rotation_assets.defs.prices.assets import RAW_PRICES_KEY
from rotation_assets.quality.session_freshness import DEFAULT_GRACE, session_freshness
from rotation_assets.trading_days import NEW_YORK


def now() -> dt.datetime:
    """The evaluation time (tests replace it to evaluate on a given day)."""
    return dt.datetime.now(tz=NEW_YORK)


@asset_check(
    asset=RAW_PRICES_KEY,
    name="fresh_to_latest_session",
    description="The newest NYSE session whose close (plus 3 h) has passed is loaded. "
    "Holidays and weekends are not sessions, so they never raise a false alarm.",
    blocking=False,
)
def raw_prices_freshness(context: AssetCheckExecutionContext) -> AssetCheckResult:
    """Reads only Dagster's record of materialized partitions, never the DuckDB file."""
    at = now()
    materialized = context.instance.get_materialized_partitions(RAW_PRICES_KEY)
    verdict = session_freshness(at, {dt.date.fromisoformat(k) for k in materialized})
    return AssetCheckResult(
        passed=verdict.passed,
        severity=AssetCheckSeverity.WARN,
        description=verdict.describe("raw/prices"),
        metadata={
            "evaluated_at": MetadataValue.timestamp(at),
            "due_session": str(verdict.due_session),
            "due_at": MetadataValue.timestamp(verdict.due_at),
            "latest_loaded_session": str(verdict.latest_loaded or ""),
            "sessions_behind": verdict.sessions_behind,
            "grace_hours": DEFAULT_GRACE.total_seconds() / 3600,
        },
    )


FRESHNESS_SELECTION = AssetSelection.checks(raw_prices_freshness)

raw_prices_freshness_job = define_asset_job(
    "raw_prices_freshness_job",
    selection=FRESHNESS_SELECTION,
    description="Evaluate whether raw/prices holds the newest due NYSE session.",
)

raw_prices_freshness_schedule = ScheduleDefinition(
    name="raw_prices_freshness_schedule",
    job=raw_prices_freshness_job,
    cron_schedule="0 20 * * *",
    execution_timezone="America/New_York",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every evening, holidays included: is raw/prices fresh to the newest session "
    "due? Switch it on with after_close_schedule.",
)
