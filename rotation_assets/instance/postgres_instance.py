"""The project's Dagster instance in PostgreSQL, chosen by one setting.

With ``ROTATION_DAGSTER_POSTGRES_URL`` set (a ``postgresql+psycopg2://`` URL), the project's
``dagster.yaml`` keeps runs, events and schedules in that database through ``dagster-postgres``
(its ``storage: postgres:`` block), instead of the SQLite files under ``$DAGSTER_HOME/history``.
The file names the variable (``env:``), never its value, so no password lands on disk: every
process that opens the instance (``rotation``, ``dg dev``, the daemon, run workers) needs the
variable in its environment.

The concurrency pool that serialises DuckDB writers is the same as in the SQLite instance (one
slot per pool, op granularity); its slots live in the Postgres event log, so writers in any
process on any machine that shares the database wait for one another.

The project's batching SQLite event log (``event_log_storage.py``) is SQLite-specific and not
used here: ``dagster-postgres``'s own event log stores a batch of materializations in one
statement already (``PostgresEventLogStorage.store_event_batch``), so ``DAGSTER_EVENT_BATCH_SIZE``
keeps paying off without project code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from rotation_assets.defs.resources import ConfigurationError

POSTGRES_URL_ENV_VAR = "ROTATION_DAGSTER_POSTGRES_URL"
# The driver must be named: dagster-postgres is built on psycopg2 (its only driver dependency,
# and it uses psycopg2's connection semantics), but SQLAlchemy 2.1 opens a bare postgresql:// URL
# with psycopg 3, which is not installed (and the older postgres:// not at all).
URL_SCHEME = "postgresql+psycopg2"

POSTGRES_DAGSTER_YAML = f"""\
# Created by rotation_assets, which rewrites this file when the project's settings change for as
# long as this first line stays: delete it to keep settings of your own.
# Runs, events and schedules are in PostgreSQL ({POSTGRES_URL_ENV_VAR}, read from the
# environment of every process that opens this instance: no password is kept in this file).
storage:
  postgres:
    postgres_url:
      env: {POSTGRES_URL_ENV_VAR}
# Every asset that opens the DuckDB warehouse is in the pool
# `duckdb_warehouse`; one slot means two writers never meet at the file, across runs too.
concurrency:
  pools:
    default_limit: 1
    granularity: op
telemetry:
  enabled: false
"""


class PostgresInstanceError(ConfigurationError):
    """The Postgres instance is chosen but cannot be used as configured; says what to set."""


def postgres_dagster_yaml() -> str:
    """The instance config that keeps runs, events and schedules in PostgreSQL."""
    return POSTGRES_DAGSTER_YAML


def is_postgres_dagster_yaml(text: str) -> bool:
    """Whether ``text`` is a project-written config of the Postgres instance (this version's or
    an earlier one: it names the setting)."""
    return text.startswith("# Created by rotation_assets") and POSTGRES_URL_ENV_VAR in text


def check_postgres_url(url: str) -> str:
    """``url`` if it names a PostgreSQL database SQLAlchemy can open, else a
    PostgresInstanceError saying what is wrong (without echoing a password)."""
    parts = urlsplit(url)
    if parts.scheme != URL_SCHEME:
        written = f"a {parts.scheme}:// URL" if parts.scheme else "not a URL"
        raise PostgresInstanceError(
            f"{POSTGRES_URL_ENV_VAR} must be a {URL_SCHEME}:// URL (e.g. "
            f"{URL_SCHEME}://user:password@host:5432/dagster), and it is {written}: "
            "dagster-postgres works through psycopg2, which SQLAlchemy uses only when the URL "
            "names it"
        )
    if not parts.path.strip("/"):
        raise PostgresInstanceError(
            f"{POSTGRES_URL_ENV_VAR} names no database: end it with /<database>"
        )
    return url
