"""Freshness of a trading-day partitioned table, measured in NYSE sessions, not calendar days.

A session is *due* once its close plus a grace period has passed (16:00 + 3 h = 19:00 New York,
13:00 + 3 h on early-close days). The table is fresh when the newest due session is loaded.
Holidays, weekends and unscheduled closures are not sessions, so they are never due: on
Christmas Day the newest due session is 24 December, and on the Monday after Good Friday
(before Monday's close) it is the Thursday before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from rotation_assets.trading_days import (
    NEW_YORK,
    latest_completed_session,
    session_close,
    sessions_between,
)

# The after-close schedule ticks 2 h 15 min after the close; 3 h leaves time for the run.
DEFAULT_GRACE = dt.timedelta(hours=3)


@dataclass(frozen=True)
class SessionFreshness:
    passed: bool
    due_session: dt.date
    due_at: dt.datetime  # New York time
    latest_loaded: dt.date | None
    sessions_behind: int

    def describe(self, table: str) -> str:
        latest = self.latest_loaded or "none"
        if self.passed:
            return f"{table} holds {self.due_session}, the newest session due (latest: {latest})"
        return (
            f"{table} lacks {self.due_session}, due since {self.due_at:%Y-%m-%d %H:%M} New York "
            f"({self.sessions_behind} session(s) behind; latest loaded: {latest}). Run "
            f"`rotation update` (or the after-close schedule) for the missing sessions."
        )


def due_session(now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE) -> dt.date:
    """The newest session whose close plus ``grace`` has passed at ``now`` (tz-aware)."""
    return latest_completed_session(now - grace)


def session_freshness(
    now: dt.datetime,
    loaded: Collection[dt.date],
    grace: dt.timedelta = DEFAULT_GRACE,
) -> SessionFreshness:
    """Whether the sessions ``loaded`` include the newest one due at ``now``.

    ``sessions_behind`` counts the due sessions after the latest loaded one (1 when only the
    due session itself is missing, 0 when fresh).
    """
    due = due_session(now, grace)
    latest = max(loaded) if loaded else None
    if due in loaded:
        behind = 0
    elif latest is not None and latest < due:
        behind = len(sessions_between(latest + dt.timedelta(days=1), due))
    else:
        behind = 1
    return SessionFreshness(
        passed=behind == 0,
        due_session=due,
        due_at=(session_close(due) + grace).astimezone(NEW_YORK),
        latest_loaded=latest,
        sessions_behind=behind,
    )
