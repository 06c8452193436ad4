"""The main job and the after-close schedule that runs it each NYSE session.

One job holds the whole graph: the new session's prices and everything downstream refresh in
the same run. A single run keeps the one DuckDB writer busy once a day and leaves the warehouse
consistent at the end of the run, where declarative automation would start several runs that
queue on the file lock and publish intermediate states.
"""

import datetime as dt

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    in_process_executor,
    schedule,
)

from rotation_assets.defs.prices.freshness import FRESHNESS_SELECTION
from rotation_assets.trading_days import NEW_YORK, is_session, session_close

rotation_job = define_asset_job(
    "rotation_job",
    # Freshness is about today, not the range a run loads: it has its own job and schedule.
    selection=AssetSelection.all() - FRESHNESS_SELECTION,
    description="Load NYSE sessions into raw.prices and refresh every table downstream.",
    # Its steps take the one DuckDB writer slot in turn, so a process per step would only
    # add start-up cost: they run one after another in the run's own process.
    executor_def=in_process_executor,
)

# Yahoo's daily bars settle shortly after the 16:00 close (13:00 on early-close days).
SCHEDULE_CRON = "15 18 * * 1-5"


def session_to_run(now: dt.datetime) -> dt.date | None:
    """The session a tick at ``now`` should load: today's, if it is a session already closed."""
    today = now.astimezone(NEW_YORK).date()
    if not is_session(today) or session_close(today) > now:
        return None
    return today


@schedule(
    job=rotation_job,
    cron_schedule=SCHEDULE_CRON,
    execution_timezone="America/New_York",
    default_status=DefaultScheduleStatus.STOPPED,
    description="After each NYSE close, load that session and refresh everything downstream; "
    "holidays and unscheduled closures are skipped.",
)
def after_close_schedule(context: ScheduleEvaluationContext):
    now = context.scheduled_execution_time or dt.datetime.now(tz=NEW_YORK)
    session = session_to_run(now)
    if session is None:
        return SkipReason(f"{now.astimezone(NEW_YORK).date()} is not an NYSE session")
    key = session.isoformat()
    return RunRequest(run_key=key, partition_key=key, tags={"rotation/trigger": "schedule"})
