"""Analysts read the published snapshot: it never delays a run, and a failed run keeps it.

An analyst is a separate process holding ``duckdb.connect(snapshot, read_only=True)`` open, as
a notebook or the DuckDB CLI would; runs go through Dagster (``rotation_job`` in process).
"""

import datetime as dt
import json
import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
from dagster import AssetKey, DagsterInstance

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.sources import CsvPriceSource, DemoPriceSource
from rotation_assets.defs.publishing.assets import SNAPSHOT_KEY
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.paths import DEFAULT_WAREHOUSE_PATH, PROJECT_ROOT
from rotation_assets.sources.csv_prices import clear_price_file_cache
from rotation_assets.warehouse.snapshot import default_snapshot_path
from rotation_assets_tests.lock_holder import HANG_BOUND_SECONDS
from rotation_assets_tests.test_raw_prices_pipeline import write_demo_csvs

WEEK_1 = (dt.date(2026, 2, 2), dt.date(2026, 2, 6))
WEEK_2 = (dt.date(2026, 2, 9), dt.date(2026, 2, 13))
WEEK_3 = (dt.date(2026, 2, 17), dt.date(2026, 2, 20))  # 2026-02-16 is Washington's Birthday
# Enough of the graph to write the warehouse and publish it; the whole graph is covered by
# test_operator_metadata. Blocking checks on raw/prices run with it.
SELECTION = [
    AssetKey(["reference", "universe"]),
    AssetKey(["raw", "prices"]),
    AssetKey(["raw", "corporate_actions"]),
    SNAPSHOT_KEY,
]
LOCK_WAIT = re.compile(r"is locked by")

ANALYST = textwrap.dedent(
    """
    import json, sys
    import duckdb
    con = None
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "open":
            con = duckdb.connect(argument, read_only=True)
            print(json.dumps("open"), flush=True)
        elif command == "query":
            print(json.dumps(con.execute(argument).fetchall(), default=str), flush=True)
        elif command == "exit":
            break
    """
)


class Analyst:
    """A separate process holding a read-only DuckDB connection open between queries."""

    def __init__(self, path: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", ANALYST],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.ask(f"open {path}") == "open"

    def ask(self, line: str):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def query(self, sql: str) -> list:
        return self.ask(f"query {sql}")

    def close(self) -> None:
        self.process.stdin.write("exit\n")
        self.process.stdin.close()
        self.process.wait(timeout=HANG_BOUND_SECONDS)


PRICES_SEEN = "SELECT count(*), max(trade_date), round(sum(close), 6) FROM raw.prices"


def run(defs, window, instance, caplog):
    caplog.clear()
    result = execute_range(defs, *window, instance, "test", asset_selection=SELECTION)
    waits = [r.getMessage() for r in caplog.records if LOCK_WAIT.search(r.getMessage())]
    return result, waits


def prices_in(path: Path) -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        return json.loads(json.dumps(con.execute(PRICES_SEEN).fetchall(), default=str))


def test_an_analyst_holding_the_snapshot_never_delays_a_run(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="rotation_assets.warehouse.connection")
    db = tmp_path / "rotation.duckdb"
    snapshot = tmp_path / "rotation_snapshot.duckdb"
    defs = build_definitions(
        DuckDBWarehouse(database=str(db), lock_wait_seconds=2), DemoPriceSource()
    )
    with DagsterInstance.ephemeral() as instance:
        result, _ = run(defs, WEEK_1, instance, caplog)
        assert result.success, step_failures(result)
        result, waits = run(defs, WEEK_2, instance, caplog)
        assert result.success and waits == []
        published = prices_in(snapshot)
        # Two weeks of the 24 universe tickers (all listed in 2026): 10 x 24 = 240 bars.
        assert published[0][:2] == [240, "2026-02-13"]

        analyst = Analyst(snapshot)
        try:
            assert analyst.query(PRICES_SEEN) == published
            inode = snapshot.stat().st_ino

            result, waits = run(defs, WEEK_3, instance, caplog)

            assert result.success, step_failures(result)
            assert waits == []  # the warehouse never waited for a lock
            assert snapshot.stat().st_ino != inode  # the new snapshot was swapped in
            # 14 sessions (02-16 is Presidents' Day) x 24 tickers = 336 bars.
            assert prices_in(snapshot)[0][:2] == [336, "2026-02-20"]
            # The analyst's open connection still reads the old, complete snapshot.
            assert analyst.query(PRICES_SEEN) == published
        finally:
            analyst.close()

        # Control: the same analyst on the live file is what the lock wait is for.
        analyst = Analyst(db)
        try:
            before = snapshot.read_bytes()
            result, waits = run(defs, WEEK_3, instance, caplog)
        finally:
            analyst.close()
        assert not result.success and waits
        assert any(f"PID {analyst.process.pid}" in m for m in step_failures(result))
        assert snapshot.read_bytes() == before


def test_a_failed_run_leaves_the_previous_snapshot_byte_identical(tmp_path, caplog):
    folder = tmp_path / "prices"
    write_demo_csvs(folder, *WEEK_1)
    clear_price_file_cache()
    db = tmp_path / "rotation.duckdb"
    snapshot = tmp_path / "rotation_snapshot.duckdb"
    defs = build_definitions(
        DuckDBWarehouse(database=str(db)), CsvPriceSource(price_dir=str(folder))
    )
    with DagsterInstance.ephemeral() as instance:
        result, _ = run(defs, WEEK_1, instance, caplog)
        assert result.success, step_failures(result)
        assert result.get_asset_materialization_events()[-1].asset_key == SNAPSHOT_KEY
        before, stat = snapshot.read_bytes(), snapshot.stat()

        path = folder / "IWM.csv"
        frame = pd.read_csv(path)
        frame.loc[frame["date"] == "2026-02-04", "close"] = -1.5
        frame.to_csv(path, index=False)
        clear_price_file_cache()
        result, _ = run(defs, WEEK_1, instance, caplog)

    assert not result.success
    assert any("prices_positive" in m for m in step_failures(result))
    # The snapshot step never ran: its upstream failed.
    assert not [e for e in result.all_events if e.step_key == "reporting__warehouse_snapshot"]
    ran = {e.step_key for e in result.all_events if e.step_key}
    assert ran == {"reference_seeds", "raw_prices"}
    assert snapshot.read_bytes() == before
    assert (snapshot.stat().st_ino, snapshot.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "prices",
        "rotation.duckdb",
        "rotation_snapshot.duckdb",
    ]


def analyst_section(readme: str) -> str:
    heading = r"^## For analysts: the published snapshot\n(.*?)(?=^## )"
    match = re.search(heading, readme, re.S | re.M)
    assert match, "README lacks the section '## For analysts: the published snapshot'"
    return match.group(1)


def test_the_docs_send_analysts_to_the_snapshot_never_the_live_file():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = analyst_section(readme)
    live = DEFAULT_WAREHOUSE_PATH.relative_to(PROJECT_ROOT).as_posix()
    snapshot = default_snapshot_path(DEFAULT_WAREHOUSE_PATH).relative_to(PROJECT_ROOT).as_posix()
    assert live == "data/rotation.duckdb" and snapshot == "data/rotation_snapshot.duckdb"

    # Every DuckDB file the section names is the snapshot.
    named = re.findall(r"[\w./-]+\.duckdb\b", section)
    assert named and set(named) == {snapshot}, named
    assert "rotation.duckdb" not in section.replace("rotation_snapshot.duckdb", "")

    # Every way of opening it the section shows is read-only: CLI, Python, JDBC (BI tools).
    code = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", section, re.S))
    cli = re.findall(r"^\s*duckdb\b.*$", code, re.M)
    python = re.findall(r"duckdb\.connect\((.*?)\)", code, re.S)
    jdbc = re.findall(r"jdbc:duckdb:\S+", section)
    assert cli and python and jdbc
    assert all("-readonly" in line and snapshot in line for line in cli), cli
    assert all("read_only=True" in call for call in python), python
    assert all(snapshot in url and "duckdb.read_only=true" in url for url in jdbc), jdbc

    # Anywhere else in the README, a command that opens a DuckDB file opens the snapshot.
    elsewhere = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", readme, re.S))
    for line in re.findall(r"^\s*duckdb\s.*$", elsewhere, re.M):
        assert "-readonly" in line and "rotation.duckdb" not in line, line
    assert not re.search(r"duckdb\.connect\([^)]*rotation\.duckdb", readme)


def test_snapshot_path_follows_the_warehouse_and_the_environment(monkeypatch, tmp_path):
    from rotation_assets.defs.resources import configured_warehouse

    monkeypatch.delenv("ROTATION_SNAPSHOT_PATH", raising=False)
    monkeypatch.setenv("ROTATION_DUCKDB_PATH", str(tmp_path / "live.duckdb"))
    warehouse = configured_warehouse().process_config_and_initialize()
    assert warehouse.published_snapshot_path() == tmp_path / "live_snapshot.duckdb"

    monkeypatch.setenv("ROTATION_SNAPSHOT_PATH", str(tmp_path / "shared" / "for_bi.duckdb"))
    warehouse = configured_warehouse().process_config_and_initialize()
    assert warehouse.published_snapshot_path() == tmp_path / "shared" / "for_bi.duckdb"
