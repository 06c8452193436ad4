"""The report's inputs as of an earlier session D, from the rows dated on or before D only.

The analytics tables hold the latest session's view. As of D (``rotation report --as-of D``):

- by-session tables (``relative_strength``, and through the dashboard ``valuation_price_proxy``)
  are point in time row by row: their rows dated on or before D are kept as stored;
- ``outperformance_streaks`` is recomputed from the ``pair_spreads`` rows on or before D (a run
  going on at D ends at D, its length and ``longest_since`` as of D; ranks among the runs
  ended by D);
- ``rotation_episodes`` and ``episode_similarity`` are recomputed as of D
  (``historical_parallels.detect_episodes`` / ``episode_similarity`` with ``as_of``), with the
  run config stored on the episode rows (the defaults when there are none);
- ``historical_parallels`` (the seeded periods) is recomputed from the rows on or before D: a
  period ending after D is measured to D and its coverage note says so ("period ends E:
  measured to D"; an open-ended period simply runs to D); a period starting after D has no row;
- ``relative_rotation`` is recomputed with ``as_of`` D (D's own, possibly unfinished, week);
- ``leaders_laggards`` as of D, and ``event_windows`` from the returns on or before D (an event
  still running at D is cut there, and the report says which);
- ``valuation_gap``: only figures published on or before D (as for the latest report);
- ``claims_check``: only the claims whose data ends on or before D (``claims_as_of``).

A session is a trade_date of ``raw.prices`` (a session whose prices are loaded).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from rotation_assets.catalog import table
from rotation_assets.metrics import historical_parallels
from rotation_assets.metrics.analytics_tables import EPISODE_SETTINGS
from rotation_assets.metrics.event_windows import event_windows_sql
from rotation_assets.metrics.leaders_laggards import leaders_laggards_sql
from rotation_assets.metrics.outperformance_streaks import (
    OUTPERFORMANCE_STREAKS,
    outperformance_streaks_sql,
)
from rotation_assets.metrics.provenance import combined_source
from rotation_assets.metrics.relative_rotation import RELATIVE_ROTATION, relative_rotation_sql
from rotation_assets.warehouse.connection import table_exists


class NotALoadedSession(ValueError):
    """The as-of date is not a session of the warehouse."""


def _literal(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _exists(con: duckdb.DuckDBPyConnection, *qualified: str) -> bool:
    return all(table_exists(con, *name.split(".")) for name in qualified)


def loaded_sessions(con: duckdb.DuckDBPyConnection) -> pd.DatetimeIndex:
    """The warehouse's sessions, oldest first: the trade_dates of raw.prices (of
    analytics.daily_returns in a warehouse without it)."""
    found = [name for name in ("raw.prices", "analytics.daily_returns") if _exists(con, name)]
    if not found:
        return pd.DatetimeIndex([])
    dates = con.execute(f"SELECT DISTINCT trade_date FROM {found[0]}").df()
    return pd.DatetimeIndex(pd.to_datetime(dates["trade_date"])).sort_values()


def require_session(con: duckdb.DuckDBPyConnection, day: dt.date) -> None:
    """Nothing when ``day`` is a loaded session; otherwise NotALoadedSession saying why: no
    session loaded, before the first or after the last loaded session (both named), or a day
    between them without a session (a weekend, a holiday or a day without prices), naming the
    sessions before and after it. A non-session is refused, not moved to the session before:
    the report's file name and heading then always say the session it is as of."""
    sessions = loaded_sessions(con)
    if sessions.empty:
        raise NotALoadedSession("no session is loaded yet: run `rotation backfill` first")
    first, last = sessions[0].date(), sessions[-1].date()
    stamp = pd.Timestamp(day)
    if first <= day <= last and stamp in sessions:
        return
    span = f"the warehouse's loaded sessions run from {first} to {last}"
    if day < first or day > last:
        raise NotALoadedSession(f"--as-of {day} is outside the loaded sessions: {span}")
    before = sessions[sessions < stamp][-1].date()
    after = sessions[sessions > stamp][0].date()
    why = f"a {day:%A}" if day.weekday() >= 5 else "a weekday without prices: a holiday?"
    raise NotALoadedSession(
        f"--as-of {day} is not a loaded session ({why}); the sessions around it are {before} "
        f"and {after} ({span})"
    )


def up_to(frame: pd.DataFrame, day: dt.date, column: str = "trade_date") -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is on or before ``day``."""
    if frame.empty:
        return frame
    return frame[pd.to_datetime(frame[column]) <= pd.Timestamp(day)].reset_index(drop=True)


def claims_as_of(claims: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The claims a report as of ``day`` shows: those published by then (the document's
    ``as_of_date``) whose every reading, the sensitivity's session after included, read only
    sessions on or before it (``latest_session_used``). The one place claims are filtered for a
    point-in-time view."""
    return up_to(up_to(claims, day, "as_of_date"), day, "latest_session_used")


def streaks_as_of(con: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    """outperformance_streaks recomputed from the pair_spreads rows on or before ``day``."""
    if not _exists(con, "analytics.pair_spreads"):
        return OUTPERFORMANCE_STREAKS.empty()
    spreads = f"(SELECT * FROM analytics.pair_spreads WHERE trade_date <= {_literal(day)})"
    frame = con.execute(outperformance_streaks_sql(spreads)).df()
    return OUTPERFORMANCE_STREAKS.with_timestamps(OUTPERFORMANCE_STREAKS.conform(frame))


def episode_settings(stored: pd.DataFrame) -> dict:
    """The run config of the stored episodes (the same for every row), the defaults when none."""
    if stored.empty:
        return dict(EPISODE_SETTINGS)
    row = stored.iloc[0]
    return {
        "threshold": float(row["threshold"]),
        "window": int(row["window_sessions"]),
        "end_drawdown": float(row["end_drawdown"]),
        "merge_gap_sessions": int(row["merge_gap_sessions"]),
    }


def episodes_as_of(
    relative: pd.DataFrame, stored: pd.DataFrame, day: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rotation_episodes, episode_similarity) recomputed from the relative_strength rows on or
    before ``day``, with the stored episodes' run config."""
    at = pd.Timestamp(day)
    episodes = historical_parallels.detect_episodes(relative, **episode_settings(stored), as_of=at)
    similarity = historical_parallels.episode_similarity(relative, episodes, as_of=at)
    source = combined_source(relative["source"]) if not relative.empty else "unknown"
    return episodes.assign(source=source), similarity.assign(source=source)


def parallels_as_of(
    con: duckdb.DuckDBPyConnection, pairs: pd.DataFrame, relative: pd.DataFrame, day: dt.date
) -> pd.DataFrame | None:
    """historical_parallels recomputed from the rows on or before ``day``; None when its inputs
    are not all there (a young warehouse: the report then shows no period)."""
    needed = ("reference.historical_periods", "analytics.daily_returns", "analytics.pair_spreads")
    if not _exists(con, *needed, "raw.prices"):
        return None
    from rotation_assets.reference.historical_periods import read_historical_periods

    tickers = sorted(set(pairs["small"]) | set(pairs["large"]))
    when = f"trade_date <= {_literal(day)}"
    returns = con.execute(
        f"SELECT * FROM analytics.daily_returns WHERE {when} AND list_contains(?, ticker)",
        [tickers],
    ).df()
    returns["trade_date"] = pd.to_datetime(returns["trade_date"])
    closes = con.execute(
        f"SELECT trade_date, ticker, close FROM raw.prices WHERE {when} "
        "AND list_contains(?, ticker)",
        [tickers],
    ).df()
    closes["trade_date"] = pd.to_datetime(closes["trade_date"])
    spreads = con.execute(f"SELECT * FROM analytics.pair_spreads WHERE {when}").df()
    spreads["trade_date"] = pd.to_datetime(spreads["trade_date"])
    # The market's sessions as the stored table reads them (those with returns).
    sessions = con.execute(
        f"SELECT DISTINCT trade_date FROM analytics.daily_returns WHERE {when}"
    ).df()
    periods = read_historical_periods(con)
    frame = historical_parallels.period_comparison(
        periods,
        pairs,
        returns,
        spreads,
        relative,
        closes,
        sessions=pd.DatetimeIndex(pd.to_datetime(sessions["trade_date"])).sort_values(),
    )
    frame["source"] = combined_source(returns["source"]) if not returns.empty else "unknown"
    # A period that ends after the session is measured to it: say so.
    ends = periods.set_index("period_id")["end_date"]
    for i, row in frame.iterrows():
        end = ends.get(row["period_id"])
        if end is not None and not pd.isna(end) and end > pd.Timestamp(day):
            cut = f"period ends {end:%Y-%m-%d}: measured to {day}"
            note = row["coverage_note"]
            frame.at[i, "coverage_note"] = f"{note}; {cut}" if isinstance(note, str) else cut
    return frame


def rotation_as_of(con: duckdb.DuckDBPyConnection, day: dt.date) -> pd.DataFrame:
    """relative_rotation recomputed from the sessions on or before ``day``."""
    if not _exists(con, "analytics.daily_returns", "reference.universe"):
        return RELATIVE_ROTATION.empty()
    sql = relative_rotation_sql(
        "analytics.daily_returns",
        "(SELECT ticker, benchmark FROM reference.universe WHERE benchmark IS NOT NULL)",
        as_of=day,
    )
    return RELATIVE_ROTATION.with_timestamps(RELATIVE_ROTATION.conform(con.execute(sql).df()))


def leaders_laggards_as_of(con: duckdb.DuckDBPyConnection, day: dt.date | None) -> pd.DataFrame:
    """leaders_laggards as of ``day`` (None: the stored table, as of the latest session)."""
    spec = table("analytics.leaders_laggards")
    needed = ("analytics.daily_returns", "reference.universe", "reference.market_events")
    if day is None or not _exists(con, *needed):
        if not _exists(con, spec.qualified_name):
            return spec.empty()
        return spec.with_timestamps(con.execute(f"SELECT * FROM {spec.qualified_name}").df())
    sql = leaders_laggards_sql("analytics.daily_returns", "reference.universe", *needed[2:], day)
    return spec.with_timestamps(spec.conform(con.execute(sql).df()))


def event_windows_as_of(
    con: duckdb.DuckDBPyConnection, session: dt.date | None, as_of: dt.date | None
) -> pd.DataFrame:
    """event_windows as of the report's ``session``: the stored table when ``as_of`` is None
    (the latest session), else recomputed from the returns on or before ``as_of``; with
    ``event_end`` (the event's end_date) and ``cut`` (true when the event runs past
    ``session``: its window is measured to the session only)."""
    spec = table("analytics.event_windows")
    needed = ("analytics.daily_returns", "reference.universe", "reference.market_events")
    empty = spec.empty().assign(event_end=pd.NaT, cut=False)
    if not _exists(con, *needed) or session is None:
        return empty
    if as_of is None:
        if not _exists(con, spec.qualified_name):
            return empty
        frame = con.execute(f"SELECT * FROM {spec.qualified_name}").df()
    else:
        returns = f"(SELECT * FROM analytics.daily_returns WHERE trade_date <= {_literal(as_of)})"
        sql = event_windows_sql("reference.market_events", returns, "reference.universe")
        frame = spec.conform(con.execute(sql).df())
    if frame.empty:
        return empty
    frame = spec.with_timestamps(frame)
    ends = con.execute("SELECT event_id, end_date AS event_end FROM reference.market_events").df()
    ends["event_end"] = pd.to_datetime(ends["event_end"])
    frame = frame.merge(ends, on="event_id", how="left")
    frame["cut"] = frame["event_end"] > pd.Timestamp(session)
    return frame
