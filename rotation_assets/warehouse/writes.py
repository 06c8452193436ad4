"""Transactional writes: a slice of a table replaced in one DuckDB transaction.

Every write replaces a slice of a table (a window of trading days, or the whole table) inside
one transaction: either the new rows are all there, or the old ones are untouched. Nothing is
written from an empty frame, and columns are inserted by name, never by position (the stock
DuckDB IO manager deletes a window and inserts by position in separate statements, and an empty
frame deletes the partition).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pandas as pd

from rotation_assets.warehouse.connection import WarehouseError, table_exists
from rotation_assets.warehouse.table_spec import TableSpec


class EmptyWriteError(WarehouseError):
    """A write was handed no rows; refusing it keeps the stored partition."""


@dataclass(frozen=True)
class TableWrite:
    """One table's part of a transactional write (see ``replace_tables``): the rows of
    ``frame``, or of the SQL ``relation`` (e.g. staged Parquet files)."""

    spec: TableSpec
    frame: pd.DataFrame | None = None
    window: tuple[dt.date, dt.date] | None = None
    keep_first_seen: str | None = None
    # A window may legitimately hold nothing (no dividends this week): then it is only cleared.
    allow_empty: bool = False
    relation: str | None = None


@dataclass(frozen=True)
class WriteSummary:
    table: str
    rows_written: int
    rows_before: int
    rows_unchanged: int

    @property
    def rows_changed(self) -> int:
        return self.rows_written - self.rows_unchanged


def _after_delete(table: str) -> None:
    """Seam between the delete and the insert, where fault-injection tests raise."""


def ensure_table(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """Create the table (and its schema) if missing, with its COMMENT ON descriptions; on an
    existing table, set the comments again only where they differ from the spec (comment
    statements are catalog writes: one per column, on every write, added up to half a second
    per run)."""
    if not table_exists(con, spec.schema, spec.name):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
        con.execute(spec.create_sql())
    elif stored_comments(con, spec) == spec_comments(spec):
        return
    else:
        _allow_nulls_the_spec_allows(con, spec)
    for statement in spec.comment_sql():
        con.execute(statement)


def _stored_columns(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> list[tuple[str, bool]]:
    """(column name, nullable) of the stored table, in order."""
    return con.execute(
        "SELECT column_name, is_nullable FROM duckdb_columns() WHERE schema_name = ? AND "
        "table_name = ? AND database_name = current_database() ORDER BY column_index",
        [spec.schema, spec.name],
    ).fetchall()


def _allow_nulls_the_spec_allows(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
    """Drop NOT NULL from stored columns the spec now lets be empty (raw.prices' open, high and
    low became nullable for close-only bars): a warehouse written before keeps its rows."""
    nullable = {c.name for c in spec.columns if c.nullable}
    for name, is_nullable in _stored_columns(con, spec):
        if name in nullable and not is_nullable:
            con.execute(f"ALTER TABLE {spec.qualified_name} ALTER COLUMN {name} DROP NOT NULL")


def drop_if_columns_differ(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> bool:
    """Drop the stored table when its columns (names, order, nullability) are not the spec's;
    for tables rewritten whole (the reference seeds), whose rows are replaced anyway. True when
    it dropped one."""
    if not table_exists(con, spec.schema, spec.name):
        return False
    wanted = [(c.name, c.nullable) for c in spec.columns]
    if _stored_columns(con, spec) == wanted:
        return False
    con.execute(f"DROP TABLE {spec.qualified_name}")
    return True


def spec_comments(spec: TableSpec) -> dict[str, str]:
    """'' (the table) and every column, with the comment the spec gives it."""
    return {"": spec.description, **{c.name: c.description for c in spec.columns}}


def stored_comments(con: duckdb.DuckDBPyConnection, spec: TableSpec) -> dict[str, str | None]:
    """The comments DuckDB holds for the table ('') and its columns."""
    rows = con.execute(
        "SELECT '' AS name, comment FROM duckdb_tables() "
        "WHERE schema_name = ? AND table_name = ? AND database_name = current_database() "
        "UNION ALL SELECT column_name, comment FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? AND database_name = current_database()",
        [spec.schema, spec.name, spec.schema, spec.name],
    ).fetchall()
    return dict(rows)


def read_table(
    con: duckdb.DuckDBPyConnection, spec: TableSpec, where: str = "", params: list | None = None
) -> pd.DataFrame:
    """Rows of ``spec``'s table (optionally ``WHERE ...``); empty, typed, if not created yet."""
    if not table_exists(con, spec.schema, spec.name):
        return spec.empty()
    sql = f"SELECT * FROM {spec.qualified_name}" + (f" WHERE {where}" if where else "")
    return con.execute(sql, params or []).df()


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    spec: TableSpec,
    frame: pd.DataFrame,
    window: tuple[dt.date, dt.date] | None = None,
    keep_first_seen: str | None = None,
) -> WriteSummary:
    """Replace the rows of ``window`` (or the whole table) with ``frame``, atomically.

    ``window`` bounds the table's partition column, both ends inclusive; rows of ``frame``
    outside it are an error rather than silently written. ``keep_first_seen`` names a
    timestamp column (``loaded_at``) that keeps its stored value on rows whose other values
    are unchanged, so re-loading identical data changes nothing. An empty frame is refused.
    """
    (summary,) = replace_tables(con, [TableWrite(spec, frame, window, keep_first_seen)])
    return summary


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction: committed when the block succeeds, rolled back otherwise."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def replace_tables(con: duckdb.DuckDBPyConnection, writes: list[TableWrite]) -> list[WriteSummary]:
    """Several ``replace_rows`` in one transaction: all of them land, or none."""
    with transaction(con):
        return replace_tables_in_transaction(con, writes)


def replace_tables_in_transaction(
    con: duckdb.DuckDBPyConnection, writes: list[TableWrite]
) -> list[WriteSummary]:
    """``replace_tables`` inside a transaction the caller holds (and commits with its own
    statements, e.g. the load record of ``raw.prices``)."""
    summaries = []
    for write in writes:
        ensure_table(con, write.spec)
        summaries.append(_replace(con, write))
    return summaries


def _stage_incoming(con: duckdb.DuckDBPyConnection, write: TableWrite) -> None:
    """The rows to write as the temp table ``incoming``, in the table's column order."""
    columns = ", ".join(write.spec.column_names)
    if write.relation is not None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT {columns} FROM {write.relation}"
        )
        return
    frame = write.spec.conform(write.frame)
    con.register("incoming_frame", frame)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT {columns} FROM incoming_frame"
        )
    finally:
        con.unregister("incoming_frame")


def _replace(con: duckdb.DuckDBPyConnection, write: TableWrite) -> WriteSummary:
    spec, window = write.spec, write.window
    table, columns = spec.qualified_name, spec.column_names
    _stage_incoming(con, write)
    (rows,) = con.execute("SELECT count(*) FROM incoming").fetchone()
    if rows == 0 and not write.allow_empty:
        con.execute("DROP TABLE incoming")
        raise EmptyWriteError(
            f"Refusing to write no rows to {table}"
            + (f" for {window[0]}..{window[1]}" if window else "")
            + "; stored rows are unchanged."
        )
    where, params = "", []
    if window is not None:
        col = spec.window_column
        if col is None:
            raise ValueError(f"{table} is not written by windows")
        (outside,) = con.execute(
            f"SELECT count(*) FROM incoming WHERE {col} NOT BETWEEN ? AND ?", list(window)
        ).fetchone()
        if outside:
            raise WarehouseError(
                f"{outside} rows for {table} fall outside the partition window "
                f"{window[0]}..{window[1]}; nothing was written."
            )
        where, params = f" WHERE {col} BETWEEN ? AND ?", [window[0], window[1]]
    rows_before = con.execute(f"SELECT count(*) FROM {table}{where}", params).fetchone()[0]
    unchanged = 0
    if write.keep_first_seen and rows:
        kept = write.keep_first_seen
        same = " AND ".join(
            f"s.{c} IS NOT DISTINCT FROM incoming.{c}" for c in columns if c != kept
        )
        unchanged = con.execute(
            f"UPDATE incoming SET {kept} = s.{kept} "
            f"FROM (SELECT * FROM {table}{where}) s WHERE {same}",
            params,
        ).fetchone()[0]
    con.execute(f"DELETE FROM {table}{where}", params)
    _after_delete(table)
    # BY NAME: never rely on column position.
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.execute("DROP TABLE incoming")
    return WriteSummary(
        table=table,
        rows_written=int(rows),
        rows_before=int(rows_before),
        rows_unchanged=int(unchanged),
    )
