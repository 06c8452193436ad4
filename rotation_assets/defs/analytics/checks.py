"""Asset checks on the analytics tables.

Every table: keys unique and no null or NaN where the definition says a value exists. Beside
that, the identities that tie the tables together: ``spread = small_return - large_return``
exactly, streak sessions per pair add up to the pair's non-tie sessions, and the three relative
measures agree on a 1-session window. A Great Expectations suite runs on ``daily_returns``.
Partitioned tables are checked over the run's sessions (see ``defs/prices/checks.py``).
"""

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)

from rotation_assets.defs.analytics.assets import (
    CLAIMS_CHECK,
    DAILY_RETURNS,
    EPISODES,
    EVENT_WINDOWS,
    LEADERS_LAGGARDS,
    OUTPERFORMANCE_STREAKS,
    PAIR_SPREADS,
    PERIOD_COMPARISON,
    PRICE_PROXY,
    RELATIVE_STRENGTH,
    SIMILARITY,
    VALUATION_GAP,
)
from rotation_assets.defs.constants import WAREHOUSE_POOL
from rotation_assets.defs.prices.checks import checked_window
from rotation_assets.defs.table_assets import table_key
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics.outperformance_streaks import streak_sessions_add_up
from rotation_assets.metrics.relative_strength import relative_measures_agree
from rotation_assets.warehouse.table_spec import TableSpec


def read_checked(
    context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse, spec: TableSpec
) -> tuple[pd.DataFrame, str]:
    """The rows a check covers: the run's sessions of a partitioned table, else all of it."""
    if spec.partition_column is None:
        return warehouse.read(spec), "whole table"
    start, end = checked_window(context.run.tags, warehouse, spec)
    frame = warehouse.read(spec, f"{spec.partition_column} BETWEEN ? AND ?", [start, end])
    return frame, f"{start}..{end}"


def _violations(
    name: str, spec: TableSpec, bad: pd.DataFrame, scope: str, what: str
) -> AssetCheckResult:
    metadata = {"violations": len(bad), "rows_checked": scope}
    if len(bad):
        metadata["sample"] = MetadataValue.md(bad.head(10).to_markdown(index=False))
    return AssetCheckResult(
        check_name=name,
        asset_key=table_key(spec),
        passed=bad.empty,
        severity=AssetCheckSeverity.ERROR,
        description=None if bad.empty else f"{len(bad)} rows of {spec.qualified_name}: {what}",
        metadata=metadata,
    )


def integrity_check(spec: TableSpec) -> AssetChecksDefinition:
    """Keys unique and values defined, for one table."""

    @asset_check(
        asset=table_key(spec),
        name="keys_unique_and_values_defined",
        description=f"{', '.join(spec.key)} unique; no null or NaN in "
        f"{', '.join(c.name for c in spec.columns if not c.nullable)}.",
        blocking=True,
        pool=WAREHOUSE_POOL,
    )
    def _check(context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
        frame, scope = read_checked(context, warehouse, spec)
        required = [c.name for c in spec.columns if not c.nullable]
        duplicated = frame[frame.duplicated(list(spec.key), keep=False)]
        undefined = frame[frame[required].isna().any(axis=1)]
        bad = pd.concat([duplicated, undefined]).drop_duplicates()
        return _violations(
            "keys_unique_and_values_defined", spec, bad, scope, "duplicate key or missing value"
        )

    return _check


@asset_check(
    asset=table_key(PAIR_SPREADS),
    name="spread_is_small_minus_large",
    description="spread = small_return - large_return, exactly, on every row.",
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def spread_identity(context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    frame, scope = read_checked(context, warehouse, PAIR_SPREADS)
    bad = frame[frame["spread"] != frame["small_return"] - frame["large_return"]]
    return _violations("spread_is_small_minus_large", PAIR_SPREADS, bad, scope, "spread differs")


@asset_check(
    asset=table_key(OUTPERFORMANCE_STREAKS),
    name="streak_sessions_add_up",
    description="Per pair, the sessions of all streaks equal the pair's non-tie sessions.",
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def streaks_add_up(context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    streaks = warehouse.read(OUTPERFORMANCE_STREAKS)
    spreads = warehouse.read(PAIR_SPREADS)
    bad = streak_sessions_add_up(streaks, spreads)
    return _violations(
        "streak_sessions_add_up", OUTPERFORMANCE_STREAKS, bad, "whole table", "do not add up"
    )


@asset_check(
    asset=table_key(RELATIVE_STRENGTH),
    name="one_session_measures_agree",
    description="On a 1-session window, ratio_change, return_difference and spread_sum agree "
    "with the day's returns.",
    blocking=True,
    pool=WAREHOUSE_POOL,
)
def relative_measures(context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    frame = warehouse.read(RELATIVE_STRENGTH)
    bad = relative_measures_agree(frame)
    return _violations(
        "one_session_measures_agree", RELATIVE_STRENGTH, bad, "whole table", "measures disagree"
    )


@asset_check(
    asset=table_key(DAILY_RETURNS),
    name="great_expectations_suite",
    description="Great Expectations 1.x suite on the run's daily returns (ephemeral context).",
    blocking=False,
    pool=WAREHOUSE_POOL,
)
def daily_returns_great_expectations(
    context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> AssetCheckResult:
    from rotation_assets.quality.expectations import validate_returns_with_gx

    frame, scope = read_checked(context, warehouse, DAILY_RETURNS)
    summary = validate_returns_with_gx(frame)
    return AssetCheckResult(
        passed=summary.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={**summary.as_metadata(), "rows_checked": scope},
    )


ANALYTICS_CHECKS = [
    *(
        integrity_check(spec)
        for spec in (
            DAILY_RETURNS,
            PAIR_SPREADS,
            RELATIVE_STRENGTH,
            OUTPERFORMANCE_STREAKS,
            EVENT_WINDOWS,
            LEADERS_LAGGARDS,
            CLAIMS_CHECK,
            PERIOD_COMPARISON,
            EPISODES,
            SIMILARITY,
            VALUATION_GAP,
            PRICE_PROXY,
        )
    ),
    spread_identity,
    streaks_add_up,
    relative_measures,
    daily_returns_great_expectations,
]
