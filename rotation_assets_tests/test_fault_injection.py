"""Fault injection through the whole pipeline: each case asserts a clear error and that no
stored row changed (every table of the warehouse, compared as query results).

The stored state is two weeks (2026-01-26..2026-02-06) built through Dagster from a csv
folder of synthetic bars; each case copies it, injects one fault, runs ``rotation_job`` and
compares every table before and after. Cases covered elsewhere are listed in the README's
fault-injection table with the test that covers them.
"""

import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yfinance
from dagster import DagsterInstance

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.sources import CsvPriceSource, YFinancePriceSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.universe import UNIVERSE_PATH_ENV_VAR, load_universe
from rotation_assets.sources.csv_prices import clear_price_file_cache
from rotation_assets.sources.shiller_csv import DEFAULT_SHILLER_FILE
from rotation_assets.trading_days import sessions_between
from rotation_assets_tests.conftest import SHILLER_TABLES
from rotation_assets_tests.lock_holder import HANG_BOUND_SECONDS, LockHolder, lock_wait_log
from rotation_assets_tests.test_raw_prices_pipeline import PRICE_COLUMNS, write_demo_csvs
from rotation_assets_tests.test_yfinance_prices import assemble, history_frame, log_failures

STORED = (dt.date(2026, 1, 26), dt.date(2026, 2, 6))
EARLIER_WEEK = (dt.date(2026, 1, 26), dt.date(2026, 1, 30))
WEEK = (dt.date(2026, 2, 2), dt.date(2026, 2, 6))
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def warehouse_dump(path: str | Path) -> dict[str, str]:
    """Every base table as CSV text, rows in a total order: equal dumps = identical results."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").df().to_csv(index=False)
            for (name,) in tables
        }


def without(dump: dict[str, str], *tables: str) -> dict[str, str]:
    return {name: text for name, text in dump.items() if name not in tables}


@pytest.fixture(scope="module")
def stored_state(tmp_path_factory) -> Path:
    """A warehouse and its csv folder holding two weeks, every asset materialized."""
    root = tmp_path_factory.mktemp("stored")
    write_demo_csvs(root / "prices", *STORED)
    clear_price_file_cache()
    defs = build_definitions(
        DuckDBWarehouse(database=str(root / "w.duckdb")),
        CsvPriceSource(price_dir=str(root / "prices")),
    )
    with DagsterInstance.ephemeral() as instance:
        result = execute_range(defs, *STORED, instance, "test")
    assert result.success, step_failures(result)
    return root


@pytest.fixture
def stored(stored_state: Path, tmp_path: Path) -> Path:
    """A private copy of the stored state for one case."""
    shutil.copytree(stored_state, tmp_path / "case")
    clear_price_file_cache()
    return tmp_path / "case"


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def run_week(root: Path, instance, source=None, lock_wait_seconds: float = 60.0):
    defs = build_definitions(
        DuckDBWarehouse(database=str(root / "w.duckdb"), lock_wait_seconds=lock_wait_seconds),
        source or CsvPriceSource(price_dir=str(root / "prices")),
    )
    return execute_range(defs, *WEEK, instance, "test")


def only_failure(result) -> str:
    assert not result.success
    (message,) = step_failures(result)
    print(f"\nobserved: {message}")  # `pytest -s` shows what an operator reads
    return message


def retries(result) -> int:
    return sum(1 for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY")


# --- malformed csv files -------------------------------------------------------------------


def _drop_close_column(text: str) -> str:
    lines = text.splitlines()
    keep = [i for i, name in enumerate(lines[0].split(",")) if name != "close"]
    return "\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n"


def _edit_line(text: str, line_no: int, field: int, value: str) -> str:
    lines = text.splitlines()
    cells = lines[line_no - 1].split(",")
    cells[field] = value
    lines[line_no - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _duplicate_line(text: str, line_no: int) -> str:
    lines = text.splitlines()
    lines.insert(line_no, lines[line_no - 1])
    return "\n".join(lines) + "\n"


# IWM.csv holds 2026-01-26..02-06: line 1 is the header, line 8 is 2026-02-03.
MALFORMED = {
    "missing column": (_drop_close_column, ["IWM.csv", "line 1", "close"]),
    "bad date": (lambda t: _edit_line(t, 8, 0, "2026-02-31"), ["IWM.csv", "line 8", "2026-02-31"]),
    "bad number": (lambda t: _edit_line(t, 8, 4, "12.5x"), ["IWM.csv", "line 8", "12.5x"]),
    "duplicate date": (lambda t: _duplicate_line(t, 8), ["IWM.csv", "2026-02-03", "line 8"]),
    "negative price": (
        lambda t: _edit_line(t, 8, 3, "-1.5"),
        ["prices_positive", "IWM on 2026-02-03", "low=-1.5"],
    ),
    "zero price": (
        lambda t: _edit_line(t, 8, 1, "0"),
        ["prices_positive", "IWM on 2026-02-03", "open=0"],
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_csv_fails_naming_the_place_and_changes_nothing(stored, instance, case):
    corrupt, expected = MALFORMED[case]
    before = warehouse_dump(stored / "w.duckdb")
    path = stored / "prices" / "IWM.csv"
    assert path.read_text().splitlines()[7].startswith("2026-02-03,")
    path.write_text(corrupt(path.read_text()))

    message = only_failure(run_week(stored, instance))

    for fragment in expected:
        assert fragment in message, message
    assert warehouse_dump(stored / "w.duckdb") == before


# --- yfinance -------------------------------------------------------------------------------


def good_bars(tickers: list[str]) -> dict[str, pd.DataFrame]:
    """Real-shape yfinance history frames for WEEK, distinct from the stored csv values."""
    sessions = sessions_between(*WEEK)
    rows = {
        day.isoformat(): (100.0 + i, 102.0 + i, 99.0 + i, 101.0 + i, 101.0 + i, 1000.0)
        for i, day in enumerate(sessions)
    }
    return {t: history_frame(rows) for t in tickers}


class ScriptedDownload:
    """``yfinance.download`` playing one scripted response per call (the last one repeats).

    A response is (frames by ticker, error lines yfinance logs, failures for its summary).
    """

    def __init__(self, *responses):
        self.responses = responses
        self.calls = 0

    def __call__(self, tickers, **kwargs):
        self.calls += 1
        frames, lines, failures = self.responses[min(self.calls, len(self.responses)) - 1]
        for line in lines:
            logging.getLogger("yfinance").error(line)
        log_failures(failures)
        return assemble({t: frames.get(t) for t in tickers})


@pytest.fixture
def yf_download(monkeypatch):
    monkeypatch.setattr(logging.getLogger("yfinance"), "propagate", False)

    def install(*responses) -> ScriptedDownload:
        download = ScriptedDownload(*responses)
        monkeypatch.setattr(yfinance, "download", download)
        return download

    return install


TICKERS = list(load_universe()["ticker"])
CURL_DNS = "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com."
DELISTED = "possibly delisted; no price data found  (1d 2026-02-02 -> 2026-02-07)"
RATE_LIMITED = "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"


def test_yfinance_empty_frame_is_retried_then_fails_naming_the_outage(
    stored, instance, yf_download
):
    before = warehouse_dump(stored / "w.duckdb")
    download = yf_download(
        (
            {},
            [f"Failed to get ticker '{t}' reason: {CURL_DNS}" for t in TICKERS],
            {t: "possibly delisted; no timezone found" for t in TICKERS},
        )
    )

    message = only_failure(run_week(stored, instance, YFinancePriceSource()))

    assert "Could not resolve host" in message, message
    assert "between 2026-02-02 and 2026-02-06" in message and "'IWM'" in message
    assert download.calls == 4  # the RetryPolicy's 3 retries, then the run fails
    assert warehouse_dump(stored / "w.duckdb") == before


def test_yfinance_ticker_with_history_and_no_bars_is_a_warned_stale_tail_not_a_failure(
    stored, instance, yf_download
):
    # UNH has stored bars up to 2026-01-30, the session before the week; Yahoo returns nothing
    # for it now. Its series stopped: the week loads without it, not retried, and the
    # no_stale_tails check warns naming UNH and its last session. Re-loading the week replaces
    # it, so UNH's csv rows of the week go with it: it keeps its rows up to 2026-01-30.
    frames = good_bars([t for t in TICKERS if t != "UNH"])
    download = yf_download((frames, [], {"UNH": DELISTED}))

    result = run_week(stored, instance, YFinancePriceSource())

    assert result.success, step_failures(result)
    assert download.calls == 1
    (stale,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "no_stale_tails"]
    assert not stale.passed and stale.severity.value == "WARN"
    assert "UNH (last_session=2026-01-30, sessions_without_bar=5" in stale.description
    with duckdb.connect(str(stored / "w.duckdb"), read_only=True) as con:
        last = dict(
            con.execute("SELECT ticker, max(trade_date) FROM raw.prices GROUP BY ticker").fetchall()
        )
    assert last.pop("UNH") == dt.date(2026, 1, 30)
    assert set(last.values()) == {dt.date(2026, 2, 6)}


def test_yfinance_nan_row_fails_the_audit_naming_ticker_and_date(stored, instance, yf_download):
    before = warehouse_dump(stored / "w.duckdb")
    frames = good_bars(TICKERS)
    frames["IWM"].loc["2026-02-04", "Close"] = float("nan")
    yf_download((frames, [], {}))

    message = only_failure(run_week(stored, instance, YFinancePriceSource()))

    assert "no_null_prices" in message and "IWM on 2026-02-04" in message, message
    assert warehouse_dump(stored / "w.duckdb") == before


def test_yfinance_rate_limit_clears_after_two_retries_and_only_the_week_changes(
    stored_state, stored, instance, yf_download
):
    limited = ({}, [], {t: RATE_LIMITED for t in TICKERS})
    download = yf_download(limited, limited, (good_bars(TICKERS), [], {}))

    result = run_week(stored, instance, YFinancePriceSource())

    assert result.success, step_failures(result)
    assert download.calls == 3
    with duckdb.connect(str(stored / "w.duckdb"), read_only=True) as con:
        by_source = dict(
            con.execute("SELECT source, count(*) FROM raw.prices GROUP BY source").fetchall()
        )
    assert by_source == {"csv": 5 * 24, "yfinance": 5 * 24}
    pd.testing.assert_frame_equal(
        prices_of(stored / "w.duckdb", *EARLIER_WEEK),
        prices_of(stored_state / "w.duckdb", *EARLIER_WEEK),
    )


# --- the warehouse file and concurrent runs -------------------------------------------------


def test_analyst_holding_the_live_file_delays_the_run_which_then_succeeds(stored, instance):
    before = warehouse_dump(stored / "w.duckdb")
    # The analyst lets go only once the run has said it waits for them: the run always waits,
    # and always gets the file, whatever the machine's load.
    with LockHolder(str(stored / "w.duckdb")) as analyst, lock_wait_log(release=analyst) as waits:
        result = run_week(stored, instance, lock_wait_seconds=HANG_BOUND_SECONDS)
    assert result.success, step_failures(result)
    # It said whom it waited for, then went on once that process had let go.
    (holder,) = waits.holders_waited_for()
    assert holder.startswith(f"PID {analyst.pid} (")
    assert f"is locked by PID {analyst.pid}" in waits.waiting[0].getMessage()
    assert [r.lock_holder for r in waits.acquired] == [holder]
    assert warehouse_dump(stored / "w.duckdb") == before  # same files: nothing changes


def cli(root: Path, start: dt.date, end: dt.date, home: Path) -> subprocess.Popen:
    """``rotation backfill`` over [start, end] on ``root``'s warehouse and csv folder."""
    # Only this case's settings: none of the shell's ROTATION_* (a snapshot path, a Dagster
    # instance of its own) may point the runs at files outside the case.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTATION_")}
    env.update(
        DAGSTER_HOME=str(home),
        PYTHONUNBUFFERED="1",
        ROTATION_FETCH_RETRY_DELAY_SECONDS="0.2",
        ROTATION_REPORTS_DIR=str(root / "reports"),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "rotation_assets.cli", "backfill", "--source", "csv"]
        + ["--price-dir", str(root / "prices"), "--warehouse", str(root / "w.duckdb")]
        + ["--start", start.isoformat(), "--end", end.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
    )


# A bound on a CLI run that only ends a hang (a run of these weeks takes a minute or two).
RUN_HANG_BOUND_SECONDS = 3 * HANG_BOUND_SECONDS


def outputs_of(*runs: subprocess.Popen) -> list[str]:
    """What each run printed, once all have exited. On the hang bound every run is killed and
    the test fails with what they printed, so that no run outlives the test."""
    try:
        return [run.communicate(timeout=RUN_HANG_BOUND_SECONDS)[0] for run in runs]
    except subprocess.TimeoutExpired:
        for run in runs:
            run.kill()
        printed = [run.communicate()[0] for run in runs]
        pytest.fail(f"runs still going after {RUN_HANG_BOUND_SECONDS:.0f} s: {printed}")


def prices_of(path: Path, start: dt.date, end: dt.date) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT * FROM raw.prices WHERE trade_date BETWEEN ? AND ? ORDER BY ALL", [start, end]
        ).df()


def file_prices(folder: Path, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The csv folder's rows in [start, end], as raw.prices stores them (no source/loaded_at)."""
    frames = []
    for path in sorted(folder.glob("*.csv")):
        bars = pd.read_csv(path, parse_dates=["date"]).rename(columns={"date": "trade_date"})
        frames.append(bars.assign(ticker=path.stem.replace("_", "^")))
    bars = pd.concat(frames)
    bars = bars[bars["trade_date"].between(pd.Timestamp(start), pd.Timestamp(end))]
    return bars[["trade_date", "ticker", *PRICE_COLUMNS]].sort_values(["trade_date", "ticker"])


EXTENDED = (dt.date(2025, 12, 1), dt.date(2026, 2, 6))


@pytest.mark.parametrize("kill_after", ["raw/prices: fetching", "raw/prices: wrote"])
def test_run_killed_mid_backfill_leaves_whole_windows_and_a_rerun_completes(
    stored_state, stored, tmp_path, kill_after
):
    write_demo_csvs(stored / "prices", *EXTENDED)  # same generator: the stored weeks agree
    kept = prices_of(stored_state / "w.duckdb", *STORED)
    home = tmp_path / "home"

    run = cli(stored, *EXTENDED, home)
    seen = []
    for line in run.stdout:
        seen.append(line)
        if kill_after in line:
            run.send_signal(signal.SIGKILL)
            break
    run.wait()
    assert run.returncode == -signal.SIGKILL, "".join(seen)

    # The raw window is one transaction: all of it or none of it, never part of it.
    stored_rows = prices_of(stored / "w.duckdb", *EXTENDED)
    assert len(stored_rows) in (len(kept), len(file_prices(stored / "prices", *EXTENDED)))
    pd.testing.assert_frame_equal(prices_of(stored / "w.duckdb", *STORED), kept)

    resumed = cli(stored, *EXTENDED, home)
    (out,) = outputs_of(resumed)
    assert resumed.returncode == 0, out
    stored_rows = prices_of(stored / "w.duckdb", *EXTENDED)
    pd.testing.assert_frame_equal(
        stored_rows[["trade_date", "ticker", *PRICE_COLUMNS]].reset_index(drop=True),
        file_prices(stored / "prices", *EXTENDED).reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(prices_of(stored / "w.duckdb", *STORED), kept)  # loaded_at too
    with duckdb.connect(str(stored / "w.duckdb"), read_only=True) as con:
        newest = con.execute("SELECT max(trade_date) FROM analytics.pair_spreads").fetchone()[0]
    assert newest == EXTENDED[1]


def test_two_runs_launched_together_both_succeed_one_writer_at_a_time(stored, tmp_path):
    before = warehouse_dump(stored / "w.duckdb")
    home = tmp_path / "home"
    first, second = cli(stored, *WEEK, home), cli(stored, *WEEK, home)
    outputs = outputs_of(first, second)
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert warehouse_dump(stored / "w.duckdb") == before  # same files, so nothing changed


# --- bad requests and bad seeds ------------------------------------------------------------


def test_partition_key_that_is_not_a_session_is_refused_before_anything_runs(stored, instance):
    before = warehouse_dump(stored / "w.duckdb")
    defs = build_definitions(
        DuckDBWarehouse(database=str(stored / "w.duckdb")),
        CsvPriceSource(price_dir=str(stored / "prices")),
    )
    job = defs.resolve_job_def("rotation_job")
    for day in ("2026-02-07", "2025-12-25"):  # a Saturday, Christmas
        with pytest.raises(Exception, match=f"{day}"):
            job.execute_in_process(instance=instance, partition_key=day)
    assert instance.get_runs() == [] or all(
        r.status.value != "SUCCESS" for r in instance.get_runs()
    )
    assert warehouse_dump(stored / "w.duckdb") == before


def test_unknown_ticker_in_the_universe_seed_fails_naming_it(
    stored, instance, yf_download, monkeypatch, tmp_path
):
    before = warehouse_dump(stored / "w.duckdb")
    seed = tmp_path / "universe.csv"
    universe = (SEEDS_DIR / "universe.csv").read_text()
    seed.write_text(
        universe.rstrip("\n")
        + "\nZZZQX,Not a listed fund,small_cap_etf,etf,SPY,price_and_total_return,2000-01-03,\n"
    )
    monkeypatch.setenv(UNIVERSE_PATH_ENV_VAR, str(seed))
    download = yf_download((good_bars(TICKERS), [], {"ZZZQX": DELISTED}))

    message = only_failure(run_week(stored, instance, YFinancePriceSource()))

    assert "['ZZZQX']" in message and "possibly delisted" in message, message
    assert download.calls == 1
    # The seed itself is published as edited; nothing priced or derived changed.
    after = warehouse_dump(stored / "w.duckdb")
    assert "ZZZQX" in after["reference.universe"]
    assert without(after, "reference.universe") == without(before, "reference.universe")


BAD_SEEDS = {
    # A benchmark that is no universe ticker: the universe seed names its line.
    "unknown benchmark": (
        lambda lines: [
            line.replace(",IWM,total_return_only", ",VTI,total_return_only")
            if line.startswith("UPBD,")
            else line
            for line in lines
        ],
        "universe.csv line 22: benchmark 'VTI' of UPBD is not a ticker of the universe",
    ),
    # IWO dropped: the universe is valid, the pair IWN_IWO is not, and the universe (loaded
    # first) must not be written either.
    "pair leg outside the universe": (
        lambda lines: [line for line in lines if not line.startswith("IWO,")],
        "rotation_pairs.csv line 7: large ticker 'IWO' of pair IWN_IWO is not in the universe",
    ),
}


@pytest.mark.parametrize("case", list(BAD_SEEDS))
def test_a_bad_seed_line_fails_naming_file_and_line_before_any_table_is_written(
    stored, instance, monkeypatch, tmp_path, case
):
    edit, expected = BAD_SEEDS[case]
    before = warehouse_dump(stored / "w.duckdb")
    seed = tmp_path / "universe.csv"
    seed.write_text("\n".join(edit((SEEDS_DIR / "universe.csv").read_text().splitlines())) + "\n")
    monkeypatch.setenv(UNIVERSE_PATH_ENV_VAR, str(seed))

    message = only_failure(run_week(stored, instance))

    assert "SeedError" in message and expected in message, message
    assert warehouse_dump(stored / "w.duckdb") == before


def test_rematerializing_a_week_three_times_gives_byte_identical_results(stored, instance):
    dumps = []
    for _ in range(3):
        result = run_week(stored, instance)
        assert result.success, step_failures(result)
        dumps.append(warehouse_dump(stored / "w.duckdb"))
    assert dumps[0] == dumps[1] == dumps[2]
    # Every table holds rows but those empty by design: csv files carry no corporate actions
    # and no P/E, and two weeks are too short to compare an episode (20 sessions at least) or
    # to hold the 31 weeks a relative rotation row needs.
    empty = {name for name, text in dumps[0].items() if text.count("\n") <= 1}
    assert len(dumps[0]) >= 15 and empty == {
        "raw.corporate_actions",
        "raw.valuation_snapshots",
        "analytics.episode_similarity",
        "analytics.relative_rotation",
    } | (set() if DEFAULT_SHILLER_FILE.exists() else SHILLER_TABLES)
