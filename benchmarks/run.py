"""Benchmarks of the engine (issue #8): backfill vs its floor, daily run vs Dagster's floor
(itemised), code location load vs a one-asset location, and scale with tickers. Every measured
command runs in a fresh subprocess with a fresh DuckDB file and DAGSTER_HOME; comparisons are
ratios of figures measured in the same invocation, because the machine is shared.

    python -m benchmarks.run                    # everything; writes results/latest.json
    python -m benchmarks.run --quick            # small sizes, a few minutes; results/quick.json
    python -m benchmarks.run --only load,daily  # some benchmarks, merged into the results file
    python -m benchmarks.run --no-profile       # without the py-spy profiles

Prints a table and writes JSON. Work files (and py-spy profiles) go to benchmarks/.work (or
--work DIR).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

import duckdb

from benchmarks.measure import Measurement, run_measured
from benchmarks.profile_summary import by_step
from benchmarks.synthetic_universe import write_synthetic_universe
from rotation_assets.instance.event_log_storage import BATCH_SIZE_ENV_VAR as EVENT_BATCH_SIZE_VAR
from rotation_assets.instance.event_log_storage import DEFAULT_BATCH_SIZE as EVENT_BATCH_SIZE
from rotation_assets.trading_days import FIRST_SESSION, previous_session, sessions_between

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PRICES = ROOT.parent / "shared" / "data" / "prices"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
BENCHMARKS = ("backfill", "daily", "load", "scale")

TARGETS = {
    # rotation backfill / (partitioned no-op floor + bare baseline), full history
    "backfill_ratio": 1.5,
    # rotation update on the full history / one-asset no-op Dagster run
    "daily_ratio": 2.0,
    # dagster definitions validate / the same on a one-asset module
    "load_ratio": 1.3,
    # 3,000 synthetic tickers x 10 years, full backfill
    "scale_3000_seconds": 120.0,
    "scale_3000_peak_rss_mb": 2048.0,
    # growth exponent of time (and of peak RSS) with tickers, 300 -> 3,000
    "scale_exponent": 1.0,
}

# The "before" figures: results/latest.json of 2026-11-23 (commit 3799244) and, where that file
# has no figure (the partitioned floor of the backfill, the one-asset validate), the figures of
# the table, measured then on the same machine.
BEFORE = {
    "backfill_ratio": "74.3 s / (21 + 3.9 s) = 3.0x",
    "backfill_bare_ratio": "74.3 s / 3.9 s = 19.1x",
    "backfill_rss": "540 MB",
    "daily_ratio": "22.5 s / 3.6 s = 6.2x (4.4-6.2x)",
    "load_ratio": "6.7 s; 1.7-2.4x",
    "scale": {300: "64 s, 989 MB", 1000: "100 s, 2287 MB", 3000: "222 s, 5888 MB"},
    "scale_exponent": "0.537; 0.774",
}


def last_price_date(folder: Path) -> dt.date:
    """The latest date any price file reaches (its last line)."""
    last = []
    for path in folder.glob("*.csv"):
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 200))
            tail = f.read().decode().strip().splitlines()[-1]
        last.append(dt.date.fromisoformat(tail.split(",")[0]))
    return max(last)


MEASURED_PACKAGES = (
    "dagster",
    "dagster-duckdb",
    "duckdb",
    "pandas",
    "numpy",
    "great_expectations",
    "matplotlib",
    "exchange_calendars",
)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROTATION_", "DAGSTER_"))}
    env.update(extra)
    return env


def project_env(case: Path, price_dir: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        DAGSTER_HOME=str(case / "home"),
        ROTATION_PRICE_SOURCE="csv",
        ROTATION_PRICE_DIR=str(price_dir),
        ROTATION_DUCKDB_PATH=str(case / "warehouse.duckdb"),
        ROTATION_REPORTS_DIR=str(case / "reports"),
        **extra,
    )


def fresh(case: Path) -> Path:
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir(parents=True)
    return case


def rotation(*args: str) -> list[str]:
    return [PYTHON, "-m", "rotation_assets.cli", *args]


def py_spy(output: Path, args: list[str]) -> list[str]:
    return [str(BIN / "py-spy"), "record", "--format", "speedscope", "-o", str(output), "--", *args]


def table_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'reference', 'analytics') ORDER BY 1"
        ).fetchall()
        return {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for (n,) in names}


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def show(m: Measurement, label: str) -> None:
    say(f"  {label}: {m.seconds:.1f} s, peak RSS {m.peak_rss_mb:.0f} MB")


def median(values) -> float:
    return statistics.median(list(values))


# --- a run itemised from its stored events ------------------------------------------------


def itemise(m: Measurement, home: Path, log: Path) -> dict:
    """Where the wall time of one measured ``rotation`` run went, from the run's events in
    ``home`` (benchmarks/run_events.py) and the process start and end the harness recorded:
    start-up (interpreter, imports, definitions, instance) until the first event; the run's
    setup until the first step starts; each step STEP_START -> STEP_SUCCESS/FAILURE (with the
    peak RSS sampled inside it); the gaps between steps; the run's end after its last step;
    and, after the last event, the summary and the exit. The parts add up to the wall time."""
    probe = run_measured(
        [PYTHON, str(HERE / "run_events.py")], clean_env(DAGSTER_HOME=str(home)), ROOT, log
    )
    events = last_json(probe)
    steps = sorted(
        ((k, s) for k, s in events["steps"].items() if "seconds" in s),
        key=lambda item: item[1]["start"],
    )

    def peak(a: float, b: float) -> float:
        inside = [mb for t, mb in m.rss_samples if a <= t <= b]
        return max(inside, default=0.0)

    first, last = events["first_event"], events["last_event"]
    first_step = steps[0][1]["start"] if steps else first
    last_step = max((s["end"] for _, s in steps), default=last)
    parts = {
        "startup_to_first_event": first - m.started_at,
        "run_setup_to_first_step": first_step - first,
        **{f"step:{k}": s["seconds"] for k, s in steps},
        "between_steps": (last_step - first_step) - sum(s["seconds"] for _, s in steps),
        "run_end_after_last_step": last - last_step,
        "summary_and_exit": m.ended_at - last,
    }
    return {
        "run_id": events["run_id"],
        "status": events["status"],
        "wall_seconds": round(m.seconds, 3),
        "parts_seconds": {k: round(v, 3) for k, v in parts.items()},
        "peak_rss_mb": {
            "startup": peak(m.started_at, first),
            **{f"step:{k}": peak(s["start"], s["end"]) for k, s in steps},
            "whole_run": round(m.peak_rss_mb, 1),
        },
        "events": events["events"],
        "events_by_type": events["events_by_type"],
    }


def median_parts(items: list[dict]) -> dict[str, float]:
    keys = list(dict.fromkeys(k for item in items for k in item["parts_seconds"]))
    return {k: round(median(i["parts_seconds"].get(k, 0.0) for i in items), 3) for k in keys}


def show_parts(parts: dict[str, float], rss: dict[str, float] | None = None) -> list[str]:
    lines = []
    for key, seconds in parts.items():
        extra = f"  (peak RSS {rss[key]:.0f} MB)" if rss and rss.get(key) else ""
        lines.append(f"    {key:<40}{seconds:>8.2f} s{extra}")
    lines.append(f"    {'total':<40}{sum(parts.values()):>8.2f} s")
    for line in lines:
        print(line)
    return lines


def profile_steps(profile: Path, itemised: dict, top: int = 8) -> dict:
    """The py-spy profile summarised as a whole and per step (its op function)."""
    steps = [k.split(":", 1)[1].split("__")[-1] for k in itemised["parts_seconds"] if ":" in k]
    return by_step(profile, steps, top)


def last_json(m: Measurement) -> dict:
    """The JSON line a measured script prints last."""
    return json.loads(m.output.strip().splitlines()[-1])


def profiled_run(speedscope: Path, command: list[str], case: Path, env: dict, what: str) -> dict:
    """``command`` once more under py-spy (outside every figure): its profile, per step."""
    speedscope.parent.mkdir(parents=True, exist_ok=True)
    m = run_measured(py_spy(speedscope, command), env, ROOT, case / "log.txt")
    show(m, f"{what} under py-spy (not in the figures)")
    summary = profile_steps(speedscope, itemise(m, case / "home", case / "events.txt"))
    say_profile(summary, what)
    return {"speedscope": str(speedscope), "seconds": round(m.seconds, 2), **summary}


def say_profile(summary: dict, what: str) -> None:
    say(f"  py-spy profile of {what}: top project frames (inclusive share of samples)")
    for step, s in summary.items():
        frames = ", ".join(
            f"{f['frame'].split(' (')[0]} {f['share']:.0%}" for f in s["top_inclusive_project"][:4]
        )
        say(f"    {step} ({s['share_of_samples']:.0%}): {frames}")


# --- 1. full-history backfill vs (partitioned no-op floor + bare baseline) ----------------


def bench_backfill(work: Path, start: dt.date, end: dt.date, repeats: int, profile: bool) -> dict:
    sessions = len(sessions_between(start, end))
    say(f"backfill: {start}..{end} ({sessions} sessions), csv; {repeats} round(s)")
    dates = ("--start", start.isoformat(), "--end", end.isoformat())
    floors, baselines, projects, itemised, floor_itemised = [], [], [], [], []
    stages, rows, case = {}, {}, None
    for i in range(repeats):
        # The floor: a no-op asset with raw/prices' partitions, one single-run backfill of the
        # range through the project's kind of instance, with the CLI's event batch size.
        floor_case = fresh(work / "backfill_floor" / str(i))
        floor = run_measured(
            [PYTHON, str(HERE / "noop_run.py"), *dates],
            clean_env(
                DAGSTER_HOME=str(floor_case / "home"), **{EVENT_BATCH_SIZE_VAR: EVENT_BATCH_SIZE}
            ),
            ROOT,
            floor_case / "log.txt",
        )
        show(floor, f"floor: no-op partitioned asset, single-run backfill ({i + 1}/{repeats})")
        floors.append(floor)
        floor_itemised.append(itemise(floor, floor_case / "home", floor_case / "events.txt"))

        base_case = fresh(work / "backfill_baseline" / str(i))
        base = run_measured(
            [
                PYTHON,
                str(HERE / "bare_baseline.py"),
                *("--price-dir", str(PRICES), "--warehouse", str(base_case / "warehouse.duckdb")),
                *dates,
            ],
            clean_env(),
            ROOT,
            base_case / "log.txt",
        )
        show(base, f"bare baseline ({i + 1}/{repeats})")
        baselines.append(base)
        out = last_json(base)
        stages, baseline_rows = out["seconds"], out["rows"]

        case = fresh(work / "backfill" / str(i))
        project = run_measured(
            rotation("backfill", *dates), project_env(case, PRICES), ROOT, case / "log.txt"
        )
        show(project, f"rotation backfill ({i + 1}/{repeats})")
        projects.append(project)
        itemised.append(itemise(project, case / "home", case / "events.txt"))
        rows = table_rows(case / "warehouse.duckdb")

    differing = {
        t: {"project": rows.get(t), "baseline": baseline_rows.get(t)}
        for t in sorted(set(rows) | set(baseline_rows))
        if rows.get(t) != baseline_rows.get(t)
    }
    if differing:
        say(f"  !! row counts differ from the bare baseline: {differing}")
    p, f, b = (median(m.seconds for m in ms) for ms in (projects, floors, baselines))
    parts = median_parts(itemised)
    say("  rotation backfill itemised (median):")
    show_parts(parts, itemised[-1]["peak_rss_mb"])
    floor_parts = median_parts(floor_itemised)
    say("  the floor itemised (median):")
    show_parts(floor_parts, floor_itemised[-1]["peak_rss_mb"])
    summary = None
    if profile:
        case = fresh(work / "backfill_profile")
        summary = profiled_run(
            work / "profiles" / "backfill.speedscope.json",
            rotation("backfill", *dates),
            case,
            project_env(case, PRICES),
            "rotation backfill",
        )
    return {
        "range": [start.isoformat(), end.isoformat()],
        "sessions": sessions,
        "project": [m.as_dict() for m in projects],
        "floor": [m.as_dict() for m in floors],
        "baseline": [m.as_dict() for m in baselines],
        "project_median_seconds": round(p, 2),
        "floor_median_seconds": round(f, 2),
        "baseline_median_seconds": round(b, 2),
        "baseline_stage_seconds": stages,
        "ratio": round(p / (f + b), 2),
        "ratio_to_baseline_alone": round(p / b, 2),
        "ratio_to_floor_alone": round(p / f, 2),
        "peak_rss_mb": round(max(m.peak_rss_mb for m in projects), 1),
        "itemised_median_seconds": parts,
        "itemised": itemised,
        "floor_itemised_median_seconds": floor_parts,
        "floor_itemised": floor_itemised,
        "rows": rows,
        "rows_total": sum(rows.values()),
        "rows_differing_from_baseline": differing,
        **({"profile": summary} if summary else {}),
    }


# --- 2. daily run vs Dagster's floor, itemised --------------------------------------------


def bench_daily(work: Path, last: dt.date, years: list[int], repeats: int, profile: bool) -> dict:
    before_last = previous_session(last)
    say(f"daily: rotation update --date {last} on warehouses holding {years} years")
    histories = {}
    for n in years:
        first = dt.date.fromisoformat(FIRST_SESSION)
        # The largest size is the whole history (36.6 years from the first partition).
        start = (
            first if n >= last.year - first.year else dt.date(last.year - n, last.month, last.day)
        )
        start = sessions_between(start, last)[0]
        state = fresh(work / f"daily_{n}y" / "state")
        setup = run_measured(
            rotation("backfill", "--start", start.isoformat(), "--end", before_last.isoformat()),
            project_env(state, PRICES),
            ROOT,
            state.parent / "setup_log.txt",
        )
        show(setup, f"setup: backfill {start}..{before_last}")
        histories[n] = (start, state, setup)

    def copy_state(n: int, name: str) -> Path:
        case = work / f"daily_{n}y" / name
        shutil.rmtree(case, ignore_errors=True)
        shutil.copytree(histories[n][1], case)  # the same starting point for every repeat
        return case

    floors, updates, itemised = [], {n: [] for n in years}, {n: [] for n in years}
    floor_itemised: list[dict] = []
    for i in range(repeats):
        case = fresh(work / "floor" / str(i))
        floor = run_measured(
            [PYTHON, str(HERE / "noop_run.py")],
            clean_env(DAGSTER_HOME=str(case / "home")),
            ROOT,
            case / "log.txt",
        )
        show(floor, f"floor: one-asset no-op Dagster run ({i + 1}/{repeats})")
        floors.append(floor)
        floor_itemised.append(itemise(floor, case / "home", case / "events.txt"))
        for n in years:
            case = copy_state(n, f"run{i}")
            m = run_measured(
                rotation("update", "--date", last.isoformat()),
                project_env(case, PRICES),
                ROOT,
                case / "log.txt",
            )
            show(m, f"rotation update on {n} years ({i + 1}/{repeats})")
            updates[n].append(m)
            itemised[n].append(itemise(m, case / "home", case / "events.txt"))

    # import great_expectations alone, in a fresh interpreter (the GX step imports it lazily).
    gx_import = []
    for i in range(repeats):
        m = run_measured(
            [
                PYTHON,
                "-c",
                "import time; t = time.perf_counter(); import great_expectations; "
                "print(time.perf_counter() - t, time.time(), flush=True)",
            ],
            clean_env(),
            ROOT,
            work / "gx_import" / f"{i}.txt",
        )
        seconds, done = map(float, m.output.strip().splitlines()[-1].split())
        gx_import.append((seconds, m.ended_at - done, m.seconds))
    gx = {
        "import_seconds": round(median(a for a, _, _ in gx_import), 3),
        # the interpreter's exit after it (module teardown), also paid by every run that imports it
        "exit_seconds": round(median(b for _, b, _ in gx_import), 3),
        "process_wall_seconds": round(median(c for _, _, c in gx_import), 3),
    }
    say(
        f"  import great_expectations alone: {gx['import_seconds']:.2f} s, exit after it "
        f"{gx['exit_seconds']:.2f} s ({gx['process_wall_seconds']:.2f} s the whole process)"
    )

    floor_s = median(m.seconds for m in floors)
    per_size = {}
    for n in years:
        start, _, setup = histories[n]
        med = median(m.seconds for m in updates[n])
        per_size[str(n)] = {
            "history_start": start.isoformat(),
            "sessions": len(sessions_between(start, last)),
            "update_seconds": [round(m.seconds, 2) for m in updates[n]],
            "update_median_seconds": round(med, 2),
            "update_peak_rss_mb": round(max(m.peak_rss_mb for m in updates[n]), 1),
            "ratio_to_floor": round(med / floor_s, 2),
            "itemised_median_seconds": median_parts(itemised[n]),
            "setup_backfill": setup.as_dict(),
        }
    small, large = str(min(years)), str(max(years))
    say(f"  rotation update on {large} years itemised (median of {repeats}):")
    lines = show_parts(
        per_size[large]["itemised_median_seconds"], itemised[max(years)][-1]["peak_rss_mb"]
    )
    floor_parts = median_parts(floor_itemised)
    say("  the floor (one-asset no-op run) itemised (median):")
    show_parts(floor_parts)
    out = {
        "date": last.isoformat(),
        "floor_seconds": [round(m.seconds, 2) for m in floors],
        "floor_median_seconds": round(floor_s, 2),
        "floor_peak_rss_mb": round(max(m.peak_rss_mb for m in floors), 1),
        "by_years": per_size,
        "ratio": per_size[large]["ratio_to_floor"],
        "itemised": {
            "years": int(large),
            "median_seconds": per_size[large]["itemised_median_seconds"],
            "runs": itemised[max(years)],
            "printed": lines,
            "floor_median_seconds": floor_parts,
        },
        "import_great_expectations": gx,
        "growth": {
            "years": [min(years), max(years)],
            "update_time_ratio": round(
                per_size[large]["update_median_seconds"] / per_size[small]["update_median_seconds"],
                2,
            ),
            "history_ratio": round(per_size[large]["sessions"] / per_size[small]["sessions"], 2),
            "exponent": slope(
                [per_size[str(n)]["sessions"] for n in years],
                [per_size[str(n)]["update_median_seconds"] for n in years],
            ),
        },
    }
    if profile:
        case = copy_state(max(years), "profile")
        out["profile"] = profiled_run(
            work / "profiles" / "update.speedscope.json",
            rotation("update", "--date", last.isoformat()),
            case,
            project_env(case, PRICES),
            f"rotation update on {large} years",
        )
    return out


# --- 3. code location load ----------------------------------------------------------------


def bench_load(work: Path, repeats: int) -> dict:
    say("load: dagster definitions validate, project vs a one-asset module; dg check defs")
    dagster = str(BIN / "dagster")
    commands = {
        "dagster definitions validate": [dagster, "definitions", "validate"],
        "dagster definitions validate (one-asset module)": [
            dagster,
            "definitions",
            "validate",
            "-f",
            str(HERE / "one_asset_module.py"),
        ],
        "dg check defs": [str(BIN / "dg"), "check", "defs"],
        "import rotation_assets.definitions": [
            PYTHON,
            "-c",
            "import rotation_assets.definitions",
        ],
        "import dagster": [PYTHON, "-c", "import dagster"],
    }
    runs: dict[str, list[Measurement]] = {label: [] for label in commands}
    for i in range(repeats):  # interleaved, so that a busy spell hits every command alike
        for n, (label, args) in enumerate(commands.items()):
            case = fresh(work / "load" / f"{n}_{i}")
            (case / "home").mkdir()
            runs[label].append(
                run_measured(args, clean_env(DAGSTER_HOME=str(case / "home")), ROOT, case / "log")
            )
    out = {}
    for label, ms in runs.items():
        med = median(m.seconds for m in ms)
        say(f"  {label}: median {med:.2f} s of {[round(m.seconds, 2) for m in ms]}")
        out[label] = {
            "seconds": [round(m.seconds, 2) for m in ms],
            "median_seconds": round(med, 2),
            "peak_rss_mb": round(max(m.peak_rss_mb for m in ms), 1),
        }
    probe = run_measured(
        [
            PYTHON,
            "-c",
            "import json, sys, rotation_assets.definitions; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'great_expectations', 'yfinance', 'matplotlib'})))",
        ],
        clean_env(),
        ROOT,
        work / "load" / "probe.txt",
    )
    heavy = last_json(probe)
    say(f"  heavy modules imported at load: {heavy or 'none'}")
    project = out["dagster definitions validate"]["median_seconds"]
    floor = out["dagster definitions validate (one-asset module)"]["median_seconds"]
    return {
        **out,
        "ratio": round(project / floor, 2),
        "great_expectations_imported_at_load": "great_expectations" in heavy,
        "heavy_modules_imported_at_load": heavy,
        "seconds": project,
    }


# --- 4. scale -----------------------------------------------------------------------------


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x): the growth exponent."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.mean(lx), statistics.mean(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    den = sum((a - mx) ** 2 for a in lx)
    return round(num / den, 3)


def scale_missed(entry: dict) -> bool:
    return (
        entry["seconds"] > TARGETS["scale_3000_seconds"]
        or entry["peak_rss_mb"] > TARGETS["scale_3000_peak_rss_mb"]
    )


def bench_scale(work: Path, sizes: list[int], start: dt.date, end: dt.date, profile: bool) -> dict:
    say(f"scale: synthetic universes of {sizes} tickers, {start}..{end}")
    dates = ("--start", start.isoformat(), "--end", end.isoformat())
    per_size = {}
    for size in sizes:
        folder = work / "universes" / f"u{size}"
        began = time.perf_counter()
        seed = write_synthetic_universe(folder, size, start, end)
        say(f"  universe of {size}: ready in {time.perf_counter() - began:.0f} s")
        case = fresh(work / f"scale_{size}")
        m = run_measured(
            rotation("backfill", *dates),
            project_env(case, folder, ROTATION_UNIVERSE_PATH=str(seed)),
            ROOT,
            case / "log.txt",
        )
        show(m, f"rotation backfill, {size} tickers")
        itemised = itemise(m, case / "home", case / "events.txt")
        show_parts(itemised["parts_seconds"], itemised["peak_rss_mb"])
        rows = table_rows(case / "warehouse.duckdb")
        base_case = fresh(work / f"scale_{size}_baseline")
        base = run_measured(
            [
                PYTHON,
                str(HERE / "bare_baseline.py"),
                *("--price-dir", str(folder), "--warehouse", str(base_case / "warehouse.duckdb")),
                *(*dates, "--universe", str(seed)),
            ],
            clean_env(),
            ROOT,
            base_case / "log.txt",
        )
        show(base, f"bare baseline, {size} tickers")
        per_size[str(size)] = {
            **m.as_dict(),
            "raw_prices_rows": rows.get("raw.prices", 0),
            "rows_total": sum(rows.values()),
            "itemised": itemised,
            "rss_samples_mb": [
                [round(t - m.started_at, 1), mb] for t, mb in m.rss_samples[::5]
            ],  # every 0.5 s
            "bare_baseline": {
                **base.as_dict(),
                "stage_seconds": last_json(base)["seconds"],
            },
        }
    out = {
        "range": [start.isoformat(), end.isoformat()],
        "sessions": len(sessions_between(start, end)),
        "by_tickers": per_size,
        "exponent": slope(sizes, [per_size[str(s)]["seconds"] for s in sizes]),
        "rss_exponent": slope(sizes, [per_size[str(s)]["peak_rss_mb"] for s in sizes]),
    }
    largest = max(sizes)
    if profile and (largest < 3000 or scale_missed(per_size[str(largest)])):
        # Off target (or a quick run): where the time goes, step by step, under py-spy.
        folder = work / "universes" / f"u{largest}"
        case = fresh(work / f"scale_{largest}_profile")
        out["profile"] = {
            "tickers": largest,
            **profiled_run(
                work / "profiles" / f"scale_{largest}.speedscope.json",
                rotation("backfill", *dates),
                case,
                project_env(case, folder, ROTATION_UNIVERSE_PATH=str(folder / "universe.csv")),
                f"rotation backfill, {largest} tickers,",
            ),
        }
        # And memory: RSS sampled against the project function that was running.
        case = fresh(work / f"scale_{largest}_rss")
        m = run_measured(
            [PYTHON, str(HERE / "rss_by_function.py"), "--", "backfill", *dates],
            project_env(case, folder, ROTATION_UNIVERSE_PATH=str(folder / "universe.csv")),
            ROOT,
            case / "log.txt",
        )
        show(m, f"rotation backfill, {largest} tickers, RSS by function (not in the figures)")
        memory = last_json(m)
        say(
            f"    peak {memory['peak_mb']:.0f} MB in step {memory['peak_in_step']} at "
            f"{memory['peak_at']}"
        )
        for step, s in memory["steps"].items():
            say(f"    {step}: {s['first_mb']:.0f} MB -> peak {s['peak_mb']:.0f} MB")
        out["memory"] = {"seconds": round(m.seconds, 2), **memory}
    return out


# --- report -------------------------------------------------------------------------------


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "-"
    return "ok" if value <= target else "MISSED"


Row = tuple[str, str, str, str, str]


def summary_rows(results: dict) -> list[Row]:
    rows: list[Row] = []
    if b := results.get("backfill"):
        rows += [
            (
                "backfill: project / (partitioned no-op floor + bare baseline)",
                f"{b['project_median_seconds']:.1f} s / ({b['floor_median_seconds']:.1f} + "
                f"{b['baseline_median_seconds']:.1f} s) = {b['ratio']:.2f}x",
                BEFORE["backfill_ratio"],
                f"<= {TARGETS['backfill_ratio']}x",
                verdict(b["ratio"], TARGETS["backfill_ratio"]),
            ),
            (
                "  backfill: project / bare baseline alone",
                f"{b['ratio_to_baseline_alone']:.1f}x",
                BEFORE["backfill_bare_ratio"],
                "",
                "",
            ),
            ("  backfill: peak RSS", f"{b['peak_rss_mb']:.0f} MB", BEFORE["backfill_rss"], "", ""),
            (
                "  backfill: rows written (differing from baseline)",
                f"{b['rows_total']:,} ({len(b['rows_differing_from_baseline'])} tables)",
                "",
                "",
                "",
            ),
        ]
    if d := results.get("daily"):
        large = str(max(int(k) for k in d["by_years"]))
        s = d["by_years"][large]
        rows.append(
            (
                f"daily: update on {large} y / one-asset no-op run",
                f"{s['update_median_seconds']:.1f} s / {d['floor_median_seconds']:.1f} s = "
                f"{s['ratio_to_floor']:.2f}x",
                BEFORE["daily_ratio"],
                f"<= {TARGETS['daily_ratio']}x",
                verdict(s["ratio_to_floor"], TARGETS["daily_ratio"]),
            )
        )
        for n, s in d["by_years"].items():
            if n != large:
                rows.append(
                    (
                        f"  daily: update on {n} y of history",
                        f"{s['update_median_seconds']:.1f} s ({s['ratio_to_floor']:.2f}x floor)",
                        "",
                        "",
                        "",
                    )
                )
        parts = d["itemised"]["median_seconds"]
        rows.append(
            (
                "  daily: start-up / GX step / import GX alone",
                f"{parts.get('startup_to_first_event', 0):.1f} s / "
                f"{parts.get('step:great_expectations', 0):.1f} s / "
                f"{d['import_great_expectations']['import_seconds']:.1f} s",
                "",
                "",
                "",
            )
        )
    if ld := results.get("load"):
        rows.append(
            (
                "load: definitions validate / same on one-asset module",
                f"{ld['dagster definitions validate']['median_seconds']:.2f} s / "
                f"{ld['dagster definitions validate (one-asset module)']['median_seconds']:.2f} s"
                f" = {ld['ratio']:.2f}x",
                BEFORE["load_ratio"],
                f"<= {TARGETS['load_ratio']}x",
                verdict(ld["ratio"], TARGETS["load_ratio"]),
            )
        )
        for label in ("dg check defs", "import rotation_assets.definitions", "import dagster"):
            rows.append((f"  load: {label}", f"{ld[label]['median_seconds']:.2f} s", "", "", ""))
        rows.append(
            (
                "  load: Great Expectations imported at load",
                "yes" if ld["great_expectations_imported_at_load"] else "no",
                "no",
                "",
                "",
            )
        )
    if sc := results.get("scale"):
        sizes = sorted(int(k) for k in sc["by_tickers"])
        for size in sizes:
            s = sc["by_tickers"][str(size)]
            big = size == 3000
            rows.append(
                (
                    f"{'' if big else '  '}scale: {size:,} tickers x {sc['sessions']:,} sessions",
                    f"{s['seconds']:.0f} s, {s['peak_rss_mb']:.0f} MB "
                    f"(bare {s['bare_baseline']['seconds']:.0f} s, "
                    f"{s['bare_baseline']['peak_rss_mb']:.0f} MB)",
                    BEFORE["scale"].get(size, ""),
                    f"<= {TARGETS['scale_3000_seconds']:.0f} s, "
                    f"<= {TARGETS['scale_3000_peak_rss_mb']:.0f} MB"
                    if big
                    else "",
                    ("MISSED" if scale_missed(s) else "ok") if big else "",
                )
            )
        worst = max(sc["exponent"], sc["rss_exponent"])
        rows.append(
            (
                f"scale: growth exponent {sizes[0]} -> {sizes[-1]} (time; RSS)",
                f"{sc['exponent']}; {sc['rss_exponent']}",
                BEFORE["scale_exponent"],
                f"<= {TARGETS['scale_exponent']}",
                verdict(worst, TARGETS["scale_exponent"]),
            )
        )
    return rows


def print_table(rows: list[Row]) -> str:
    header = ("benchmark", "measured", "before (2026-11-23)", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    text = "\n".join(line.rstrip() for line in lines)
    print(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profiles")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    parser.add_argument("--output", type=Path, help="JSON file (default results/latest.json)")
    args = parser.parse_args(argv)
    only = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {BENCHMARKS}")
    output = args.output or RESULTS / ("quick.json" if args.quick else "latest.json")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    profile = not args.no_profile and (BIN / "py-spy").exists()

    last = last_price_date(PRICES)
    first = dt.date.fromisoformat(FIRST_SESSION)
    scale_start = sessions_between(dt.date(last.year - 10, last.month, last.day), last)[0]
    if args.quick:
        backfill_start = sessions_between(dt.date(last.year - 2, last.month, last.day), last)[0]
        daily_years, repeats, sizes = [1, 2], 1, [50, 150]
        scale_start = sessions_between(dt.date(last.year - 1, last.month, last.day), last)[0]
    else:
        backfill_start, daily_years, repeats, sizes = first, [5, 10, 20, 36], 3, [300, 1000, 3000]

    previous = json.loads(output.read_text()) if output.exists() and args.only else {}
    results = {k: v for k, v in previous.items() if k in BENCHMARKS}
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        # Figures move with these (import great_expectations: 1.9 s on one machine, 2.6 s on
        # another): compare ratios, and figures only under the same versions and CPU.
        "packages": {name: metadata.version(name) for name in MEASURED_PACKAGES},
        "note": "shared machine: other processes ran at the same time; compare ratios",
    }
    results["last_price_date"] = last.isoformat()
    results["targets"] = TARGETS
    results["before"] = BEFORE
    began = time.perf_counter()
    for name in only:
        if name == "backfill":
            results["backfill"] = bench_backfill(
                work, backfill_start, last, max(repeats - 1, 1), profile
            )
        elif name == "daily":
            results["daily"] = bench_daily(work, last, daily_years, repeats, profile)
        elif name == "load":
            results["load"] = bench_load(work, repeats)
        elif name == "scale":
            results["scale"] = bench_scale(work, sizes, scale_start, last, profile)
        results["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2) + "\n")  # after each: partial results
    say(f"done in {time.perf_counter() - began:.0f} s; results in {output}")
    print()
    results["table"] = print_table(summary_rows(results)).splitlines()
    output.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
