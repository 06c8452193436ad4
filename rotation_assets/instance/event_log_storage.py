"""Dagster's SQLite event log, made cheap per event: open connections and batched writes.

A single-run backfill records one planned and one materialization event per partition and
asset (a 36-year backfill: ~9,200 sessions x 5 partitioned assets x 2). Dagster's stock
``SqliteEventLogStorage`` opens a new engine for every event, commits it on its own, and closes
the connection, and closing the last connection of a WAL database checkpoints it: measured on a
one-year backfill here, 74% of the run's wall time went into storing events, mostly in commit
and close. This storage keeps the same files and tables (the UI and ``dagster dev`` read them
unchanged) and changes only how they are written:

* connections stay open (one pooled engine per shard, the index and the most recent runs), so
  a write is a transaction, not an open, a checkpoint and a close;
* ``PRAGMA synchronous=NORMAL`` (WAL mode): a commit survives a crash of the process; the last
  commits may be lost on power loss, after which a re-run records them again;
* Dagster's event batching (``DAGSTER_EVENT_BATCH_SIZE``, on by default here) hands over a
  range's planned and materialization events as a batch, written in one transaction per shard.

The instance created by ``rotation_assets.dagster_home`` uses it (its ``dagster.yaml``).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

BATCH_SIZE_ENV_VAR = "DAGSTER_EVENT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = "5000"
# Run shards kept open besides the index: a long-lived webserver reads many runs.
OPEN_RUN_SHARDS = 4


def _synchronous_normal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with open connections and one transaction per event batch."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        if base_dir is None:
            base_dir = os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)
        # Read by Dagster on every event, so setting it here covers the CLI, the webserver and
        # the daemon alike; an explicit value wins.
        os.environ.setdefault(BATCH_SIZE_ENV_VAR, DEFAULT_BATCH_SIZE)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        event.listen(engine, "connect", _synchronous_normal)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        run_shards = [s for s in self._engines if s != INDEX_SHARD_NAME]
        for old in run_shards[:-OPEN_RUN_SHARDS]:
            self._engines.pop(old).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """A batch of one run's asset events (a range's planned or materialization events) in
        one transaction on the run shard and one on the index shard; anything else one by one."""
        homogeneous = len({e.run_id for e in events}) == 1 and all(
            e.is_dagster_event
            and e.dagster_event.asset_key
            and e.dagster_event_type in ASSET_EVENTS
            for e in events
        )
        if not homogeneous:
            super().store_event_batch(events)
            return
        rows = [self._event_to_row(e) for e in events]  # serialized once for both shards
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        with self.index_transaction() as conn:
            inserted = conn.execute(
                SqlEventLogStorageTable.insert().returning(
                    SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
                ),
                rows,
            )
            ids = [row[0] for row in inserted]
            self._store_asset_event_tags(conn, events, ids)
            # The asset key row keeps the latest event: write it once per key, from the last one.
            last = {e.dagster_event.asset_key: (e, i) for e, i in zip(events, ids, strict=True)}
            for entry, event_id in last.values():
                self._store_asset_event(conn, entry, event_id)

    def has_table(self, table_name: str) -> bool:
        # Asked on every asset event with tags; the stock method opens a new engine each time.
        # Tables are created by migrations, never dropped while the instance is up.
        known = self.__dict__.setdefault("_known_tables", set())
        if table_name not in known and super().has_table(table_name):
            known.add(table_name)
        return table_name in known

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()
