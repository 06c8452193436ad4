"""What every warehouse asset shares: its key, its UI metadata and its materialization metadata.

A table's asset key is its ``schema/name`` (``analytics/daily_returns``), its description and
column schema come from its ``TableSpec``, and a materialization reports its row count, the
price source(s) of its rows and a preview.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dagster import AssetKey, MetadataValue, TableColumn, TableSchema

from rotation_assets.metrics.provenance import combined_source
from rotation_assets.warehouse.table_spec import TableSpec


def table_key(spec: TableSpec) -> AssetKey:
    """``analytics/daily_returns`` for ``analytics.daily_returns``."""
    return key_of(spec.qualified_name)


def key_of(qualified_name: str) -> AssetKey:
    """``raw/prices`` for ``'raw.prices'``: the asset of a table named in SQL terms."""
    return AssetKey(qualified_name.split("."))


def column_schema(spec: TableSpec) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(name=c.name, type=c.sql_type, description=c.description)
            for c in spec.columns
        ]
    )


def table_metadata(spec: TableSpec, **extra: Any) -> dict[str, Any]:
    """Definition metadata of a table's asset: column schema and table name (and ``extra``)."""
    metadata: dict[str, Any] = {
        "dagster/column_schema": column_schema(spec),
        "dagster/table_name": spec.qualified_name,
    }
    return {**metadata, **extra}


def materialization_metadata(
    frame: pd.DataFrame, rows: int | None = None, preview: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Row count, the rows' price source(s) and a preview (``preview``, else ``frame``'s head)."""
    shown = frame if preview is None else preview
    metadata: dict[str, Any] = {
        "dagster/row_count": len(frame) if rows is None else rows,
        "preview": MetadataValue.md(shown.head(20).to_markdown(index=False, floatfmt=".4f")),
    }
    if "source" in frame:
        metadata["source"] = combined_source(frame["source"])
    return metadata
