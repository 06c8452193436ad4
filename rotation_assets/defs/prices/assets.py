"""``raw.prices``: daily bars of the universe, one partition per NYSE session, with what comes
with them: the dividends and splits (``raw.corporate_actions``), the load record
(``raw.price_loads``) and, on live days, Yahoo's P/E snapshot (``raw.valuation_snapshots``).

Only ``raw/prices`` is partitioned: Dagster stores events per partition of every partitioned
asset in a run, so the tables that come with it are unpartitioned assets of the same step.
"""

import datetime as dt
import os
import tempfile
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSpec,
    Backoff,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)

from rotation_assets.defs.constants import OWNERS, SINGLE_RUN, WAREHOUSE_POOL, progress
from rotation_assets.defs.partitions import trading_day_partitions
from rotation_assets.defs.prices.sources import PriceSource
from rotation_assets.defs.table_assets import materialization_metadata, table_key, table_metadata
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.quality.price_rules import (
    BLOCKING_RULES,
    STALE_TAILS,
    STALE_TAILS_DESCRIPTION,
    RuleResult,
    audit,
    expected_bars_sql,
    large_moves_sql,
    register_window,
    stale_tails_sql,
)
from rotation_assets.reference.universe import (
    ROTATION_PAIRS,
    UNIVERSE,
    read_rotation_pairs,
    read_universe,
)
from rotation_assets.sources.base import PriceSourceError, RetryablePriceSourceError
from rotation_assets.sources.price_window import (
    CORPORATE_ACTIONS,
    PRICE_LOADS,
    RAW_PRICES,
    PriceAuditError,
    last_stored_before,
    record_load,
    stage_price_window,
    stale_tails_result,
)
from rotation_assets.sources.valuation_snapshots import (
    VALUATION_SNAPSHOTS,
    fetch_valuation_snapshot,
)
from rotation_assets.sources.vendor_rebasing import (
    VendorRebaseError,
    rebase_stored_history,
    rebasings_frame,
)
from rotation_assets.trading_days import latest_completed_session, previous_session
from rotation_assets.warehouse.connection import WarehouseError
from rotation_assets.warehouse.writes import (
    TableWrite,
    ensure_table,
    replace_rows,
    replace_tables_in_transaction,
    transaction,
)

# Rate limits and network errors clear with time: by default 3 retries after ~10, 20 and 40 s.
PRICE_FETCH_RETRY = RetryPolicy(
    max_retries=3,
    delay=float(os.environ.get("ROTATION_FETCH_RETRY_DELAY_SECONDS", "10")),
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)

RAW_PRICES_KEY = table_key(RAW_PRICES)
CORPORATE_ACTIONS_KEY = table_key(CORPORATE_ACTIONS)
PRICE_LOADS_KEY = table_key(PRICE_LOADS)
VALUATION_SNAPSHOTS_KEY = table_key(VALUATION_SNAPSHOTS)
LARGE_MOVES = "no_extreme_daily_moves"


def _spec(spec, deps, description: str, partitioned: bool = False) -> AssetSpec:
    return AssetSpec(
        table_key(spec),
        description=description,
        deps=[table_key(d) for d in deps],
        group_name="prices",
        kinds={"duckdb", "python"},
        owners=OWNERS,
        # partition_expr: the column holding the partition key, for tools that read it.
        metadata=table_metadata(spec, **({"partition_expr": "trade_date"} if partitioned else {})),
        partitions_def=trading_day_partitions() if partitioned else None,
    )


@multi_asset(
    specs=[
        _spec(
            RAW_PRICES,
            [UNIVERSE],
            RAW_PRICES.description + " Audited before it is written: a failed fetch or audit "
            "leaves the stored rows as they were. A backfill of any range is one run with one "
            "batched fetch; identical re-loads keep their loaded_at.",
            partitioned=True,
        ),
        _spec(CORPORATE_ACTIONS, [UNIVERSE], CORPORATE_ACTIONS.description),
        _spec(PRICE_LOADS, [UNIVERSE], PRICE_LOADS.description),
        _spec(
            VALUATION_SNAPSHOTS,
            [ROTATION_PAIRS],
            VALUATION_SNAPSHOTS.description + " Recorded only when the yfinance source loads "
            "the latest completed session; backfills and the csv and demo sources record "
            "nothing and say why.",
        ),
    ],
    check_specs=[
        *(
            AssetCheckSpec(name, asset=RAW_PRICES_KEY, description=description, blocking=True)
            for name, description in BLOCKING_RULES.items()
        ),
        AssetCheckSpec(
            LARGE_MOVES,
            asset=RAW_PRICES_KEY,
            description="Warns when a close moved more than 25% from the previous session's "
            "close. Real events exceed it (silver fell ~30% on 2026-01-30; ^VIX often does).",
            blocking=False,
        ),
        AssetCheckSpec(
            STALE_TAILS, asset=RAW_PRICES_KEY, description=STALE_TAILS_DESCRIPTION, blocking=False
        ),
    ],
    name="raw_prices",
    pool=WAREHOUSE_POOL,
    backfill_policy=SINGLE_RUN,
    retry_policy=PRICE_FETCH_RETRY,
)
def raw_prices(
    context: AssetExecutionContext, warehouse: DuckDBWarehouse, price_source: PriceSource
):
    """Fetch the run's sessions in one batch, audit them, and publish them in one transaction
    with their corporate actions and load record; then re-run the blocking rules on what was
    stored (the checks), warn about large moves, and take Yahoo's P/E snapshot on live days."""
    sessions = [dt.date.fromisoformat(key) for key in context.partition_keys]
    window = (sessions[0], sessions[-1])
    with warehouse.connect() as con:
        universe = read_universe(con)
        # Each ticker's last stored bar before the window: a series that stops is then told
        # from one that is missing, and one that resumes after a gap is a hole.
        history = last_stored_before(con, window[0])
    if universe.empty:
        raise Failure(
            "reference.universe is empty or not in the warehouse: materialize "
            "reference/universe first",
            allow_retries=False,
        )
    progress.info(
        f"raw/prices: fetching {sessions[0]}..{sessions[-1]} ({len(sessions)} sessions) "
        f"from {price_source.label}"
    )
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="rotation-staging-") as folder:
        try:
            staged = stage_price_window(
                price_source, universe, sessions, loaded_at, Path(folder), history=history
            )
        except RetryablePriceSourceError as exc:
            progress.warning(f"raw/prices: {exc}; retrying with backoff")
            raise  # the retry policy backs off and tries again
        except (PriceSourceError, PriceAuditError) as exc:
            raise Failure(str(exc), allow_retries=False) from exc
        # Nothing is expected on sessions before every ticker's listing: an empty window then
        # clears nothing that the audit would not have refused.
        writes = [
            TableWrite(RAW_PRICES, None, window, "loaded_at", True, staged.prices),
            # The csv and demo sources have one adjustment basis per file: no actions.
            TableWrite(CORPORATE_ACTIONS, CORPORATE_ACTIONS.empty(), window, "loaded_at", True)
            if staged.actions is None
            else TableWrite(CORPORATE_ACTIONS, None, window, "loaded_at", True, staged.actions),
        ]
        try:
            with warehouse.connect() as con, transaction(con):
                # A file the vendor re-based: its stored history rescaled to the new basis, or
                # the load refused (VendorRebaseError) before anything is written.
                rebased = rebase_stored_history(
                    con,
                    RAW_PRICES.qualified_name,
                    staged.overlap,
                    window,
                    price_source.label,
                    loaded_at,
                )
                summaries = replace_tables_in_transaction(con, writes)
                load_id = record_load(
                    con, sessions, summaries, price_source.label, loaded_at, rebased
                )
        except VendorRebaseError as exc:
            raise Failure(str(exc), allow_retries=False) from exc
        except WarehouseError as exc:
            raise Failure(str(exc), allow_retries=False) from exc
        except Exception as exc:  # the transaction rolled back: say so, and do not retry blindly
            raise Failure(
                f"Writing {RAW_PRICES.qualified_name} for {window[0]}..{window[1]} failed and "
                f"was rolled back; stored rows are unchanged: {exc!r}",
                allow_retries=False,
            ) from exc
    written = summaries[0]
    for rebasing in rebased:
        progress.warning(f"raw/prices: {rebasing.describe()}")
    if not staged.stale_tails.passed:
        progress.warning(f"raw/prices: {staged.stale_tails.summary(limit=20)}")
    progress.info(
        f"raw/prices: wrote {written.rows_written} rows for {staged.tickers} tickers "
        f"({written.rows_changed} new or changed, {written.rows_before} replaced; load {load_id})"
    )
    stored = (
        f"(SELECT * FROM {RAW_PRICES.qualified_name} "
        f"WHERE trade_date BETWEEN DATE '{window[0]}' AND DATE '{window[1]}')"
    )
    before = previous_session(window[0])
    with warehouse.connect() as con:
        newest = con.execute(
            f"SELECT * EXCLUDE (loaded_at) FROM {stored} "
            f"WHERE trade_date = DATE '{window[1]}' ORDER BY ticker"
        ).df()
        loads = con.execute(
            f"SELECT * FROM {PRICE_LOADS.qualified_name} ORDER BY load_id DESC LIMIT 20"
        ).df()
        # The checks: the blocking rules again, on what is stored now, stale tails and large
        # moves (the rows before the window, hence each ticker's history, are as they were).
        start = register_window(con, universe, sessions, history)
        results = audit(
            con, stored, f"({expected_bars_sql('universe', 'sessions', stored, 'history', start)})"
        )
        stale = stale_tails_result(
            con.execute(stale_tails_sql(stored, "universe", "sessions", "history", start)).df()
        )
        moves = con.execute(
            large_moves_sql(
                f"(SELECT trade_date, ticker, close, DATE '{window[0]}' AS window_start "
                f"FROM {RAW_PRICES.qualified_name} "
                f"WHERE trade_date BETWEEN DATE '{before}' AND DATE '{window[1]}')"
            )
        ).df()
    yield MaterializeResult(
        asset_key=RAW_PRICES_KEY,
        metadata={
            **materialization_metadata(newest, written.rows_written),
            "rows_new_or_changed": written.rows_changed,
            "rows_replaced": written.rows_before,
            "sessions": len(sessions),
            "tickers": staged.tickers,
            "first_session": str(sessions[0]),
            "last_session": str(sessions[-1]),
            "load_id": load_id,
            **(
                {"rebased": MetadataValue.md(rebasings_frame(rebased).to_markdown(index=False))}
                if rebased
                else {}
            ),
        },
    )
    yield MaterializeResult(
        asset_key=CORPORATE_ACTIONS_KEY,
        metadata={
            "dagster/row_count": summaries[1].rows_written,
            **(
                {"note": f"the {price_source.label} source has one adjustment basis per file"}
                if staged.actions is None
                else {"source": price_source.label}
            ),
        },
    )
    yield MaterializeResult(
        asset_key=PRICE_LOADS_KEY,
        metadata={**materialization_metadata(loads, load_id), "load_id": load_id},
    )
    yield _valuation_snapshots(context, warehouse, price_source, window[1])

    checked = f"{window[0]}..{window[1]} ({len(sessions)} sessions)"
    for rule in results:
        yield _check_result(rule, checked)
    yield _check_result(
        RuleResult(LARGE_MOVES, "|close / previous close - 1| <= 25%", moves, blocking=False),
        checked,
    )
    yield _check_result(stale, checked)


def _check_result(rule: RuleResult, sessions_checked: str) -> AssetCheckResult:
    metadata = {"violations": len(rule.violations), "sessions_checked": sessions_checked}
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


def _valuation_snapshots(
    context: AssetExecutionContext,
    warehouse: DuckDBWarehouse,
    price_source: PriceSource,
    end: dt.date,
) -> MaterializeResult:
    """Yahoo keeps no P/E history, so a snapshot describes today: it is stored for the latest
    completed session when the yfinance source loads it, and never for a backfilled date."""
    latest = latest_completed_session()
    if price_source.label != "yfinance" or end != latest:
        why = (
            f"the {price_source.label} source has no P/E"
            if price_source.label != "yfinance"
            else f"{end} is not the latest completed session ({latest}): Ticker.info is today's"
        )
        progress.info(f"raw.valuation_snapshots: nothing recorded ({why})")
        with warehouse.connect() as con:
            ensure_table(con, VALUATION_SNAPSHOTS)
        return MaterializeResult(
            asset_key=VALUATION_SNAPSHOTS_KEY,
            metadata={"dagster/row_count": 0, "note": f"nothing recorded: {why}"},
        )
    with warehouse.connect() as con:
        pairs = read_rotation_pairs(con)
    tickers = sorted(set(pairs["small"]) | set(pairs["large"]))
    frame, problems = fetch_valuation_snapshot(tickers, end)
    for problem in problems:
        progress.warning(f"raw.valuation_snapshots: {problem}")
    rows = 0
    if not frame.empty:
        with warehouse.connect() as con:
            rows = replace_rows(con, VALUATION_SNAPSHOTS, frame, window=(end, end)).rows_written
    return MaterializeResult(
        asset_key=VALUATION_SNAPSHOTS_KEY,
        metadata={"dagster/row_count": rows, "problems": problems},
    )
