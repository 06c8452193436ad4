"""Asset checks on the ``raw.prices`` sessions a run materialized.

The blocking rules already gate the write (see ``raw_prices``); running them again on what is
stored proves the published partitions hold, and keeps downstream assets from running on
partitions that do not. Large daily moves only warn. The Great Expectations suite checks the
same rows independently of our own code.

The checks are not themselves partitioned: each evaluates exactly the sessions of its run (the
run's partition key or range), or the newest stored session when launched on its own. Dagster
1.13's partitioned checks (a preview) store one record per partition, each holding the whole
serialized range, which made a 10-year backfill spend 112 s of 168 s on bookkeeping.
"""

import datetime as dt
from collections.abc import Mapping

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

from rotation_assets.defs.constants import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    WAREHOUSE_POOL,
)
from rotation_assets.defs.prices.assets import RAW_PRICES_KEY, stored_universe
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.quality.price_rules import RuleResult, audit_prices, large_moves
from rotation_assets.reference.universe import expected_tickers_by_session
from rotation_assets.sources.price_window import RAW_PRICES
from rotation_assets.trading_days import FIRST_SESSION, previous_session, sessions_between
from rotation_assets.warehouse.table_spec import TableSpec

BLOCKING_RULES = {
    "expected_tickers_present": "Every universe ticker listed by the session has a bar.",
    "no_null_prices": "open, high, low, close and adj_close are all present.",
    "prices_positive": "Every price is > 0.",
    "ohlc_consistent": "low <= min(open, close) and max(open, close) <= high, within 0.1%.",
    "unique_trade_date_ticker": "One bar per (trade_date, ticker).",
}


def checked_window(
    tags: Mapping[str, str], warehouse: DuckDBWarehouse, spec: TableSpec = RAW_PRICES
) -> tuple[dt.date, dt.date]:
    """The sessions a check evaluates: its run's partitions, else the newest stored session."""
    if RANGE_START_TAG in tags:
        return (
            dt.date.fromisoformat(tags[RANGE_START_TAG]),
            dt.date.fromisoformat(tags[RANGE_END_TAG]),
        )
    if PARTITION_TAG in tags:
        day = dt.date.fromisoformat(tags[PARTITION_TAG])
        return day, day
    newest = pd.to_datetime(warehouse.read(spec)[spec.partition_column]).max()
    day = newest.date() if pd.notna(newest) else dt.date.fromisoformat(FIRST_SESSION)
    return day, day


def _check_sessions(
    context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> list[dt.date]:
    return sessions_between(*checked_window(context.run.tags, warehouse))


def stored_prices(warehouse: DuckDBWarehouse, start: dt.date, end: dt.date) -> pd.DataFrame:
    return warehouse.query(
        f"SELECT * FROM {RAW_PRICES.qualified_name} WHERE trade_date BETWEEN ? AND ? "
        "ORDER BY trade_date, ticker",
        [start, end],
    )


def _window(sessions: list[dt.date]) -> str:
    return f"{sessions[0]}..{sessions[-1]} ({len(sessions)} sessions)"


def _result(rule: RuleResult, sessions: list[dt.date]) -> AssetCheckResult:
    metadata = {"violations": len(rule.violations), "sessions_checked": _window(sessions)}
    if not rule.passed:
        metadata["sample"] = MetadataValue.md(rule.violations.head(20).to_markdown(index=False))
        metadata["summary"] = rule.summary()
    return AssetCheckResult(
        check_name=rule.name,
        asset_key=RAW_PRICES_KEY,
        passed=rule.passed,
        severity=AssetCheckSeverity.ERROR if rule.blocking else AssetCheckSeverity.WARN,
        description=None if rule.passed else rule.summary(),
        metadata=metadata,
    )


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            name,
            asset=RAW_PRICES_KEY,
            description=description,
            blocking=True,
        )
        for name, description in BLOCKING_RULES.items()
    ],
    pool=WAREHOUSE_POOL,
)
def raw_prices_blocking_checks(context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    """The blocking rules, re-run on the rows stored for the run's sessions."""
    sessions = _check_sessions(context, warehouse)
    frame = stored_prices(warehouse, sessions[0], sessions[-1])
    tickers = stored_universe(warehouse)
    for rule in audit_prices(frame, expected_tickers_by_session(tickers), sessions):
        yield _result(rule, sessions)


@asset_check(
    asset=RAW_PRICES_KEY,
    name="no_extreme_daily_moves",
    description="Warns when a close moved more than 25% from the previous session's close.",
    blocking=False,
    pool=WAREHOUSE_POOL,
)
def raw_prices_large_moves(
    context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> AssetCheckResult:
    """Real events exceed 25% (silver fell ~30% on 2026-01-30; ^VIX often does): a warning
    to look at, never a block."""
    sessions = _check_sessions(context, warehouse)
    frame = stored_prices(warehouse, sessions[0], sessions[-1])
    before = previous_session(sessions[0])
    previous = stored_prices(warehouse, before, before)
    moves = large_moves(frame, previous)
    rule = RuleResult(
        "no_extreme_daily_moves", "|close / previous close - 1| <= 25%", moves, blocking=False
    )
    return _result(rule, sessions)


@asset_check(
    asset=RAW_PRICES_KEY,
    name="great_expectations_suite",
    description="Great Expectations 1.x suite over the stored rows (ephemeral context).",
    blocking=False,
    pool=WAREHOUSE_POOL,
)
def raw_prices_great_expectations(
    context: AssetCheckExecutionContext, warehouse: DuckDBWarehouse
) -> AssetCheckResult:
    """Schema, nulls, positivity, OHLC bounds, unique keys and known sources, checked by Great
    Expectations (imported only when this check runs)."""
    from rotation_assets.quality.expectations import validate_prices_with_gx

    sessions = _check_sessions(context, warehouse)
    frame = stored_prices(warehouse, sessions[0], sessions[-1])
    summary = validate_prices_with_gx(frame)
    return AssetCheckResult(
        passed=summary.success,
        severity=AssetCheckSeverity.ERROR,
        metadata={**summary.as_metadata(), "sessions_checked": _window(sessions)},
    )
