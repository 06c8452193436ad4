"""The project-local Dagster instance: created on first use, with DuckDB writers serialised.

Two kinds, one setting: without ``ROTATION_DAGSTER_POSTGRES_URL`` runs, events and schedules
are SQLite files under ``$DAGSTER_HOME/history`` (nothing to install or start); with it they are
in that PostgreSQL database (``postgres_instance.py``). Both limit the DuckDB writers' pool to
one slot.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from rotation_assets.instance.event_log_storage import BATCH_SIZE_ENV_VAR, DEFAULT_BATCH_SIZE
from rotation_assets.instance.postgres_instance import (
    POSTGRES_URL_ENV_VAR,
    PostgresInstanceError,
    check_postgres_url,
    is_postgres_dagster_yaml,
    postgres_dagster_yaml,
)
from rotation_assets.paths import DEFAULT_DAGSTER_HOME

# One slot per pool: the only pool is the DuckDB warehouse, which takes one writer at a time.
# Op granularity lets a run's other steps go on while one waits for the file.
DAGSTER_YAML = """\
# Created by rotation_assets, which rewrites this file when the project's settings change for as
# long as this first line stays: delete it to keep settings of your own.
# Every asset that opens the DuckDB warehouse is in the pool
# `duckdb_warehouse`; one slot means two writers never meet at the file, across runs too.
concurrency:
  pools:
    default_limit: 1
    granularity: op
telemetry:
  enabled: false
# Dagster's SQLite event log, writing each batch of events in one transaction per shard (same
# files and tables): a backfill records two events per partition and asset. Batches are on when
# DAGSTER_EVENT_BATCH_SIZE > 0. See rotation_assets/instance/event_log_storage.py.
# It also holds the pools' slots, one change at a time across processes (a file lock).
event_log_storage:
  module: rotation_assets.instance.event_log_storage
  class: BatchingSqliteEventLogStorage
  config:
    base_dir: {runs_dir}
# Dagster's SQLite run storage (history/runs.db), waiting 30 s for a locked database as the event
# log does (the stock one gives up after 5 s).
run_storage:
  module: rotation_assets.instance.event_log_storage
  class: BusyTimeoutSqliteRunStorage
  config:
    base_dir: {history_dir}
"""


def dagster_yaml(home: Path) -> str:
    """The SQLite instance config for ``home``; the event log and the runs sit where the stock
    storages put them."""
    runs_dir = json.dumps(str(home / "history" / "runs"))  # a JSON string is a YAML string
    history_dir = json.dumps(str(home / "history"))
    return DAGSTER_YAML.format(runs_dir=runs_dir, history_dir=history_dir)


PROJECT_HEADER = "# Created by rotation_assets"


def wanted_dagster_yaml(home: Path, current: str | None = None) -> str:
    """The project's config for ``home`` under the settings of this process: the Postgres
    instance when ROTATION_DAGSTER_POSTGRES_URL is set, else the SQLite one.

    ``current`` (the project-written file already there) guards the way back: a home whose
    instance is in PostgreSQL is not turned back into a SQLite one because a process started
    without the setting (a cron job, a shell that forgot it); that is a PostgresInstanceError
    naming the variable. Going back is deliberate: delete dagster.yaml."""
    url = os.environ.get(POSTGRES_URL_ENV_VAR)
    if url:
        check_postgres_url(url)
        return postgres_dagster_yaml()
    if current is not None and is_postgres_dagster_yaml(current):
        raise PostgresInstanceError(
            f"the Dagster instance in {home} keeps its runs in PostgreSQL, but "
            f"{POSTGRES_URL_ENV_VAR} is not set: set it to the database's "
            f"postgresql+psycopg2:// URL, or delete {home / 'dagster.yaml'} to go back to the "
            "SQLite instance"
        )
    return dagster_yaml(home)


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to ``.dagster_home`` in the project, with the project's
    dagster.yaml (``wanted_dagster_yaml``): written on first use, and rewritten when an earlier
    version of the project wrote it (an instance made before the code moved names a module that
    no longer exists) or when ROTATION_DAGSTER_POSTGRES_URL moves the instance to PostgreSQL.
    A dagster.yaml without the project's header is the user's and is left alone."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    current = config.read_text() if config.exists() else None
    users_own = current is not None and not current.startswith(PROJECT_HEADER)
    wanted = current if users_own else wanted_dagster_yaml(home, current)
    if current != wanted:
        # Whole or not at all: another process may be reading it.
        staged = config.with_name(f".dagster.yaml.{os.getpid()}")
        staged.write_text(wanted)
        os.replace(staged, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextlib.contextmanager
def first_use_lock(home: Path) -> Iterator[None]:
    """Held while a process opens the instance: two ``rotation`` commands started together on a
    new DAGSTER_HOME would otherwise both create Dagster's SQLite tables, and the second fails
    with "table ... already exists"."""
    with open(home / ".rotation-instance.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def batched_event_writes() -> Iterator[None]:
    """DAGSTER_EVENT_BATCH_SIZE for the runs the CLI executes in this process (unless the user
    set it), restored afterwards: a setting of the run, not of every process that imports the
    project."""
    # Dagster hands a range's per-partition events to the event log in batches only when this
    # is set (read at every event); the project's event log writes a batch in one transaction.
    if os.environ.get(BATCH_SIZE_ENV_VAR):
        yield
        return
    os.environ[BATCH_SIZE_ENV_VAR] = DEFAULT_BATCH_SIZE
    try:
        yield
    finally:
        os.environ.pop(BATCH_SIZE_ENV_VAR, None)


def main() -> int:
    """``python -m rotation_assets.instance.dagster_home``: write the project's dagster.yaml for
    this process's settings and say which instance it is. ``rotation`` does this itself; run it
    before ``dg dev``, the daemon or ``dagster debug import`` on a home no ``rotation`` command
    has opened since ROTATION_DAGSTER_POSTGRES_URL was set."""
    try:
        home = ensure_dagster_home()
    except PostgresInstanceError as exc:
        print(f"rotation: {exc}", file=sys.stderr)
        return 2
    text = (home / "dagster.yaml").read_text()
    if not text.startswith(PROJECT_HEADER):
        kind = "your own dagster.yaml (left as it is)"
    elif is_postgres_dagster_yaml(text):
        kind = f"runs, events and schedules in PostgreSQL ({POSTGRES_URL_ENV_VAR})"
    else:
        kind = f"runs, events and schedules in SQLite under {home / 'history'}"
    print(f"DAGSTER_HOME={home}: {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
