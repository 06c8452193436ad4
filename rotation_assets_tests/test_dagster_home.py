"""The project's dagster.yaml: written on first use, kept current, never over a user's own."""

from pathlib import Path

import pytest
from dagster import DagsterInstance

from rotation_assets.instance.dagster_home import dagster_yaml, ensure_dagster_home
from rotation_assets.instance.event_log_storage import BatchingSqliteEventLogStorage

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
