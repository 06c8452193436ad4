"""Names shared by the definitions of every domain."""

# Every asset that opens the DuckDB file takes a slot in this pool; the instance's dagster.yaml
# gives it one slot, so two writers never meet at the file.
WAREHOUSE_POOL = "duckdb_warehouse"
OWNERS = ["team:rotation"]

# Run tags through which Dagster names the partition (or range) a run materializes.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
