"""The code location loads in Dagster's own tools: `definitions validate` and `dagster dev`."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rotation_assets.dagster_home import dagster_yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).parent / "dagster")
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
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


ASSET_GRAPH = """
{ assetNodes { assetKey { path } groupName dependencyKeys { path } isPartitioned
               assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }
"""


def test_dagster_dev_serves_the_asset_graph(tmp_path):
    port = _free_port()
    log = (tmp_path / "dev.log").open("w+")
    server = subprocess.Popen(
        [DAGSTER, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT,
        env=_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 150
        nodes = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                nodes = _graphql(port, ASSET_GRAPH)["data"]["assetNodes"]
                break
            except Exception:
                time.sleep(1)
        assert nodes is not None, "dagster dev did not answer GraphQL in time"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
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
