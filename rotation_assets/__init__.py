"""rotation_assets: a Dagster project for a small-cap vs large-cap rotation warehouse in DuckDB."""
