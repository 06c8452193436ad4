import datetime as dt
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest

from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.warehouse import writes as warehouse_module
from rotation_assets.warehouse.connection import WarehouseError, WarehouseLockedError
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import EmptyWriteError
from rotation_assets_tests.lock_holder import HANG_BOUND_SECONDS, LockHolder, lock_wait_log

SPEC = TableSpec(
    schema="t",
    name="bars",
    description="test bars",
    columns=(
        Column("trade_date", "DATE", "day"),
        Column("ticker", "VARCHAR", "ticker"),
        Column("close", "DOUBLE", "close"),
        Column("loaded_at", "TIMESTAMP", "first load"),
    ),
    key=("trade_date", "ticker"),
    window_column="trade_date",
)


def bars(days: list[str], closes: list[float], loaded: str = "2026-01-01 00:00:00") -> pd.DataFrame:
    return pd.DataFrame(
        {
            # Columns deliberately out of table order: the write must go by name.
            "close": closes,
            "ticker": ["IWM"] * len(days),
            "loaded_at": pd.Timestamp(loaded),
            "trade_date": pd.to_datetime(days),
        }
    )


def stored(wh: DuckDBWarehouse) -> list[tuple]:
    with wh.connect(read_only=True) as con:
        return con.execute(
            "SELECT trade_date, ticker, close, loaded_at FROM t.bars ORDER BY trade_date"
        ).fetchall()


@pytest.fixture
def wh(tmp_path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(database=str(tmp_path / "w.duckdb"), lock_wait_seconds=2)
    wh.replace_rows(SPEC, bars(["2026-02-02", "2026-02-03", "2026-02-04"], [1.0, 2.0, 3.0]))
    return wh


def window(a: str, b: str) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(a), dt.date.fromisoformat(b)


def test_replace_window_only_touches_that_window_and_writes_by_name(wh):
    wh.replace_rows(SPEC, bars(["2026-02-03"], [20.0]), window=window("2026-02-03", "2026-02-03"))
    assert [(r[0].isoformat(), r[2]) for r in stored(wh)] == [
        ("2026-02-02", 1.0),
        ("2026-02-03", 20.0),
        ("2026-02-04", 3.0),
    ]


def test_empty_frame_is_refused_and_keeps_the_partition(wh):
    before = stored(wh)
    with pytest.raises(EmptyWriteError, match="2026-02-03"):
        wh.replace_rows(SPEC, bars([], []), window=window("2026-02-03", "2026-02-03"))
    assert stored(wh) == before


def test_rows_outside_the_window_are_refused(wh):
    before = stored(wh)
    with pytest.raises(WarehouseError, match="outside the partition window"):
        wh.replace_rows(
            SPEC, bars(["2026-02-05"], [9.0]), window=window("2026-02-03", "2026-02-03")
        )
    assert stored(wh) == before


def test_failure_between_delete_and_insert_rolls_back(wh, monkeypatch):
    before = stored(wh)

    def explode(table: str) -> None:
        raise RuntimeError(f"injected failure after deleting from {table}")

    monkeypatch.setattr(warehouse_module, "_after_delete", explode)
    with pytest.raises(RuntimeError, match="t.bars"):
        wh.replace_rows(
            SPEC, bars(["2026-02-03"], [99.0]), window=window("2026-02-02", "2026-02-04")
        )
    assert stored(wh) == before
    # The file lock was released: another connection can write.
    monkeypatch.undo()
    wh.replace_rows(SPEC, bars(["2026-02-03"], [5.0]), window=window("2026-02-03", "2026-02-03"))
    assert stored(wh)[1][2] == 5.0


def test_identical_reload_keeps_loaded_at_and_changed_rows_get_the_new_one(wh):
    first = stored(wh)
    summary = wh.replace_rows(
        SPEC,
        bars(["2026-02-02", "2026-02-03"], [1.0, 2.5], loaded="2026-03-01 00:00:00"),
        window=window("2026-02-02", "2026-02-03"),
        keep_first_seen="loaded_at",
    )
    after = stored(wh)
    assert after[0] == first[0]  # unchanged row: same loaded_at
    assert after[1][2] == 2.5 and after[1][3] == dt.datetime(2026, 3, 1)
    assert (summary.rows_written, summary.rows_unchanged, summary.rows_changed) == (2, 1, 1)
    assert summary.rows_before == 2


def test_write_waits_for_a_reader_that_lets_go(wh):
    # The reader lets go only once the writer has reported that it waits for it, so the write
    # waits whatever the machine's load; the budget only bounds a hang.
    patient = DuckDBWarehouse(database=wh.database, lock_wait_seconds=HANG_BOUND_SECONDS)
    with LockHolder(wh.database) as reader, lock_wait_log(release=reader) as waits:
        patient.replace_rows(
            SPEC, bars(["2026-02-03"], [7.0]), window=window("2026-02-03", "2026-02-03")
        )
    assert stored(wh)[1][2] == 7.0
    # One wait, naming the reader and its command line, and the write went on after it.
    (holder,) = waits.holders_waited_for()
    assert holder.startswith(f"PID {reader.pid} (") and "duckdb.connect" in holder
    assert f"locked by {holder}" in waits.waiting[0].getMessage()
    assert [r.lock_holder for r in waits.acquired] == [holder]


def test_lock_held_past_the_budget_names_the_holder_and_writes_nothing(wh):
    before = stored(wh)
    # The holder keeps the file until the block ends: the 2 s budget runs out first.
    with (
        LockHolder(wh.database) as holder,
        lock_wait_log() as waits,
        pytest.raises(WarehouseLockedError) as err,
    ):
        wh.replace_rows(
            SPEC, bars(["2026-02-03"], [8.0]), window=window("2026-02-03", "2026-02-03")
        )
    message = str(err.value)
    assert f"PID {holder.pid}" in message
    assert "duckdb.connect" in message  # the holder's command line, so people know what to close
    assert "nothing was written" in message
    assert [h.startswith(f"PID {holder.pid} (") for h in waits.holders_waited_for()] == [True]
    assert waits.acquired == []  # it never got the file
    assert stored(wh) == before


def test_comments_reach_duckdb(wh):
    with duckdb.connect(wh.database, read_only=True) as con:
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() "
            "WHERE table_name = 'bars' AND column_name = 'close'"
        ).fetchone()[0]
    assert comment == "close"


# --- what dagster_duckdb.DuckDBResource does not do, and the warehouse resource adds --------


def _can_open_for_writing(path: str) -> bool:
    """Whether another process can open ``path`` for writing right now."""
    probe = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({path!r}).close()"],
        capture_output=True,
        text=True,
    )
    return probe.returncode == 0


def test_duckdb_resource_keeps_the_file_locked_after_a_failed_body_and_the_warehouse_does_not(
    tmp_path,
):
    from dagster_duckdb import DuckDBResource

    path = str(tmp_path / "plain.duckdb")
    try:
        with DuckDBResource(database=path).get_connection() as con:
            con.execute("CREATE TABLE t (a INTEGER)")
            raise RuntimeError("an asset failed half-way")
    except RuntimeError as exc:
        kept = exc  # as Dagster keeps a step's error: its traceback holds the connection
    # DuckDBResource closes its connection only after a body that succeeded.
    assert not _can_open_for_writing(path)
    del kept

    path = str(tmp_path / "warehouse.duckdb")
    try:
        with DuckDBWarehouse(database=path).connect() as con:
            con.execute("CREATE TABLE t (a INTEGER)")
            raise RuntimeError("an asset failed half-way")
    except RuntimeError as exc:
        kept = exc
    assert _can_open_for_writing(path)
    del kept


def test_duckdb_resource_waits_102_s_in_silence_where_the_warehouse_names_the_holder(
    wh, monkeypatch, caplog
):
    from dagster_duckdb import DuckDBResource

    slept: list[float] = []
    real_sleep = time.sleep
    with LockHolder(wh.database) as holder, lock_wait_log() as waits:
        monkeypatch.setattr(time, "sleep", lambda seconds: slept.append(seconds))
        try:
            resource = DuckDBResource(database=wh.database)
            with (
                pytest.raises(duckdb.IOException) as err,
                caplog.at_level("WARNING"),
                resource.get_connection(),
            ):
                pass
            resource_waits = list(slept)
            resource_said = [r.getMessage() for r in caplog.records]
        finally:
            monkeypatch.setattr(time, "sleep", real_sleep)
        with pytest.raises(WarehouseLockedError) as named, wh.connect():
            pass
    # Ten silent retries, 0.1 s doubling to 51.2 s: 102.3 s before DuckDB's own error.
    assert len(resource_waits) == 10 and sum(resource_waits) == pytest.approx(102.3)
    assert "lock" in str(err.value).lower()
    # The warehouse waits lock_wait_seconds (2 s here), saying who holds the file, then names it.
    assert f"PID {holder.pid}" in str(named.value) and "Waited 2s" in str(named.value)
    assert not [m for m in resource_said if "lock" in m.lower()]  # in silence
    assert [f"PID {holder.pid}" in r.getMessage() for r in waits.waiting] == [True]


def test_a_column_the_spec_now_lets_be_empty_loses_not_null_and_keeps_its_rows():
    # raw.prices' open became nullable (close-only bars): a table written before keeps its rows.
    old = TableSpec(
        "t",
        "bars",
        "bars",
        (Column("day", "DATE", "d", nullable=False), Column("open", "DOUBLE", "o", nullable=False)),
    )
    new = TableSpec(
        "t",
        "bars",
        "bars v2",
        (Column("day", "DATE", "d", nullable=False), Column("open", "DOUBLE", "o, or empty")),
    )
    with duckdb.connect() as con:
        warehouse_module.ensure_table(con, old)
        con.execute("INSERT INTO t.bars VALUES (DATE '2026-02-02', 1.5)")
        warehouse_module.ensure_table(con, new)
        con.execute("INSERT INTO t.bars VALUES (DATE '2026-02-03', NULL)")
        assert con.execute("SELECT count(*), count(open) FROM t.bars").fetchone() == (2, 1)
        nullable = dict(
            con.execute(
                "SELECT column_name, is_nullable FROM duckdb_columns() WHERE table_name = 'bars'"
            ).fetchall()
        )
    assert nullable == {"day": False, "open": True}


def test_a_seed_table_stored_with_other_columns_is_dropped_to_be_created_anew():
    old = TableSpec("reference", "seed", "s", (Column("ticker", "VARCHAR", "t"),))
    new = old.with_columns(Column("benchmark", "VARCHAR", "b"))
    with duckdb.connect() as con:
        warehouse_module.ensure_table(con, old)
        assert warehouse_module.drop_if_columns_differ(con, old) is False  # same columns: kept
        assert warehouse_module.drop_if_columns_differ(con, new) is True
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'seed'"
        ).fetchone() == (0,)
        assert warehouse_module.drop_if_columns_differ(con, new) is False  # nothing to drop
