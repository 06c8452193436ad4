"""Every warehouse table and view as stored, in the order a reader meets them.

Each table's columns are defined once, in the module that computes it; this list says which
tables the warehouse holds. Analytics tables carry a ``source`` column beside their measures
(``metrics.provenance``). The table guide, the published snapshot's dependencies and the
checks that every table is documented all read this list.
"""

from __future__ import annotations

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
from rotation_assets.metrics.rotation_dashboard import ROTATION_DASHBOARD
from rotation_assets.reference.claims import CLAIMS
from rotation_assets.reference.historical_periods import HISTORICAL_PERIODS
from rotation_assets.reference.market_events import MARKET_EVENTS
from rotation_assets.reference.universe import ROTATION_PAIRS, UNIVERSE
from rotation_assets.reference.valuation_points import VALUATION_POINTS
from rotation_assets.sources.price_window import CORPORATE_ACTIONS, RAW_PRICES
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
RAW_TABLES: tuple[TableSpec, ...] = (RAW_PRICES, CORPORATE_ACTIONS, VALUATION_SNAPSHOTS)
ANALYTICS_TABLES: tuple[TableSpec, ...] = (
    daily_returns.DAILY_RETURNS,
    with_source(pair_spreads.PAIR_SPREADS),
    with_source(relative_strength.RELATIVE_STRENGTH),
    with_source(outperformance_streaks.OUTPERFORMANCE_STREAKS),
    with_source(historical_parallels.PERIOD_COMPARISON),
    with_source(historical_parallels.EPISODES),
    with_source(historical_parallels.SIMILARITY),
    with_source(event_windows.EVENT_WINDOWS),
    with_source(leaders_laggards.LEADERS_LAGGARDS),
    with_source(claims_check.CLAIMS_CHECK),
    valuation_gap.VALUATION_GAP,
    with_source(valuation_gap.PRICE_RATIO_PERCENTILE),
)
VIEWS: tuple[TableSpec, ...] = (ROTATION_DASHBOARD,)
ALL_TABLES: tuple[TableSpec, ...] = (*REFERENCE_TABLES, *RAW_TABLES, *ANALYTICS_TABLES, *VIEWS)

_BY_NAME = {spec.qualified_name: spec for spec in ALL_TABLES}


def table(qualified_name: str) -> TableSpec:
    """The stored table (or view) ``schema.name``, e.g. ``table('analytics.pair_spreads')``."""
    try:
        return _BY_NAME[qualified_name]
    except KeyError:
        raise KeyError(f"no warehouse table {qualified_name!r}") from None
