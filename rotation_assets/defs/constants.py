"""Names shared by the definitions of every domain."""

from dagster import BackfillPolicy, get_dagster_logger

from rotation_assets.instance.console_progress import PROGRESS_LOGGER

# Every asset that opens the DuckDB file takes a slot in this pool; the instance's dagster.yaml
# gives it one slot, so two writers never meet at the file.
WAREHOUSE_POOL = "duckdb_warehouse"
OWNERS = ["team:rotation"]

# Run tags through which Dagster names the range a run materializes.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

# Every asset of rotation_job backfills a range in one run (one batched fetch, one analytics
# refresh), partitioned or not: `dg launch --partition-range` requires it of every asset it runs.
SINGLE_RUN = BackfillPolicy.single_run()

# The assets' progress lines ("raw/prices: wrote 70 rows ..."): Dagster stores them in the run's
# event log like context.log, and `rotation` prints this logger's records on the console.
progress = get_dagster_logger(PROGRESS_LOGGER)
