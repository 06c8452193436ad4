"""Opening the DuckDB warehouse: a bounded wait for the file lock that names who holds it.

DuckDB lets one process write a file and refuses to open it, even read-only, while another
process holds it for writing (and a writer while anyone holds it). A run that finds the file
held waits up to a budget, logging who holds it, then fails naming that process, so an operator
knows which notebook or CLI to close.

The wait is observable without timing it: a warning when the file is first found held (and
again if another process holds it next), naming the holder, and an info line when the file is
opened after waiting. Both records carry ``lock_wait`` (``LOCK_WAITING`` or ``LOCK_ACQUIRED``)
and ``lock_holder`` attributes, so a test or a log handler can react to the wait itself.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

log = logging.getLogger(__name__)

# Values of a lock-wait log record's ``lock_wait`` attribute.
LOCK_WAITING = "waiting"
LOCK_ACQUIRED = "acquired"

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


class WarehouseError(Exception):
    """A write to the warehouse was refused or failed; stored rows are unchanged."""


class WarehouseLockedError(WarehouseError):
    """Another process held the DuckDB file for longer than the wait budget."""


def describe_lock_holder(message: str) -> str:
    """'PID 123 (duckdb -readonly data/rotation.duckdb)' from DuckDB's lock error, if it says."""
    match = _LOCK_HOLDER.search(message)
    if not match:
        return "another process"
    pid = match.group("pid")
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        cmdline = match.group("program")
    return f"PID {pid} ({cmdline})"


def is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def connect_waiting(
    path: str,
    wait_seconds: float,
    read_only: bool = False,
    config: dict[str, Any] | None = None,
    connect: Callable[..., duckdb.DuckDBPyConnection] = duckdb.connect,
) -> duckdb.DuckDBPyConnection:
    """A connection to ``path``, retrying while another process holds the file.

    Logs a warning naming the holder when it first finds the file held (again only if another
    process holds it next), and an info line naming the last holder once it has the file after
    waiting. After ``wait_seconds`` it raises ``WarehouseLockedError`` naming the holder:
    nothing was written.
    """
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    holder: str | None = None  # who held the file at the last attempt; None: not waited yet
    while True:
        try:
            con = connect(path, read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            if not is_lock_conflict(exc):
                raise
            previous, holder = holder, describe_lock_holder(str(exc))
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"The warehouse {path} is locked by {holder}. Close that session "
                    f"(a DuckDB CLI, notebook or BI tool holding the live file) and run "
                    f"again; analysts should open the published snapshot instead. Waited "
                    f"{wait_seconds:.0f}s; nothing was written."
                ) from exc
            if holder != previous:
                log.warning(
                    "Warehouse %s is locked by %s; waiting up to %.0f s for it",
                    path,
                    holder,
                    wait_seconds,
                    extra={"lock_wait": LOCK_WAITING, "lock_holder": holder},
                )
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.05)))
            delay = min(delay * 2, 5.0)
            continue
        if holder is not None:
            log.info(
                "Warehouse %s opened after waiting for %s",
                path,
                holder,
                extra={"lock_wait": LOCK_ACQUIRED, "lock_holder": holder},
            )
        return con


@contextlib.contextmanager
def read_only_connection(path: str, wait_seconds: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (reports, charts), closed on exit whatever happens."""
    if not Path(path).exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `rotation backfill` first")
    con = connect_waiting(path, wait_seconds, read_only=True)
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """True when ``schema.name`` is a table or view of the connection's database."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])
