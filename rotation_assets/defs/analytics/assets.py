"""Analytics: every analytics table, refreshed in one step on one connection.

Each table is its own asset (its own lineage, description, column schema and checks in the UI),
but one multi-asset computes them: one DuckDB connection, one transaction, the tables in
dependency order, each rebuilt only from its first changed session (``metrics.refresh``). The
integrity checks run inside the same transaction on the rows it rebuilt; if a blocking one
fails, nothing is committed: every analytics table stays as it was, and the run fails naming
the check. Any subset can be materialized from the UI.
"""

from collections.abc import Iterator

import duckdb
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from pydantic import Field

from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL, progress
from rotation_assets.defs.table_assets import (
    key_of,
    materialization_metadata,
    table_key,
    table_metadata,
)
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics.analytics_tables import (
    ANALYTICS_TABLES,
    DAILY_RETURNS,
    EPISODE_SETTINGS,
    OUTPERFORMANCE_STREAKS,
    PAIR_SPREADS,
    PRICE_PROXY,
    RELATIVE_STRENGTH,
    VALUATION_GAP,
    VALUATION_HISTORY,
)
from rotation_assets.metrics.refresh import DerivedTable, Refresh, Refreshed
from rotation_assets.metrics.rotation_dashboard import ROTATION_DASHBOARD, create_dashboard_view
from rotation_assets.metrics.rotation_dashboard import __doc__ as DASHBOARD_DOC
from rotation_assets.quality import table_rules
from rotation_assets.quality.price_rules import RuleResult
from rotation_assets.reference.universe import ROTATION_PAIRS
from rotation_assets.warehouse.table_spec import TableSpec
from rotation_assets.warehouse.writes import ensure_table, transaction

BY_NAME = {table.name: table for table in ANALYTICS_TABLES}
DASHBOARD_KEY = table_key(ROTATION_DASHBOARD)


class AnalyticsConfig(Config):
    """How a rotation episode is detected (launchpad: ops > analytics > config). Defaults are
    EPISODE_SETTINGS; README "Historical parallels: definitions" justifies them."""

    threshold: float = Field(
        default=EPISODE_SETTINGS["threshold"],
        description="A leg opens once the ratio stands more than this above its trough, the "
        "lowest close of the last `window` sessions (0.05 = 5%); it starts at that trough.",
    )
    window: int = Field(
        default=EPISODE_SETTINGS["window"],
        description="Sessions back in which the trough is sought: the move must happen within "
        "them.",
    )
    end_drawdown: float = Field(
        default=EPISODE_SETTINGS["end_drawdown"],
        description="Hysteresis: a leg ends (at its peak) only once the ratio closes this far "
        "below its high since the leg began (0.05 = 5%); smaller dips do not end it. On the "
        "real data 0.03 ends the 2026 rotation in its 4.2% late-January fall, and 0.075 "
        "joins it to the separate August-October 2025 rise.",
    )
    merge_gap_sessions: int = Field(
        default=EPISODE_SETTINGS["merge_gap_sessions"],
        description="A leg whose trough comes fewer sessions than this after the previous "
        "leg's peak continues that episode (0 = never merge).",
    )


def _spec(table: DerivedTable) -> AssetSpec:
    return AssetSpec(
        table_key(table.spec),
        deps=[key_of(read) for read in table.reads],
        description=f"{table.spec.description}\n\n{table.doc}",
        group_name="analytics",
        kinds={"duckdb", table.computed_in},
        owners=OWNERS,
        metadata=table_metadata(table.spec),
    )


# The checks, each blocking: (name, table, description).
CHECKS = [
    *(
        (
            "keys_unique_and_values_defined",
            table.spec,
            f"{', '.join(table.spec.key)} unique; no null or NaN in "
            f"{', '.join(c.name for c in table.spec.columns if not c.nullable)}.",
        )
        for table in ANALYTICS_TABLES
    ),
    (
        "spread_is_small_minus_large",
        PAIR_SPREADS,
        "spread = small_return - large_return, exactly, on every row.",
    ),
    (
        "streak_sessions_add_up",
        OUTPERFORMANCE_STREAKS,
        "Per pair, the sessions of all streaks equal the pair's non-tie sessions.",
    ),
    (
        "one_session_measures_agree",
        RELATIVE_STRENGTH,
        "On a 1-session window, ratio_change, return_difference and spread_sum agree with the "
        "day's returns.",
    ),
]


@multi_asset(
    specs=[
        *(_spec(table) for table in ANALYTICS_TABLES),
        AssetSpec(
            DASHBOARD_KEY,
            deps=[
                table_key(spec)
                for spec in (
                    DAILY_RETURNS,
                    RELATIVE_STRENGTH,
                    OUTPERFORMANCE_STREAKS,
                    VALUATION_GAP,
                    PRICE_PROXY,
                    VALUATION_HISTORY,
                )
            ]
            + [table_key(ROTATION_PAIRS)],
            description=DASHBOARD_DOC.strip(),
            group_name="analytics",
            kinds={"duckdb", "sql"},
            owners=OWNERS,
            metadata=table_metadata(ROTATION_DASHBOARD),
        ),
    ],
    check_specs=[
        AssetCheckSpec(name, asset=table_key(spec), description=description, blocking=True)
        for name, spec, description in CHECKS
    ],
    name="analytics",
    pool=WAREHOUSE_POOL,
    can_subset=True,
    backfill_policy=SINGLE_RUN,
)
def analytics(
    context: AssetExecutionContext, config: AnalyticsConfig, warehouse: DuckDBWarehouse
) -> Iterator[MaterializeResult | AssetCheckResult]:
    """Refresh the selected analytics tables in one transaction; see the module docstring."""
    selected = {
        name
        for name, table in BY_NAME.items()
        if table_key(table.spec) in context.selected_asset_keys
    }
    checks = [
        (name, spec, description)
        for name, spec, description in CHECKS
        if any(
            key.asset_key == table_key(spec) and key.name == name
            for key in context.selected_asset_check_keys
        )
    ]
    outcomes: list[tuple[TableSpec, RuleResult, str]] = []

    def verify(table: DerivedTable, refreshed: Refreshed) -> None:
        """The table's selected checks, on the rows just rebuilt; a blocking failure stops the
        refresh before any table that reads it, and rolls the whole refresh back."""
        for name, spec, _ in checks:
            if spec.qualified_name == table.name:
                rule, scope = _evaluate(con, name, spec, refreshed)
                outcomes.append((spec, rule, scope))
                if not rule.passed:
                    raise _Blocked(spec.qualified_name, rule)

    with warehouse.connect() as con:
        try:
            with transaction(con):
                refreshed = Refresh(con, ANALYTICS_TABLES, config.model_dump()).run(
                    selected, after=verify
                )
                if DASHBOARD_KEY in context.selected_asset_keys:
                    # A table still without rows may not exist yet; the view must bind anyway.
                    for spec in (
                        ROTATION_PAIRS,
                        DAILY_RETURNS,
                        RELATIVE_STRENGTH,
                        OUTPERFORMANCE_STREAKS,
                    ):
                        ensure_table(con, spec)
                    for spec in (VALUATION_GAP, PRICE_PROXY, VALUATION_HISTORY):
                        ensure_table(con, spec)
                    create_dashboard_view(con)
                materializations = [_materialization(con, r, context) for r in refreshed]
                if DASHBOARD_KEY in context.selected_asset_keys:
                    materializations.append(_dashboard(con))
        except _Blocked as blocked:
            for spec, rule, scope in outcomes:
                yield _check_result(spec, rule, scope)
            raise Failure(
                "Blocked before publishing, analytics tables unchanged: "
                f"{blocked.spec_name}: {blocked.rule.summary()}",
                allow_retries=False,
            ) from None
    yield from materializations
    for spec, rule, scope in outcomes:
        yield _check_result(spec, rule, scope)


class _Blocked(Exception):
    """A blocking check failed: the refresh stops and rolls back."""

    def __init__(self, spec_name: str, rule: RuleResult):
        self.spec_name, self.rule = spec_name, rule
        super().__init__(f"{spec_name}: {rule.summary()}")


def _evaluate(
    con: duckdb.DuckDBPyConnection, name: str, spec: TableSpec, refreshed: Refreshed
) -> tuple[RuleResult, str]:
    since = refreshed.since if refreshed.rebuilt else None
    table = BY_NAME[spec.qualified_name]
    column = table.by_session if since is not None else None
    scope = f"from {since}" if column else "whole table"
    if name == "keys_unique_and_values_defined":
        return table_rules.keys_unique_and_values_defined(con, spec, column, since), scope
    if name == "spread_is_small_minus_large":
        return table_rules.spread_is_small_minus_large(con, spec, since), scope
    if name == "streak_sessions_add_up":
        return table_rules.streak_sessions_add_up(con, spec, PAIR_SPREADS), scope
    return table_rules.one_session_measures_agree(con, spec, since), scope


def _check_result(spec, rule: RuleResult, scope: str) -> AssetCheckResult:
    metadata = {"violations": len(rule.violations), "rows_checked": scope}
    if not rule.passed:
        metadata["sample"] = MetadataValue.md(rule.violations.head(10).to_markdown(index=False))
    return AssetCheckResult(
        check_name=rule.name,
        asset_key=table_key(spec),
        passed=rule.passed,
        severity=AssetCheckSeverity.ERROR,
        description=None if rule.passed else f"{spec.qualified_name}: {rule.summary()}",
        metadata=metadata,
    )


def _materialization(
    con: duckdb.DuckDBPyConnection, refreshed: Refreshed, context: AssetExecutionContext
) -> MaterializeResult:
    table = BY_NAME[refreshed.table]
    spec = table.spec
    if not refreshed.rebuilt:
        note = f"up to date: no new or changed sessions since load {refreshed.through_load_id}"
        preview = pd.DataFrame()
    else:
        what = f"from {refreshed.since}" if refreshed.since else "whole table"
        note = f"rebuilt {what}: {refreshed.rows_rebuilt} rows"
        where = f" WHERE {table.by_session} >= ?" if refreshed.since else ""
        params = [refreshed.since] if refreshed.since else []
        preview = con.execute(f"SELECT * FROM {spec.qualified_name}{where} LIMIT 20", params).df()
    progress.info(f"{spec.qualified_name}: {note} ({refreshed.rows_total} rows in all)")
    sources = (
        con.execute(f"SELECT DISTINCT source FROM {spec.qualified_name}").df()
        if "source" in spec.column_names
        else pd.DataFrame()
    )
    metadata = materialization_metadata(
        sources if not sources.empty else preview, refreshed.rows_total, preview
    )
    metadata.update(
        {
            "refresh": note,
            "rebuilt_from": str(refreshed.since) if refreshed.since else "",
            "rows_rebuilt": refreshed.rows_rebuilt,
            "through_load_id": refreshed.through_load_id,
        }
    )
    return MaterializeResult(asset_key=table_key(spec), metadata=metadata)


def _dashboard(con: duckdb.DuckDBPyConnection) -> MaterializeResult:
    from rotation_assets.metrics.rotation_dashboard import read_dashboard

    rows = read_dashboard(con)
    return MaterializeResult(
        asset_key=DASHBOARD_KEY,
        metadata={
            "dagster/row_count": len(rows),
            "preview": MetadataValue.md(rows.to_markdown(index=False, floatfmt=".4f")),
        },
    )
