"""The project's dagster.yaml: written on first use, kept current, never over a user's own."""

import uuid
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRun

from rotation_assets.instance.dagster_home import dagster_yaml, ensure_dagster_home
from rotation_assets.instance.event_log_storage import (
    BatchingSqliteEventLogStorage,
    BusyTimeoutSqliteRunStorage,
)

# What the project wrote before the engine moved its modules (commit ed4b781~1).
EARLIER_PROJECT_YAML = """\
# Created by rotation_assets. Every asset that opens the DuckDB warehouse is in the pool
# `duckdb_warehouse`; one slot means two writers never meet at the file, across runs too.
concurrency:
  pools:
    default_limit: 1
    granularity: op
telemetry:
  enabled: false
event_log_storage:
  module: rotation_assets.event_log_storage
  class: BatchingSqliteEventLogStorage
  config:
    base_dir: {runs_dir}
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def event_log_class(home: Path) -> type:
    with DagsterInstance.from_config(str(home)) as instance:
        return type(instance.event_log_storage)


def test_a_new_home_gets_the_project_instance(home: Path) -> None:
    assert ensure_dagster_home() == home.resolve()
    assert (home / "dagster.yaml").read_text() == dagster_yaml(home.resolve())
    assert event_log_class(home) is BatchingSqliteEventLogStorage
    with DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage) is BusyTimeoutSqliteRunStorage
    # Where Dagster's stock storages keep them: a home made before keeps its runs and events.
    assert (home / "history" / "runs.db").is_file()
    assert (home / "history" / "runs" / "index.db").is_file()


def busy_timeout_ms(connection) -> int:
    """How long SQLite waits on this connection for another process's lock (PRAGMA
    busy_timeout reads the value pysqlite's ``timeout`` sets)."""
    return connection.exec_driver_sql("PRAGMA busy_timeout").scalar()


def test_run_storage_waits_for_a_locked_database_as_long_as_the_event_log(home: Path) -> None:
    ensure_dagster_home()
    with DagsterInstance.from_config(str(home)) as instance:
        with instance.run_storage.connect() as runs_db:
            run_wait = busy_timeout_ms(runs_db)
        with instance.event_log_storage.index_connection() as index_db:
            event_wait = busy_timeout_ms(index_db)
        # 30 s (Dagster's SQLITE_BUSY_TIMEOUT_SECONDS) = 30,000 ms on both; the stock run
        # storage's connections have pysqlite's default, 5 s = 5,000 ms.
        assert run_wait == event_wait == 30_000
        instance.add_run(DagsterRun(job_name="rotation_job", run_id=str(uuid.uuid4())))
        assert [run.job_name for run in instance.get_runs()] == ["rotation_job"]


def test_a_home_written_by_an_earlier_version_is_brought_up_to_date(home: Path) -> None:
    home.mkdir()
    (home / "dagster.yaml").write_text(
        EARLIER_PROJECT_YAML.format(runs_dir=str(home / "history" / "runs"))
    )
    with pytest.raises(Exception, match="rotation_assets.event_log_storage"):
        event_log_class(home)  # what users of an old home met
    ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == dagster_yaml(home.resolve())
    assert event_log_class(home) is BatchingSqliteEventLogStorage
    assert not list(home.glob(".dagster.yaml.*"))  # no staging file left


def test_a_users_own_dagster_yaml_is_left_alone(home: Path) -> None:
    home.mkdir()
    own = "telemetry:\n  enabled: false\n"
    (home / "dagster.yaml").write_text(own)
    ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == own
