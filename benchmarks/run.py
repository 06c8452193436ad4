"""Benchmarks of issue #5: backfill vs a bare baseline, daily run vs Dagster's floor, code
location load, and scale. Every measured command runs in a fresh subprocess with a fresh
DuckDB file and DAGSTER_HOME; comparisons are ratios measured in the same invocation, because
the machine is shared.

    python -m benchmarks.run                    # everything; writes results/latest.json
    python -m benchmarks.run --quick            # small sizes, a few minutes; results/quick.json
    python -m benchmarks.run --only load,daily  # some benchmarks, merged into the results file

Prints a table and writes JSON. Work files go to benchmarks/.work (or --work DIR).
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
from pathlib import Path

import duckdb

from benchmarks.measure import Measurement, run_measured
from benchmarks.synthetic_universe import write_synthetic_universe
from rotation_assets.trading_days import FIRST_SESSION, previous_session, sessions_between

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
PRICES = ROOT.parent / "shared" / "data" / "prices"
PYTHON = sys.executable
BENCHMARKS = ("backfill", "daily", "load", "scale")

TARGETS = {
    "backfill_ratio": 3.0,
    "backfill_peak_rss_mb": 1536.0,
    "daily_ratio": 2.0,
    "load_seconds": 3.0,
    "scale_exponent": 1.15,
    "scale_3000_seconds": 300.0,
    "scale_3000_peak_rss_mb": 4096.0,
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
        **extra,
    )


def fresh(case: Path) -> Path:
    shutil.rmtree(case, ignore_errors=True)
    case.mkdir(parents=True)
    return case


def rotation(*args: str) -> list[str]:
    return [PYTHON, "-m", "rotation_assets.cli", *args]


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


# --- 1. full-history backfill vs the bare baseline ----------------------------------------


def bench_backfill(work: Path, start: dt.date, end: dt.date) -> dict:
    say(f"backfill: {start}..{end} ({len(sessions_between(start, end))} sessions), csv")

    def baseline(label: str) -> tuple[Measurement, dict]:
        case = fresh(work / f"baseline_{label}")
        m = run_measured(
            [
                PYTHON,
                str(ROOT / "benchmarks" / "bare_baseline.py"),
                *("--price-dir", str(PRICES), "--warehouse", str(case / "warehouse.duckdb")),
                *("--start", start.isoformat(), "--end", end.isoformat()),
            ],
            clean_env(),
            ROOT,
            case / "log.txt",
        )
        show(m, f"bare baseline ({label})")
        return m, json.loads(m.output.strip().splitlines()[-1])

    before, stages = baseline("before")
    case = fresh(work / "backfill")
    project = run_measured(
        rotation("backfill", "--start", start.isoformat(), "--end", end.isoformat()),
        project_env(case, PRICES),
        ROOT,
        case / "log.txt",
    )
    show(project, "rotation backfill")
    after, _ = baseline("after")
    rows = table_rows(case / "warehouse.duckdb")
    baseline_rows = stages["rows"]
    differing = {t: (rows.get(t), n) for t, n in baseline_rows.items() if rows.get(t) != n and n}
    base_seconds = statistics.mean([before.seconds, after.seconds])
    return {
        "range": [start.isoformat(), end.isoformat()],
        "sessions": len(sessions_between(start, end)),
        "project": project.as_dict(),
        "baseline": [before.as_dict(), after.as_dict()],
        "baseline_stage_seconds": stages["seconds"],
        "ratio": round(project.seconds / base_seconds, 2),
        "rows": rows,
        "rows_total": sum(rows.values()),
        "rows_differing_from_baseline": differing,
    }


# --- 2. daily run vs Dagster's floor, and its growth with history -------------------------


def bench_daily(work: Path, last: dt.date, years: list[int], repeats: int) -> dict:
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

    floors, updates = [], {n: [] for n in years}
    for i in range(repeats):
        case = fresh(work / "floor" / str(i))
        floor = run_measured(
            [PYTHON, str(ROOT / "benchmarks" / "noop_run.py")],
            clean_env(DAGSTER_HOME=str(case / "home")),
            ROOT,
            case / "log.txt",
        )
        show(floor, f"floor: no-op Dagster run ({i + 1}/{repeats})")
        floors.append(floor)
        for n in years:
            _, state, _ = histories[n]
            case = work / f"daily_{n}y" / f"run{i}"
            shutil.rmtree(case, ignore_errors=True)
            shutil.copytree(state, case)  # the same starting point for every repeat
            m = run_measured(
                rotation("update", "--date", last.isoformat()),
                project_env(case, PRICES),
                ROOT,
                case / "log.txt",
            )
            show(m, f"rotation update on {n} years ({i + 1}/{repeats})")
            updates[n].append(m)

    floor_s = statistics.median(m.seconds for m in floors)
    per_size = {}
    for n in years:
        start, _, setup = histories[n]
        med = statistics.median(m.seconds for m in updates[n])
        per_size[str(n)] = {
            "history_start": start.isoformat(),
            "sessions": len(sessions_between(start, last)),
            "update_seconds": [round(m.seconds, 2) for m in updates[n]],
            "update_median_seconds": round(med, 2),
            "update_peak_rss_mb": round(max(m.peak_rss_mb for m in updates[n]), 1),
            "ratio_to_floor": round(med / floor_s, 2),
            "setup_backfill": setup.as_dict(),
        }
    small, large = str(min(years)), str(max(years))
    return {
        "date": last.isoformat(),
        "floor_seconds": [round(m.seconds, 2) for m in floors],
        "floor_median_seconds": round(floor_s, 2),
        "floor_peak_rss_mb": round(max(m.peak_rss_mb for m in floors), 1),
        "by_years": per_size,
        "ratio": per_size[large]["ratio_to_floor"],
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


# --- 3. code location load ----------------------------------------------------------------


def bench_load(work: Path, repeats: int) -> dict:
    say("load: dagster definitions validate, import of the definitions")
    dagster = str(Path(PYTHON).parent / "dagster")
    commands = {
        "dagster definitions validate": [dagster, "definitions", "validate"],
        "import rotation_assets.definitions": [
            PYTHON,
            "-c",
            "import rotation_assets.definitions",
        ],
        "import dagster (floor)": [PYTHON, "-c", "import dagster"],
    }
    out = {}
    for label, args in commands.items():
        runs = []
        for i in range(repeats):
            case = fresh(work / "load" / f"{label.split()[0]}_{label.split()[1]}_{i}")
            env = clean_env(DAGSTER_HOME=str(case / "home"))
            (case / "home").mkdir()
            m = run_measured(args, env, ROOT, case / "log.txt")
            runs.append(m)
        med = statistics.median(m.seconds for m in runs)
        say(f"  {label}: median {med:.2f} s of {[round(m.seconds, 2) for m in runs]}")
        out[label] = {
            "seconds": [round(m.seconds, 2) for m in runs],
            "median_seconds": round(med, 2),
            "peak_rss_mb": round(max(m.peak_rss_mb for m in runs), 1),
        }
    probe = run_measured(
        [
            PYTHON,
            "-c",
            "import sys, rotation_assets.definitions; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'great_expectations', 'yfinance', 'matplotlib'}))",
        ],
        clean_env(),
        ROOT,
        work / "load" / "probe.txt",
    )
    heavy = json.loads(probe.output.strip().splitlines()[-1].replace("'", '"'))
    say(f"  heavy modules imported at load: {heavy or 'none'}")
    return {
        **out,
        "great_expectations_imported_at_load": "great_expectations" in heavy,
        "heavy_modules_imported_at_load": heavy,
        "seconds": out["dagster definitions validate"]["median_seconds"],
    }


# --- 4. scale -----------------------------------------------------------------------------


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) on log(x): the growth exponent."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.mean(lx), statistics.mean(ly)
    num = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
    den = sum((a - mx) ** 2 for a in lx)
    return round(num / den, 3)


def bench_scale(work: Path, sizes: list[int], start: dt.date, end: dt.date) -> dict:
    say(f"scale: synthetic universes of {sizes} tickers, {start}..{end}")
    per_size = {}
    for size in sizes:
        folder = work / "universes" / f"u{size}"
        began = time.perf_counter()
        seed = write_synthetic_universe(folder, size, start, end)
        say(f"  universe of {size}: generated in {time.perf_counter() - began:.0f} s")
        case = fresh(work / f"scale_{size}")
        m = run_measured(
            rotation("backfill", "--start", start.isoformat(), "--end", end.isoformat()),
            project_env(case, folder, ROTATION_UNIVERSE_PATH=str(seed)),
            ROOT,
            case / "log.txt",
        )
        show(m, f"rotation backfill, {size} tickers")
        rows = table_rows(case / "warehouse.duckdb")
        per_size[str(size)] = {
            **m.as_dict(),
            "raw_prices_rows": rows.get("raw.prices", 0),
            "rows_total": sum(rows.values()),
        }
    return {
        "range": [start.isoformat(), end.isoformat()],
        "sessions": len(sessions_between(start, end)),
        "by_tickers": per_size,
        "exponent": slope(sizes, [per_size[str(s)]["seconds"] for s in sizes]),
        "rss_exponent": slope(sizes, [per_size[str(s)]["peak_rss_mb"] for s in sizes]),
    }


# --- report -------------------------------------------------------------------------------


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "-"
    return "ok" if value <= target else "MISSED"


def summary_rows(results: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    if b := results.get("backfill"):
        base = statistics.mean(x["seconds"] for x in b["baseline"])
        rows += [
            ("backfill: project wall", f"{b['project']['seconds']:.1f} s", "", ""),
            ("backfill: bare baseline wall", f"{base:.1f} s", "", ""),
            ("backfill: ratio project/baseline", f"{b['ratio']:.1f}", "<= 3", ""),
            ("backfill: peak RSS", f"{b['project']['peak_rss_mb']:.0f} MB", "<= 1536 MB", ""),
            ("backfill: rows written", f"{b['rows_total']:,}", "", ""),
        ]
        rows[-3] = (*rows[-3][:3], verdict(b["ratio"], TARGETS["backfill_ratio"]))
        rows[-2] = (
            *rows[-2][:3],
            verdict(b["project"]["peak_rss_mb"], TARGETS["backfill_peak_rss_mb"]),
        )
    if d := results.get("daily"):
        rows.append(
            ("daily: no-op Dagster run (floor)", f"{d['floor_median_seconds']:.1f} s", "", "")
        )
        for n, s in d["by_years"].items():
            rows.append(
                (
                    f"daily: update on {n} years of history",
                    f"{s['update_median_seconds']:.1f} s ({s['ratio_to_floor']:.1f}x floor)",
                    "<= 2x" if n == str(max(int(k) for k in d["by_years"])) else "",
                    verdict(s["ratio_to_floor"], TARGETS["daily_ratio"])
                    if n == str(max(int(k) for k in d["by_years"]))
                    else "",
                )
            )
        g = d["growth"]
        rows.append(
            (
                f"daily: growth {g['years'][0]} -> {g['years'][1]} years",
                f"x{g['update_time_ratio']} time for x{g['history_ratio']} history "
                f"(exponent {g['exponent']})",
                "",
                "",
            )
        )
    if ld := results.get("load"):
        for label in ("dagster definitions validate", "import rotation_assets.definitions"):
            rows.append(
                (
                    f"load: {label}",
                    f"{ld[label]['median_seconds']:.1f} s",
                    "<= 3 s" if label.startswith("dagster") else "",
                    verdict(ld[label]["median_seconds"], TARGETS["load_seconds"])
                    if label.startswith("dagster")
                    else "",
                )
            )
        rows.append(
            (
                "load: import dagster alone",
                f"{ld['import dagster (floor)']['median_seconds']:.1f} s",
                "",
                "",
            )
        )
        rows.append(
            (
                "load: Great Expectations imported",
                "yes" if ld["great_expectations_imported_at_load"] else "no",
                "no",
                "MISSED" if ld["great_expectations_imported_at_load"] else "ok",
            )
        )
    if sc := results.get("scale"):
        sizes = sorted(int(k) for k in sc["by_tickers"])
        for size in sizes:
            s = sc["by_tickers"][str(size)]
            big = size == 3000
            rows.append(
                (
                    f"scale: {size:,} tickers x {sc['sessions']:,} sessions",
                    f"{s['seconds']:.0f} s, {s['peak_rss_mb']:.0f} MB, "
                    f"{s['raw_prices_rows']:,} rows",
                    "<= 300 s, <= 4096 MB" if big else "",
                    (
                        "ok"
                        if s["seconds"] <= TARGETS["scale_3000_seconds"]
                        and s["peak_rss_mb"] <= TARGETS["scale_3000_peak_rss_mb"]
                        else "MISSED"
                    )
                    if big
                    else "",
                )
            )
        rows.append(
            (
                "scale: growth exponent (time; RSS)",
                f"{sc['exponent']}; {sc['rss_exponent']}",
                "<= 1.15",
                verdict(sc["exponent"], TARGETS["scale_exponent"]),
            )
        )
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("benchmark", "measured", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
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

    last = last_price_date(PRICES)
    first = dt.date.fromisoformat(FIRST_SESSION)
    scale_start = sessions_between(dt.date(last.year - 10, last.month, last.day), last)[0]
    if args.quick:
        backfill_start = sessions_between(dt.date(last.year - 2, last.month, last.day), last)[0]
        daily_years, repeats, sizes = [1, 2], 1, [50, 150]
        scale_start = sessions_between(dt.date(last.year - 1, last.month, last.day), last)[0]
    else:
        backfill_start, daily_years, repeats, sizes = first, [5, 10, 20, 36], 2, [300, 1000, 3000]

    results = json.loads(output.read_text()) if output.exists() and args.only else {}
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "note": "shared machine: other processes ran at the same time; compare ratios",
    }
    results["last_price_date"] = last.isoformat()
    began = time.perf_counter()
    for name in only:
        if name == "backfill":
            results["backfill"] = bench_backfill(work, backfill_start, last)
        elif name == "daily":
            results["daily"] = bench_daily(work, last, daily_years, repeats)
        elif name == "load":
            results["load"] = bench_load(work, repeats)
        elif name == "scale":
            results["scale"] = bench_scale(work, sizes, scale_start, last)
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
