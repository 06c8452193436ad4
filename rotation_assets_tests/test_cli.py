"""The `rotation` console script, run as a user would: a subprocess with its own environment."""

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus

from rotation_assets.cli import UsageError, main, resolve_sessions
from rotation_assets.instance.dagster_home import ensure_dagster_home


def run_cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("ROTATION_", "DAGSTER_HOME"))
    }
    # The job renders charts: into the test's folder, not the project's reports/.
    environment.update(
        {
            "DAGSTER_HOME": str(tmp_path / "home"),
            "ROTATION_REPORTS_DIR": str(tmp_path / "reports"),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "rotation_assets.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def test_demo_backfill_is_labelled_synthetic_everywhere_and_recorded_in_the_instance(tmp_path):
    db = tmp_path / "w.duckdb"
    done = run_cli(
        [
            "backfill",
            "--source",
            "demo",
            "--warehouse",
            str(db),
            "--start",
            "2026-02-02",
            "--end",
            "2026-02-06",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "SYNTHETIC DEMO DATA" in out and "source        synthetic (SYNTHETIC" in out
    assert "raw/prices: fetching 2026-02-02..2026-02-06 (5 sessions) from synthetic" in out
    assert re.search(r"raw/prices\s+120 rows", out)  # 24 tickers x 5 sessions
    from rotation_assets.definitions import load_definitions

    defs = load_definitions()

    job_graph = defs.resolve_job_def("rotation_job").asset_layer.asset_graph
    n_checks = len(job_graph.asset_check_keys)
    assert f"checks        {n_checks} passed\n" in out  # every check ran, none warned or failed
    assert f"snapshot      {tmp_path / 'w_snapshot.duckdb'}  (for analysts" in out
    with duckdb.connect(str(db), read_only=True) as con:
        sources = con.execute("SELECT DISTINCT source FROM raw.prices").fetchall()
    assert sources == [("synthetic",)]

    # The run is in the project instance, so `dg dev` shows it.
    home = tmp_path / "home"
    assert "duckdb_warehouse" in (home / "dagster.yaml").read_text()
    with DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        assert run.job_name == "rotation_job"
        assert run.status == DagsterRunStatus.SUCCESS
        assert run.tags["dagster/asset_partition_range_end"] == "2026-02-06"


def test_update_on_a_holiday_is_refused_before_anything_runs(tmp_path):
    done = run_cli(["update", "--source", "demo", "--date", "2026-02-16"], tmp_path)
    assert done.returncode == 2
    assert "2026-02-16 is not an NYSE session" in done.stderr
    assert not (tmp_path / "home").exists()


def test_csv_source_without_a_folder_says_which_variable_to_set(tmp_path):
    done = run_cli(["update", "--date", "2026-02-13"], tmp_path, ROTATION_PRICE_SOURCE="csv")
    assert done.returncode == 2
    assert "ROTATION_PRICE_DIR" in done.stderr


def test_range_in_the_wrong_order_is_a_usage_error(capsys):
    assert main(["backfill", "--start", "2026-02-13", "--end", "2026-02-02"]) == 2
    assert "is before --start" in capsys.readouterr().err


def test_resolve_sessions_trims_to_sessions():
    sessions = resolve_sessions(dt.date(2026, 2, 14), dt.date(2026, 2, 18))  # Sat..Wed
    assert sessions == [dt.date(2026, 2, 17), dt.date(2026, 2, 18)]
    with pytest.raises(UsageError, match="no NYSE session"):
        resolve_sessions(dt.date(2026, 2, 14), dt.date(2026, 2, 16))
    with pytest.raises(UsageError, match="partitions start at 1990-01-02"):
        resolve_sessions(dt.date(1989, 1, 3), dt.date(1989, 12, 29))


def test_dagster_home_serialises_duckdb_writers(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "h"))
    home = ensure_dagster_home()
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
    with DagsterInstance.from_config(str(home)) as instance:
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
