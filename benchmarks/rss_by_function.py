"""Where a ``rotation`` command's memory goes: RSS sampled with the project function running.

    python benchmarks/rss_by_function.py [--interval 0.02] [--top 20] -- backfill --start D --end D

Runs ``rotation_assets.cli.main`` in this process (same environment variables as the CLI) with
a thread that samples, every ``interval`` seconds, the process RSS and the main thread's stack.
Each sample is put to the innermost frame of ``rotation_assets`` on the stack (function and
line: the statement that was running) and to the step (the op function of
``rotation_assets/defs`` on the stack). The RSS growth between two samples goes to the frame of
the later one; a frame's *growth* is the sum of the positive changes while it ran, its *peak* the
largest RSS seen while it ran. A long C call that holds the GIL delays the next sample, so the
growth of that call still lands on its frame. Prints the command's output, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections import defaultdict

import psutil

PROJECT = "/rotation_assets/"
STEP_FILES = "/rotation_assets/defs/"


def _where(frame) -> tuple[str | None, str | None]:
    """(innermost project frame 'function file:line', outermost op function of defs/)."""
    inner = step = None
    while frame is not None:
        path = frame.f_code.co_filename
        if PROJECT in path and not path.endswith("cli.py"):
            short = path.split(PROJECT, 1)[1]
            if inner is None:
                inner = f"{frame.f_code.co_name} {short}:{frame.f_lineno}"
            if STEP_FILES in path:
                step = frame.f_code.co_name
        frame = frame.f_back
    return inner, step


def main_thread_position(thread_id: int) -> tuple[str | None, str | None]:
    """``_where`` of the thread's current frame, keeping no frame once it returns.

    A frame object held after its function returned keeps that function's locals alive. The
    sampler used to keep the last sampled frame until the next sample (20 ms): a SQLAlchemy
    result Dagster discards (``PRAGMA journal_mode=WAL`` in ``SqliteRunStorage.from_local``)
    then stayed open, and the commit after it failed with "cannot commit transaction - SQL
    statements in progress" when the run created a fresh instance (about 2 runs in 100).
    """
    return _where(sys._current_frames().get(thread_id))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the rotation args")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    process = psutil.Process()
    main_thread = threading.main_thread().ident
    done = threading.Event()
    growth: dict[str, float] = defaultdict(float)
    peak: dict[str, float] = defaultdict(float)
    seen: dict[str, float] = defaultdict(float)  # seconds sampled in the frame
    steps: dict[str, dict] = {}
    overall = {"peak_mb": 0.0, "at": None}

    def sample() -> None:
        last = process.memory_info().rss / 2**20
        while not done.wait(args.interval):
            rss = process.memory_info().rss / 2**20
            inner, step = main_thread_position(main_thread)
            key = inner or "(outside the project: Dagster, imports, start-up)"
            growth[key] += max(0.0, rss - last)
            peak[key] = max(peak[key], rss)
            seen[key] += args.interval
            if step:
                s = steps.setdefault(step, {"first_mb": rss, "peak_mb": rss, "growth_mb": 0.0})
                s["peak_mb"] = max(s["peak_mb"], rss)
                s["growth_mb"] += max(0.0, rss - last)
                s["last_mb"] = rss
            if rss > overall["peak_mb"]:
                overall.update(peak_mb=rss, at=key, step=step)
            last = rss

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    from rotation_assets.cli import main as rotation

    status = rotation(command)
    done.set()
    sampler.join()
    top = sorted(growth, key=growth.get, reverse=True)[: args.top]
    print(
        json.dumps(
            {
                "command": command,
                "status": status,
                "peak_mb": round(overall["peak_mb"], 1),
                "peak_at": overall["at"],
                "peak_in_step": overall.get("step"),
                "steps": {k: {n: round(v, 1) for n, v in s.items()} for k, s in steps.items()},
                "top_growth": [
                    {
                        "frame": k,
                        "growth_mb": round(growth[k], 1),
                        "peak_mb": round(peak[k], 1),
                        "sampled_seconds": round(seen[k], 2),
                    }
                    for k in top
                ],
            }
        )
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
