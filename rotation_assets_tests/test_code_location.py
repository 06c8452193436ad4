"""The code location loads in Dagster's own tools: `dg check defs`, `dg list defs`, `dg dev`,
`dg launch`, and the older `dagster definitions validate` / `dagster dev -w workspace.yaml`."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from rotation_assets.instance.dagster_home import dagster_yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).parent / "dagster")
DG = str(Path(sys.executable).parent / "dg")
RAW_ASSETS = ["raw/prices", "raw/corporate_actions", "raw/price_loads", "raw/valuation_snapshots"]
# Dagster's CLI warns about its own command being superseded; that is not about our code.
IGNORED = ("SupersessionWarning", "definitions_validate_command", "return callback(")


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(dagster_yaml(home))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTATION_")}
    env.update(DAGSTER_HOME=str(home), ROTATION_DUCKDB_PATH=str(tmp_path / "w.duckdb"))
    return env


def _warnings(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if ("Warning" in line or "WARNING" in line) and not any(i in line for i in IGNORED)
    ]


@pytest.mark.parametrize("args", [[], ["-w", "workspace.yaml"]], ids=["pyproject", "workspace"])
def test_definitions_validate_passes_without_warnings(tmp_path, args):
    done = subprocess.run(
        [DAGSTER, "definitions", "validate", *args],
        cwd=PROJECT_ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Validation successful for code location rotation_assets" in output
    assert _warnings(output) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=HANG_BOUND_SECONDS) as response:
        return json.loads(response.read())


ASSET_GRAPH = """
{ assetNodes { assetKey { path } groupName dependencyKeys { path } isPartitioned
               assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }
"""

LOCATIONS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""

# Bounds a dev server that never comes up; never the reason the wait ends on a working one.
HANG_BOUND_SECONDS = 600
# What a client sees while the server is not listening yet (refused, reset, no answer yet).
NOT_UP_YET = (ConnectionError, TimeoutError, urllib.error.URLError)


def _loaded_locations(port: int) -> list[str] | None:
    """The code locations the server has loaded, or None while it starts or loads them.

    A location that failed to load fails the test with its error; an HTTP error answer too."""
    try:
        workspace = _graphql(port, LOCATIONS)["data"]["workspaceOrError"]
    except urllib.error.HTTPError:
        raise  # the server answered, with an error: not a server still starting
    except NOT_UP_YET:
        return None
    assert workspace["__typename"] == "Workspace", workspace
    entries = workspace["locationEntries"]
    if not entries or any(e["loadStatus"] != "LOADED" for e in entries):
        return None
    errors = [e["locationOrLoadError"] for e in entries]
    assert all(e["__typename"] != "PythonError" for e in errors), errors
    return [e["name"] for e in entries]


def _wait_until_loaded(server: subprocess.Popen, port: int) -> list[str]:
    """Poll the server until its code locations are loaded; fail at once if it exits."""
    deadline = time.monotonic() + HANG_BOUND_SECONDS
    while time.monotonic() < deadline:
        loaded = _loaded_locations(port)
        if loaded is not None:
            return loaded
        try:
            server.wait(timeout=0.5)  # the pause between polls, ended early by an exit
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the dev server exited with {server.returncode} before it loaded")
    pytest.fail(f"the dev server did not load its code location in {HANG_BOUND_SECONDS} s")


def test_dg_check_and_list_defs_load_the_project(tmp_path):
    env = _env(tmp_path)
    check = subprocess.run(
        [DG, "check", "defs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = subprocess.run(
        [DG, "list", "defs", "--json"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
    assert {"raw/prices", "analytics/relative_strength", "reporting/warehouse_snapshot"} <= keys


def test_dg_launch_runs_a_partition_range_in_one_run(tmp_path):
    env = {**_env(tmp_path), "ROTATION_PRICE_SOURCE": "demo"}
    env["ROTATION_REPORTS_DIR"] = str(tmp_path / "reports")
    done = subprocess.run(
        # raw/prices and the tables loaded with it in the same step
        [DG, "launch", "--assets", "reference/universe," + ",".join(RAW_ASSETS)]
        + ["--partition-range", "2026-02-02...2026-02-06"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(env["ROTATION_DUCKDB_PATH"], read_only=True) as con:
        rows = con.execute(
            "SELECT count(DISTINCT trade_date), count(*), min(source) FROM raw.prices"
        ).fetchone()
    assert rows == (5, 5 * 24, "synthetic")  # the 24 universe tickers


@pytest.mark.parametrize(
    "command",
    [
        [DG, "dev"],
        [DAGSTER, "dev", "-w", "workspace.yaml"],
    ],
    ids=["dg dev", "dagster dev -w workspace.yaml"],
)
def test_dev_server_serves_the_asset_graph(tmp_path, command):
    port = _free_port()
    log = (tmp_path / "dev.log").open("w+")
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert _wait_until_loaded(server, port) == ["rotation_assets"]
        nodes = _graphql(port, ASSET_GRAPH)["data"]["assetNodes"]
    finally:
        # Interrupt the dev server only, as Ctrl-C would: it stops its own code server; a
        # signal to the whole group makes the code server exit first, which the server warns of.
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    log.seek(0)
    output = log.read()

    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert {"reference/universe", "reference/rotation_pairs", "raw/prices"} <= set(by_key)
    prices = by_key["raw/prices"]
    assert prices["isPartitioned"] and prices["groupName"] == "prices"
    assert ["reference", "universe"] in [d["path"] for d in prices["dependencyKeys"]]
    checks = {c["name"]: c["blocking"] for c in prices["assetChecksOrError"]["checks"]}
    assert checks["prices_positive"] is True
    assert checks["no_extreme_daily_moves"] is False
    assert "great_expectations_suite" in checks
    assert _warnings(output) == []
