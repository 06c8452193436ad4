"""Real processes for the concurrency tests: CLI runs and a ``dagster dev`` server whose output
is read line by line, its GraphQL API, and a download that stalls until the test releases it.

Tests synchronise on what the processes print or request (a line, an HTTP request), never on
sleeps; every wait has a deadline that only bounds a hang.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGSTER = str(Path(sys.executable).parent / "dagster")
# Bounds a hang only: on a loaded machine a run of a week takes a minute or two.
HANG_SECONDS = 900.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WatchedProcess:
    """A subprocess whose stdout and stderr are read line by line on a thread, so a test can
    wait for a line (an event) instead of sleeping."""

    def __init__(self, args: Sequence[str], env: dict[str, str], name: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False
        self.process = subprocess.Popen(
            list(args),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, name=f"read {name}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def wait_for_line(self, matches: Callable[[str], bool], what: str) -> str:
        """The first line for which ``matches`` is true, waiting for it to be printed."""
        deadline = time.monotonic() + HANG_SECONDS
        seen = 0
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if matches(line):
                        return line
                seen = len(self.lines)
                if self._ended:
                    raise AssertionError(
                        f"{self.name} ended without printing {what}:\n{self.output}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.name} printed no {what}:\n{''.join(self.lines)}")
                self._changed.wait(remaining)

    def finish(self) -> int:
        """Wait for the process to exit; its exit status."""
        code = self.process.wait(timeout=HANG_SECONDS)
        self._reader.join(timeout=HANG_SECONDS)
        return code

    def stop(self) -> None:
        """Interrupt it as Ctrl-C would; kill its process group if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._reader.join(timeout=60)


def rotation_cli(args: Sequence[str], env: dict[str, str], name: str) -> WatchedProcess:
    """``rotation <args>`` (the CLI module of this checkout) as a watched process."""
    return WatchedProcess([sys.executable, "-m", "rotation_assets.cli", *args], env, name)


class DevServer:
    """``dagster dev -w workspace.yaml`` on a free port, and its GraphQL API."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = WatchedProcess(
            [DAGSTER, "dev", "-w", "workspace.yaml", "--host", "127.0.0.1"]
            + ["--port", str(self.port)],
            env,
            "dagster dev",
        )

    def wait_until_ready(self) -> None:
        """Poll GraphQL until it answers; only a refused or dropped connection is retried."""
        self.process.wait_for_line(lambda line: "Serving dagster-webserver" in line, "ready")
        deadline = time.monotonic() + HANG_SECONDS
        while True:
            try:
                self.graphql("{ version }")
                return
            except urllib.error.URLError as exc:
                if not isinstance(exc.reason, ConnectionError) or time.monotonic() > deadline:
                    raise
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.5)  # a readiness poll, not a synchronisation

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.loads(response.read())
        assert "errors" not in answer, answer
        return answer["data"]

    def launch_run(self, job: str, tags: dict[str, str], run_config: dict | None = None) -> str:
        """Launch ``job`` as the launchpad does; the new run's id."""
        params = {
            "selector": {**REPOSITORY, "jobName": job},
            "runConfigData": run_config or {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        launched = self.graphql(LAUNCH_RUN, {"executionParams": params})["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        return launched["run"]["runId"]

    def evaluate_schedule(self, schedule: str, timestamp: float) -> list[dict]:
        """The run requests of ``schedule``'s tick at ``timestamp``, evaluated by the code
        server as the UI's "Test schedule" does."""
        tick = self.graphql(
            SCHEDULE_DRY_RUN,
            {"selectorData": {**REPOSITORY, "scheduleName": schedule}, "timestamp": timestamp},
        )["scheduleDryRun"]
        assert tick["__typename"] == "DryRunInstigationTick", tick
        result = tick["evaluationResult"]
        assert result["error"] is None, result["error"]
        return result["runRequests"]

    def wait_for_run_end(self, run_id: str) -> str:
        """The run's end line in the server's output (its run worker's console log)."""
        ends = ("RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED")
        return self.process.wait_for_line(
            lambda line: run_id in line and any(end in line for end in ends), f"end of {run_id}"
        )

    @property
    def output(self) -> str:
        return self.process.output

    def stop(self) -> None:
        self.process.stop()


REPOSITORY = {"repositoryLocationName": "rotation_assets", "repositoryName": "__repository__"}
LAUNCH_RUN = """
mutation($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}
"""
SCHEDULE_DRY_RUN = """
mutation($selectorData: ScheduleSelector!, $timestamp: Float) {
  scheduleDryRun(selectorData: $selectorData, timestamp: $timestamp) {
    __typename
    ... on DryRunInstigationTick {
      evaluationResult {
        runRequests { runKey runConfigYaml tags { key value } }
        skipReason
        error { message }
      }
    }
    ... on PythonError { message stack }
  }
}
"""


class StallingDownload:
    """An HTTP server of one file whose next request, once armed, stalls until released.

    A run that downloads it inside a step of the warehouse pool holds the writer slot for as
    long as the test wants: the test learns that the run holds it when the request arrives
    (an event), starts the competing run, and releases the download once that one waits.
    While stalled, one byte is sent every few seconds so the client's read timeout never fires.
    """

    def __init__(self, body: bytes, path: str = "/ie_data.xls") -> None:
        self.body = body
        self.path = path
        self.requests = 0
        self._armed = False
        self._lock = threading.Lock()
        self._stalled = threading.Event()
        self._release = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                if self.path != owner.path:
                    self.send_error(404)
                    return
                stall = owner._take_stall()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.ms-excel")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                sent = 0
                if stall:
                    owner._stalled.set()
                    while not owner._release.wait(timeout=5) and sent < len(owner.body) - 1:
                        self.wfile.write(owner.body[sent : sent + 1])
                        self.wfile.flush()
                        sent += 1
                self.wfile.write(owner.body[sent:])

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _take_stall(self) -> bool:
        with self._lock:
            self.requests += 1
            stall, self._armed = self._armed, False
            return stall

    def stall_next(self) -> None:
        """The next request will stall until ``release``."""
        with self._lock:
            self._stalled.clear()
            self._release.clear()
            self._armed = True

    def wait_until_stalled(self) -> None:
        assert self._stalled.wait(HANG_SECONDS), "no run requested the download"

    def release(self) -> None:
        self._release.set()

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
