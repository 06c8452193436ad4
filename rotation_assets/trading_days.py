"""NYSE trading days (XNYS sessions, from ``exchange_calendars``): the partition keys of raw/prices.

Weekends and exchange holidays, including unscheduled closures (2001-09-11, 2012-10-29, national
days of mourning), are not sessions. ``rotation_assets.defs.partitions`` turns these sessions
into Dagster partitions.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

NEW_YORK = ZoneInfo("America/New_York")
FIRST_SESSION = "1990-01-02"
# exchange_calendars only reaches 20 years back unless told where to start; a year before the
# first partition, so the first session has a previous session too.
_CALENDAR_START = "1989-01-01"


@lru_cache(maxsize=1)
def _xnys():
    import exchange_calendars as xcals

    return xcals.get_calendar("XNYS", start=_CALENDAR_START)


def calendar_last_date() -> dt.date:
    """The last date the bundled XNYS calendar knows (about a year ahead of today)."""
    return _xnys().last_session.date()


def sessions_between(start: str | dt.date, end: str | dt.date) -> list[dt.date]:
    """XNYS sessions from ``start`` to ``end``, both inclusive."""
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    if end_ts < start_ts:
        return []
    cal = _xnys()
    start_ts = max(start_ts, cal.first_session)
    end_ts = min(end_ts, cal.last_session)
    return [ts.date() for ts in cal.sessions_in_range(start_ts, end_ts)]


def is_session(day: str | dt.date) -> bool:
    """True when ``day`` is an NYSE session."""
    return _xnys().is_session(pd.Timestamp(day))


def previous_session(day: str | dt.date) -> dt.date:
    """The session before ``day`` (``day`` itself need not be a session)."""
    cal = _xnys()
    ts = pd.Timestamp(day)
    if cal.is_session(ts):
        return cal.previous_session(ts).date()
    return cal.date_to_session(ts, direction="previous").date()


def sessions_on_or_after(days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """For each day, the first session on or after it. Outside the calendar (before 1989, or
    past its last date about a year ahead) there are no sessions to ask: the first weekday on
    or after the day stands for it."""
    cal = _xnys()
    days = pd.DatetimeIndex(days).astype("datetime64[ns]")
    sessions = pd.DatetimeIndex(cal.sessions).astype("datetime64[ns]")
    inside = (days >= sessions[0]) & (days <= sessions[-1])
    found = sessions[np.minimum(sessions.searchsorted(days, side="left"), len(sessions) - 1)]
    weekday = days + pd.offsets.BDay(0)
    return pd.DatetimeIndex(np.where(inside, found, weekday))


def session_on_or_after(day: str | dt.date) -> dt.date:
    """The first session on or after ``day`` (see ``sessions_on_or_after``)."""
    return sessions_on_or_after(pd.DatetimeIndex([pd.Timestamp(day)]))[0].date()


def session_close(day: str | dt.date) -> dt.datetime:
    """The (possibly early) close of session ``day``, in New York time."""
    return _xnys().session_close(pd.Timestamp(day)).tz_convert(NEW_YORK).to_pydatetime()


def latest_completed_session(now: dt.datetime | None = None) -> dt.date:
    """The most recent session whose close has passed at ``now`` (default: the current time)."""
    now = now or dt.datetime.now(tz=NEW_YORK)
    today = now.astimezone(NEW_YORK).date()
    day = today if is_session(today) else previous_session(today)
    if session_close(day) > now:
        day = previous_session(day)
    return day


def non_session_weekdays(start: str, end: str | dt.date) -> list[dt.date]:
    """Weekdays in [start, end] on which the NYSE did not trade (holidays and closures)."""
    weekdays = pd.bdate_range(start, end)
    sessions = set(sessions_between(start, end))
    return [d.date() for d in weekdays if d.date() not in sessions]
