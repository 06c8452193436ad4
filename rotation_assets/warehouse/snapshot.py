"""The published snapshot: a read-only copy of the warehouse for analysts, swapped in whole.

DuckDB lets one process write a file and refuses to open it for writing while anyone else holds
it, readers included. Analysts therefore never open the live warehouse: after every successful
run the job copies it (schemas, tables, views and their ``COMMENT ON`` descriptions, via
``ATTACH`` + ``COPY FROM DATABASE``) into a temporary file in the snapshot's folder, checks the
copy against the live file by opening it on its own, and renames it over the previous snapshot
with ``os.replace``. The rename is atomic: a reader sees the old snapshot or the new one, never
a half-written file, and a reader that has the old file open keeps reading the old inode until
it reconnects. Nothing an analyst does with the snapshot can delay or fail a run.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

_BUILD_ALIAS = "rotation_snapshot_build"

# Every object of the current database with its comment; columns carry their type so that a
# copy that changed a type is caught too.
_CATALOG_SQL = """
SELECT 'table' AS kind, schema_name, table_name AS name, '' AS column_name, '' AS data_type,
       comment
FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal AND NOT temporary
UNION ALL
SELECT 'view', schema_name, view_name, '', '', comment
FROM duckdb_views() WHERE database_name = current_database() AND NOT internal AND NOT temporary
UNION ALL
SELECT 'column', schema_name, table_name, column_name, data_type, comment
FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal
ORDER BY kind, schema_name, name, column_name
"""


class SnapshotError(Exception):
    """The copy did not match the live warehouse; the previous snapshot was left in place."""


@dataclass(frozen=True)
class PublishedSnapshot:
    path: Path
    table_rows: dict[str, int]  # schema.table -> rows
    views: list[str]  # schema.view
    size_bytes: int
    published_at: dt.datetime  # UTC

    @property
    def total_rows(self) -> int:
        return sum(self.table_rows.values())


def default_snapshot_path(warehouse_path: str | Path) -> Path:
    """``data/rotation.duckdb`` -> ``data/rotation_snapshot.duckdb``: beside the live file."""
    live = Path(warehouse_path)
    return live.with_name(f"{live.stem}_snapshot{live.suffix or '.duckdb'}")


def catalog(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Tables, views and columns of the connection's database, with types and comments."""
    return con.execute(_CATALOG_SQL).df()


def table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every table of the connection's database, by ``schema.table``."""
    tables = catalog(con).query("kind == 'table'")
    return {
        f"{r.schema_name}.{r.name}": int(
            con.execute(f'SELECT count(*) FROM "{r.schema_name}"."{r.name}"').fetchone()[0]
        )
        for r in tables.itertuples()
    }


def catalog_differences(live: pd.DataFrame, copy: pd.DataFrame) -> list[str]:
    """What the copy's catalog lacks or has different from the live one (empty when equal)."""
    keys = ["kind", "schema_name", "name", "column_name"]
    merged = live.merge(
        copy, on=keys, how="outer", suffixes=("_live", "_copy"), indicator="presence"
    )
    problems = []
    for row in merged.itertuples():
        what = f"{row.kind} {row.schema_name}.{row.name}" + (
            f".{row.column_name}" if row.column_name else ""
        )
        if row.presence == "left_only":
            problems.append(f"{what} is missing from the copy")
        elif row.presence == "right_only":
            problems.append(f"{what} is only in the copy")
        else:
            for field in ("data_type", "comment"):
                a, b = (_text(getattr(row, f"{field}_{side}")) for side in ("live", "copy"))
                if a != b:
                    problems.append(f"{what}: {field} {b!r} in the copy, {a!r} live")
    return problems


def _text(value: object) -> str | None:
    return None if pd.isna(value) else str(value)


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _verify(live_con: duckdb.DuckDBPyConnection, built: Path) -> tuple[dict[str, int], list[str]]:
    """Open the built file on its own, as an analyst will, and compare it with the live one."""
    if built.with_name(built.name + ".wal").exists():
        raise SnapshotError(f"{built} still has a write-ahead log after its checkpoint")
    live_catalog, live_rows = catalog(live_con), table_rows(live_con)
    with duckdb.connect(str(built), read_only=True) as snap:
        problems = catalog_differences(live_catalog, catalog(snap))
        rows = table_rows(snap)
        views = catalog(snap).query("kind == 'view'")
        view_names = [f"{v.schema_name}.{v.name}" for v in views.itertuples()]
        for view in views.itertuples():
            # A view naming the live catalog would break (or read the live file) in the copy.
            try:
                snap.execute(f'SELECT count(*) FROM "{view.schema_name}"."{view.name}"').fetchone()
            except duckdb.Error as exc:
                problems.append(f"view {view.schema_name}.{view.name} fails in the copy: {exc}")
    problems += [
        f"{table}: {rows.get(table)} rows in the copy, {count} live"
        for table, count in live_rows.items()
        if rows.get(table) != count
    ]
    if problems:
        raise SnapshotError("The snapshot copy differs from the warehouse: " + "; ".join(problems))
    return rows, view_names


def publish_snapshot(
    con: duckdb.DuckDBPyConnection, snapshot_path: str | Path, now: dt.datetime | None = None
) -> PublishedSnapshot:
    """Copy the database of ``con`` to ``snapshot_path`` and swap it in atomically.

    ``con`` is a connection to the live warehouse held for the whole copy, so no writer changes
    it meanwhile. Any failure removes the temporary file and leaves the previous snapshot as it
    was, byte for byte.
    """
    target = Path(snapshot_path).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as the target: os.replace is only atomic within one file system.
    built = target.with_name(f".{target.name}.{os.getpid()}.building")
    _remove(built)
    live = con.execute("SELECT current_database()").fetchone()[0]
    (live_path,) = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if live_path and Path(live_path).absolute() == target:
        raise SnapshotError(f"The snapshot path {target} is the warehouse file itself")
    try:
        con.execute(f"ATTACH {_quote(built)} AS {_BUILD_ALIAS}")
        try:
            con.execute(f'COPY FROM DATABASE "{live}" TO {_BUILD_ALIAS}')
            con.execute(f"CHECKPOINT {_BUILD_ALIAS}")
        finally:
            con.execute(f"DETACH {_BUILD_ALIAS}")
        rows, views = _verify(con, built)
        with open(built, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(built, target)
    except BaseException:
        _remove(built)
        raise
    return PublishedSnapshot(
        path=target,
        table_rows=rows,
        views=views,
        size_bytes=target.stat().st_size,
        published_at=now or dt.datetime.now(dt.UTC),
    )
