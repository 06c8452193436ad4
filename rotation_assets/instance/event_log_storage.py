"""Dagster's SQLite event log, writing a batch of events in one transaction per shard.

Why: a single-run backfill records one planned and one materialization event per partition and
asset. Dagster's stock ``SqliteEventLogStorage`` stores every event on its own: it creates an
engine, commits (an fsync) and closes the connection, and closing the last connection of a WAL
database checkpoints it (more fsyncs). A no-op backfill of one asset over 9,227 daily partitions
took 263 s with it here, almost all of it in storing events, and 7 s with this storage.

What it overrides: only the batch path. Dagster hands a batch to ``store_event_batch`` when
``DAGSTER_EVENT_BATCH_SIZE`` > 0 (the planned events of a run; the materializations or
observations of a partition range). This storage then opens one connection per shard the batch
touches (the run's shard and the cross-run index shard), begins a transaction on each, and runs
the stock ``store_event`` for every event, in order. While the batch is in progress on this
thread, four methods behave differently:

* ``_connect`` (behind ``run_connection``, ``index_connection`` and ``index_transaction``)
  returns the batch's open connection to the shard instead of opening a new one;
* ``has_table`` asks that open index connection instead of creating an engine;
* ``_has_asset_key_index_cols_on_connection`` inspects the schema once per batch, not per event;
* ``_store_asset_event`` merges the values the stock method would write into the asset's row in
  ``asset_keys`` (``last_materialization``, ``last_run_id``, the latest event timestamp), in
  event order, and the merged values are written once per asset before the commit, as the stock
  method writes them (insert, or update on an integrity error). Each stock update overwrites
  the columns it sets, so the row ends the same as after one update per event.

Everything else is Dagster's own code (event rows in both shards, asset event tags, asset check
executions, mirrored run status events), so a batch of mixed types ends in the state that storing
its events one by one gives. Single events, reads, ``wipe``, ``watch`` and ``dispose`` are the
stock ones. No connection outlives a call: a wipe leaves nothing open, and closing the batch's
connections checkpoints the WAL into the ``.db`` file, which the stock watcher (the UI following a
run live) watches.

Failures: if anything raises before the commits, both transactions are rolled back, nothing is
written, and Dagster's fallback (``store_event`` for each event of the batch) stores each event
once. The commits are ordered: the run shard first, then the index. If the index commit fails,
the run shard rows this batch inserted (their ids are recorded as they are inserted) are deleted
again before the error is re-raised, so the fallback does not store them twice. What remains:

* if that delete fails as well (the disk is failing), the run's own log shows those events twice
  after the fallback (logged); the index, which holds the asset state, is written once;
* if the process dies between the two commits, the run's log has the batch and the index has not
  (the stock storage has the same window for every single event).

Locking: a batch holds the storage's thread lock, as each stock write does, and SQLite's write
lock on its run shard and on the index until it commits (about a second for 5,000 events).
Writers in other processes wait for it (SQLite's busy timeout, 30 s, as for any stock write);
readers do not, in WAL mode. Dagster's batches hold one run each, and a batch takes its run
shard's lock before the index's, so two batches cannot wait for each other.

Durability: no trade-off against the stock storage. Its SQLite settings are kept (WAL,
``synchronous`` at SQLite's default, FULL): a committed batch survives a crash or a power loss.
A batch costs two commits, so cheaper commits (``synchronous=NORMAL``) were not needed. Note that
with batching on, Dagster keeps a batch's events in memory until it hands the batch over (the
batch is full or the step ends): events not yet handed over are lost if the process dies, whatever
the storage.

Pinned: written for and checked against Dagster 1.13 (Dagster's own conformance suite for the
SQLite event log: ``rotation_assets_tests/test_event_log_conformance.py``). It relies on private
internals, so it refuses to start under another minor version. This module is the only place in
the project that may import ``dagster._...`` names.

SQLite only: the Postgres instance (``postgres_instance.py``, chosen by
ROTATION_DAGSTER_POSTGRES_URL) uses ``dagster-postgres``'s own event log, which writes a batch of
materializations in one statement by itself; this storage is not used there.

It sets nothing process-wide. Batching is enabled by the process that runs the events, e.g.
``os.environ[BATCH_SIZE_ENV_VAR] = DEFAULT_BATCH_SIZE`` before a run; without it this storage
behaves as the stock one.

Concurrency pools: this storage also keeps the pools' slots (the ``duckdb_warehouse`` pool that
serialises DuckDB writers). Every change to them (claim, free, limits) holds an exclusive file
lock, so that two processes claiming the one slot together cannot both get it, which the stock
SQLite storage allows (``_slots_lock`` says why and how).

Also here, as the other piece of the SQLite instance built on Dagster internals:
``BusyTimeoutSqliteRunStorage``, Dagster's SQLite run storage whose connections wait up to the
busy timeout the event log uses (30 s) for another process's write, instead of pysqlite's 5 s.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster
from dagster import Field, StringSource
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

BATCH_SIZE_ENV_VAR = "DAGSTER_EVENT_BATCH_SIZE"
# A recommended value for BATCH_SIZE_ENV_VAR (a string: it is an environment variable's value).
DEFAULT_BATCH_SIZE = "5000"
# The Dagster minor version whose internals this module was written and tested against.
BUILT_FOR_DAGSTER = "1.13"

_UNSUPPORTED = (
    "rotation_assets.instance.event_log_storage.BatchingSqliteEventLogStorage was built for "
    f"Dagster {BUILT_FOR_DAGSTER}.x and relies on its internals, but Dagster {{installed}} is "
    "installed. Remove the `event_log_storage:` block from $DAGSTER_HOME/dagster.yaml to use "
    "Dagster's stock SQLite event log (same files and tables), or port this module to the new "
    "version and run rotation_assets_tests/test_event_log_conformance.py."
)


def check_dagster_version(installed: str | None = None) -> None:
    """Raise unless ``installed`` (default: the imported Dagster's version) is a release of the
    Dagster minor this module is pinned to."""
    installed = installed or dagster.__version__
    if installed.split(".")[:2] != BUILT_FOR_DAGSTER.split("."):
        raise RuntimeError(_UNSUPPORTED.format(installed=installed))


try:
    from dagster._core.events.log import EventLogEntry
    from dagster._core.storage.event_log import SqliteEventLogStorage
    from dagster._core.storage.event_log.schema import AssetKeyTable, SqlEventLogStorageTable
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
    from dagster._core.storage.runs import SqliteRunStorage
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from dagster._serdes import ConfigurableClassData
    from dagster._utils.concurrency import ConcurrencyClaimStatus
except ImportError as exc:  # another Dagster version moved them: say what to do
    raise ImportError(_UNSUPPORTED.format(installed=dagster.__version__)) from exc

# The file, beside the index shard, whose exclusive flock serialises changes to the pools' slots.
SLOTS_LOCK_FILE = "concurrency_slots.lock"

# Ids deleted per statement when a batch's run shard rows are taken back (SQLite's default
# limit on bound parameters is 32,766 since 3.32; older builds allow 999).
_DELETE_CHUNK = 900

_logger = logging.getLogger(__name__)


class _Batch:
    """The open connections of the batch in progress on one thread, one per shard."""

    def __init__(self) -> None:
        self.engines: dict[str, Engine] = {}
        self.connections: dict[str, Connection] = {}
        # Ids of the event_logs rows inserted into each run shard by this batch.
        self.inserted: dict[str, list[int]] = {}
        self.has_asset_key_index_cols: bool | None = None
        # The asset key rows' new values, by asset key, merged in event order.
        self.asset_rows: dict[str, dict[str, Any]] = {}


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` that writes a batch of events in one transaction per shard."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        check_dagster_version()
        if base_dir is None:
            base_dir = os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        self._local = threading.local()  # before super().__init__, which may connect
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    # -- the pools' slots: one change at a time across processes ----------------------------------

    @contextmanager
    def _slots_lock(self) -> Iterator[None]:
        """Hold the exclusive lock on the pools' slots (re-entrant within a thread).

        Why: Dagster's SQL event log claims a slot in several statements on separate connections
        (``has_unassigned_slots``, then ``add_pending_step`` assigned or not, then
        ``_claim_concurrency_slot``: select a free slot row, update it by id) and frees one the
        same way. On PostgreSQL ``with_for_update`` row locks keep claimants apart; on SQLite it
        does nothing, so two processes claiming the one-slot pool together were both told
        CLAIMED (in 38 of 100 rounds of two processes; see test_pool_claims.py).

        Why a file lock (``flock`` on ``concurrency_slots.lock`` beside ``index.db``) and not
        SQLite's ``BEGIN IMMEDIATE``: one stock claim or free opens four to six connections of
        its own, so a SQLite transaction would have to route them all through one connection
        (more overrides of private methods, and any statement that still opened its own would
        wait on our write lock until the busy timeout). The flock wraps the stock methods
        unchanged, blocks only other slot changes (event writes and every read go on), costs an
        open and two system calls per claim, and the kernel releases it when a holder dies. Each
        call opens the file anew, so threads of one process exclude each other as processes do
        (a lock is per open file); the depth count lets a locked method call another (e.g.
        ``set_concurrency_slots`` calling ``assign_pending_steps``). The lock is taken before the
        storage's thread lock and SQLite's, never while holding them, and a batch of events
        never takes it: no cycle. Every process of the instance uses this class (it is in
        dagster.yaml), so every slot change holds the lock; it needs a local file system
        (``flock`` is not shared over NFS).
        """
        depth = getattr(self._local, "slots_lock_depth", 0)
        if depth:
            self._local.slots_lock_depth = depth + 1
            try:
                yield
            finally:
                self._local.slots_lock_depth = depth
            return
        # Read-only: a lock needs no write, and no write means no event for the run watchers.
        fd = os.open(os.path.join(self._base_dir, SLOTS_LOCK_FILE), os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.slots_lock_depth = 1
            try:
                yield
            finally:
                self._local.slots_lock_depth = 0
        finally:
            os.close(fd)  # closing the file releases the lock

    def initialize_concurrency_limit_to_default(self, concurrency_key: str) -> bool:
        with self._slots_lock():
            return super().initialize_concurrency_limit_to_default(concurrency_key)

    def set_concurrency_slots(self, concurrency_key: str, num: int) -> None:
        with self._slots_lock():
            super().set_concurrency_slots(concurrency_key, num)

    def delete_concurrency_limit(self, concurrency_key: str) -> None:
        with self._slots_lock():
            super().delete_concurrency_limit(concurrency_key)

    def claim_concurrency_slot(
        self, concurrency_key: str, run_id: str, step_key: str, priority: int | None = None
    ) -> ConcurrencyClaimStatus:
        with self._slots_lock():
            return super().claim_concurrency_slot(concurrency_key, run_id, step_key, priority)

    def free_concurrency_slots_for_run(self, run_id: str) -> None:
        with self._slots_lock():
            super().free_concurrency_slots_for_run(run_id)

    def free_concurrency_slot_for_step(self, run_id: str, step_key: str) -> None:
        with self._slots_lock():
            super().free_concurrency_slot_for_step(run_id, step_key)

    def assign_pending_steps(self, concurrency_keys: Sequence[str]) -> None:
        with self._slots_lock():
            super().assign_pending_steps(concurrency_keys)

    def add_pending_step(
        self,
        concurrency_key: str,
        run_id: str,
        step_key: str,
        priority: int | None = None,
        should_assign: bool = False,
    ) -> None:
        with self._slots_lock():
            super().add_pending_step(concurrency_key, run_id, step_key, priority, should_assign)

    # -- the batch path ------------------------------------------------------------------------

    def _current_batch(self) -> _Batch | None:
        """The batch this thread is storing, if any."""
        return getattr(self._local, "batch", None)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store ``events`` as the stock ``store_event`` does one by one, in one transaction per
        shard; on any error nothing stays written (see the module docstring)."""
        if self._current_batch() is not None:  # re-entered: already in a batch
            for entry in events:
                self.store_event(entry)
            return
        batch = _Batch()
        # The stock storage serialises its connections with this lock; a batch holds it
        # throughout, so other threads wait for the batch as they wait for a single event.
        with self._db_lock:
            self._local.batch = batch
            try:
                for entry in events:
                    self.store_event(entry)
                self._write_asset_rows(batch)
                self._commit(batch)
            finally:
                self._local.batch = None
                self._close(batch)

    def _write_asset_rows(self, batch: _Batch) -> None:
        # As the stock _store_asset_event writes each one, with the batch's values merged.
        for asset_key, values in batch.asset_rows.items():
            conn = self._batch_connection(batch, INDEX_SHARD_NAME)
            try:
                conn.execute(AssetKeyTable.insert().values(asset_key=asset_key, **values))
            except IntegrityError:
                conn.execute(
                    AssetKeyTable.update()
                    .values(**values)
                    .where(AssetKeyTable.c.asset_key == asset_key)
                )

    def _commit(self, batch: _Batch) -> None:
        run_shards = [shard for shard in batch.connections if shard != INDEX_SHARD_NAME]
        committed: list[str] = []
        try:
            for shard in run_shards:
                self._commit_shard(shard, batch.connections[shard])
                committed.append(shard)
            if INDEX_SHARD_NAME in batch.connections:
                self._commit_shard(INDEX_SHARD_NAME, batch.connections[INDEX_SHARD_NAME])
        except BaseException:
            for shard in committed:  # take back what Dagster's fallback will store again
                try:
                    self._delete_rows(batch.connections[shard], batch.inserted.get(shard, []))
                except Exception:
                    _logger.exception(
                        "Could not take back the events of a failed batch from the run shard "
                        "%s; the fallback will store them there a second time.",
                        shard,
                    )
            raise

    def _commit_shard(self, shard: str, conn: Connection) -> None:
        """Commit the batch's transaction on ``shard`` (separate so that tests can fail it)."""
        conn.commit()

    @staticmethod
    def _delete_rows(conn: Connection, ids: list[int]) -> None:
        table = SqlEventLogStorageTable
        with conn.begin():
            for start in range(0, len(ids), _DELETE_CHUNK):
                chunk = ids[start : start + _DELETE_CHUNK]
                conn.execute(table.delete().where(table.c.id.in_(chunk)))

    @staticmethod
    def _close(batch: _Batch) -> None:
        # Closing rolls back what was not committed; disposing the (NullPool) engine closes
        # the file, which checkpoints the WAL into the .db when it is the last connection.
        for conn in batch.connections.values():
            conn.close()
        for engine in batch.engines.values():
            engine.dispose()

    def _batch_connection(self, batch: _Batch, shard: str) -> Connection:
        conn = batch.connections.get(shard)
        if conn is not None:
            return conn
        # As the stock _connect does, minus the lock, which the batch already holds.
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        batch.engines[shard] = engine
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        if shard != INDEX_SHARD_NAME:
            inserted = batch.inserted.setdefault(shard, [])

            @event.listens_for(engine, "after_cursor_execute")
            def _record_insert(_conn, cursor, statement, _params, _context, executemany) -> None:
                if not executemany and statement.lstrip().upper().startswith(
                    "INSERT INTO EVENT_LOGS"
                ):
                    inserted.append(cursor.lastrowid)

        conn = engine.connect()
        conn.begin()
        batch.connections[shard] = conn
        return conn

    # -- stock methods that use the batch's connections while it is in progress -----------------

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        batch = self._current_batch()
        if batch is None:
            with super()._connect(shard) as conn:
                yield conn
        else:
            yield self._batch_connection(batch, shard)

    def has_table(self, table_name: str) -> bool:
        # Asked for asset events with tags and for asset check events; the stock method opens
        # a new engine on the index each time.
        batch = self._current_batch()
        if batch is None:
            return super().has_table(table_name)
        conn = self._batch_connection(batch, INDEX_SHARD_NAME)
        return bool(conn.dialect.has_table(conn, table_name))

    def _store_asset_event(self, conn: Connection, event: EventLogEntry, event_id: int) -> None:
        # The stock method updates the asset key row for each asset event: its columns take
        # the values of the event (last_materialization, last_run_id, the latest timestamp),
        # each update overwriting the previous one's. Within a batch, the same values are merged
        # in event order and written once per asset key before the commit: the row ends the
        # same, without an insert, an integrity error and an update for every event.
        batch = self._current_batch()
        if batch is None:
            super()._store_asset_event(conn, event, event_id)
            return
        if not (event.dagster_event and event.dagster_event.asset_key):
            return
        values = self._get_asset_entry_values(
            event, event_id, self._has_asset_key_index_cols_on_connection(conn)
        )
        if values:
            key = event.dagster_event.asset_key.to_string()
            batch.asset_rows.setdefault(key, {}).update(values)

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        # Inspected for every asset event; within a batch the schema does not change.
        batch = self._current_batch()
        if batch is None:
            return super()._has_asset_key_index_cols_on_connection(conn)
        if batch.has_asset_key_index_cols is None:
            batch.has_asset_key_index_cols = super()._has_asset_key_index_cols_on_connection(conn)
        return batch.has_asset_key_index_cols


class BusyTimeoutSqliteRunStorage(SqliteRunStorage):
    """Dagster's SQLite run storage (``runs.db``: runs, their tags, backfills, the daemon's
    heartbeats), whose connections wait up to ``SQLITE_BUSY_TIMEOUT_SECONDS`` (30 s) for a write
    lock held by another process, as the event log's connections do.

    Why: the stock one connects with pysqlite's default timeout, 5 s; with the UI, the daemon
    and a run writing beside each other on a loaded disk, a run-storage write can fail with
    "database is locked" where the event log would still have waited. Only ``connect`` (every
    read and write after start-up) changes; opening the storage (creating or checking the
    schema, under the project's first-use lock) is the stock code. Same file, same tables.
    """

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        # The stock method builds a SqliteRunStorage by name, not ``cls``.
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        # The stock connect, with the event log's busy timeout.
        engine = create_engine(
            self._conn_string,
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        with engine.connect() as conn, conn.begin():
            yield conn
