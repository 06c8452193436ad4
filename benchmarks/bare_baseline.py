"""The bare baseline: the same raw and analytics tables as a backfill, without Dagster.

One plain script: pandas reads the CSVs, the project's plain metric functions compute every
analytics table from frames held in memory, and each table is written with a plain DuckDB
``CREATE TABLE`` + ``INSERT``. No audit, no asset checks, no transactions per partition, no
event log: what is left of the project's backfill when the orchestration is taken away, so
``project / baseline`` measures what the orchestration (and its safety nets) cost.

    python benchmarks/bare_baseline.py --price-dir DIR --warehouse FILE --start D --end D \
        [--universe seeds/universe.csv]

Prints one JSON line: rows per table and seconds per stage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import duckdb
import pandas as pd

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
from rotation_assets.metrics.provenance import with_source
from rotation_assets.reference.universe import (
    ROTATION_PAIRS,
    UNIVERSE,
    load_rotation_pairs,
    load_universe,
)
from rotation_assets.sources.csv_prices import price_file_name
from rotation_assets.sources.price_window import RAW_PRICES
from rotation_assets.sources.valuation_snapshots import VALUATION_SNAPSHOTS
from rotation_assets.trading_days import sessions_between
from rotation_assets.warehouse.table_spec import TableSpec


def read_prices(
    price_dir: Path, universe: pd.DataFrame, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Every universe ticker's bars on the sessions of [start, end] from its first date on."""
    sessions = pd.DatetimeIndex(pd.to_datetime(sessions_between(start, end)))
    frames = []
    for ticker, first in zip(universe["ticker"], universe["first_trading_date"], strict=True):
        bars = pd.read_csv(price_dir / price_file_name(ticker), parse_dates=["date"])
        bars = bars[bars["date"].isin(sessions) & (bars["date"] >= first)]
        frames.append(bars.rename(columns={"date": "trade_date"}).assign(ticker=ticker))
    prices = pd.concat(frames, ignore_index=True).sort_values(["trade_date", "ticker"])
    loaded_at = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    return prices.assign(source="csv", loaded_at=loaded_at).reset_index(drop=True)


def write(con: duckdb.DuckDBPyConnection, spec: TableSpec, frame: pd.DataFrame) -> int:
    """A plain CREATE TABLE and INSERT of the frame's columns."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
    con.execute(spec.create_sql())
    table = frame[spec.column_names]
    con.register("frame", table)
    con.execute(f"INSERT INTO {spec.qualified_name} BY NAME SELECT * FROM frame")
    con.unregister("frame")
    return len(table)


def build(price_dir: Path, warehouse: Path, start: dt.date, end: dt.date) -> dict:
    timings: dict[str, float] = {}
    rows: dict[str, int] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    universe = load_universe()
    pairs = load_rotation_pairs(universe)
    events = event_windows.load_market_events()
    claims = claims_check.load_claims()
    periods = historical_parallels.load_historical_periods()
    points = valuation_gap.load_valuation_points()
    prices = read_prices(price_dir, universe, start, end)
    lap("read")

    returns = daily_returns.daily_returns(
        prices[["trade_date", "ticker", "close", "adj_close", "source", "loaded_at"]]
    )
    spreads = pair_spreads.pair_spreads(returns, pairs)
    spreads["source"] = "csv"
    spreads = spreads.sort_values(["pair_id", "trade_date"]).reset_index(drop=True)
    relative = relative_strength.relative_strength(spreads).assign(source="csv")
    relative = relative.sort_values(["pair_id", "trade_date"]).reset_index(drop=True)
    streaks = outperformance_streaks.outperformance_streaks(spreads).assign(source="csv")
    windows = event_windows.event_windows(events, returns, universe).assign(source="csv")
    leaders = leaders_laggards.leaders_laggards(
        returns, universe, events, as_of=returns["trade_date"].max()
    ).assign(source="csv")
    checked = claims_check.check_claims(claims, returns, universe, pairs, streaks)
    closes = prices[["trade_date", "ticker", "close"]]
    parallels = historical_parallels.period_comparison(
        periods, pairs, returns, spreads, relative, closes
    )
    episodes = historical_parallels.detect_episodes(relative, 0.05, 60, 5)
    similarity = historical_parallels.episode_similarity(relative, episodes)
    # The csv source records no P/E snapshots: an empty table, as the warehouse reads it.
    snapshots = VALUATION_SNAPSHOTS.conform(pd.DataFrame(columns=VALUATION_SNAPSHOTS.column_names))
    gap = valuation_gap.valuation_gap(points, snapshots, pairs)
    proxy = valuation_gap.price_ratio_percentile(relative)
    lap("compute")

    tables = [
        (RAW_PRICES, prices),
        (UNIVERSE, universe),
        (ROTATION_PAIRS, pairs),
        (event_windows.MARKET_EVENTS, events),
        (claims_check.CLAIMS, claims),
        (historical_parallels.HISTORICAL_PERIODS, periods),
        (valuation_gap.VALUATION_POINTS, points),
        (daily_returns.DAILY_RETURNS, returns),
        (with_source(pair_spreads.PAIR_SPREADS), spreads),
        (with_source(relative_strength.RELATIVE_STRENGTH), relative),
        (with_source(outperformance_streaks.OUTPERFORMANCE_STREAKS), streaks),
        (with_source(event_windows.EVENT_WINDOWS), windows),
        (with_source(leaders_laggards.LEADERS_LAGGARDS), leaders),
        (with_source(claims_check.CLAIMS_CHECK), checked.assign(source="csv")),
        (with_source(historical_parallels.PERIOD_COMPARISON), parallels.assign(source="csv")),
        (with_source(historical_parallels.EPISODES), episodes.assign(source="csv")),
        (with_source(historical_parallels.SIMILARITY), similarity.assign(source="csv")),
        (valuation_gap.VALUATION_GAP, gap),
        (with_source(valuation_gap.PRICE_RATIO_PERCENTILE), proxy.assign(source="csv")),
    ]
    with duckdb.connect(str(warehouse)) as con:
        for spec, frame in tables:
            rows[spec.qualified_name] = write(con, spec, frame)
    lap("write")
    return {"rows": rows, "seconds": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--price-dir", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True)
    args = parser.parse_args()
    print(json.dumps(build(args.price_dir, args.warehouse, args.start, args.end)))


if __name__ == "__main__":
    main()
