"""Asset checks on the stored ``raw.prices`` partition(s) of a run.

The blocking rules already gate the write (see ``raw_prices``); running them again on what is
stored proves the published partition holds, and keeps downstream assets from running on a
partition that does not. Large daily moves only warn. The Great Expectations suite checks the
same rows independently of our own code.
"""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    asset_check,
    multi_asset_check,
)

from rotation_assets.defs.constants import WAREHOUSE_POOL
from rotation_assets.defs.prices.assets import raw_prices, stored_universe
from rotation_assets.price_quality import RuleResult, audit_prices, large_moves
from rotation_assets.raw_prices import RAW_PRICES
from rotation_assets.trading_day import previous_session, trading_day_partitions
from rotation_assets.universe import expected_tickers
from rotation_assets.warehouse import DuckDBWarehouse

BLOCKING_RULES = {
    "expected_tickers_present": "Every universe ticker listed by the session has a bar.",
    "no_null_prices": "open, high, low, close and adj_close are all present.",
    "prices_positive": "Every price is > 0.",
    "ohlc_consistent": "low <= min(open, close) and max(open, close) <= high, within 0.1%.",
    "unique_trade_date_ticker": "One bar per (trade_date, ticker).",
}


def _check_sessions(context: AssetCheckExecutionContext) -> list[dt.date]:
    return [dt.date.fromisoformat(k) for k in context.partition_keys]


def stored_prices(warehouse: DuckDBWarehouse, start: dt.date, end: dt.date) -> pd.DataFrame:
    return warehouse.query(
        f"SELECT * FROM {RAW_PRICES.qualified_name} WHERE trade_date BETWEEN ? AND ? "
        "ORDER BY trade_date, ticker",
        [start, end],
    )


def _result(rule: RuleResult) -> AssetCheckResult:
    metadata = {"violations": len(rule.violations)}
    if not rule.passed:
        metadata["sample"] = MetadataValue.md(rule.violations.head(20).to_markdown(index=False))
        metadata["summary"] = rule.summary()
    return AssetCheckResult(
        check_name=rule.name,
        asset_key=raw_prices.key,
        passed=rule.passed,
        severity=AssetCheckSeverity.ERROR if rule.blocking else AssetCheckSeverity.WARN,
        description=None if rule.passed else rule.summary(),
        metadata=metadata,
    )


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            name,
            asset=raw_prices,
            description=description,
            blocking=True,
            partitions_def=trading_day_partitions(),
        )
        for name, description in BLOCKING_RULES.items()
    ],
    pool=WAREHOUSE_POOL,
)
def raw_prices_blocking_checks(context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    """The blocking rules, re-run on the rows stored for the run's sessions."""
    sessions = _check_sessions(context)
    frame = stored_prices(warehouse, sessions[0], sessions[-1])
    tickers = stored_universe(warehouse)
    for rule in audit_prices(frame, lambda day: expected_tickers(tickers, day), sessions):
        yield _result(rule)


@asset_check(
    asset=raw_prices,
    name="no_extreme_daily_moves",
    description="Warns when a close moved more than 25% from the previous session's close.",
    blocking=False,
    partitions_def=trading_day_partitions(),
    pool=WAREHOUSE_POOL,
)
def raw_prices_large_moves(
    context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> AssetCheckResult:
    """Real events exceed 25% (silver fell ~30% on 2026-01-30; ^VIX often does): a warning
    to look at, never a block."""
    sessions = _check_sessions(context)
    frame = stored_prices(warehouse, sessions[0], sessions[-1])
    before = previous_session(sessions[0])
    previous = stored_prices(warehouse, before, before)
    moves = large_moves(frame, previous)
    rule = RuleResult(
        "no_extreme_daily_moves", "|close / previous close - 1| <= 25%", moves, blocking=False
    )
    return _result(rule)


@asset_check(
    asset=raw_prices,
    name="great_expectations_suite",
    description="Great Expectations 1.x suite over the stored rows (ephemeral context).",
    blocking=False,
    partitions_def=trading_day_partitions(),
    pool=WAREHOUSE_POOL,
)
def raw_prices_great_expectations(
    context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> AssetCheckResult:
    """Schema, nulls, positivity, OHLC bounds, unique keys and known sources, checked by Great
    Expectations (imported only when this check runs)."""
    from rotation_assets.price_expectations import validate_prices_with_gx

    sessions = _check_sessions(context)
    frame = stored_prices(warehouse, sessions[0], sessions[-1])
    summary = validate_prices_with_gx(frame)
    return AssetCheckResult(
        passed=summary.success,
        severity=AssetCheckSeverity.ERROR,
        metadata=summary.as_metadata(),
    )
