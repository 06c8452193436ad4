"""Analytics: returns, spreads, relative strength, streaks, event windows, leaders and claims.

Each asset is thin wiring: read its inputs from the warehouse, call the plain function that
defines the metric (its module docstring is the definition, shown here as the description),
write the result in one transaction, and report rows and a preview.
"""

import datetime as dt

import pandas as pd
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    TimeWindowPartitionMapping,
    asset,
    multi_asset,
)
from pydantic import Field

from rotation_assets.catalog import ANALYTICS_TABLES, table
from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL
from rotation_assets.defs.partitions import trading_day_partitions
from rotation_assets.defs.prices.assets import CORPORATE_ACTIONS_KEY, RAW_PRICES_KEY
from rotation_assets.defs.prices.sources import PriceSource
from rotation_assets.defs.table_assets import materialization_metadata, table_key, table_metadata
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics import (
    claims_check,
    daily_returns,
    event_windows,
    historical_parallels,
    leaders_laggards,
    outperformance_streaks,
    pair_spreads,
    relative_strength,
    valuation_gap,
)
from rotation_assets.metrics.provenance import combined_source, row_source
from rotation_assets.reference.claims import CLAIMS, read_claims
from rotation_assets.reference.historical_periods import HISTORICAL_PERIODS, read_historical_periods
from rotation_assets.reference.market_events import MARKET_EVENTS, read_market_events
from rotation_assets.reference.universe import (
    ROTATION_PAIRS,
    UNIVERSE,
    read_rotation_pairs,
    read_universe,
)
from rotation_assets.reference.valuation_points import VALUATION_POINTS, read_valuation_points
from rotation_assets.sources.price_window import CORPORATE_ACTIONS
from rotation_assets.sources.valuation_snapshots import (
    VALUATION_SNAPSHOTS,
    fetch_valuation_snapshot,
)
from rotation_assets.trading_days import latest_completed_session, previous_session
from rotation_assets.warehouse.table_spec import TableSpec

DAILY_RETURNS = table("analytics.daily_returns")
PAIR_SPREADS = table("analytics.pair_spreads")
RELATIVE_STRENGTH = table("analytics.relative_strength")
OUTPERFORMANCE_STREAKS = table("analytics.outperformance_streaks")
EVENT_WINDOWS = table("analytics.event_windows")
LEADERS_LAGGARDS = table("analytics.leaders_laggards")
CLAIMS_CHECK = table("analytics.claims_check")
PERIOD_COMPARISON = table("analytics.historical_parallels")
EPISODES = table("analytics.rotation_episodes")
SIMILARITY = table("analytics.episode_similarity")
VALUATION_GAP = table("analytics.valuation_gap")
PRICE_PROXY = table("analytics.valuation_price_proxy")

PREVIOUS_SESSION = TimeWindowPartitionMapping(start_offset=-1)


def warehouse_asset(
    table: TableSpec,
    deps: list,
    description: str | None = None,
    partitioned: bool = False,
    group_name: str = "analytics",
    kinds: frozenset[str] = frozenset({"duckdb", "pandas"}),
):
    """``@asset`` for one warehouse table: key = schema/name, shared owners, pool and metadata.

    Partitioned tables are keyed by trading day and backfill a whole range in one run.
    """
    return asset(
        key=table_key(table),
        group_name=group_name,
        kinds=set(kinds),
        owners=OWNERS,
        pool=WAREHOUSE_POOL,
        deps=deps,
        description=description,
        metadata=table_metadata(table),
        partitions_def=trading_day_partitions() if partitioned else None,
        backfill_policy=SINGLE_RUN,
    )


def _doc(module) -> str:
    return module.__doc__.strip()


def _published(
    context: AssetExecutionContext,
    spec: TableSpec,
    frame: pd.DataFrame,
    rows: int,
    preview: pd.DataFrame | None = None,
) -> MaterializeResult:
    context.log.info(f"{spec.qualified_name}: wrote {rows} rows")
    return MaterializeResult(metadata=materialization_metadata(frame, rows, preview))


def _replace_all(
    context: AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    spec: TableSpec,
    frame: pd.DataFrame,
    preview: pd.DataFrame | None = None,
    asset_key: AssetKey | None = None,
) -> MaterializeResult:
    """Replace the whole table with ``frame`` (one transaction); an empty frame writes nothing.

    ``asset_key`` names the asset when a multi-asset materializes several tables.
    """
    if frame.empty:
        context.log.info(f"{spec.qualified_name}: nothing to compute yet; stored rows unchanged")
        return MaterializeResult(asset_key=asset_key, metadata={"dagster/row_count": 0})
    written = warehouse.replace_rows(spec, frame)
    result = _published(context, spec, frame, written.rows_written, preview)
    return MaterializeResult(asset_key=asset_key, metadata=result.metadata)


def _window(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    keys = context.partition_keys
    return dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])


def read_returns(
    warehouse: DuckDBWarehouse, start: dt.date | None = None, end=None
) -> pd.DataFrame:
    if start is None:
        frame = warehouse.read(DAILY_RETURNS)
    else:
        frame = warehouse.read(DAILY_RETURNS, "trade_date BETWEEN ? AND ?", [start, end])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame


def read_reference(warehouse: DuckDBWarehouse, reader) -> pd.DataFrame:
    """A reference table through its reader (``rotation_assets.reference``)."""
    with warehouse.connect() as con:
        return reader(con)


@warehouse_asset(
    DAILY_RETURNS,
    deps=[
        AssetDep(RAW_PRICES_KEY, partition_mapping=PREVIOUS_SESSION),
        AssetDep(CORPORATE_ACTIONS_KEY, partition_mapping=PREVIOUS_SESSION),
    ],
    description=_doc(daily_returns),
    partitioned=True,
)
def analytics_daily_returns(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    start, end = _window(context)
    before = previous_session(start)
    prices = warehouse.query(
        "SELECT trade_date, ticker, close, adj_close, source, loaded_at FROM raw.prices "
        "WHERE trade_date BETWEEN ? AND ?",
        [before, end],
    )
    # Splits after a row's date re-base its close until it is re-fetched: read them all.
    actions = warehouse.read(CORPORATE_ACTIONS, "trade_date >= ?", [before])
    frame = daily_returns.daily_returns(prices, actions)
    frame = frame[frame["trade_date"] >= pd.Timestamp(start)]
    if frame.empty:
        context.log.info("analytics.daily_returns: no ticker has two sessions in this window")
        return MaterializeResult(metadata={"dagster/row_count": 0})
    written = warehouse.replace_rows(DAILY_RETURNS, frame, window=(start, end))
    return _published(context, DAILY_RETURNS, frame, written.rows_written)


@warehouse_asset(
    PAIR_SPREADS,
    deps=[analytics_daily_returns, table_key(ROTATION_PAIRS)],
    description=_doc(pair_spreads),
    partitioned=True,
)
def analytics_pair_spreads(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    start, end = _window(context)
    returns = read_returns(warehouse, start, end)
    frame = pair_spreads.pair_spreads(returns, read_reference(warehouse, read_rotation_pairs))
    if frame.empty:
        context.log.info("analytics.pair_spreads: no pair has both sides in this window")
        return MaterializeResult(metadata={"dagster/row_count": 0})
    source = returns.set_index(["trade_date", "ticker"])["source"]
    frame["source"] = row_source(
        source.reindex(
            pd.MultiIndex.from_arrays([frame["trade_date"], frame["small"]])
        ).reset_index(drop=True),
        source.reindex(
            pd.MultiIndex.from_arrays([frame["trade_date"], frame["large"]])
        ).reset_index(drop=True),
    )
    written = warehouse.replace_rows(PAIR_SPREADS, frame, window=(start, end))
    return _published(context, PAIR_SPREADS, frame, written.rows_written)


def read_spreads(warehouse: DuckDBWarehouse) -> pd.DataFrame:
    frame = warehouse.read(PAIR_SPREADS).sort_values(["pair_id", "trade_date"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame.reset_index(drop=True)


@warehouse_asset(
    RELATIVE_STRENGTH,
    deps=[analytics_pair_spreads],
    description=_doc(relative_strength),
)
def analytics_relative_strength(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    spreads = read_spreads(warehouse)
    frame = relative_strength.relative_strength(spreads)
    if not frame.empty:
        frame = frame.merge(
            spreads[["trade_date", "pair_id", "source"]], on=["trade_date", "pair_id"]
        )
    latest = frame[frame["trade_date"] == frame["trade_date"].max()] if not frame.empty else frame
    return _replace_all(context, warehouse, RELATIVE_STRENGTH, frame, preview=latest)


@warehouse_asset(
    OUTPERFORMANCE_STREAKS,
    deps=[analytics_pair_spreads],
    description=_doc(outperformance_streaks),
)
def analytics_outperformance_streaks(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    spreads = read_spreads(warehouse)
    frame = outperformance_streaks.outperformance_streaks(spreads)
    frame["source"] = combined_source(spreads["source"])
    current = frame[frame["is_current"].fillna(False).astype(bool)]
    return _replace_all(context, warehouse, OUTPERFORMANCE_STREAKS, frame, preview=current)


@warehouse_asset(
    EVENT_WINDOWS,
    deps=[analytics_daily_returns, table_key(MARKET_EVENTS), table_key(UNIVERSE)],
    description=_doc(event_windows),
)
def analytics_event_windows(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    returns = read_returns(warehouse)
    frame = event_windows.event_windows(
        read_reference(warehouse, read_market_events),
        returns,
        read_reference(warehouse, read_universe),
    )
    frame["source"] = combined_source(returns["source"])
    return _replace_all(context, warehouse, EVENT_WINDOWS, frame)


@warehouse_asset(
    LEADERS_LAGGARDS,
    deps=[analytics_daily_returns, table_key(MARKET_EVENTS), table_key(UNIVERSE)],
    description=_doc(leaders_laggards),
)
def analytics_leaders_laggards(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    returns = read_returns(warehouse)
    if returns.empty:
        return _replace_all(context, warehouse, LEADERS_LAGGARDS, returns)
    frame = leaders_laggards.leaders_laggards(
        returns,
        read_reference(warehouse, read_universe),
        read_reference(warehouse, read_market_events),
        as_of=returns["trade_date"].max(),
    )
    frame["source"] = combined_source(returns["source"])
    return _replace_all(context, warehouse, LEADERS_LAGGARDS, frame)


@warehouse_asset(
    CLAIMS_CHECK,
    deps=[
        analytics_daily_returns,
        analytics_outperformance_streaks,
        table_key(CLAIMS),
        table_key(UNIVERSE),
    ],
    description=_doc(claims_check),
)
def analytics_claims_check(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    returns = read_returns(warehouse)
    streaks = warehouse.read(OUTPERFORMANCE_STREAKS)
    for column in ("start_date", "end_date", "longest_since"):
        streaks[column] = pd.to_datetime(streaks[column])
    frame = claims_check.check_claims(
        read_reference(warehouse, read_claims),
        returns,
        read_reference(warehouse, read_universe),
        read_reference(warehouse, read_rotation_pairs),
        streaks,
    )
    frame["source"] = combined_source(returns["source"])
    result = _replace_all(context, warehouse, CLAIMS_CHECK, frame)
    verdicts = frame["verdict"].value_counts().to_dict()
    context.log.info(f"analytics.claims_check: {verdicts}")
    return MaterializeResult(metadata={**result.metadata, "verdicts": verdicts})


class EpisodeConfig(Config):
    """How a rotation episode is detected (launchpad: ops > historical_parallels > config)."""

    threshold: float = Field(
        default=0.05, description="ratio_change over the window must exceed this (0.05 = 5%)."
    )
    window: int = Field(
        default=60,
        description="Sessions of the ratio_change that defines an episode (1, 5, "
        "20, 60, 90 or 252).",
    )
    min_sessions: int = Field(
        default=5,
        description="Shortest stretch kept: with 1, the ratio hovering at the threshold makes "
        "hundreds of one-session 'episodes' (505 on the real data).",
    )


PARALLELS_KEY = table_key(PERIOD_COMPARISON)
EPISODES_KEY = table_key(EPISODES)
SIMILARITY_KEY = table_key(SIMILARITY)


def _spec(key: AssetKey, table: TableSpec, deps: list, description: str) -> AssetSpec:
    return AssetSpec(
        key,
        deps=deps,
        description=description,
        group_name="analytics",
        kinds={"duckdb", "pandas"},
        owners=OWNERS,
        metadata=table_metadata(table),
    )


@multi_asset(
    specs=[
        _spec(
            PARALLELS_KEY,
            PERIOD_COMPARISON,
            [analytics_daily_returns, analytics_relative_strength, table_key(HISTORICAL_PERIODS)],
            "Each seeded historical period (2000-2006 post dot-com, 2016-17 post-election, "
            "2026, ...) measured per pair: price and total returns of both sides, relative "
            "return, share of sessions led by small, longest small streak, maximum relative "
            "drawdown.\n\n" + _doc(historical_parallels),
        ),
        _spec(
            EPISODES_KEY,
            EPISODES,
            [analytics_relative_strength],
            "Detected rotation episodes: maximal stretches in which a pair's ratio_change over "
            "`window` sessions stayed above `threshold` (run config).",
        ),
        _spec(
            SIMILARITY_KEY,
            SIMILARITY,
            [analytics_relative_strength],
            "The current episode of each pair compared with the first N sessions of every past "
            "episode of that pair: correlation and RMSE of the rebased ratio paths, ranked.",
        ),
    ],
    name="historical_parallels",
    backfill_policy=SINGLE_RUN,
    pool=WAREHOUSE_POOL,
)
def analytics_historical_parallels(
    context: AssetExecutionContext, config: EpisodeConfig, warehouse: DuckDBWarehouse
):
    returns = read_returns(warehouse)
    spreads = read_spreads(warehouse)
    relative = warehouse.read(RELATIVE_STRENGTH)
    relative["trade_date"] = pd.to_datetime(relative["trade_date"])
    relative = relative.sort_values(["pair_id", "trade_date"]).reset_index(drop=True)
    closes = warehouse.query("SELECT trade_date, ticker, close FROM raw.prices")
    closes["trade_date"] = pd.to_datetime(closes["trade_date"])
    label = combined_source(returns["source"])

    parallels = historical_parallels.period_comparison(
        read_reference(warehouse, read_historical_periods),
        read_reference(warehouse, read_rotation_pairs),
        returns,
        spreads,
        relative,
        closes,
    )
    episodes = historical_parallels.detect_episodes(
        relative, config.threshold, config.window, config.min_sessions
    )
    similarity = historical_parallels.episode_similarity(relative, episodes)
    for key, spec, frame in (
        (PARALLELS_KEY, PERIOD_COMPARISON, parallels),
        (EPISODES_KEY, EPISODES, episodes),
        (SIMILARITY_KEY, SIMILARITY, similarity),
    ):
        frame["source"] = label
        yield _replace_all(context, warehouse, spec, frame, asset_key=key)


@warehouse_asset(
    VALUATION_SNAPSHOTS,
    deps=[table_key(ROTATION_PAIRS)],
    partitioned=True,
    group_name="prices",
    kinds=frozenset({"duckdb", "python"}),
)
def raw_valuation_snapshots(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, price_source: PriceSource
) -> MaterializeResult:
    """Trailing and forward P/E of the pair tickers from yfinance ``Ticker.info``, recorded on
    live days only: Yahoo keeps no P/E history, so a snapshot describes today and is stored
    for the latest completed session when the yfinance source loads it. Backfills of past
    sessions and the csv and demo sources record nothing, and say so."""
    start, end = _window(context)
    latest = latest_completed_session()
    if price_source.label != "yfinance" or end != latest:
        why = (
            f"the {price_source.label} source has no P/E"
            if price_source.label != "yfinance"
            else f"{end} is not the latest completed session ({latest}): Ticker.info is today's"
        )
        context.log.info(f"raw.valuation_snapshots: nothing recorded ({why})")
        return MaterializeResult(
            metadata={"dagster/row_count": 0, "note": f"nothing recorded: {why}"}
        )
    pairs = read_reference(warehouse, read_rotation_pairs)
    tickers = sorted(set(pairs["small"]) | set(pairs["large"]))
    frame, problems = fetch_valuation_snapshot(tickers, end)
    for problem in problems:
        context.log.warning(f"raw.valuation_snapshots: {problem}")
    if frame.empty:
        return MaterializeResult(metadata={"dagster/row_count": 0, "problems": problems})
    written = warehouse.replace_rows(VALUATION_SNAPSHOTS, frame, window=(end, end))
    return MaterializeResult(
        metadata={"dagster/row_count": written.rows_written, "problems": problems}
    )


@warehouse_asset(
    VALUATION_GAP,
    deps=[table_key(VALUATION_POINTS), raw_valuation_snapshots, table_key(ROTATION_PAIRS)],
    description=_doc(valuation_gap),
)
def analytics_valuation_gap(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    frame = valuation_gap.valuation_gap(
        read_reference(warehouse, read_valuation_points),
        warehouse.read(VALUATION_SNAPSHOTS),
        read_reference(warehouse, read_rotation_pairs),
    )
    return _replace_all(context, warehouse, VALUATION_GAP, frame)


@warehouse_asset(
    PRICE_PROXY,
    deps=[analytics_relative_strength],
    description="PRICE-ONLY PROXY, not a valuation: the percentile of each pair's small/large "
    "total-return ratio within its trailing 25 years. See analytics/valuation_gap for P/E.",
)
def analytics_valuation_price_proxy(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse
) -> MaterializeResult:
    relative = warehouse.read(RELATIVE_STRENGTH)
    relative["trade_date"] = pd.to_datetime(relative["trade_date"])
    frame = valuation_gap.price_ratio_percentile(relative)
    frame["source"] = combined_source(relative["source"])
    return _replace_all(context, warehouse, PRICE_PROXY, frame)


ANALYTICS_KEYS = [table_key(spec) for spec in ANALYTICS_TABLES]
