"""The memory benchmark's stack sampler must not keep the sampled thread's frames alive.

A frame object that outlives its function keeps the function's locals: Dagster discards a
SQLAlchemy result in ``SqliteRunStorage.from_local`` (``PRAGMA journal_mode=WAL``) and commits
right after, which SQLite refuses while that result is open ("cannot commit transaction - SQL
statements in progress"). The sampler once held the last frame until its next sample.
"""

import sys
import threading
import weakref

from benchmarks.rss_by_function import main_thread_position


class Payload:
    """Stands for the discarded result: alive only while a local names it."""


def _run_with_a_sample(sample) -> weakref.ref:
    """Call ``sample(thread id)`` from another thread while this thread is inside a function
    whose local is a Payload; return a weak reference to that Payload."""
    me = threading.get_ident()

    def step() -> weakref.ref:
        payload = Payload()
        sampler = threading.Thread(target=sample, args=(me,))
        sampler.start()
        sampler.join()
        return weakref.ref(payload)

    return step()


def test_a_sample_keeps_no_frame_of_the_sampled_thread_alive():
    assert _run_with_a_sample(main_thread_position)() is None


def test_a_frame_kept_by_a_sampler_would_keep_the_locals_alive():
    # The control: the hazard is real, so the test above could fail.
    kept = []
    ref = _run_with_a_sample(lambda thread_id: kept.append(sys._current_frames()[thread_id]))
    assert ref() is not None
    kept.clear()
    assert ref() is None
