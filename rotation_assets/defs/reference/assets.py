"""Reference seeds: the universe, the rotation pairs, market events, historical periods, claims
and published valuation points, each from its CSV in ``seeds/`` to a ``reference`` table.

One multi-asset publishes them all on one connection; each table is still its own asset, and
the UI can materialize any subset.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, MaterializeResult, multi_asset

from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL, progress
from rotation_assets.defs.table_assets import materialization_metadata, table_key, table_metadata
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.claims import CLAIMS, load_claims
from rotation_assets.reference.historical_periods import HISTORICAL_PERIODS, load_historical_periods
from rotation_assets.reference.market_events import MARKET_EVENTS, load_market_events
from rotation_assets.reference.universe import (
    ROTATION_PAIRS,
    UNIVERSE,
    load_rotation_pairs,
    load_universe,
    universe_seed_path,
)
from rotation_assets.reference.valuation_points import VALUATION_POINTS, load_valuation_points
from rotation_assets.warehouse.table_spec import TableSpec
from rotation_assets.warehouse.writes import (
    TableWrite,
    drop_if_columns_differ,
    replace_tables_in_transaction,
    transaction,
)


@dataclass(frozen=True)
class Seed:
    spec: TableSpec
    path: Callable[[], Path]
    load: Callable[[], pd.DataFrame]
    deps: tuple[TableSpec, ...] = ()


SEEDS = (
    Seed(UNIVERSE, universe_seed_path, load_universe),
    Seed(
        ROTATION_PAIRS,
        lambda: SEEDS_DIR / "rotation_pairs.csv",
        # Both sides of every pair must be universe tickers.
        lambda: load_rotation_pairs(load_universe()),
        deps=(UNIVERSE,),
    ),
    Seed(MARKET_EVENTS, lambda: SEEDS_DIR / "market_events.csv", load_market_events),
    Seed(HISTORICAL_PERIODS, lambda: SEEDS_DIR / "historical_periods.csv", load_historical_periods),
    Seed(
        CLAIMS,
        lambda: SEEDS_DIR / "claims.csv",
        # Every ticker a claim names is a universe ticker, every pair a rotation pair.
        load_claims,
        deps=(UNIVERSE, ROTATION_PAIRS),
    ),
    Seed(VALUATION_POINTS, lambda: SEEDS_DIR / "valuation_points.csv", load_valuation_points),
)


@multi_asset(
    specs=[
        AssetSpec(
            table_key(seed.spec),
            description=seed.spec.description,
            deps=[table_key(dep) for dep in seed.deps],
            group_name="reference",
            kinds={"duckdb", "csv"},
            owners=OWNERS,
            metadata=table_metadata(seed.spec, seed=str(seed.path())),
        )
        for seed in SEEDS
    ],
    name="reference_seeds",
    backfill_policy=SINGLE_RUN,
    pool=WAREHOUSE_POOL,
    can_subset=True,
)
def reference_seeds(context: AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Every selected seed validated first (errors name file and line, and nothing is written
    when one fails), then each written whole, in one transaction per table."""
    selected = context.selected_asset_keys
    frames = {seed.spec: seed.load() for seed in SEEDS if table_key(seed.spec) in selected}
    with warehouse.connect() as con:
        for spec, frame in frames.items():
            key = table_key(spec)
            with transaction(con):
                # A seed is rewritten whole: a table stored with other columns (an older
                # version of the seed) is created anew, in the same transaction.
                drop_if_columns_differ(con, spec)
                (summary,) = replace_tables_in_transaction(con, [TableWrite(spec, frame)])
            progress.info(f"{spec.qualified_name}: {summary.rows_written} rows")
            yield MaterializeResult(asset_key=key, metadata=materialization_metadata(frame))
