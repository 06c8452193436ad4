"""The floors: a Dagster run of a no-op asset, through the project's instance in DAGSTER_HOME.

    python benchmarks/noop_run.py                                  # the daily floor
    python benchmarks/noop_run.py --start 1990-01-02 --end D       # the backfill floor

Without arguments: one run of one unpartitioned no-op asset, run the same way as ``rotation
update`` (a fresh interpreter, the project's kind of instance, an in-process run recorded in the
event log), so ``update / floor`` is what the project adds on top of what Dagster costs per run.

With ``--start``/``--end``: one run of a no-op asset partitioned like ``raw/prices``
(``trading_day_partitions()``, ``BackfillPolicy.single_run()``) over the sessions of the range,
tagged with the range as Dagster tags a single-run backfill (and as the CLI tags its runs), with
the CLI's quiet console. The asset materializes every partition of the range, so the run stores
one materialization per session as the project's does: what Dagster itself costs to record a
single-run backfill of that range. Set ``DAGSTER_EVENT_BATCH_SIZE`` in this process's
environment as the CLI does for its own runs (the harness does). It exits as the CLI does.
"""

import argparse
import datetime as dt
import gc
import sys

from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    asset,
    define_asset_job,
)

from rotation_assets.defs.constants import RANGE_END_TAG, RANGE_START_TAG
from rotation_assets.defs.partitions import trading_day_partitions
from rotation_assets.instance.console_progress import QUIET_CONSOLE
from rotation_assets.instance.dagster_home import ensure_dagster_home


@asset
def noop() -> MaterializeResult:
    return MaterializeResult()


@asset(partitions_def=trading_day_partitions(), backfill_policy=BackfillPolicy.single_run())
def noop_partitioned(context: AssetExecutionContext) -> MaterializeResult:
    context.log.info(f"no-op over {len(context.partition_keys)} partitions")
    return MaterializeResult()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=dt.date.fromisoformat)
    parser.add_argument("--end", type=dt.date.fromisoformat)
    args = parser.parse_args(argv)
    ensure_dagster_home()
    if args.start is None:
        defs = Definitions(assets=[noop], jobs=[define_asset_job("noop_job", [noop])])
        with DagsterInstance.get() as instance:
            result = defs.resolve_job_def("noop_job").execute_in_process(instance=instance)
        return 0 if result.success else 1

    defs = Definitions(
        assets=[noop_partitioned],
        jobs=[define_asset_job("noop_partitioned_job", [noop_partitioned])],
    )
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def("noop_partitioned_job").execute_in_process(
            instance=instance,
            tags={RANGE_START_TAG: args.start.isoformat(), RANGE_END_TAG: args.end.isoformat()},
            run_config=QUIET_CONSOLE,
            raise_on_error=False,
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    # Exit as the ``rotation`` console script does (``cli.entry_point``): without the collector's
    # final pass over what the run left, so that both sides of each ratio exit the same way.
    code = main()
    sys.stdout.flush()
    gc.freeze()
    sys.exit(code)
