"""Run a command in a subprocess and measure its wall time and peak memory.

Peak RSS is taken two ways and the larger is reported: ``ru_maxrss`` of the child from
``os.wait4`` (the largest single process of the tree that the child waited for), and, when
psutil is installed, the sum of RSS over the live process tree sampled every 100 ms.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
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

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("output")
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
        began = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        sampled = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                sampled[0] = max(sampled[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True) if psutil else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - began
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak = max(usage.ru_maxrss * 1024, sampled[0]) / 2**20  # ru_maxrss is in KiB on Linux
    output = log.read_text()
    measurement = Measurement(" ".join(args), seconds, peak, proc.returncode, output)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{measurement.command} failed ({proc.returncode}):\n{output[-3000:]}")
    return measurement
