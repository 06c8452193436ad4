"""Where an analytics row's data came from, so synthetic demo data can never pass for market data.

Every analytics table carries ``source``: the price source(s) of the rows it was computed from
(``yfinance``, ``csv`` or ``synthetic``), joined with ``+`` when inputs were mixed.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from rotation_assets.warehouse.table_spec import Column, TableSpec

SOURCE_COLUMN = Column(
    "source",
    "VARCHAR",
    "Price source(s) this row was computed from: yfinance, csv or synthetic (demo data, never "
    "market data); several joined with '+'.",
    nullable=False,
)


def source_column(computed_from: str) -> Column:
    """The ``source`` column of a table whose rows are each computed from ``computed_from``
    (e.g. "the pair_spreads rows of the run"): ``SOURCE_COLUMN`` saying which rows count."""
    return Column(
        "source",
        "VARCHAR",
        f"Price source(s) of {computed_from}: yfinance, csv or synthetic (demo data, never "
        "market data); several joined with '+' in sorted order.",
        nullable=False,
    )


def with_source(spec: TableSpec) -> TableSpec:
    """``spec`` with the ``source`` column appended (unless it has one)."""
    return spec if "source" in spec.column_names else spec.with_columns(SOURCE_COLUMN)


def combined_source(values: Iterable[str]) -> str:
    """'csv', or 'csv+synthetic' when inputs were mixed."""
    labels = sorted(
        {part for value in values if isinstance(value, str) for part in value.split("+")}
    )
    return "+".join(labels) or "unknown"


def row_source(*columns: pd.Series) -> pd.Series:
    """Row-wise combined source of several source columns (e.g. a pair's two sides)."""
    frame = pd.concat(columns, axis=1)
    return frame.apply(lambda row: combined_source(row.tolist()), axis=1)


def sql_sources_aggregate(column: str = "source") -> str:
    """SQL aggregate: the combined source of a group's rows ('csv', 'csv+synthetic'), like
    ``combined_source``."""
    return (
        f"coalesce(nullif(array_to_string(list_sort(list_distinct(flatten("
        f"list(string_split({column}, '+'))))), '+'), ''), 'unknown')"
    )


def sql_sources_of(*columns: str) -> str:
    """SQL expression: the combined source of several source columns of one row."""
    parts = ", ".join(f"string_split({c}, '+')" for c in columns)
    return (
        f"coalesce(nullif(array_to_string(list_sort(list_distinct(flatten([{parts}]))), '+'), "
        f"''), 'unknown')"
    )
