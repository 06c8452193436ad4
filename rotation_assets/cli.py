"""``rotation``: run the main job through the project's Dagster instance.

    rotation backfill --start 2000-01-03 --end 2026-02-13   # one run for the whole range
    rotation update                                          # the latest completed session
    rotation report [--output FILE]                          # HTML report of the latest session
    rotation report --as-of 2026-02-13                       # ... as of an earlier session

Runs are recorded in DAGSTER_HOME (default ``.dagster_home`` in the project), so they show in
``dg dev`` afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from dagster import AssetKey, AssetSelection, DagsterInstance, Definitions, ExecuteInProcessResult

from rotation_assets.defs.constants import RANGE_END_TAG, RANGE_START_TAG
from rotation_assets.instance.console_progress import (
    QUIET_CONSOLE,
    failure_reason,
    printed_progress,
)
from rotation_assets.instance.dagster_home import (
    batched_event_writes,
    ensure_dagster_home,
    first_use_lock,
)
from rotation_assets.instance.orphaned_runs import process_tags, reap_orphaned_runs
from rotation_assets.instance.pool_waits import announce_pool_waits
from rotation_assets.paths import DEFAULT_REPORTS_DIR, DEFAULT_WAREHOUSE_PATH


class UsageError(ValueError):
    """The command line asks for something that cannot run; nothing was started."""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from exc


def resolve_sessions(start: dt.date, end: dt.date) -> list[dt.date]:
    """The sessions of [start, end] that are partitions, or a UsageError saying why none are."""
    from rotation_assets.trading_days import (
        FIRST_SESSION,
        latest_completed_session,
        sessions_between,
    )

    if end < start:
        raise UsageError(f"--end {end} is before --start {start}: the range is in the wrong order")
    first = dt.date.fromisoformat(FIRST_SESSION)
    if end < first:
        raise UsageError(f"partitions start at {FIRST_SESSION}; {start}..{end} is before that")
    latest = latest_completed_session()
    if start > latest:
        raise UsageError(f"{start} is after the latest completed NYSE session ({latest})")
    sessions = sessions_between(max(start, first), min(end, latest))
    if not sessions:
        raise UsageError(f"there is no NYSE session between {start} and {end}")
    return sessions


def _apply_options(args: argparse.Namespace) -> None:
    # Options are environment variables the definitions read, so that the UI, the schedule and
    # the CLI resolve configuration the same way.
    if args.source:
        os.environ["ROTATION_PRICE_SOURCE"] = args.source
    if args.price_dir:
        os.environ["ROTATION_PRICE_DIR"] = os.path.abspath(args.price_dir)
    if args.warehouse:
        os.environ["ROTATION_DUCKDB_PATH"] = os.path.abspath(args.warehouse)


def step_failures(result: ExecuteInProcessResult) -> list[str]:
    """'step: reason' for every failed step of a run."""
    return [
        f"{e.step_key}: {failure_reason(e.event_specific_data.error)}"
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]


def execute_range(
    defs: Definitions,
    start: dt.date,
    end: dt.date,
    instance: DagsterInstance,
    trigger: str,
    asset_selection: Sequence[AssetKey] | None = None,
    run_id: str | None = None,
) -> ExecuteInProcessResult:
    """One in-process run of ``rotation_job`` over the sessions [start, end].

    ``asset_selection`` narrows the run to some assets (tests that only look at raw prices),
    with the assets computed in the same step as them. ``run_id`` lets the caller listen to the
    run's events before it starts.
    """
    job = defs.resolve_job_def("rotation_job")
    if asset_selection is not None:
        # The job's own checks of those assets; a bare asset_selection would add checks the
        # job leaves out (the freshness check, which has its own job).
        graph = job.asset_layer.asset_graph
        selection = AssetSelection.assets(*asset_selection).required_multi_asset_neighbors()
        keys = selection.resolve(graph)
        checks = {k for k in graph.asset_check_keys if k.asset_key in keys}
        job = job.get_subset(asset_selection=keys, asset_check_selection=checks)
    return job.execute_in_process(
        instance=instance,
        tags={
            RANGE_START_TAG: start.isoformat(),
            RANGE_END_TAG: end.isoformat(),
            "rotation/trigger": trigger,
            **process_tags(),
        },
        raise_on_error=False,
        run_config=QUIET_CONSOLE,
        run_id=run_id,
    )


def run_job(sessions: list[dt.date], command: str) -> int:
    """Run ``rotation_job`` over ``sessions`` in this process; print a summary; exit status."""
    home = ensure_dagster_home()
    from rotation_assets.definitions import load_definitions

    defs = load_definitions()

    job = defs.resolve_job_def("rotation_job")
    source = defs.resources["price_source"]
    warehouse_path = os.environ.get("ROTATION_DUCKDB_PATH") or str(DEFAULT_WAREHOUSE_PATH)
    start, end = sessions[0].isoformat(), sessions[-1].isoformat()

    synthetic = source.label == "synthetic"
    print(f"rotation {command}: {start}..{end}, {len(sessions)} sessions, source {source.label}")
    if synthetic:
        print(
            "  !! SYNTHETIC DEMO DATA: generated prices, never market data (source = 'synthetic')"
        )
    asset_names = sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys)
    print(f"  assets: {', '.join(asset_names)}")

    began = time.monotonic()
    with first_use_lock(home):
        instance = DagsterInstance.get()
    with instance, batched_event_writes():
        for line in reap_orphaned_runs(instance):
            print(f"  {line}")
        # Dagster's console logger is silenced: say when a step waits for the writer slot.
        run_id = str(uuid.uuid4())
        instance.add_event_listener(run_id, announce_pool_waits(instance, sys.stdout))
        with printed_progress():
            result = execute_range(
                defs, sessions[0], sessions[-1], instance, f"cli:{command}", run_id=run_id
            )
    elapsed = time.monotonic() - began

    rows: dict[str, int] = {}
    snapshot = "not published: the previous snapshot is unchanged"
    checks: Counter[str] = Counter()
    check_problems: list[str] = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            count = mat.metadata.get("dagster/row_count")
            if count is not None:
                rows[mat.asset_key.to_user_string()] = count.value
            if "published_at" in mat.metadata:
                snapshot = f"{mat.metadata['path'].value}  (for analysts: open this one)"
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            outcome = "passed" if evaluation.passed else evaluation.severity.value.lower()
            checks[outcome] += 1
            if not evaluation.passed:
                check_problems.append(
                    f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
                    f"({outcome}) {evaluation.description or ''}".rstrip()
                )
    failures = step_failures(result)

    status = "succeeded" if result.success else "FAILED"
    print()
    print(f"rotation {command} {status} in {elapsed:.1f} s (run {result.run_id[:8]})")
    print(f"  source        {source.label}{' (SYNTHETIC, not market data)' if synthetic else ''}")
    print(f"  warehouse     {warehouse_path}")
    print(f"  dagster home  {home}  (see the run in `dg dev`)")
    print(f"  snapshot      {snapshot}")
    print(f"  sessions      {len(sessions)} ({start}..{end})")
    for key, count in sorted(rows.items()):
        print(f"  {key:<34}{count:>10,} rows")
    if checks:
        print("  checks        " + ", ".join(f"{n} {k}" for k, n in sorted(checks.items())))
    for problem in check_problems[:10]:
        print(f"    - {problem[:300]}")
    for failure in failures:
        print(f"  failure       {failure[:2000]}")
    return 0 if result.success else 1


def write_report(warehouse: str | None, output: str | None, as_of: dt.date | None = None) -> int:
    """``rotation report``: write the HTML report (read-only on the warehouse) of the latest
    session, or as of the loaded session ``as_of``; print its path. A date that is not a loaded
    session (before the first, after the last, a weekend or holiday) is a usage error naming
    the loaded range, or the sessions around it; it is never moved to another session."""
    from rotation_assets.reporting.point_in_time import NotALoadedSession
    from rotation_assets.reporting.report import build_report

    path = warehouse or os.environ.get("ROTATION_DUCKDB_PATH") or str(DEFAULT_WAREHOUSE_PATH)
    try:
        report = build_report(path, as_of=as_of)
    except (FileNotFoundError, NotALoadedSession) as exc:
        print(f"rotation: {exc}", file=sys.stderr)
        return 2
    folder = os.environ.get("ROTATION_REPORTS_DIR") or str(DEFAULT_REPORTS_DIR)
    target = Path(output) if output else Path(folder) / report.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report.html, encoding="utf-8")
    print(target.resolve())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rotation", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--source", choices=["yfinance", "csv", "demo"], help="price source")
    common.add_argument("--price-dir", help="folder of per-ticker CSVs for --source csv")
    common.add_argument("--warehouse", help="DuckDB file (default data/rotation.duckdb)")

    backfill = sub.add_parser("backfill", parents=[common], help="load a range of sessions")
    backfill.add_argument("--start", type=_date, required=True)
    backfill.add_argument("--end", type=_date, required=True)
    update = sub.add_parser("update", parents=[common], help="load the latest completed session")
    update.add_argument("--date", type=_date, help="a session to load instead of the latest")

    report = sub.add_parser("report", help="write the HTML report of the latest session")
    report.add_argument("--warehouse", help="DuckDB file (default data/rotation.duckdb)")
    report.add_argument(
        "--output", help="HTML file (default rotation_report_<session>.html in the reports folder)"
    )
    report.add_argument(
        "--as-of",
        type=_date,
        help="a loaded session: the report as of it, from the rows dated on or before it only",
    )

    args = parser.parse_args(argv)
    if args.command == "report":
        return write_report(args.warehouse, args.output, args.as_of)
    _apply_options(args)
    from rotation_assets.defs.resources import ConfigurationError, configured_resources

    try:
        if args.command == "backfill":
            sessions = resolve_sessions(args.start, args.end)
        else:
            from rotation_assets.trading_days import is_session, latest_completed_session

            day = args.date or latest_completed_session()
            if not is_session(day):
                raise UsageError(f"{day} is not an NYSE session (weekend or holiday)")
            sessions = resolve_sessions(day, day)
        # A configuration error says which variable to set, before anything runs.
        configured_resources()
        return run_job(sessions, args.command)
    except (UsageError, ConfigurationError) as exc:
        print(f"rotation: {exc}", file=sys.stderr)
        return 2


def entry_point() -> None:
    """The ``rotation`` console script: ``main`` with a quicker exit.

    Objects the run left behind (Dagster's, Great Expectations' and matplotlib's modules) are
    moved out of the collector's sight before the interpreter exits: its final collections over
    them took about 1.3 s of an update's 9 s. Files and connections are closed by then.
    """
    code = main()
    sys.stdout.flush()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
