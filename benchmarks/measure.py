"""Run a command in a subprocess and measure its wall time and peak memory.

Peak RSS is taken two ways and the larger is reported: ``ru_maxrss`` of the child from
``os.wait4`` (the largest single process of the tree that the child waited for), and, when
psutil is installed, the sum of RSS over the live process tree sampled every 100 ms. The samples
are kept (epoch seconds, MB) so that a run's memory can be put against its steps' intervals.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    import psutil
except ImportError:  # sampling is a bonus; ru_maxrss alone is still a peak
    psutil = None


@dataclass
class Measurement:
    command: str
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str
    started_at: float = 0.0  # epoch seconds when the process was started
    ended_at: float = 0.0  # epoch seconds when it was reaped
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (epoch s, MB)

    def as_dict(self) -> dict:
        out = asdict(self)
        for internal in ("output", "started_at", "ended_at", "rss_samples"):
            out.pop(internal)
        out["seconds"] = round(self.seconds, 2)
        out["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        return out


def _tree_rss(pid: int) -> int:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_measured(
    args: list[str], env: dict[str, str], cwd: Path, log: Path, check: bool = True
) -> Measurement:
    """Run ``args`` to completion with stdout and stderr in ``log``; wall time and peak RSS."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        started_at = time.time()
        began = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        sampled = [0]
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                rss = _tree_rss(proc.pid)
                sampled[0] = max(sampled[0], rss)
                samples.append((time.time(), round(rss / 2**20, 1)))

        sampler = threading.Thread(target=sample, daemon=True) if psutil else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - began
        ended_at = time.time()
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak = max(usage.ru_maxrss * 1024, sampled[0]) / 2**20  # ru_maxrss is in KiB on Linux
    output = log.read_text()
    measurement = Measurement(
        " ".join(args), seconds, peak, proc.returncode, output, started_at, ended_at, samples
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"{measurement.command} failed ({proc.returncode}):\n{output[-3000:]}")
    return measurement
