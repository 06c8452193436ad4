"""Refreshing the analytics tables: only what changed, all of it in one transaction.

Every write of ``raw.prices`` appends a row to ``raw.price_loads`` (the window of sessions it
replaced and how many rows changed). Each analytics table records in ``meta.refresh_state`` the
last load it has taken in and a fingerprint of what it was built from. A refresh then does, per
table, in dependency order:

- nothing, when no load with changed rows came after it and its fingerprint is unchanged (an
  identical re-load, or a run with nothing new, leaves every table as it was);
- for a table rebuilt by session (``by_session``, e.g. ``daily_returns``): delete its rows from
  the first session of the loads it has not taken in, and insert them again (a new session
  appends; a re-loaded earlier session rebuilds from that session on);
- otherwise, or when its fingerprint changed (its definition or code, a reference table it
  reads, the run config it depends on, a fully rebuilt upstream), rebuild it whole.

A table never takes in loads its analytics upstreams have not: refreshing a subset (the UI can
materialize one table) leaves the others to catch up later, and they do. The caller holds one
transaction around the whole refresh and its checks, so the analytics tables change together
or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import duckdb
import pandas as pd

from rotation_assets.metrics.code_version import code_version
from rotation_assets.sources.price_window import PRICE_LOADS
from rotation_assets.warehouse.connection import table_exists
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import ensure_table

REFRESH_STATE = TableSpec(
    schema="meta",
    name="refresh_state",
    description=(
        "Bookkeeping of the analytics refresh: per analytics table, the last raw.price_loads "
        "load it includes, a fingerprint of what it was built from, and what the last refresh "
        "rebuilt."
    ),
    columns=(
        Column("table_name", "VARCHAR", "Analytics table, e.g. analytics.daily_returns.", False),
        Column(
            "through_load_id",
            "BIGINT",
            "The table includes every raw.price_loads load up to this load_id.",
            nullable=False,
        ),
        Column(
            "fingerprint",
            "VARCHAR",
            "md5 of the table's definition and code, the reference tables and run config it "
            "depends on and its upstream tables' fingerprints; a change rebuilds it whole.",
            nullable=False,
        ),
        Column(
            "rebuilt_from",
            "DATE",
            "First session the last rebuild rewrote; null when it rewrote the whole table.",
        ),
        Column("rows_rebuilt", "BIGINT", "Rows the last rebuild wrote.", nullable=False),
        Column("refreshed_at", "TIMESTAMP", "UTC time of the last rebuild.", nullable=False),
    ),
    key=("table_name",),
)


@dataclass(frozen=True)
class Scope:
    """What one table's build must produce: rows from ``since`` on (None: the whole table)."""

    since: dt.date | None
    settings: Mapping[str, object]

    def since_sql(self) -> str | None:
        """``since`` as a SQL date literal, or None for the whole table."""
        return None if self.since is None else f"DATE '{self.since.isoformat()}'"


@dataclass(frozen=True)
class DerivedTable:
    """An analytics table: what it reads and how it is built.

    ``build`` returns the rows of its scope, as a SELECT (run as ``INSERT ... BY NAME``) or as
    a frame. ``modules`` are its metric modules: their source, ``build``'s and that of every
    project module they reach is hashed into the fingerprint (``metrics.code_version``), so that
    a new version of a metric rebuilds its table whole. ``doc`` is the metric's definition in words
    (its module docstring), shown in the UI; ``computed_in`` says whether its rows come
    from SQL or from pandas.
    """

    spec: TableSpec
    reads: tuple[str, ...]
    build: Callable[[duckdb.DuckDBPyConnection, Scope], str | pd.DataFrame]
    modules: tuple[ModuleType, ...]
    doc: str = ""
    by_session: str | None = None
    settings: tuple[str, ...] = ()
    computed_in: str = "sql"

    @property
    def name(self) -> str:
        return self.spec.qualified_name

    @property
    def definition(self) -> str:
        """Version of the code the table is built by (read only when a refresh asks)."""
        return code_version(self.build, self.modules)


@dataclass(frozen=True)
class Refreshed:
    """What the refresh did to one table."""

    table: str
    rebuilt: bool
    since: dt.date | None
    rows_rebuilt: int
    rows_total: int
    through_load_id: int


@dataclass
class _State:
    through_load_id: int
    fingerprint: str


@dataclass
class Refresh:
    """The refresh of ``tables`` (in dependency order) on one connection."""

    con: duckdb.DuckDBPyConnection
    tables: Sequence[DerivedTable]
    settings: Mapping[str, object] = field(default_factory=dict)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def run(
        self,
        selected: set[str],
        after: Callable[[DerivedTable, Refreshed], None] | None = None,
    ) -> list[Refreshed]:
        """Refresh the ``selected`` tables (qualified names) in dependency order, calling
        ``after`` on each as soon as it is rebuilt (its checks: raising there stops the refresh
        before any table that reads it); the caller holds the transaction."""
        ensure_table(self.con, REFRESH_STATE)
        ensure_table(self.con, PRICE_LOADS)
        analytics = {t.name for t in self.tables}
        done = []
        for table in self.tables:
            if table.name in selected:
                done.append(self._refresh(table, analytics))
                if after is not None:
                    after(table, done[-1])
        return done

    def _state(self, name: str) -> _State | None:
        row = self.con.execute(
            f"SELECT through_load_id, fingerprint FROM {REFRESH_STATE.qualified_name} "
            "WHERE table_name = ?",
            [name],
        ).fetchone()
        return None if row is None else _State(int(row[0]), str(row[1]))

    def _content_hash(self, qualified_name: str) -> str:
        schema, name = qualified_name.split(".")
        if not table_exists(self.con, schema, name):
            return "absent"
        (digest,) = self.con.execute(
            f"SELECT md5(coalesce(string_agg(CAST(t AS VARCHAR), '|' "
            f"ORDER BY CAST(t AS VARCHAR)), '')) FROM {qualified_name} t"
        ).fetchone()
        return str(digest)

    def _fingerprint(self, table: DerivedTable, analytics: set[str]) -> str:
        parts = [table.spec.create_sql(), table.definition]
        for read in table.reads:
            if read in analytics:
                state = self._state(read)
                parts.append(f"{read}={state.fingerprint if state else 'unbuilt'}")
            elif read not in LOADED_BY_SESSION:
                parts.append(f"{read}={self._content_hash(read)}")
        parts.append(json.dumps({k: self.settings.get(k) for k in table.settings}, default=str))
        return hashlib.md5("\n".join(parts).encode()).hexdigest()

    def _latest_load(self) -> int:
        (latest,) = self.con.execute(
            f"SELECT coalesce(max(load_id), 0) FROM {PRICE_LOADS.qualified_name}"
        ).fetchone()
        return int(latest)

    def _first_changed_session(self, after: int, through: int) -> dt.date | None:
        (first,) = self.con.execute(
            f"SELECT min(first_session) FROM {PRICE_LOADS.qualified_name} "
            "WHERE load_id > ? AND load_id <= ? AND rows_changed > 0",
            [after, through],
        ).fetchone()
        return first

    def _refresh(self, table: DerivedTable, analytics: set[str]) -> Refreshed:
        spec = table.spec
        # A table takes in only the loads every analytics table it reads has taken in.
        through = self._latest_load()
        for read in table.reads:
            if read in analytics:
                upstream = self._state(read)
                through = min(through, upstream.through_load_id if upstream else 0)
        fingerprint = self._fingerprint(table, analytics)
        state = self._state(table.name)
        whole = (
            state is None
            or state.fingerprint != fingerprint
            or not table_exists(self.con, spec.schema, spec.name)
        )
        since = None
        takes_loads = any(r in analytics or r in LOADED_BY_SESSION for r in table.reads)
        if not whole:
            first = (
                self._first_changed_session(state.through_load_id, through) if takes_loads else None
            )
            if first is None:
                self._save_state(table.name, max(through, state.through_load_id), fingerprint)
                return Refreshed(table.name, False, None, 0, self._count(spec), through)
            if table.by_session is None:
                whole = True
            else:
                since = first
        rows = self._rebuild(table, Scope(since, self.settings))
        self._save_state(table.name, through, fingerprint, since, rows)
        return Refreshed(table.name, True, since, rows, self._count(spec), through)

    def _rebuild(self, table: DerivedTable, scope: Scope) -> int:
        spec = table.spec
        if scope.since is None:
            # Whole: dropped and created again, so a changed definition gets its new columns.
            self.con.execute(f"DROP TABLE IF EXISTS {spec.qualified_name}")
            ensure_table(self.con, spec)
        else:
            self.con.execute(
                f"DELETE FROM {spec.qualified_name} WHERE {table.by_session} >= ?", [scope.since]
            )
        built = table.build(self.con, scope)
        if isinstance(built, str):
            (rows,) = self.con.execute(
                f"INSERT INTO {spec.qualified_name} BY NAME {built}"
            ).fetchone()
            return int(rows)
        frame = spec.conform(built)
        self.con.register("rebuilt_rows", frame)
        try:
            self.con.execute(
                f"INSERT INTO {spec.qualified_name} BY NAME SELECT * FROM rebuilt_rows"
            )
        finally:
            self.con.unregister("rebuilt_rows")
        return len(frame)

    def _count(self, spec: TableSpec) -> int:
        if not table_exists(self.con, spec.schema, spec.name):
            return 0
        return int(self.con.execute(f"SELECT count(*) FROM {spec.qualified_name}").fetchone()[0])

    def _save_state(
        self,
        name: str,
        through: int,
        fingerprint: str,
        since: dt.date | None = None,
        rows: int | None = None,
    ) -> None:
        if rows is None:  # nothing rebuilt: only the loads taken in move on
            self.con.execute(
                f"UPDATE {REFRESH_STATE.qualified_name} SET through_load_id = ? "
                "WHERE table_name = ?",
                [through, name],
            )
            return
        self.con.execute(f"DELETE FROM {REFRESH_STATE.qualified_name} WHERE table_name = ?", [name])
        self.con.execute(
            f"INSERT INTO {REFRESH_STATE.qualified_name} VALUES (?, ?, ?, ?, ?, ?)",
            [name, through, fingerprint, since, rows, self.now()],
        )


# Tables whose changes arrive as loads (raw.price_loads), not through the fingerprint.
LOADED_BY_SESSION = frozenset({"raw.prices", "raw.corporate_actions"})
