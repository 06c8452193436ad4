"""Another process holding the DuckDB file, and the warehouse's lock-wait log, for tests that
make a run wait without timing anything.

``LockHolder`` opens the file in a child process (read-only, as an analyst's notebook does),
says so on its stdout before the test goes on, and keeps it open until the test lets it go.
``lock_wait_log`` collects the warehouse's lock-wait records; given a holder, it lets the holder
go when the warehouse reports that it waits for it. So a wait always happens, and always ends,
whatever the machine's load: no sleep decides the order.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
from collections.abc import Iterator
from types import TracebackType

from rotation_assets.warehouse import connection
from rotation_assets.warehouse.connection import LOCK_ACQUIRED, LOCK_WAITING

# A budget for waits that must end by an event: it only bounds a hang, it is never the
# reason a wait ends.
HANG_BOUND_SECONDS = 600.0

_HOLD = """\
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.readline()  # until the test closes our stdin (or dies)
"""


class LockHolder:
    """A child process holding ``path`` open read-only until ``release``."""

    def __init__(self, path: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLD, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self.process.pid
        line = self.process.stdout.readline().strip()
        if line != "open":
            self.release()
            raise RuntimeError(f"the lock holder did not open {path}: {line!r}")

    def release(self) -> None:
        """Let the file go: the child reads end of input and exits, which closes the file."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()

    def __enter__(self) -> LockHolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
        self.process.wait(timeout=HANG_BOUND_SECONDS)
        self.process.stdout.close()


class LockWaitLog(logging.Handler):
    """The warehouse's lock-wait records, in order; lets ``holder`` go at the first wait."""

    def __init__(self, holder: LockHolder | None = None) -> None:
        super().__init__(logging.INFO)
        self.holder = holder  # (not ``release``: a Handler's own release() is its I/O lock)
        self.waiting: list[logging.LogRecord] = []
        self.acquired: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        kind = getattr(record, "lock_wait", None)
        if kind == LOCK_WAITING:
            self.waiting.append(record)
            if self.holder is not None:
                self.holder.release()
        elif kind == LOCK_ACQUIRED:
            self.acquired.append(record)

    def holders_waited_for(self) -> list[str]:
        return [record.lock_holder for record in self.waiting]


@contextlib.contextmanager
def lock_wait_log(release: LockHolder | None = None) -> Iterator[LockWaitLog]:
    """Collect the lock-wait records logged inside the block (INFO and up on the warehouse's
    connection logger); with ``release``, let that holder go as soon as a wait is reported."""
    logger = logging.getLogger(connection.__name__)
    handler = LockWaitLog(release)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
