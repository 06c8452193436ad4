"""The published snapshot without Dagster: a complete, verified copy swapped in atomically."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from rotation_assets.warehouse import snapshot as warehouse_snapshot
from rotation_assets.warehouse.snapshot import (
    SnapshotError,
    catalog,
    catalog_differences,
    default_snapshot_path,
    publish_snapshot,
)

BOTH_FILES = ["rotation.duckdb", "rotation_snapshot.duckdb"]


def build_live(path: Path, prices: list[tuple[str, float]]) -> None:
    """A small warehouse: a commented table, a commented view over it, a second schema."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute("CREATE SCHEMA IF NOT EXISTS analytics")
        con.execute("CREATE OR REPLACE TABLE raw.prices (ticker VARCHAR NOT NULL, close DOUBLE)")
        con.executemany("INSERT INTO raw.prices VALUES (?, ?)", prices)
        con.execute("COMMENT ON TABLE raw.prices IS 'Daily bars, one row per ticker.'")
        con.execute("COMMENT ON COLUMN raw.prices.close IS 'Closing price, split-adjusted.'")
        con.execute(
            "CREATE OR REPLACE VIEW analytics.dashboard AS "
            "SELECT ticker, close * 2 AS doubled FROM raw.prices"
        )
        con.execute("COMMENT ON VIEW analytics.dashboard IS 'One row per ticker.'")
        con.execute("COMMENT ON COLUMN analytics.dashboard.doubled IS 'Twice the close.'")


def publish(live: Path, snapshot: Path):
    with duckdb.connect(str(live)) as con:
        return publish_snapshot(con, snapshot)


def read(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_snapshot_sits_beside_the_warehouse():
    assert default_snapshot_path("data/rotation.duckdb") == Path("data/rotation_snapshot.duckdb")
    assert default_snapshot_path("/x/w.duckdb") == Path("/x/w_snapshot.duckdb")


def test_copy_keeps_tables_views_types_and_comments(tmp_path):
    live, snap = tmp_path / "rotation.duckdb", tmp_path / "rotation_snapshot.duckdb"
    build_live(live, [("IWM", 200.0), ("SPY", 600.0)])

    published = publish(live, snap)

    assert published.path == snap and published.table_rows == {"raw.prices": 2}
    assert published.views == ["analytics.dashboard"]
    assert published.size_bytes == snap.stat().st_size
    assert read(snap, "SELECT * FROM analytics.dashboard ORDER BY ticker") == [
        ("IWM", 400.0),
        ("SPY", 1200.0),
    ]
    assert read(snap, "SELECT comment FROM duckdb_tables() WHERE table_name = 'prices'") == [
        ("Daily bars, one row per ticker.",)
    ]
    assert read(snap, "SELECT comment FROM duckdb_views() WHERE view_name = 'dashboard'") == [
        ("One row per ticker.",)
    ]
    assert read(
        snap,
        "SELECT table_name, column_name, comment, is_nullable FROM duckdb_columns() "
        "WHERE schema_name IN ('raw', 'analytics') AND comment IS NOT NULL ORDER BY table_name",
    ) == [
        ("dashboard", "doubled", "Twice the close.", True),
        ("prices", "close", "Closing price, split-adjusted.", True),
    ]
    assert read(
        snap,
        "SELECT is_nullable FROM duckdb_columns() WHERE column_name = 'ticker' "
        "AND table_name = 'prices'",
    ) == [(False,)]
    # Nothing left behind but the two files.
    assert sorted(p.name for p in tmp_path.iterdir()) == BOTH_FILES


def test_a_reader_of_the_old_snapshot_keeps_its_data_until_it_reconnects(tmp_path):
    live, snap = tmp_path / "rotation.duckdb", tmp_path / "rotation_snapshot.duckdb"
    build_live(live, [("IWM", 200.0)])
    publish(live, snap)
    reader = duckdb.connect(str(snap), read_only=True)
    old_inode = snap.stat().st_ino

    build_live(live, [("IWM", 201.0), ("SPY", 600.0)])
    publish(live, snap)

    assert snap.stat().st_ino != old_inode  # a new file was renamed over the old one
    assert reader.execute("SELECT * FROM raw.prices").fetchall() == [("IWM", 200.0)]
    reader.close()
    assert read(snap, "SELECT count(*) FROM raw.prices") == [(2,)]


def test_a_failed_copy_leaves_the_previous_snapshot_byte_identical(tmp_path, monkeypatch):
    live, snap = tmp_path / "rotation.duckdb", tmp_path / "rotation_snapshot.duckdb"
    build_live(live, [("IWM", 200.0)])
    publish(live, snap)
    before = snap.read_bytes()
    build_live(live, [("IWM", 999.0)])

    def disagree(live_catalog: pd.DataFrame, copy: pd.DataFrame) -> list[str]:
        return ["injected difference"]

    monkeypatch.setattr(warehouse_snapshot, "catalog_differences", disagree)
    with pytest.raises(SnapshotError, match="injected difference"):
        publish(live, snap)

    assert snap.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == BOTH_FILES


def test_the_snapshot_path_cannot_be_the_warehouse(tmp_path):
    live = tmp_path / "rotation.duckdb"
    build_live(live, [("IWM", 200.0)])
    with pytest.raises(SnapshotError, match="is the warehouse file itself"):
        publish(live, live)
    assert read(live, "SELECT count(*) FROM raw.prices") == [(1,)]


def test_catalog_differences_name_missing_comments_objects_and_types(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    build_live(a, [("IWM", 200.0)])
    build_live(b, [("IWM", 200.0)])
    with duckdb.connect(str(b)) as con:
        con.execute("COMMENT ON COLUMN raw.prices.close IS NULL")
        con.execute("DROP VIEW analytics.dashboard")
        con.execute("ALTER TABLE raw.prices ALTER close TYPE FLOAT")
        con.execute("ALTER TABLE raw.prices ADD COLUMN volume BIGINT")
    with duckdb.connect(str(a), read_only=True) as ca, duckdb.connect(str(b), read_only=True) as cb:
        problems = catalog_differences(catalog(ca), catalog(cb))
    assert (
        "column raw.prices.close: comment None in the copy, 'Closing price, split-adjusted.' live"
        in problems
    )
    assert "view analytics.dashboard is missing from the copy" in problems
    assert "column raw.prices.close: data_type 'FLOAT' in the copy, 'DOUBLE' live" in problems
    assert "column raw.prices.volume is only in the copy" in problems
    assert "column analytics.dashboard.doubled is missing from the copy" in problems
    with duckdb.connect(str(a), read_only=True) as ca:
        assert catalog_differences(catalog(ca), catalog(ca)) == []
