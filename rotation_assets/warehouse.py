"""The DuckDB warehouse: transactional writes and a bounded wait for the file lock.

Every write replaces a slice of a table (a window of trading days, or the whole table) inside
one transaction: either the new rows are all there, or the old ones are untouched. Nothing is
written from an empty frame. DuckDB lets one process write a file and refuses to open it while
another process holds it, so connecting retries for ``lock_wait_seconds`` and then fails naming
the process that holds the lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from dagster import ConfigurableResource
from pydantic import Field

from rotation_assets.project_paths import DEFAULT_WAREHOUSE_PATH
from rotation_assets.table_spec import TableSpec
from rotation_assets.warehouse_snapshot import default_snapshot_path

log = logging.getLogger(__name__)

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class WarehouseError(Exception):
    """A write to the warehouse was refused or failed; stored rows are unchanged."""


class WarehouseLockedError(WarehouseError):
    """Another process held the DuckDB file for longer than the wait budget."""


class EmptyWriteError(WarehouseError):
    """A write was handed no rows; refusing it keeps the stored partition."""


@dataclass(frozen=True)
class TableWrite:
    """One table's part of a transactional write (see ``DuckDBWarehouse.replace_rows``)."""

    spec: TableSpec
    frame: pd.DataFrame
    window: tuple[dt.date, dt.date] | None = None
    keep_first_seen: str | None = None
    # A window may legitimately hold nothing (no dividends this week): then it is only cleared.
    allow_empty: bool = False


@dataclass(frozen=True)
class WriteSummary:
    table: str
    rows_written: int
    rows_before: int
    rows_unchanged: int

    @property
    def rows_changed(self) -> int:
        return self.rows_written - self.rows_unchanged


def describe_lock_holder(message: str) -> str:
    """'PID 123 (duckdb -readonly data/rotation.duckdb)' from DuckDB's lock error, if it says."""
    match = _LOCK_HOLDER.search(message)
    if not match:
        return "another process"
    pid = match.group("pid")
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        cmdline = match.group("program")
    return f"PID {pid} ({cmdline})"


def _after_delete(table: str) -> None:
    """Seam between the delete and the insert, where fault-injection tests raise."""


class DuckDBWarehouse(ConfigurableResource):
    """The rotation warehouse file, opened per operation and closed straight after."""

    path: str = Field(
        default=str(DEFAULT_WAREHOUSE_PATH),
        description="DuckDB file of the warehouse (ROTATION_DUCKDB_PATH).",
    )
    lock_wait_seconds: float = Field(
        default=60.0,
        description="How long to wait for another process to release the file before failing.",
    )
    snapshot_path: str = Field(
        default="",
        description="Read-only copy published for analysts after every successful run "
        "(ROTATION_SNAPSHOT_PATH); empty: <warehouse>_snapshot.duckdb beside the warehouse.",
    )

    def published_snapshot_path(self) -> Path:
        """Where analysts find the published copy (never the live file)."""
        return Path(self.snapshot_path) if self.snapshot_path else default_snapshot_path(self.path)

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, waiting up to ``lock_wait_seconds`` for a lock held elsewhere."""
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_seconds
        delay = 0.2
        while True:
            try:
                con = duckdb.connect(self.path, read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                holder = describe_lock_holder(str(exc))
                if time.monotonic() >= deadline:
                    raise WarehouseLockedError(
                        f"The warehouse {self.path} is locked by {holder}. Close that session "
                        f"(a DuckDB CLI, notebook or BI tool holding the live file) and run "
                        f"again; analysts should open the published snapshot instead. Waited "
                        f"{self.lock_wait_seconds:.0f}s; nothing was written."
                    ) from exc
                log.warning("Warehouse %s is locked by %s; retrying", self.path, holder)
                time.sleep(min(delay, max(deadline - time.monotonic(), 0.05)))
                delay = min(delay * 2, 5.0)
        try:
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query and return its rows as a DataFrame."""
        with self.connect() as con:
            return con.execute(sql, params or []).df()

    def read(self, spec: TableSpec, where: str = "", params: list | None = None) -> pd.DataFrame:
        """Rows of ``spec``'s table (optionally ``WHERE ...``); empty, typed, if not created yet."""
        with self.connect() as con:
            if not self.table_exists(con, spec):
                return spec.conform(pd.DataFrame(columns=spec.column_names))
            sql = f"SELECT * FROM {spec.qualified_name}" + (f" WHERE {where}" if where else "")
            return con.execute(sql, params or []).df()

    def table_exists(self, con: duckdb.DuckDBPyConnection, spec: TableSpec) -> bool:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [spec.schema, spec.name],
        ).fetchone()
        return bool(found and found[0])

    def ensure_table(self, con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
        con.execute(spec.create_sql())
        for statement in spec.comment_sql():
            con.execute(statement)

    def replace_rows(
        self,
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
        (summary,) = self.replace_tables([TableWrite(spec, frame, window, keep_first_seen)])
        return summary

    def replace_tables(self, writes: list[TableWrite]) -> list[WriteSummary]:
        """Several ``replace_rows`` in one transaction: all of them land, or none."""
        prepared = [(w, self._prepare(w)) for w in writes]
        summaries = []
        with self.connect() as con:
            for write, _ in prepared:
                self.ensure_table(con, write.spec)
            con.execute("BEGIN TRANSACTION")
            try:
                for write, (frame, where, params) in prepared:
                    summaries.append(self._replace(con, write, frame, where, params))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return summaries

    def _prepare(self, write: TableWrite) -> tuple[pd.DataFrame, str, list]:
        spec, window = write.spec, write.window
        if write.frame.empty and not write.allow_empty:
            raise EmptyWriteError(
                f"Refusing to write no rows to {spec.qualified_name}"
                + (f" for {window[0]}..{window[1]}" if window else "")
                + "; stored rows are unchanged."
            )
        frame = spec.conform(write.frame)
        if window is None:
            return frame, "", []
        col = spec.partition_column
        if col is None:
            raise ValueError(f"{spec.qualified_name} is not partitioned")
        dates = pd.to_datetime(frame[col]).dt.date
        outside = frame[(dates < window[0]) | (dates > window[1])]
        if not outside.empty:
            raise WarehouseError(
                f"{len(outside)} rows for {spec.qualified_name} fall outside the partition "
                f"window {window[0]}..{window[1]}; nothing was written."
            )
        return frame, f" WHERE {col} BETWEEN ? AND ?", [window[0], window[1]]

    def _replace(
        self,
        con: duckdb.DuckDBPyConnection,
        write: TableWrite,
        frame: pd.DataFrame,
        where: str,
        params: list,
    ) -> WriteSummary:
        table, columns = write.spec.qualified_name, write.spec.column_names
        con.register("incoming_frame", frame)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE incoming AS "
                f"SELECT {', '.join(columns)} FROM incoming_frame"
            )
        finally:
            con.unregister("incoming_frame")
        rows_before = con.execute(f"SELECT count(*) FROM {table}{where}", params).fetchone()[0]
        unchanged = 0
        if write.keep_first_seen and not frame.empty:
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
            rows_written=len(frame),
            rows_before=int(rows_before),
            rows_unchanged=int(unchanged),
        )
