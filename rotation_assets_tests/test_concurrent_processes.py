"""Everything at once, with real processes: a run launched through the UI's GraphQL API while
``rotation update`` runs from the CLI; two CLI updates; the schedule's tick during a CLI
backfill. Each time every run succeeds, one of them waits for the warehouse pool slot and says
what it waits for, and every table (and the published snapshot) ends equal to a warehouse built
by running the same commands one after the other.

How the runs are made to meet, without sleeps: the Shiller workbook is downloaded from a local
server (``live_processes.StallingDownload``) inside the ``shiller_monthly`` step, which holds
the ``duckdb_warehouse`` pool slot. The first run's download stalls; its arrival at the server
tells the test the first run holds the writer; the second run is started and the test waits
for it to report that it waits (the CLI's "waiting for the warehouse writer" line naming the
holder, or, for a run launched through the UI while the slot is taken, the run queue daemon's
"Run ... is blocked by global concurrency limits" line naming the pool); then the download is
released. Prices come from a csv folder of synthetic bars.

Tables are compared as in the fault suite (``warehouse_dump``: every base table, ``ORDER BY
ALL``), leaving out only the wall-clock columns ``loaded_at``, ``refreshed_at`` and
``fetched_at``, which differ between any two runs. ``pytest -s`` prints the figures.
"""

from __future__ import annotations

import collections
import datetime as dt
import io
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.constants import WAREHOUSE_POOL
from rotation_assets.defs.prices.sources import CsvPriceSource
from rotation_assets.defs.reporting.reports_folder import ReportsFolder
from rotation_assets.defs.valuation.sources import ShillerWorkbookSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.instance.dagster_home import dagster_yaml
from rotation_assets.instance.orphaned_runs import PID_TAG
from rotation_assets.instance.pool_waits import WAIT_LINE_PREFIX, blocked_pool, pool_holders
from rotation_assets.sources.csv_prices import clear_price_file_cache
from rotation_assets_tests.live_processes import (
    DevServer,
    StallingDownload,
    WatchedProcess,
    rotation_cli,
)
from rotation_assets_tests.test_fault_injection import warehouse_dump
from rotation_assets_tests.test_raw_prices_pipeline import write_demo_csvs
from rotation_assets_tests.test_shiller_sources import workbook_rows, write_workbook

pytest.importorskip("xlrd", reason="the workbook source reads .xls with xlrd (the dev extra)")

PRICES = (dt.date(2026, 1, 26), dt.date(2026, 2, 6))
STORED = (dt.date(2026, 1, 26), dt.date(2026, 2, 5))
SESSION = dt.date(2026, 2, 6)
WEEK = (dt.date(2026, 2, 2), dt.date(2026, 2, 6))
UPDATE = ["update", "--date", SESSION.isoformat()]
BACKFILL = ["backfill", "--start", WEEK[0].isoformat(), "--end", WEEK[1].isoformat()]
WRITE_TIMES = ("loaded_at", "refreshed_at", "fetched_at")
# Dagster's run queue daemon, on a queued run whose pool has no free slot.
QUEUE_BLOCKED = "is blocked by global concurrency limits"


class World:
    """The files every test shares: csv prices, the workbook server, the stored warehouse, the
    instance; and the live warehouse the processes write, reset by each test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prices = root / "prices"
        write_demo_csvs(self.prices, *PRICES)
        clear_price_file_cache()
        self.download = StallingDownload(write_workbook(workbook_rows()))
        self.home = root / "home"
        self.home.mkdir()
        (self.home / "dagster.yaml").write_text(dagster_yaml(self.home))
        self.live = root / "live" / "w.duckdb"
        self.stored = root / "stored" / "w.duckdb"
        self.references: dict[tuple, dict[str, list[str]]] = {}
        self.run_commands(self.stored, [STORED])

    def definitions(self, database: Path):
        return build_definitions(
            DuckDBWarehouse(database=str(database)),
            CsvPriceSource(price_dir=str(self.prices)),
            reports=ReportsFolder(path=str(self.root / "reports")),
            shiller_source=ShillerWorkbookSource(url=self.download.url),
        )

    def run_commands(self, database: Path, ranges: list[tuple[dt.date, dt.date]]) -> None:
        """The ranges' runs one after the other, in this process."""
        defs = self.definitions(database)
        for start, end in ranges:
            with DagsterInstance.ephemeral() as instance:
                result = execute_range(defs, start, end, instance, "test")
            assert result.success, step_failures(result)

    def reference(self, ranges: list[tuple[dt.date, dt.date]]) -> dict[str, list[str]]:
        """Every table after the stored warehouse ran ``ranges`` sequentially."""
        key = tuple(ranges)
        if key not in self.references:
            folder = self.root / f"reference{len(self.references)}"
            folder.mkdir()
            shutil.copy(self.stored, folder / "w.duckdb")
            self.run_commands(folder / "w.duckdb", ranges)
            self.references[key] = comparable(folder / "w.duckdb")
        return self.references[key]

    def reset_live(self) -> dict[str, list[str]]:
        """The live warehouse as stored (no snapshot yet); its tables."""
        if self.live.parent.exists():
            shutil.rmtree(self.live.parent)
        self.live.parent.mkdir()
        shutil.copy(self.stored, self.live)
        return comparable(self.live)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ROTATION_", "DAGSTER_"))}
        env.update(
            DAGSTER_HOME=str(self.home),
            DAGSTER_EVENT_BATCH_SIZE="5000",
            PYTHONUNBUFFERED="1",
            ROTATION_PRICE_SOURCE="csv",
            ROTATION_PRICE_DIR=str(self.prices),
            ROTATION_DUCKDB_PATH=str(self.live),
            ROTATION_SHILLER_SOURCE="workbook",
            ROTATION_SHILLER_URL=self.download.url,
            ROTATION_REPORTS_DIR=str(self.root / "reports"),
            ROTATION_FETCH_RETRY_DELAY_SECONDS="0.2",
        )
        return env

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.home))


def comparable(path: Path) -> dict[str, list[str]]:
    """``warehouse_dump`` without the wall-clock columns: table -> header and sorted rows."""
    tables = {}
    for table, text in warehouse_dump(path).items():
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        frame = frame.drop(columns=[c for c in WRITE_TIMES if c in frame.columns])
        header, *rows = frame.to_csv(index=False).splitlines()
        tables[table] = [header, *sorted(rows)]
    return tables


def rows_changed(actual: dict[str, list[str]], expected: dict[str, list[str]]) -> int:
    """Rows in one and not the other (as multisets), over every table; a missing table counts
    all its rows."""
    changed = 0
    for table in set(actual) | set(expected):
        a = collections.Counter(actual.get(table, []))
        e = collections.Counter(expected.get(table, []))
        changed += sum(((a - e) + (e - a)).values())
    return changed


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("concurrent"))
    yield world
    world.download.close()


@pytest.fixture(scope="module")
def dev_server(world):
    server = DevServer(world.env())
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def cli(world):
    """Starts ``rotation`` commands on the world's files; stops any still running at the end
    (a failed test must not leave a run behind)."""
    processes: list[WatchedProcess] = []

    def start(args: list[str], name: str) -> WatchedProcess:
        processes.append(rotation_cli(args, world.env(), name))
        return processes[-1]

    yield start
    for process in processes:
        process.stop()


def cli_run_id(instance: DagsterInstance, pid: int) -> str:
    """The run a CLI process started (its PID tag)."""
    (record,) = instance.get_run_records(RunsFilter(tags={PID_TAG: str(pid)}))
    return record.dagster_run.run_id


def pool_waits(instance: DagsterInstance, run_id: str) -> int:
    """How many times Dagster recorded a step of the run blocked on a pool."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT).records
    return sum(1 for r in records if blocked_pool(r.event_log_entry) is not None)


def load_order(instance: DagsterInstance, run_ids: list[str]) -> list[str]:
    """The runs in the order their ``raw_prices`` step ran. The pool runs one such step at a
    time, so one finished before the other started: their clock times order them (event ids
    do not: each run has its own event shard)."""
    finished = {}
    for run_id in run_ids:
        records = instance.get_records_for_run(
            run_id, of_type=DagsterEventType.STEP_SUCCESS
        ).records
        (done,) = [r for r in records if r.event_log_entry.step_key == "raw_prices"]
        finished[run_id] = done.event_log_entry.timestamp
    return sorted(run_ids, key=finished.__getitem__)


def queue_waits(server: DevServer, run_ids: list[str]) -> int:
    """How many of the runs the run queue held back for a full pool (the daemon's line)."""
    return sum(1 for run_id in run_ids if f"Run {run_id} {QUEUE_BLOCKED}" in server.output)


def report(case: str, runs: int, waits: int, after: dict, expected: dict, snapshot: dict) -> None:
    changed = rows_changed(after, expected) + rows_changed(snapshot, expected)
    # `pytest -s` shows the figures the README quotes.
    print(
        f"\n{case}: runs {runs}, waits observed {waits}, tables compared "
        f"{len(after)} + {len(snapshot)} in the snapshot, rows changed {changed}"
    )
    assert after == expected
    assert snapshot == expected
    assert changed == 0


def test_ui_run_and_cli_update_at_once_one_waits_naming_the_holder(world, dev_server, cli):
    before = world.reset_live()
    expected = world.reference([(SESSION, SESSION), (SESSION, SESSION)])
    assert before != expected  # the update has something to load

    world.download.stall_next()
    ui_run = dev_server.launch_run("rotation_job", {"dagster/partition": SESSION.isoformat()})
    world.download.wait_until_stalled()  # the UI's run holds the writer slot
    update = cli(UPDATE, "rotation update")
    try:
        line = update.wait_for_line(lambda text: WAIT_LINE_PREFIX in text, "wait line")
        print(f"\nobserved: {line.strip()}")
        assert f"waits for pool {WAREHOUSE_POOL}, held by run {ui_run[:8]} " in line
        assert "(step shiller_monthly, launched from the UI or Dagster's CLI, 2026-02-06)" in line
    finally:
        world.download.release()
    assert update.finish() == 0, update.output
    assert "RUN_SUCCESS" in dev_server.wait_for_run_end(ui_run)

    with world.instance() as instance:
        cli_run = cli_run_id(instance, update.pid)
        for run_id in (ui_run, cli_run):
            assert instance.get_run_by_id(run_id).status == DagsterRunStatus.SUCCESS
        waits = pool_waits(instance, ui_run) + pool_waits(instance, cli_run)
        waits += queue_waits(dev_server, [ui_run, cli_run])
        # Every wait Dagster recorded for the CLI's run was printed.
        assert update.output.count(WAIT_LINE_PREFIX) == pool_waits(instance, cli_run)
    report(
        "UI run + CLI update",
        2,
        waits,
        comparable(world.live),
        expected,
        comparable(world.live.with_name("w_snapshot.duckdb")),
    )


def test_two_cli_updates_at_once_the_second_waits_naming_the_first(world, cli):
    world.reset_live()
    expected = world.reference([(SESSION, SESSION), (SESSION, SESSION)])

    world.download.stall_next()
    first = cli(UPDATE, "first rotation update")
    world.download.wait_until_stalled()  # the first run holds the writer slot
    with world.instance() as instance:
        first_run = cli_run_id(instance, first.pid)
    second = cli(UPDATE, "second rotation update")
    try:
        line = second.wait_for_line(lambda text: WAIT_LINE_PREFIX in text, "wait line")
        print(f"\nobserved: {line.strip()}")
        assert (
            f"held by run {first_run[:8]} (step shiller_monthly, cli:update, PID {first.pid}, "
            "2026-02-06..2026-02-06)"
        ) in line
    finally:
        world.download.release()
    assert first.finish() == 0, first.output
    assert second.finish() == 0, second.output

    with world.instance() as instance:
        second_run = cli_run_id(instance, second.pid)
        waits = pool_waits(instance, first_run) + pool_waits(instance, second_run)
    assert waits >= 1
    report(
        "two CLI updates",
        2,
        waits,
        comparable(world.live),
        expected,
        comparable(world.live.with_name("w_snapshot.duckdb")),
    )


def test_schedule_tick_during_a_cli_backfill_waits_in_the_queue_for_the_pool(
    world, dev_server, cli
):
    world.reset_live()

    world.download.stall_next()
    backfill = cli(BACKFILL, "rotation backfill")
    world.download.wait_until_stalled()  # the backfill holds the writer slot
    # The tick of the session's after-close time, evaluated by the code server.
    tick = dt.datetime(2026, 2, 6, 18, 15, tzinfo=ZoneInfo("America/New_York")).timestamp()
    (request,) = dev_server.evaluate_schedule("after_close_schedule", tick)
    tags = {tag["key"]: tag["value"] for tag in request["tags"]}
    assert tags["dagster/partition"] == SESSION.isoformat()
    assert tags["rotation/trigger"] == "schedule"
    scheduled = dev_server.launch_run(
        "rotation_job", tags, yaml.safe_load(request["runConfigYaml"])
    )
    try:
        # The run queue holds it while the pool is full; the daemon says so, naming the pool.
        line = dev_server.process.wait_for_line(
            lambda text: f"Run {scheduled} {QUEUE_BLOCKED}" in text, "queue line"
        )
        print(f"\nobserved: {line.strip()}")
        assert WAREHOUSE_POOL in line
        with world.instance() as instance:
            backfill_run = cli_run_id(instance, backfill.pid)
            # What the UI's pool page shows meanwhile: the backfill holds the slot.
            held = pool_holders(instance, WAREHOUSE_POOL, scheduled)
            assert instance.get_run_by_id(scheduled).status == DagsterRunStatus.QUEUED
        print(f"pool {WAREHOUSE_POOL}: {held}")
        assert held.startswith(
            f"held by run {backfill_run[:8]} (step shiller_monthly, cli:backfill, "
            f"PID {backfill.pid}, 2026-02-02..2026-02-06)"
        ), held
    finally:
        world.download.release()
    assert backfill.finish() == 0, backfill.output
    assert "RUN_SUCCESS" in dev_server.wait_for_run_end(scheduled)

    with world.instance() as instance:
        assert instance.get_run_by_id(scheduled).status == DagsterRunStatus.SUCCESS
        runs = [backfill_run, scheduled]
        waits = sum(pool_waits(instance, run_id) for run_id in runs)
        waits += queue_waits(dev_server, runs)
        order = load_order(instance, runs)
    # The reference runs the two in the order they took raw/prices (either order is correct;
    # the load log records which came first).
    ranges = {backfill_run: WEEK, scheduled: (SESSION, SESSION)}
    expected = world.reference([ranges[run_id] for run_id in order])
    print("loaded first: " + ("the backfill" if order[0] == backfill_run else "the schedule"))
    report(
        "schedule tick during a backfill",
        2,
        waits,
        comparable(world.live),
        expected,
        comparable(world.live.with_name("w_snapshot.duckdb")),
    )
