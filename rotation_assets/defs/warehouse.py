"""The warehouse resource: ``dagster_duckdb.DuckDBResource`` plus the project's lock handling.

Write connections come from ``DuckDBResource.get_connection``. Two things it does not do are
added here, as plain functions from ``rotation_assets.warehouse``:

* it waits for a held file silently (ten retries, 102 s in all) and its error does not say who
  holds the file: before asking it for a connection, ``connect`` waits up to
  ``lock_wait_seconds`` itself, logging and finally naming the holding process;
* it closes its connection only when the ``with`` body succeeds, so an exception leaves the
  file open (and locked against other processes) until the garbage collector runs: ``connect``
  closes it whatever happens (``test_warehouse`` shows both).

It cannot open a file read-only either; ``connect(read_only=True)`` opens one directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource
from pydantic import Field

from rotation_assets.paths import DEFAULT_WAREHOUSE_PATH
from rotation_assets.warehouse import writes
from rotation_assets.warehouse.connection import connect_waiting, read_only_connection
from rotation_assets.warehouse.snapshot import default_snapshot_path
from rotation_assets.warehouse.table_spec import TableSpec

# DuckDBResource's own connection config (it adds this user agent); the lock probe opens the
# file with the same config, since DuckDB refuses a second configuration in one process.
_DAGSTER_USER_AGENT = {"custom_user_agent": "dagster"}


class DuckDBWarehouse(DuckDBResource):
    """The rotation warehouse file, opened per operation and closed straight after."""

    database: str = Field(
        default=str(DEFAULT_WAREHOUSE_PATH),
        description="DuckDB file of the warehouse (ROTATION_DUCKDB_PATH).",
    )
    connection_config: dict[str, Any] = Field(
        # DuckDB takes up to 80% of the machine by default; beyond this it spills to disk.
        default={"memory_limit": "1GB"},
        description="DuckDB configuration of every connection "
        "(https://duckdb.org/docs/configuration/overview).",
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
        return (
            Path(self.snapshot_path) if self.snapshot_path else default_snapshot_path(self.database)
        )

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, after waiting up to ``lock_wait_seconds`` for a lock held elsewhere."""
        if read_only:
            with read_only_connection(self.database, self.lock_wait_seconds) as con:
                yield con
            return
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        # Wait here, naming the holder; DuckDBResource's own retries then rarely have to.
        connect_waiting(
            self.database,
            self.lock_wait_seconds,
            config={**_DAGSTER_USER_AGENT, **self.connection_config},
        ).close()
        with self.get_connection() as con:
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
            return writes.read_table(con, spec, where, params)

    def replace_rows(
        self,
        spec: TableSpec,
        frame: pd.DataFrame,
        window: tuple[dt.date, dt.date] | None = None,
        keep_first_seen: str | None = None,
    ) -> writes.WriteSummary:
        """``warehouse.writes.replace_rows`` on a connection of its own."""
        with self.connect() as con:
            return writes.replace_rows(con, spec, frame, window, keep_first_seen)

    def replace_tables(self, table_writes: list[writes.TableWrite]) -> list[writes.WriteSummary]:
        """``warehouse.writes.replace_tables`` (one transaction) on a connection of its own."""
        with self.connect() as con:
            return writes.replace_tables(con, table_writes)
