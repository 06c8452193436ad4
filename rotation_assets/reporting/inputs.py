"""What the charts and the HTML report read from the warehouse, and the charts drawn from it.

Read through one (read-only capable) connection; a table that does not exist yet reads as empty,
so a young warehouse still gives charts that say what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from rotation_assets.catalog import table
from rotation_assets.metrics.provenance import combined_source
from rotation_assets.metrics.rotation_dashboard import read_dashboard
from rotation_assets.metrics.valuation_history import VALUATION_HISTORY, standing_sql
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
    # The S&P 500's CAPE and trailing P/E usable on the latest session (one row, or none).
    valuation_standing: pd.DataFrame

    @property
    def source(self) -> str:
        """Price source(s) of the analytics: 'csv', 'synthetic', ... ('unknown' when empty)."""
        return combined_source(self.relative["source"]) if not self.relative.empty else "unknown"

    @property
    def synthetic(self) -> bool:
        return "synthetic" in self.source.split("+")

    @property
    def latest_session(self) -> pd.Timestamp | None:
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


def read_report_inputs(con: duckdb.DuckDBPyConnection) -> ReportInputs:
    frames = {}
    for name, spec in _specs().items():
        frames[name] = spec.with_timestamps(read_table(con, spec))
    # Point in time: valuation figures published after the latest session are not shown.
    latest = frames["relative"]["trade_date"].max() if not frames["relative"].empty else None
    standing = pd.DataFrame()
    if latest is not None:
        valuation = frames["valuation"]
        frames["valuation"] = valuation[valuation["as_of"] <= latest].reset_index(drop=True)
        if table_exists(con, VALUATION_HISTORY.schema, VALUATION_HISTORY.name):
            standing = con.execute(standing_sql(f"DATE '{latest.date()}'")).df()
    needed = [spec for name, spec in _specs().items() if name in _DASHBOARD_READS]
    needed += [
        table("analytics.daily_returns"),
        table("analytics.valuation_price_proxy"),
        VALUATION_HISTORY,
    ]
    if all(table_exists(con, spec.schema, spec.name) for spec in needed):
        dashboard = read_dashboard(con)
    else:
        dashboard = pd.DataFrame()
    return ReportInputs(**frames, dashboard=dashboard, valuation_standing=standing)


CHARTS = {
    "iwm_qqq_rebased": "IWM vs QQQ total return (dividends reinvested) rebased to 100 over the "
    "last 90 sessions",
    "ratio_history": "Each pair's small/large ratio over its history on the pair's basis (price "
    "for index pairs, total return for ETF pairs), streaks of 10+ sessions and rotation episodes "
    "shaded, stale pairs marked",
    "valuation_gap": "Small-cap valuation discount over time per pair (published P/E figures "
    "up to the latest session)",
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
