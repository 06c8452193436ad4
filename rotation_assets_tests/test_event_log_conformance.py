"""Dagster's own conformance suite for SQLite event logs passes against the batching storage.

The suite (``TestSqliteEventLogStorage`` in ``dagster_tests/storage_tests/test_event_log.py``)
is not in Dagster's wheel, only in its sdist. This test downloads the sdist of the installed
Dagster version with pip (once: it is kept in ``~/.cache/rotation_assets/``), extracts the suite
into a temporary folder, and runs it with pytest in two processes side by side, on the test
classes of ``event_log_conformance_suite.py``: the suite as is, and the suite with every event
stored through the batch path. It is skipped only when PyPI cannot be reached. It takes about
45 s on two cores (and some 20 s more the first time, for the download).
"""

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import rotation_assets

DAGSTER_VERSION = importlib.metadata.version("dagster")
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rotation_assets"
# Set to a downloaded dagster-<version>.tar.gz to run without PyPI.
SDIST_ENV_VAR = "ROTATION_DAGSTER_SDIST"
# What the suite needs from the sdist. Its storage_tests/utils/__init__.py is replaced: it also
# imports the run storage tests, which need dagster-test, a package that is not on PyPI.
SUITE_FILES = [
    "dagster_tests/__init__.py",
    "dagster_tests/storage_tests/__init__.py",
    "dagster_tests/storage_tests/test_event_log.py",
    "dagster_tests/storage_tests/utils/event_log_storage.py",
]
UTILS_INIT = """\
import pytest

pytest.register_assert_rewrite("dagster_tests.storage_tests.utils.event_log_storage")
"""
PYTEST_INI = """\
[pytest]
markers =
    flaky: reruns with pytest-rerunfailures, which is not needed here
"""
CLASSES = ["TestBatchingSqliteEventLogStorage", "TestEveryEventInABatch"]
# The suite's TestSqliteEventLogStorage on Dagster 1.13: 141 tests pass, 12 are skipped.
MIN_PASSED = 130
UNREACHABLE = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeoutError",
    "Read timed out",
    "Could not fetch URL",
    "ProxyError",
)


def _sdist() -> Path:
    if os.environ.get(SDIST_ENV_VAR):
        return Path(os.environ[SDIST_ENV_VAR])
    cached = CACHE_DIR / f"dagster-{DAGSTER_VERSION}.tar.gz"
    if cached.exists():
        return cached
    with tempfile.TemporaryDirectory() as download_dir:
        pip = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"),
                *("--retries", "2", "--timeout", "30", "--dest", download_dir),
                f"dagster=={DAGSTER_VERSION}",
            ],
            capture_output=True,
            text=True,
        )
        output = pip.stdout + pip.stderr
        if pip.returncode != 0:
            if any(marker in output for marker in UNREACHABLE):
                pytest.skip(f"PyPI is unreachable, so Dagster's sdist is not available:\n{output}")
            pytest.fail(f"pip could not download Dagster's sdist:\n{output}")
        (downloaded,) = Path(download_dir).glob("dagster-*.tar.gz")
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + ".part")
        shutil.copyfile(downloaded, partial)
        partial.replace(cached)
    return cached


def _extract_suite(sdist: Path, into: Path) -> None:
    with tarfile.open(sdist) as archive:
        for name in SUITE_FILES:
            member = archive.extractfile(f"dagster-{DAGSTER_VERSION}/{name}")
            assert member is not None, name
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            (into / name).write_bytes(member.read())
    (into / "dagster_tests/storage_tests/utils/__init__.py").write_text(UTILS_INIT)
    (into / "pytest.ini").write_text(PYTEST_INI)
    shutil.copyfile(
        Path(__file__).with_name("event_log_conformance_suite.py"),
        into / "test_batching_event_log.py",
    )


def _run_dir():
    """A temporary folder for the run, in memory where there is one: the suite writes SQLite
    files with fsync on every commit and is three times slower on a disk."""
    shm = Path("/dev/shm")
    in_memory = shm.is_dir() and os.access(shm, os.W_OK)
    return tempfile.TemporaryDirectory(
        prefix="event-log-conformance-", dir=shm if in_memory else None
    )


def _counts(junit_xml: Path) -> dict[str, int]:
    suite = ET.parse(junit_xml).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def test_dagsters_sqlite_event_log_suite_passes_against_the_batching_storage(capsys):
    sdist = _sdist()
    project_root = Path(rotation_assets.__file__).resolve().parents[1]
    with _run_dir() as run_dir:
        run_dir = Path(run_dir)
        _extract_suite(sdist, run_dir)
        # Dagster's settings (DAGSTER_HOME, DAGSTER_EVENT_BATCH_SIZE) are the suite's to set.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("DAGSTER_") and k != "PYTEST_ADDOPTS"
        }
        env["PYTHONPATH"] = os.pathsep.join([str(run_dir), str(project_root)])
        processes = {}
        for name in CLASSES:
            log = open(run_dir / f"{name}.log", "w")  # noqa: SIM115 (closed below)
            command = [
                *(sys.executable, "-m", "pytest", f"test_batching_event_log.py::{name}"),
                *("-q", "-p", "no:cacheprovider", f"--junitxml={name}.xml"),
            ]
            process = subprocess.Popen(command, cwd=run_dir, env=env, stdout=log, stderr=log)
            processes[name] = (process, log)
        try:
            for process, _ in processes.values():
                process.wait(timeout=900)
        finally:
            for process, log in processes.values():
                process.kill()  # only if still running
                log.close()
        results = {}
        for name, (process, _) in processes.items():
            output = (run_dir / f"{name}.log").read_text()
            junit = run_dir / f"{name}.xml"
            assert junit.exists(), f"{name} did not run:\n{output[-5000:]}"
            results[name] = (process.returncode, _counts(junit), output)
    with capsys.disabled():
        for name, (_, counts, _) in results.items():
            print(
                f"\nDagster {DAGSTER_VERSION} SQLite event log suite, {name}: "
                f"{counts['passed']} passed, {counts['skipped']} skipped, "
                f"{counts['failures']} failed, {counts['errors']} errors"
            )
    for name, (returncode, counts, output) in results.items():
        assert returncode == 0 and counts["failures"] == counts["errors"] == 0, (
            f"{name}: {counts}\n{output[-20000:]}"
        )
        assert counts["passed"] >= MIN_PASSED, f"{name} ran too few tests: {counts}"
