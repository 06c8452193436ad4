"""The bare baseline: the same raw, reference and analytics tables as a backfill, without Dagster.

One plain script, what is left of ``rotation backfill`` when the orchestration and its safety
nets are taken away:

* the seeds read by the project's own loaders (``load_universe`` ... ``load_valuation_points``)
  and written with a plain ``CREATE TABLE`` + ``INSERT``;
* the prices read by the project's CSV reader (``csv_prices.read_prices``), kept to the sessions
  and to each ticker's listing as ``fetch_price_window`` does, but not audited, and written with
  one ``INSERT`` (no window replace, no first-seen ``loaded_at`` merge); the load record is one
  ``INSERT`` of one row;
* Shiller's monthly data read by the project's CSV reader (``shiller_csv``) from the default
  file, when it is there, and written with one ``INSERT`` with its one load record;
* every analytics table built by the project's own build functions
  (``analytics_tables.ANALYTICS_TABLES``: the ``*_sql`` SELECTs run as ``INSERT ... BY NAME``,
  the pandas metrics as frames), whole, in dependency order, on one plain DuckDB connection,
  then the dashboard view.

Left out: the price audit and every asset check, the Great Expectations suite, the refresh
bookkeeping (``meta.refresh_state``, fingerprints), transactions, the warehouse snapshot, the
charts, the event log and Dagster itself. So ``project / baseline`` measures what the
orchestration and the safety nets cost.

    python benchmarks/bare_baseline.py --price-dir DIR --warehouse FILE --start D --end D \
        [--universe FILE]

Prints one JSON line: rows per table and seconds per stage (and per analytics table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import duckdb
import pandas as pd

from rotation_assets.metrics.analytics_tables import ANALYTICS_TABLES, EPISODE_SETTINGS
from rotation_assets.metrics.refresh import Scope
from rotation_assets.metrics.rotation_dashboard import create_dashboard_view
from rotation_assets.reference.claims import CLAIMS, load_claims
from rotation_assets.reference.historical_periods import HISTORICAL_PERIODS, load_historical_periods
from rotation_assets.reference.market_events import MARKET_EVENTS, load_market_events
from rotation_assets.reference.universe import (
    ROTATION_PAIRS,
    UNIVERSE,
    load_rotation_pairs,
    load_universe,
    tickers_in_window,
)
from rotation_assets.reference.valuation_points import VALUATION_POINTS, load_valuation_points
from rotation_assets.sources.csv_prices import read_prices
from rotation_assets.sources.price_window import CORPORATE_ACTIONS, PRICE_LOADS, RAW_PRICES
from rotation_assets.sources.shiller_csv import (
    DEFAULT_SHILLER_FILE,
    parse_shiller_csv,
    read_shiller_file,
)
from rotation_assets.sources.shiller_monthly import SHILLER_LOADS, SHILLER_MONTHLY
from rotation_assets.sources.valuation_snapshots import VALUATION_SNAPSHOTS
from rotation_assets.trading_days import sessions_between
from rotation_assets.warehouse.table_spec import TableSpec


def prices_frame(
    price_dir: Path, universe: pd.DataFrame, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """``raw.prices`` rows of [start, end]: what ``stage_price_window`` keeps, without its
    audit."""
    sessions = sessions_between(start, end)
    frame = read_prices(price_dir, tickers_in_window(universe, start, end), start, end)
    frame = frame.assign(trade_date=pd.to_datetime(frame["trade_date"]).dt.normalize())
    by_ticker = universe.set_index("ticker")
    keep = (
        frame["trade_date"].isin(pd.DatetimeIndex(pd.to_datetime(sessions)))
        & (frame["trade_date"] >= frame["ticker"].map(by_ticker["first_trading_date"]))
        & ~(frame["trade_date"] > frame["ticker"].map(by_ticker["last_trading_date"]))
    )
    frame = frame[keep].sort_values(["trade_date", "ticker"])
    loaded_at = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    return RAW_PRICES.conform(frame.assign(source="csv", loaded_at=loaded_at))


def write(con: duckdb.DuckDBPyConnection, spec: TableSpec, frame: pd.DataFrame) -> int:
    """A plain CREATE TABLE and INSERT of the frame's columns."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
    con.execute(spec.create_sql())
    if len(frame):
        con.register("frame", frame[spec.column_names])
        con.execute(f"INSERT INTO {spec.qualified_name} BY NAME SELECT * FROM frame")
        con.unregister("frame")
    return len(frame)


def build(
    price_dir: Path, warehouse: Path, start: dt.date, end: dt.date, universe_path: Path | None
) -> dict:
    timings: dict[str, float] = {}
    rows: dict[str, int] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    with duckdb.connect(str(warehouse)) as con:
        universe = load_universe(universe_path)
        seeds = [
            (UNIVERSE, universe),
            (ROTATION_PAIRS, load_rotation_pairs(universe)),
            (MARKET_EVENTS, load_market_events()),
            (HISTORICAL_PERIODS, load_historical_periods()),
            (CLAIMS, load_claims()),
            (VALUATION_POINTS, load_valuation_points()),
        ]
        for spec, frame in seeds:
            rows[spec.qualified_name] = write(con, spec, frame)
        lap("seeds")

        prices = prices_frame(price_dir, universe, start, end)
        lap("read_prices")
        rows[RAW_PRICES.qualified_name] = write(con, RAW_PRICES, prices)
        # The csv source records no corporate actions and no P/E snapshots: empty tables.
        rows[CORPORATE_ACTIONS.qualified_name] = write(con, CORPORATE_ACTIONS, pd.DataFrame())
        rows[VALUATION_SNAPSHOTS.qualified_name] = write(con, VALUATION_SNAPSHOTS, pd.DataFrame())
        sessions = sessions_between(start, end)
        load = pd.DataFrame(
            [[1, sessions[0], sessions[-1], len(sessions), len(prices), len(prices), "csv"]],
            columns=PRICE_LOADS.column_names[:-1],
        ).assign(loaded_at=prices["loaded_at"].iat[0])
        rows[PRICE_LOADS.qualified_name] = write(con, PRICE_LOADS, load)
        lap("write_prices")

        shiller, shiller_loads = pd.DataFrame(), pd.DataFrame()
        if DEFAULT_SHILLER_FILE.is_file():  # as the asset: an absent default file loads nothing
            content = read_shiller_file(DEFAULT_SHILLER_FILE)
            shiller = parse_shiller_csv(content).assign(loaded_at=prices["loaded_at"].iat[0])
            shiller_loads = pd.DataFrame(
                [
                    {
                        "load_id": 1,
                        "origin": content.origin,
                        "content_md5": content.md5,
                        "first_month": shiller["month"].min(),
                        "last_month": shiller["month"].max(),
                        "months": len(shiller),
                        "rows_changed": len(shiller),
                        "loaded_at": prices["loaded_at"].iat[0],
                    }
                ]
            )
        rows[SHILLER_MONTHLY.qualified_name] = write(con, SHILLER_MONTHLY, shiller)
        rows[SHILLER_LOADS.qualified_name] = write(con, SHILLER_LOADS, shiller_loads)
        lap("shiller")

        scope = Scope(None, dict(EPISODE_SETTINGS))
        for table in ANALYTICS_TABLES:
            spec = table.spec
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
            con.execute(spec.create_sql())
            built = table.build(con, scope)
            if isinstance(built, str):
                (count,) = con.execute(
                    f"INSERT INTO {spec.qualified_name} BY NAME {built}"
                ).fetchone()
                rows[spec.qualified_name] = int(count)
            else:
                rows[spec.qualified_name] = write(con, spec, spec.conform(built))
            lap(spec.qualified_name)
        create_dashboard_view(con)
        rows["analytics.rotation_dashboard"] = con.execute(
            "SELECT count(*) FROM analytics.rotation_dashboard"
        ).fetchone()[0]
        lap("dashboard_view")
    analytics = sum(v for k, v in timings.items() if k.startswith("analytics."))
    return {
        "rows": rows,
        "seconds": {**timings, "analytics_total": round(analytics, 3)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--price-dir", type=Path, required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--universe", type=Path, help="universe seed (default: the project's)")
    args = parser.parse_args()
    began = time.perf_counter()
    out = build(args.price_dir, args.warehouse, args.start, args.end, args.universe)
    out["seconds"]["build_total"] = round(time.perf_counter() - began, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
