"""Every warehouse table and view as stored, in the order a reader meets them.

Each table's columns are defined once, in the module that computes it; this list says which
tables the warehouse holds. Analytics tables carry a ``source`` column beside their measures
(``metrics.provenance``). The table guide, the assets' definitions, the published snapshot's
dependencies and the checks that every table is documented all read this list.
"""

from __future__ import annotations

from rotation_assets.metrics import analytics_tables
from rotation_assets.metrics.refresh import REFRESH_STATE
from rotation_assets.metrics.rotation_dashboard import ROTATION_DASHBOARD
from rotation_assets.reference.claims import CLAIMS
from rotation_assets.reference.historical_periods import HISTORICAL_PERIODS
from rotation_assets.reference.market_events import MARKET_EVENTS
from rotation_assets.reference.universe import ROTATION_PAIRS, UNIVERSE
from rotation_assets.reference.valuation_points import VALUATION_POINTS
from rotation_assets.sources.price_window import CORPORATE_ACTIONS, PRICE_LOADS, RAW_PRICES
from rotation_assets.sources.shiller_monthly import SHILLER_LOADS, SHILLER_MONTHLY
from rotation_assets.sources.valuation_snapshots import VALUATION_SNAPSHOTS
from rotation_assets.warehouse.table_spec import TableSpec

REFERENCE_TABLES: tuple[TableSpec, ...] = (
    UNIVERSE,
    ROTATION_PAIRS,
    MARKET_EVENTS,
    HISTORICAL_PERIODS,
    CLAIMS,
    VALUATION_POINTS,
)
RAW_TABLES: tuple[TableSpec, ...] = (
    RAW_PRICES,
    CORPORATE_ACTIONS,
    PRICE_LOADS,
    VALUATION_SNAPSHOTS,
    SHILLER_MONTHLY,
    SHILLER_LOADS,
)
ANALYTICS_TABLES: tuple[TableSpec, ...] = tuple(t.spec for t in analytics_tables.ANALYTICS_TABLES)
VIEWS: tuple[TableSpec, ...] = (ROTATION_DASHBOARD,)
# Bookkeeping of the refresh: in the warehouse and the snapshot, but no asset of its own.
META_TABLES: tuple[TableSpec, ...] = (REFRESH_STATE,)
ASSET_TABLES: tuple[TableSpec, ...] = (*REFERENCE_TABLES, *RAW_TABLES, *ANALYTICS_TABLES, *VIEWS)
ALL_TABLES: tuple[TableSpec, ...] = (*ASSET_TABLES, *META_TABLES)

_BY_NAME = {spec.qualified_name: spec for spec in ALL_TABLES}


def table(qualified_name: str) -> TableSpec:
    """The stored table (or view) ``schema.name``, e.g. ``table('analytics.pair_spreads')``."""
    try:
        return _BY_NAME[qualified_name]
    except KeyError:
        raise KeyError(f"no warehouse table {qualified_name!r}") from None
