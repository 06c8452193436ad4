"""Table definitions: the one place where a warehouse table's columns, types and meanings live.

The DDL, the ``COMMENT ON`` descriptions, the fixed column order handed to DuckDB, the README's
table guide and the column schema shown in the Dagster UI are all derived from a ``TableSpec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

_PANDAS_DTYPES = {
    "DATE": "datetime64[ns]",
    "TIMESTAMP": "datetime64[ns]",
    "DOUBLE": "float64",
    "BIGINT": "Int64",
    "INTEGER": "Int64",
    "VARCHAR": "object",
    "BOOLEAN": "boolean",
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class TableSpec:
    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default_factory=tuple)
    # The DATE column whose windows a write replaces (raw.prices: its Dagster partition key).
    window_column: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def key_path(self) -> tuple[str, str]:
        """(schema, name): the table's asset key in Dagster, e.g. analytics/daily_returns."""
        return (self.schema, self.name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError if the table has none)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified_name} has no column {name!r}")

    def with_columns(self, *columns: Column) -> TableSpec:
        """The same table with ``columns`` appended."""
        return replace(self, columns=(*self.columns, *columns))

    def create_sql(self) -> str:
        cols = ",\n  ".join(
            f"{c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns
        )
        return f"CREATE TABLE IF NOT EXISTS {self.qualified_name} (\n  {cols}\n)"

    def comment_sql(self) -> list[str]:
        """COMMENT statements so analysts see the definitions in DuckDB itself."""

        def quote(text: str) -> str:
            return "'" + text.replace("'", "''") + "'"

        statements = [f"COMMENT ON TABLE {self.qualified_name} IS {quote(self.description)}"]
        statements += [
            f"COMMENT ON COLUMN {self.qualified_name}.{c.name} IS {quote(c.description)}"
            for c in self.columns
        ]
        return statements

    def empty(self) -> pd.DataFrame:
        """No rows, this table's columns and dtypes: what a table not yet created reads as."""
        return self.conform(pd.DataFrame({c: [] for c in self.column_names}))

    def with_timestamps(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with this table's DATE columns as datetime64[ns] (DuckDB gives dates)."""
        dates = {
            c.name: pd.to_datetime(frame[c.name]) for c in self.columns if c.sql_type == "DATE"
        }
        return frame.assign(**{k: v.astype("datetime64[ns]") for k, v in dates.items()})

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with exactly this table's columns, in order, with matching dtypes."""
        missing = [c for c in self.column_names if c not in frame.columns]
        if missing:
            raise ValueError(f"{self.qualified_name}: frame lacks columns {missing}")
        out = frame.loc[:, self.column_names].copy()
        for c in self.columns:
            dtype = _PANDAS_DTYPES.get(c.sql_type)
            if dtype and str(out[c.name].dtype) != dtype:
                out[c.name] = out[c.name].astype(dtype)
        return out.reset_index(drop=True)
