"""The Dagster instance in PostgreSQL: chosen by ROTATION_DAGSTER_POSTGRES_URL, with the same
DuckDB writers' pool as the SQLite one, and runs of the `rotation` CLI read back through it.

The tests that need a server start a throwaway PostgreSQL cluster (postgres_cluster.py) or use
the one ROTATION_TEST_POSTGRES_URL names; each test gets a database of its own. Without a server
they skip, saying why, unless ROTATION_REQUIRE_POSTGRES=1 (as .ci/run sets it): then they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    PartitionKeyRange,
)
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from rotation_assets.instance.dagster_home import (
    dagster_yaml,
    ensure_dagster_home,
    wanted_dagster_yaml,
)
from rotation_assets.instance.postgres_instance import (
    POSTGRES_URL_ENV_VAR,
    PostgresInstanceError,
    check_postgres_url,
    postgres_dagster_yaml,
)
from rotation_assets_tests.postgres_cluster import ClusterUnavailable, start_throwaway_cluster

TEST_SERVER_ENV_VAR = "ROTATION_TEST_POSTGRES_URL"
REQUIRE_ENV_VAR = "ROTATION_REQUIRE_POSTGRES"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# -- the config, without a server -------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(POSTGRES_URL_ENV_VAR, raising=False)
    return tmp_path / "home"


def test_postgres_yaml_keeps_every_storage_in_postgres_and_the_same_pool(tmp_path: Path) -> None:
    postgres = yaml.safe_load(postgres_dagster_yaml())
    sqlite = yaml.safe_load(dagster_yaml(tmp_path))
    # Runs, events and schedules in one database, its URL read from the environment.
    assert postgres["storage"] == {"postgres": {"postgres_url": {"env": POSTGRES_URL_ENV_VAR}}}
    assert "event_log_storage" not in postgres  # the batching SQLite event log is SQLite's
    # The pool that serialises DuckDB writers and the rest of the instance as in SQLite.
    assert postgres["concurrency"] == sqlite["concurrency"]
    assert postgres["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    assert postgres["telemetry"] == sqlite["telemetry"] == {"enabled": False}
    assert set(postgres) == {"storage", "concurrency", "telemetry"}


def test_the_setting_moves_a_project_home_to_postgres_without_writing_the_password(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_dagster_home()  # a SQLite home first, as every home before this setting
    assert (home / "dagster.yaml").read_text() == dagster_yaml(home.resolve())
    secret = "s3cr3t-pw"
    monkeypatch.setenv(
        POSTGRES_URL_ENV_VAR, f"postgresql+psycopg2://dagster:{secret}@db.internal:5432/dagster"
    )
    ensure_dagster_home()
    written = (home / "dagster.yaml").read_text()
    assert written == postgres_dagster_yaml()
    assert secret not in written and "db.internal" not in written
    assert not list(home.glob(".dagster.yaml.*"))  # no staging file left


def test_a_postgres_home_without_the_setting_is_refused_not_turned_back_into_sqlite(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(POSTGRES_URL_ENV_VAR, "postgresql+psycopg2://dagster@db/dagster")
    ensure_dagster_home()
    monkeypatch.delenv(POSTGRES_URL_ENV_VAR)  # e.g. a cron job started without it
    with pytest.raises(PostgresInstanceError, match=f"{POSTGRES_URL_ENV_VAR} is not set"):
        ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == postgres_dagster_yaml()
    # Going back is deliberate: without the file, the home is a SQLite one again.
    (home / "dagster.yaml").unlink()
    ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == dagster_yaml(home.resolve())


def test_a_users_own_dagster_yaml_is_left_alone_with_the_setting_too(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home.mkdir()
    own = "telemetry:\n  enabled: false\n"
    (home / "dagster.yaml").write_text(own)
    monkeypatch.setenv(POSTGRES_URL_ENV_VAR, "postgresql+psycopg2://dagster@db/dagster")
    ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == own


@pytest.mark.parametrize(
    ("url", "says"),
    [
        # SQLAlchemy 2.1 opens a bare postgresql:// with psycopg 3, which is not installed.
        ("postgresql://dagster:pw@db:5432/dagster", "it is a postgresql:// URL"),
        ("postgres://dagster:pw@db:5432/dagster", "it is a postgres:// URL"),
        ("dagster@db/dagster", "it is not a URL"),
        ("postgresql+psycopg2://dagster:pw@db:5432", "names no database"),
    ],
)
def test_a_url_dagster_postgres_cannot_open_is_refused_saying_what_to_write(
    url: str, says: str
) -> None:
    with pytest.raises(PostgresInstanceError, match=says) as refused:
        check_postgres_url(url)
    assert "pw" not in str(refused.value)


def test_the_cli_refuses_a_bad_url_before_anything_runs(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rotation_assets.cli import main

    monkeypatch.setenv("ROTATION_PRICE_SOURCE", "demo")
    monkeypatch.setenv(POSTGRES_URL_ENV_VAR, "postgres://dagster@db/dagster")
    assert main(["update", "--date", "2026-02-02"]) == 2
    assert f"{POSTGRES_URL_ENV_VAR} must be a postgresql+psycopg2:// URL" in capsys.readouterr().err
    assert not (home / "dagster.yaml").exists()


def test_wanted_yaml_follows_the_setting(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert wanted_dagster_yaml(home) == dagster_yaml(home)
    monkeypatch.setenv(POSTGRES_URL_ENV_VAR, "postgresql+psycopg2://dagster@db/dagster")
    assert wanted_dagster_yaml(home) == postgres_dagster_yaml()


# -- a real server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    """The URL of a server's maintenance database: ROTATION_TEST_POSTGRES_URL, or a throwaway
    cluster started here and removed afterwards."""
    given = os.environ.get(TEST_SERVER_ENV_VAR)
    if given:
        yield given
        return
    try:
        cluster = start_throwaway_cluster()
    except ClusterUnavailable as exc:
        reason = f"no PostgreSQL server for the Postgres instance tests: {exc}"
        if os.environ.get(REQUIRE_ENV_VAR) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV_VAR}=1)")
        pytest.skip(reason)
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the server for one test, dropped afterwards."""
    name = f"rotation_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def run_module(
    module: str, args: list[str], home: Path, tmp_path: Path, url: str | None
) -> subprocess.CompletedProcess:
    """``python -m MODULE ARGS`` as a user runs it (``rotation_assets.cli`` is `rotation`), on
    the home ``home``, in PostgreSQL when ``url`` is given; prices from the csv files the test
    writes, the warehouse in its folder."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("ROTATION_", "DAGSTER_"))
    }
    environment.update(
        {
            "DAGSTER_HOME": str(home),
            "ROTATION_REPORTS_DIR": str(tmp_path / "reports"),
            "ROTATION_PRICE_SOURCE": "csv",
            "ROTATION_PRICE_DIR": str(tmp_path / "prices"),
            "ROTATION_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
            **({POSTGRES_URL_ENV_VAR: url} if url else {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT_ROOT,
        timeout=600,
    )


def run_cli(
    args: list[str], home: Path, tmp_path: Path, url: str | None
) -> subprocess.CompletedProcess:
    """`rotation ARGS`."""
    return run_module("rotation_assets.cli", args, home, tmp_path, url)


def write_price_files(folder: Path, last: dt.date, cut: dict[str, dt.date] | None = None) -> None:
    """The csv source's files for the universe: the demo source's bars from 2025-12-01 to
    ``last``, each ticker in ``cut`` only up to its date (a vendor file not yet updated)."""
    from rotation_assets.reference.universe import load_universe
    from rotation_assets.sources.csv_prices import price_file_name
    from rotation_assets.sources.demo_prices import synthetic_prices

    folder.mkdir(parents=True, exist_ok=True)
    tickers = list(load_universe()["ticker"])
    bars = synthetic_prices(tickers, dt.date(2025, 12, 1), last)
    for ticker, rows in bars.groupby("ticker"):
        until = (cut or {}).get(ticker, last)
        rows = rows[rows["trade_date"] <= pd.Timestamp(until)]
        rows = rows.drop(columns="ticker").rename(columns={"trade_date": "date"})
        rows["date"] = rows["date"].dt.strftime("%Y-%m-%d")
        rows.to_csv(folder / price_file_name(ticker), index=False, float_format="%.6f")


RAW_PRICES = AssetKey(["raw", "prices"])
FEB2, FEB3 = dt.date(2026, 2, 2), dt.date(2026, 2, 3)


def test_backfill_update_and_failed_run_read_back_through_the_postgres_instance(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rotation_assets.reference.universe import load_universe

    home = tmp_path / "home"
    prices = tmp_path / "prices"
    tickers = len(load_universe())  # 24 today: 480 bars in the backfill, 23 on Feb 2

    # 1. A month's backfill: January 2026 has 20 NYSE sessions (22 weekdays less New Year's
    #    Day and Martin Luther King Jr. Day, Jan 19); a bar per ticker and session.
    write_price_files(prices, last=FEB3, cut={"IWM": dt.date(2026, 1, 30)})
    backfill = run_cli(
        ["backfill", "--start", "2026-01-02", "--end", "2026-01-30"], home, tmp_path, database_url
    )
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr

    # 2. The update for Feb 2, with IWM's file not yet updated (its last bar Jan 30): a stale
    #    tail, which warns (no_stale_tails) and loads the other 23 tickers.
    update = run_cli(["update", "--date", "2026-02-02"], home, tmp_path, database_url)
    assert update.returncode == 0, update.stdout + update.stderr

    # 3. The update for Feb 3 with IWM's file broken on that day's line: the run fails.
    write_price_files(prices, last=FEB3)
    iwm = prices / "IWM.csv"
    lines = iwm.read_text().splitlines()
    (bad,) = [i for i, line in enumerate(lines) if line.startswith("2026-02-03,")]
    lines[bad] = "2026-02-03,n/a," + lines[bad].split(",", 2)[2]
    iwm.write_text("\n".join(lines) + "\n")
    failed = run_cli(["update", "--date", "2026-02-03"], home, tmp_path, database_url)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "rotation update FAILED" in failed.stdout

    # The home holds the Postgres config and no SQLite history.
    assert (home / "dagster.yaml").read_text() == postgres_dagster_yaml()
    assert not (home / "history").exists()

    from rotation_assets.definitions import load_definitions

    graph = load_definitions().resolve_asset_graph()
    monkeypatch.setenv(POSTGRES_URL_ENV_VAR, database_url)  # what the home's config reads
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)

        # Runs: three, oldest first, with their range and trigger tags and their status.
        runs = list(reversed(instance.get_runs()))
        assert [
            (
                r.tags["rotation/trigger"],
                r.tags["dagster/asset_partition_range_start"],
                r.tags["dagster/asset_partition_range_end"],
                r.status,
            )
            for r in runs
        ] == [
            ("cli:backfill", "2026-01-02", "2026-01-30", DagsterRunStatus.SUCCESS),
            ("cli:update", "2026-02-02", "2026-02-02", DagsterRunStatus.SUCCESS),
            ("cli:update", "2026-02-03", "2026-02-03", DagsterRunStatus.FAILURE),
        ]
        # The failure, as the instance recorded it: the file and its line. IWM's file starts
        # on 2025-12-01: 22 December sessions (23 weekdays less Christmas), 20 in January, Feb 2
        # and Feb 3 make Feb 3 the 44th bar, on line 45 after the header.
        (failure,) = instance.all_logs(runs[2].run_id, of_type=DagsterEventType.STEP_FAILURE)
        assert failure.dagster_event.step_key == "raw_prices"
        assert "IWM.csv line 45: open 'n/a' is not a number" in (
            failure.dagster_event.event_specific_data.error.message
        )

        # Partition status of raw/prices: 21 sessions materialized (the month and Feb 2), the
        # failed run's session failed.
        partitions = graph.get(RAW_PRICES).partitions_def
        keys = partitions.get_partition_keys_in_range(PartitionKeyRange("2026-01-02", "2026-02-03"))
        assert len(keys) == 22
        status = instance.get_status_by_partition(RAW_PRICES, keys, partitions)
        assert Counter(s.value for s in status.values()) == {"MATERIALIZED": 21, "FAILED": 1}
        assert status["2026-02-03"].value == "FAILED"
        assert status["2026-02-02"].value == "MATERIALIZED"

        # Check results on raw/prices, per run: all passed in the backfill; the stale tail's
        # warning in the first update; planned and never evaluated in the failed run (the step
        # that runs them failed first). fresh_to_latest_session is its own job's: never run.
        run_index = {r.run_id: i for i, r in enumerate(runs)}
        checks = sorted(k for k in graph.asset_check_keys if k.asset_key == RAW_PRICES)
        outcomes: dict[str, list[tuple[int, str, str | None]]] = {}
        for key in checks:
            history = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
            outcomes[key.name] = sorted(
                (
                    run_index[record.run_id],
                    record.status.value,
                    # A planned record's event is the plan, which has no severity.
                    None if record.status.value == "PLANNED" else record.evaluation.severity.value,
                )
                for record in history
            )
        assert outcomes.pop("fresh_to_latest_session") == []
        assert outcomes.pop("no_stale_tails") == [
            (0, "SUCCEEDED", "WARN"),
            (1, "FAILED", "WARN"),
            (2, "PLANNED", None),
        ]
        assert len(outcomes) == 7
        for name, executions in outcomes.items():
            assert [(i, s) for i, s, _ in executions] == [
                (0, "SUCCEEDED"),
                (1, "SUCCEEDED"),
                (2, "PLANNED"),
            ], name

        # The DuckDB writers' pool lives in this database: one slot, none held after the runs.
        pool = instance.event_log_storage.get_concurrency_info("duckdb_warehouse")
        assert (pool.slot_count, pool.claimed_slots, pool.pending_steps) == (1, [], [])
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1

    # The warehouse agrees: a bar per ticker a session in January, IWM's missing on Feb 2,
    # none on Feb 3.
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        per_day = dict(
            con.execute(
                "SELECT trade_date, count(*) FROM raw.prices GROUP BY trade_date"
            ).fetchall()
        )
    assert len(per_day) == 21
    assert {n for d, n in per_day.items() if d < FEB2} == {tickers}
    assert per_day[FEB2] == tickers - 1 and FEB3 not in per_day


def test_runs_moved_from_sqlite_with_dagster_debug_export_and_import(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The move the README describes: runs exported from the SQLite instance one file each with
    `dagster debug export`, the home switched by the setting, the files imported with `dagster
    debug import`. Runs, partition status and check results come across; the SQLite files stay.
    """
    home = tmp_path / "home"
    write_price_files(tmp_path / "prices", last=dt.date(2026, 1, 9))
    # A SQLite home with one backfill: Jan 2 and Jan 5-8, 5 sessions.
    backfill = run_cli(
        ["backfill", "--start", "2026-01-02", "--end", "2026-01-08"], home, tmp_path, None
    )
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    listed = run_module("dagster", ["run", "list"], home, tmp_path, None)
    run_ids = [line.split()[1] for line in listed.stdout.splitlines() if line.startswith("Run: ")]
    assert len(run_ids) == 1, listed.stdout + listed.stderr
    exported = tmp_path / "exported"
    exported.mkdir()
    for run_id in run_ids:
        done = run_module(
            "dagster",
            ["debug", "export", run_id, str(exported / f"{run_id}.gz")],
            home,
            tmp_path,
            None,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    switched = run_module("rotation_assets.instance.dagster_home", [], home, tmp_path, database_url)
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert "in PostgreSQL (ROTATION_DAGSTER_POSTGRES_URL)" in switched.stdout
    imported = run_module(
        "dagster",
        ["debug", "import", *map(str, sorted(exported.iterdir()))],
        home,
        tmp_path,
        database_url,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr

    assert (home / "history" / "runs.db").exists()  # the SQLite history stays, unread
    from rotation_assets.definitions import load_definitions

    graph = load_definitions().resolve_asset_graph()
    monkeypatch.setenv(POSTGRES_URL_ENV_VAR, database_url)
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        (run,) = instance.get_runs()
        assert (run.run_id, run.status) == (run_ids[0], DagsterRunStatus.SUCCESS)
        assert run.tags["rotation/trigger"] == "cli:backfill"
        partitions = graph.get(RAW_PRICES).partitions_def
        keys = partitions.get_partition_keys_in_range(PartitionKeyRange("2026-01-02", "2026-01-08"))
        assert keys == ["2026-01-02", "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"]
        status = instance.get_status_by_partition(RAW_PRICES, keys, partitions)
        assert {s.value for s in status.values()} == {"MATERIALIZED"}
        check = next(
            k
            for k in graph.asset_check_keys
            if k.asset_key == RAW_PRICES and k.name == "no_stale_tails"
        )
        (execution,) = instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
        assert (execution.run_id, execution.status.value) == (run.run_id, "SUCCEEDED")
