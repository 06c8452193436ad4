"""The analytics tables, in dependency order: what each reads and how it is (re)built.

Tables kept by session (``daily_returns``, ``pair_spreads``, ``relative_strength``,
``valuation_price_proxy``) are rebuilt from the first changed session on; the others are small
summaries recomputed whole when their inputs changed (``metrics.refresh``). SQL runs in DuckDB
over the warehouse; the metrics that are clearer in pandas read only what they need (the pairs'
rows, the claims' tickers), never the whole of ``raw.prices``.
"""

from __future__ import annotations

import inspect

import duckdb
import pandas as pd

from rotation_assets.metrics import (
    claim_parts,
    claim_readings,
    claim_verdicts,
    claims_check,
    daily_returns,
    event_windows,
    historical_parallels,
    leaders_laggards,
    outperformance_streaks,
    pair_spreads,
    relative_rotation,
    relative_strength,
    valuation_gap,
    valuation_history,
)
from rotation_assets.metrics.provenance import combined_source, with_source
from rotation_assets.metrics.refresh import DerivedTable, Scope
from rotation_assets.reference.claims import read_claims
from rotation_assets.reference.historical_periods import read_historical_periods
from rotation_assets.reference.universe import read_rotation_pairs, read_universe
from rotation_assets.reference.valuation_points import read_valuation_points
from rotation_assets.sources.price_window import CORPORATE_ACTIONS, RAW_PRICES
from rotation_assets.sources.shiller_monthly import SHILLER_MONTHLY
from rotation_assets.sources.valuation_snapshots import VALUATION_SNAPSHOTS
from rotation_assets.warehouse.writes import read_table

DAILY_RETURNS = daily_returns.DAILY_RETURNS
PAIR_SPREADS = pair_spreads.PAIR_SPREADS
RELATIVE_STRENGTH = relative_strength.RELATIVE_STRENGTH
PRICE_PROXY = valuation_gap.PRICE_RATIO_PERCENTILE
VALUATION_GAP = valuation_gap.VALUATION_GAP
VALUATION_HISTORY = valuation_history.VALUATION_HISTORY
OUTPERFORMANCE_STREAKS = outperformance_streaks.OUTPERFORMANCE_STREAKS
EVENT_WINDOWS = event_windows.EVENT_WINDOWS
LEADERS_LAGGARDS = leaders_laggards.LEADERS_LAGGARDS
RELATIVE_ROTATION = relative_rotation.RELATIVE_ROTATION
CLAIM_PARTS = with_source(claim_parts.CLAIM_PARTS)
CLAIMS_CHECK = with_source(claims_check.CLAIMS_CHECK)
PERIOD_COMPARISON = with_source(historical_parallels.PERIOD_COMPARISON)
EPISODES = with_source(historical_parallels.EPISODES)
SIMILARITY = with_source(historical_parallels.SIMILARITY)

# Run config of episode detection (the analytics op's config, ``AnalyticsConfig``), with its
# defaults; part of rotation_episodes' fingerprint. README "Historical parallels: definitions"
# gives the episode counts behind each default.
EPISODE_SETTINGS = {"threshold": 0.05, "window": 60, "end_drawdown": 0.05, "merge_gap_sessions": 20}


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _pair_tickers(con: duckdb.DuckDBPyConnection) -> list[str]:
    pairs = read_rotation_pairs(con)
    return sorted(set(pairs["small"]) | set(pairs["large"]))


def _returns_of(con: duckdb.DuckDBPyConnection, tickers: list[str]) -> pd.DataFrame:
    frame = _query(
        con,
        f"SELECT * FROM {DAILY_RETURNS.qualified_name} WHERE list_contains(?, ticker)",
        [tickers],
    )
    return DAILY_RETURNS.with_timestamps(frame)


def _market_sessions(con: duckdb.DuckDBPyConnection) -> pd.DatetimeIndex:
    dates = _query(con, f"SELECT DISTINCT trade_date FROM {DAILY_RETURNS.qualified_name}")
    return pd.DatetimeIndex(pd.to_datetime(dates["trade_date"])).sort_values()


def _spreads(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = read_table(con, PAIR_SPREADS).sort_values(["pair_id", "trade_date"])
    return PAIR_SPREADS.with_timestamps(frame).reset_index(drop=True)


def _relative(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = read_table(con, RELATIVE_STRENGTH).sort_values(["pair_id", "trade_date"])
    return RELATIVE_STRENGTH.with_timestamps(frame).reset_index(drop=True)


def build_daily_returns(con: duckdb.DuckDBPyConnection, scope: Scope) -> str:
    prices = RAW_PRICES.qualified_name
    if scope.since is not None:
        # From each ticker's bar of the last stored session before the first one rebuilt.
        prices = (
            f"(SELECT * FROM {prices} WHERE trade_date >= (SELECT coalesce(max(trade_date), "
            f"{scope.since_sql()}) FROM {prices} WHERE trade_date < {scope.since_sql()}))"
        )
    return daily_returns.daily_returns_sql(
        prices, CORPORATE_ACTIONS.qualified_name, scope.since_sql()
    )


def build_pair_spreads(con: duckdb.DuckDBPyConnection, scope: Scope) -> str:
    return pair_spreads.pair_spreads_sql(
        DAILY_RETURNS.qualified_name, "reference.rotation_pairs", scope.since_sql()
    )


def build_relative_strength(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    since = None if scope.since is None else pd.Timestamp(scope.since)
    return relative_strength.relative_strength(_spreads(con), since)


def build_price_proxy(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    since = None if scope.since is None else pd.Timestamp(scope.since)
    return valuation_gap.price_ratio_percentile(_relative(con), since=since)


def build_streaks(con: duckdb.DuckDBPyConnection, scope: Scope) -> str:
    return outperformance_streaks.outperformance_streaks_sql(PAIR_SPREADS.qualified_name)


def build_event_windows(con: duckdb.DuckDBPyConnection, scope: Scope) -> str:
    return event_windows.event_windows_sql(
        "reference.market_events", DAILY_RETURNS.qualified_name, "reference.universe"
    )


def build_leaders_laggards(con: duckdb.DuckDBPyConnection, scope: Scope) -> str:
    # As of the newest session with returns (None: the SQL's own max(trade_date)).
    return leaders_laggards.leaders_laggards_sql(
        DAILY_RETURNS.qualified_name, "reference.universe", "reference.market_events"
    )


def build_relative_rotation(con: duckdb.DuckDBPyConnection, scope: Scope) -> str:
    # Every universe instrument that has a benchmark (reference.universe.benchmark).
    return relative_rotation.relative_rotation_sql(
        DAILY_RETURNS.qualified_name,
        "(SELECT ticker, benchmark FROM reference.universe WHERE benchmark IS NOT NULL)",
    )


def _claim_inputs(
    con: duckdb.DuckDBPyConnection,
) -> tuple[pd.DataFrame, claim_readings.ClaimInputs]:
    """The claims and what they are checked against: the returns of every ticker they name
    (alternatives, benchmarks and pair legs included), the named pairs' spreads and price-ratio
    percentiles, the published P/E points and the Shiller history."""
    claims = read_claims(con)
    universe = read_universe(con)
    pairs = read_rotation_pairs(con)
    legs = pairs.set_index("pair_id")[["small", "large"]]
    benchmarks = dict(zip(universe["ticker"], universe["benchmark"], strict=True))
    named: set[str] = set()
    for column in ("tickers", "alternative_tickers"):
        for value in claims[column].dropna():
            named |= {t.strip() for t in value.split("|") if t.strip()}
    pair_ids = sorted(named & set(legs.index))
    tickers = (named - set(pair_ids)) | {t for p in pair_ids for t in legs.loc[p]}
    tickers |= {benchmarks[t] for t in list(tickers) if isinstance(benchmarks.get(t), str)}
    spreads = PAIR_SPREADS.with_timestamps(
        _query(
            con,
            f"SELECT * FROM {PAIR_SPREADS.qualified_name} WHERE list_contains(?, pair_id)",
            [pair_ids],
        )
    )
    proxy = PRICE_PROXY.with_timestamps(
        _query(
            con,
            f"SELECT * FROM {PRICE_PROXY.qualified_name} WHERE list_contains(?, pair_id)",
            [pair_ids],
        )
    )
    inputs = claim_readings.ClaimInputs(
        returns=_returns_of(con, sorted(tickers)),
        universe=universe,
        pairs=pairs,
        spreads=spreads,
        sessions=_market_sessions(con),
        valuation_points=read_valuation_points(con),
        price_proxy=proxy,
        valuation_history=VALUATION_HISTORY.with_timestamps(read_table(con, VALUATION_HISTORY)),
    )
    return claims, inputs


def build_claim_parts(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    claims, inputs = _claim_inputs(con)
    frame = claim_parts.claim_parts(claims, inputs)
    frame["source"] = combined_source(inputs.returns["source"])
    return frame


def build_claims_check(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    claims, inputs = _claim_inputs(con)
    frame = claims_check.check_claims(claims, inputs)
    frame["source"] = combined_source(inputs.returns["source"])
    return frame


def build_parallels(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    tickers = _pair_tickers(con)
    returns = _returns_of(con, tickers)
    closes = _query(
        con,
        f"SELECT trade_date, ticker, close FROM {RAW_PRICES.qualified_name} "
        "WHERE list_contains(?, ticker)",
        [tickers],
    )
    closes["trade_date"] = pd.to_datetime(closes["trade_date"])
    frame = historical_parallels.period_comparison(
        read_historical_periods(con),
        read_rotation_pairs(con),
        returns,
        _spreads(con),
        _relative(con),
        closes,
        sessions=_market_sessions(con),
    )
    frame["source"] = combined_source(returns["source"])
    return frame


def build_episodes(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    settings = {k: scope.settings.get(k, v) for k, v in EPISODE_SETTINGS.items()}
    relative = _relative(con)
    frame = historical_parallels.detect_episodes(
        relative,
        threshold=settings["threshold"],
        window=settings["window"],
        end_drawdown=settings["end_drawdown"],
        merge_gap_sessions=settings["merge_gap_sessions"],
    )
    frame["source"] = combined_source(relative["source"])
    return frame


def build_similarity(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    relative = _relative(con)
    episodes = EPISODES.with_timestamps(read_table(con, EPISODES))
    frame = historical_parallels.episode_similarity(relative, episodes)
    frame["source"] = combined_source(relative["source"])
    return frame


def build_valuation_gap(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    return valuation_gap.valuation_gap(
        read_valuation_points(con),
        read_table(con, VALUATION_SNAPSHOTS),
        read_rotation_pairs(con),
    )


def build_valuation_history(con: duckdb.DuckDBPyConnection, scope: Scope) -> pd.DataFrame:
    return valuation_history.valuation_history(read_table(con, SHILLER_MONTHLY))


def _derived(spec, reads, build, modules, by_session=None, settings=()) -> DerivedTable:
    doc = (modules[0].__doc__ or "").strip()
    returns_sql = inspect.signature(build).return_annotation in (str, "str")
    return DerivedTable(
        spec,
        tuple(reads),
        build,
        tuple(modules),
        doc,
        by_session,
        tuple(settings),
        "sql" if returns_sql else "pandas",
    )


# What the claims read (both claims tables: the parts and the claims judged by them).
_CLAIM_READS = [
    "analytics.daily_returns",
    "analytics.pair_spreads",
    "analytics.valuation_price_proxy",
    "analytics.valuation_history",
    "reference.claims",
    "reference.universe",
    "reference.rotation_pairs",
    "reference.valuation_points",
]

ANALYTICS_TABLES: tuple[DerivedTable, ...] = (
    _derived(
        DAILY_RETURNS,
        ["raw.prices", "raw.corporate_actions"],
        build_daily_returns,
        [daily_returns],
        by_session="trade_date",
    ),
    _derived(
        PAIR_SPREADS,
        ["analytics.daily_returns", "reference.rotation_pairs"],
        build_pair_spreads,
        [pair_spreads],
        by_session="trade_date",
    ),
    _derived(
        RELATIVE_STRENGTH,
        ["analytics.pair_spreads"],
        build_relative_strength,
        [relative_strength],
        by_session="trade_date",
    ),
    _derived(
        OUTPERFORMANCE_STREAKS,
        ["analytics.pair_spreads"],
        build_streaks,
        [outperformance_streaks],
    ),
    _derived(
        PRICE_PROXY,
        ["analytics.relative_strength"],
        build_price_proxy,
        [valuation_gap],
        by_session="trade_date",
    ),
    _derived(
        EVENT_WINDOWS,
        ["analytics.daily_returns", "reference.market_events", "reference.universe"],
        build_event_windows,
        [event_windows],
    ),
    _derived(
        LEADERS_LAGGARDS,
        ["analytics.daily_returns", "reference.market_events", "reference.universe"],
        build_leaders_laggards,
        [leaders_laggards, event_windows],
    ),
    _derived(
        RELATIVE_ROTATION,
        ["analytics.daily_returns", "reference.universe"],
        build_relative_rotation,
        [relative_rotation],
    ),
    _derived(
        PERIOD_COMPARISON,
        [
            "analytics.daily_returns",
            "analytics.pair_spreads",
            "analytics.relative_strength",
            "reference.historical_periods",
            "reference.rotation_pairs",
            "raw.prices",
        ],
        build_parallels,
        [historical_parallels],
    ),
    _derived(
        EPISODES,
        ["analytics.relative_strength"],
        build_episodes,
        [historical_parallels],
        settings=EPISODE_SETTINGS,
    ),
    _derived(
        SIMILARITY,
        ["analytics.relative_strength", "analytics.rotation_episodes"],
        build_similarity,
        [historical_parallels],
    ),
    _derived(
        VALUATION_GAP,
        ["reference.valuation_points", "raw.valuation_snapshots", "reference.rotation_pairs"],
        build_valuation_gap,
        [valuation_gap],
    ),
    _derived(
        VALUATION_HISTORY,
        ["raw.shiller_monthly"],
        build_valuation_history,
        [valuation_history],
    ),
    _derived(
        CLAIM_PARTS,
        _CLAIM_READS,
        build_claim_parts,
        [claim_parts, claim_readings, claim_verdicts, outperformance_streaks],
    ),
    _derived(
        CLAIMS_CHECK,
        _CLAIM_READS,
        build_claims_check,
        [claims_check, claim_parts, claim_readings, claim_verdicts, outperformance_streaks],
    ),
)
