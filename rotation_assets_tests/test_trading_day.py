import datetime as dt

import exchange_calendars as xcals
import pytest

from rotation_assets.defs.orchestration.jobs import session_to_run
from rotation_assets.defs.partitions import trading_day_partitions
from rotation_assets.trading_days import (
    NEW_YORK,
    latest_completed_session,
    previous_session,
)


def test_partition_keys_are_exactly_the_xnys_sessions_1990_to_2026():
    keys = trading_day_partitions().get_partition_keys(
        current_time=dt.datetime(2026, 12, 31, 23, tzinfo=NEW_YORK)
    )
    calendar = xcals.get_calendar("XNYS", start="1990-01-01", end="2027-12-31")
    sessions = [
        s.strftime("%Y-%m-%d") for s in calendar.sessions_in_range("1990-01-02", "2026-12-31")
    ]
    assert keys == sessions
    assert len(keys) == len(set(keys))
    # Holidays and unscheduled closures are not partitions.
    for closed in [
        "2001-09-11",
        "2001-09-14",
        "2012-10-29",
        "2018-12-05",
        "2025-01-09",
        "2026-11-26",
    ]:
        assert closed not in keys
    assert "2026-11-27" in keys  # early close is still a session


def test_today_is_a_partition_once_the_day_starts():
    keys = trading_day_partitions().get_partition_keys(
        current_time=dt.datetime(2026, 2, 13, 9, 0, tzinfo=NEW_YORK)
    )
    assert keys[-1] == "2026-02-13"


@pytest.mark.parametrize(
    "now, expected",
    [
        (dt.datetime(2026, 2, 13, 15, 59, tzinfo=NEW_YORK), dt.date(2026, 2, 12)),
        (dt.datetime(2026, 2, 13, 16, 1, tzinfo=NEW_YORK), dt.date(2026, 2, 13)),
        (dt.datetime(2026, 2, 16, 20, 0, tzinfo=NEW_YORK), dt.date(2026, 2, 13)),  # Presidents Day
        (dt.datetime(2026, 11, 27, 13, 30, tzinfo=NEW_YORK), dt.date(2026, 11, 27)),  # early close
        (dt.datetime(2026, 2, 15, 12, 0, tzinfo=dt.UTC), dt.date(2026, 2, 13)),  # Sunday
    ],
)
def test_latest_completed_session(now, expected):
    assert latest_completed_session(now) == expected


def test_previous_session_skips_holidays_and_weekends():
    assert previous_session(dt.date(2026, 2, 17)) == dt.date(2026, 2, 13)
    assert previous_session(dt.date(2026, 2, 16)) == dt.date(2026, 2, 13)


def test_schedule_runs_sessions_and_skips_holidays():
    assert session_to_run(dt.datetime(2026, 2, 13, 18, 15, tzinfo=NEW_YORK)) == dt.date(2026, 2, 13)
    assert session_to_run(dt.datetime(2026, 2, 16, 18, 15, tzinfo=NEW_YORK)) is None
    assert session_to_run(dt.datetime(2026, 11, 26, 18, 15, tzinfo=NEW_YORK)) is None


def test_schedule_evaluation_requests_the_session_partition_or_skips():
    from dagster import RunRequest, SkipReason, build_schedule_context

    from rotation_assets.defs.orchestration.jobs import after_close_schedule

    on_session = build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 2, 13, 18, 15, tzinfo=NEW_YORK)
    )
    request = after_close_schedule(on_session)
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2026-02-13" and request.run_key == "2026-02-13"

    on_holiday = build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 2, 16, 18, 15, tzinfo=NEW_YORK)
    )
    skip = after_close_schedule(on_holiday)
    assert isinstance(skip, SkipReason)
    assert "2026-02-16 is not an NYSE session" in skip.skip_message


def test_the_first_partition_has_a_previous_session():
    assert previous_session(dt.date(1990, 1, 2)) == dt.date(1989, 12, 29)
    assert trading_day_partitions().get_first_partition_key() == "1990-01-02"
