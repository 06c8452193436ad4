"""Trading-day partitions: one Dagster partition per NYSE session, keyed ``YYYY-MM-DD``."""

import datetime as dt
from functools import lru_cache

from dagster import DailyPartitionsDefinition

from rotation_assets.trading_days import (
    FIRST_SESSION,
    NEW_YORK,
    calendar_last_date,
    non_session_weekdays,
)


@lru_cache(maxsize=1)
def trading_day_partitions() -> DailyPartitionsDefinition:
    """Daily partitions keyed by NYSE session, from 1990-01-02 through today (New York time).

    Holidays and closures are exclusions (datetimes, not date strings), so the keys are exactly
    the sessions.
    """
    holidays = [
        dt.datetime(d.year, d.month, d.day, tzinfo=NEW_YORK)
        for d in non_session_weekdays(FIRST_SESSION, calendar_last_date())
    ]
    return DailyPartitionsDefinition(
        start_date=FIRST_SESSION,
        timezone="America/New_York",
        # Today's session is a partition before midnight, so the after-close schedule can run it.
        end_offset=1,
        exclusions=["0 0 * * 6", "0 0 * * 0", *holidays],
    )
