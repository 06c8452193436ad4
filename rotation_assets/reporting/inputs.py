"""What the charts and the HTML report read from the warehouse, and the charts drawn from it.

Read through one (read-only capable) connection; a table that does not exist yet reads as empty,
so a young warehouse still gives charts that say what is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from rotation_assets.catalog import table
from rotation_assets.metrics.provenance import combined_source
from rotation_assets.metrics.rotation_dashboard import read_dashboard
from rotation_assets.metrics.valuation_history import VALUATION_HISTORY, standing_sql
from rotation_assets.reporting import point_in_time
from rotation_assets.warehouse.connection import table_exists
from rotation_assets.warehouse.table_spec import TableSpec
from rotation_assets.warehouse.writes import read_table


@dataclass(frozen=True)
class ReportInputs:
    pairs: pd.DataFrame
    relative: pd.DataFrame
    streaks: pd.DataFrame
    episodes: pd.DataFrame
    similarity: pd.DataFrame
    valuation: pd.DataFrame
    parallels: pd.DataFrame
    claims: pd.DataFrame
    rotation: pd.DataFrame
    dashboard: pd.DataFrame
    # The S&P 500's CAPE and trailing P/E usable on the report's session (one row, or none).
    valuation_standing: pd.DataFrame
    leaders: pd.DataFrame
    events: pd.DataFrame
    # The session an as-of report is for (None: the latest session of the warehouse).
    as_of: pd.Timestamp | None = None
    # The warehouse's latest session (as-of reports say how far the warehouse reaches).
    warehouse_latest: pd.Timestamp | None = None

    @property
    def source(self) -> str:
        """Price source(s) of the analytics: 'csv', 'synthetic', ... ('unknown' when empty)."""
        return combined_source(self.relative["source"]) if not self.relative.empty else "unknown"

    @property
    def synthetic(self) -> bool:
        return "synthetic" in self.source.split("+")

    @property
    def latest_session(self) -> pd.Timestamp | None:
        """The session the report is for: the as-of session, or the latest in relative_strength."""
        if self.as_of is not None:
            return self.as_of
        return None if self.relative.empty else pd.Timestamp(self.relative["trade_date"].max())


def _specs() -> dict[str, TableSpec]:
    return {
        name: table(qualified)
        for name, qualified in (
            ("pairs", "reference.rotation_pairs"),
            ("relative", "analytics.relative_strength"),
            ("streaks", "analytics.outperformance_streaks"),
            ("episodes", "analytics.rotation_episodes"),
            ("similarity", "analytics.episode_similarity"),
            ("valuation", "analytics.valuation_gap"),
            ("parallels", "analytics.historical_parallels"),
            ("claims", "analytics.claims_check"),
            ("rotation", "analytics.relative_rotation"),
        )
    }


_DASHBOARD_READS = ("pairs", "relative", "streaks", "valuation")


def read_report_inputs(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None
) -> ReportInputs:
    """What the report shows, as of the session ``as_of`` (default: the latest session).

    As of an earlier session every frame holds only rows dated on or before it, the summaries
    recomputed from them (``reporting.point_in_time``); ``as_of`` must be a loaded session
    (``point_in_time.require_session``, NotALoadedSession otherwise).
    """
    frames = {}
    for name, spec in _specs().items():
        frames[name] = spec.with_timestamps(read_table(con, spec))
    sessions = point_in_time.loaded_sessions(con)
    warehouse_latest = sessions[-1] if not sessions.empty else None
    if as_of is not None and warehouse_latest is not None and as_of == warehouse_latest.date():
        as_of = None  # the latest session: the tables as stored
    if as_of is not None:
        point_in_time.require_session(con, as_of)
        frames = _as_of(con, frames, as_of)
    # Point in time: valuation figures published after the report's session are not shown.
    if as_of is not None:
        session = pd.Timestamp(as_of)
    elif not frames["relative"].empty:
        session = frames["relative"]["trade_date"].max()
    else:
        session = None
    standing = pd.DataFrame()
    if session is not None:
        valuation = frames["valuation"]
        frames["valuation"] = valuation[valuation["as_of"] <= session].reset_index(drop=True)
        if table_exists(con, VALUATION_HISTORY.schema, VALUATION_HISTORY.name):
            standing = con.execute(standing_sql(f"DATE '{session.date()}'")).df()
    needed = [spec for name, spec in _specs().items() if name in _DASHBOARD_READS]
    needed += [
        table("analytics.daily_returns"),
        table("analytics.valuation_price_proxy"),
        VALUATION_HISTORY,
    ]
    if all(table_exists(con, spec.schema, spec.name) for spec in needed):
        dashboard = read_dashboard(con, as_of)
    else:
        dashboard = pd.DataFrame()
    return ReportInputs(
        **frames,
        dashboard=dashboard,
        valuation_standing=standing,
        leaders=point_in_time.leaders_laggards_as_of(con, as_of),
        events=point_in_time.event_windows_as_of(
            con, session.date() if session is not None else None, as_of
        ),
        as_of=None if as_of is None else pd.Timestamp(as_of),
        warehouse_latest=warehouse_latest,
    )


def _as_of(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame], day: dt.date
) -> dict[str, pd.DataFrame]:
    """The stored frames as of ``day`` (see ``reporting.point_in_time``)."""
    relative = point_in_time.up_to(frames["relative"], day)
    episodes, similarity = point_in_time.episodes_as_of(relative, frames["episodes"], day)
    parallels = point_in_time.parallels_as_of(con, frames["pairs"], relative, day)
    return {
        **frames,
        "relative": relative,
        "streaks": point_in_time.streaks_as_of(con, day),
        "episodes": episodes,
        "similarity": similarity,
        "parallels": parallels if parallels is not None else frames["parallels"].iloc[0:0],
        "claims": point_in_time.claims_as_of(frames["claims"], day),
        "rotation": point_in_time.rotation_as_of(con, day),
    }


CHARTS = {
    "iwm_qqq_rebased": "IWM vs QQQ total return (dividends reinvested) rebased to 100 over the "
    "last 90 sessions",
    "ratio_history": "Each pair's small/large ratio over its history on the pair's basis (price "
    "for index pairs, total return for ETF pairs), streaks of 10+ sessions and rotation episodes "
    "shaded, stale pairs marked",
    "valuation_gap": "Small-cap valuation discount over time per pair (published P/E figures "
    "up to the report's session)",
    "episode_overlay": "The current rotation episode over its most similar past episodes",
    "relative_rotation": "Relative rotation: each instrument against its benchmark, the last 8 "
    "weeks' tails in the RS-ratio / RS-momentum plane, quadrants labelled",
}


def render_chart(name: str, inputs: ReportInputs) -> bytes:
    """PNG bytes of the chart ``name`` (a key of CHARTS)."""
    # matplotlib is imported when a chart is drawn, not when the code location loads.
    from rotation_assets.reporting import charts

    pair_ids = list(inputs.pairs["pair_id"])
    bases = dict(zip(inputs.pairs["pair_id"], inputs.pairs["basis"], strict=True))
    if name == "iwm_qqq_rebased":
        return charts.rebased_pair_chart(
            inputs.relative, "IWM_QQQ", "IWM", "QQQ", 90, bases.get("IWM_QQQ", "total_return")
        )
    if name == "ratio_history":
        return charts.ratio_history_chart(
            inputs.relative, inputs.streaks, inputs.episodes, pair_ids, bases=bases
        )
    if name == "valuation_gap":
        return charts.valuation_gap_chart(inputs.valuation)
    if name == "episode_overlay":
        return charts.episode_overlay_chart(
            inputs.relative, inputs.episodes, inputs.similarity, pair_ids
        )
    if name == "relative_rotation":
        from rotation_assets.reporting.relative_rotation_chart import relative_rotation_chart

        return relative_rotation_chart(inputs.rotation, as_of=inputs.latest_session)
    raise KeyError(f"no chart named {name!r}; charts: {', '.join(CHARTS)}")
