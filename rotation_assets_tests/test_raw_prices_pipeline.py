"""The whole foundation graph run through Dagster: reference seeds -> raw.prices -> checks."""

import datetime as dt
import logging
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance

from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.sources import CsvPriceSource, DemoPriceSource, YFinancePriceSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.universe import UNIVERSE_PATH_ENV_VAR, load_universe
from rotation_assets.sources.csv_prices import clear_price_file_cache
from rotation_assets.trading_days import sessions_between
from rotation_assets.warehouse import writes as warehouse_module
from rotation_assets_tests.conftest import SHARED_PRICES, requires_shared_prices
from rotation_assets_tests.lock_holder import LockHolder, lock_wait_log
from rotation_assets_tests.test_yfinance_prices import assemble, history_frame, log_failures

WEEK = (dt.date(2026, 2, 2), dt.date(2026, 2, 6))
PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def stored_prices(path: str) -> pd.DataFrame:
    with duckdb.connect(path, read_only=True) as con:
        return con.execute("SELECT * FROM raw.prices ORDER BY trade_date, ticker").df()


def failure_messages(result) -> list[str]:
    return step_failures(result)


def events_of(result, kind: str) -> list:
    return [e for e in result.all_events if e.event_type_value == kind]


def write_demo_csvs(folder: Path, start: dt.date, end: dt.date) -> None:
    """A csv price folder for the default universe, from the demo generator."""
    folder.mkdir(exist_ok=True)
    bars = DemoPriceSource().fetch(list(load_universe()["ticker"]), start, end)
    for ticker, rows in bars.groupby("ticker"):
        out = rows.assign(date=rows["trade_date"].dt.strftime("%Y-%m-%d"))
        out[["date", *PRICE_COLUMNS]].to_csv(
            folder / (ticker.replace("^", "_") + ".csv"), index=False
        )


@pytest.fixture
def csv_week(tmp_path, instance):
    """A warehouse loaded with one week from a csv folder; returns (defs, folder, db path)."""
    folder = tmp_path / "prices"
    write_demo_csvs(folder, *WEEK)
    clear_price_file_cache()
    db = str(tmp_path / "w.duckdb")
    defs = build_definitions(
        DuckDBWarehouse(database=db, lock_wait_seconds=2), CsvPriceSource(price_dir=str(folder))
    )
    result = execute_range(defs, *WEEK, instance, "test")
    assert result.success, failure_messages(result)
    return defs, folder, db


def test_week_loads_every_universe_ticker_and_all_checks_pass(csv_week):
    _, _, db = csv_week
    stored = stored_prices(db)
    assert len(stored) == 5 * 24
    assert set(stored["source"]) == {"csv"}
    assert stored.groupby("trade_date")["ticker"].nunique().tolist() == [24] * 5


def test_negative_price_fails_on_the_named_check_and_keeps_stored_rows(csv_week, instance):
    defs, folder, db = csv_week
    before = stored_prices(db)
    path = folder / "IWM.csv"
    frame = pd.read_csv(path)
    frame.loc[frame["date"] == "2026-02-04", "close"] = -1.5
    frame.to_csv(path, index=False)

    result = execute_range(defs, *WEEK, instance, "test")
    assert not result.success
    (message,) = failure_messages(result)
    assert "prices_positive" in message
    assert "IWM on 2026-02-04" in message and "close=-1.5" in message
    assert len(events_of(result, "STEP_UP_FOR_RETRY")) == 0  # bad data is not retried
    pd.testing.assert_frame_equal(stored_prices(db), before)


def test_failure_between_delete_and_insert_keeps_stored_rows(csv_week, instance, monkeypatch):
    defs, folder, db = csv_week
    before = stored_prices(db)
    path = folder / "SPY.csv"
    frame = pd.read_csv(path)
    frame["close"] = frame["close"] * 1.01  # new values that would replace the stored ones
    frame["high"] = frame[["high", "close"]].max(axis=1)
    frame.to_csv(path, index=False)

    def explode(table: str) -> None:
        if table == "raw.prices":
            raise RuntimeError(f"injected failure after deleting from {table}")

    monkeypatch.setattr(warehouse_module, "_after_delete", explode)
    result = execute_range(defs, *WEEK, instance, "test")
    assert not result.success
    assert any(
        "injected failure after deleting from raw.prices" in m for m in failure_messages(result)
    )
    pd.testing.assert_frame_equal(stored_prices(db), before)


def test_missing_file_names_the_ticker_and_is_not_retried(csv_week, instance):
    defs, folder, db = csv_week
    before = stored_prices(db)
    (folder / "UNH.csv").unlink()
    result = execute_range(defs, *WEEK, instance, "test")
    assert not result.success
    (message,) = failure_messages(result)
    assert "UNH" in message and "UNH.csv" in message
    assert len(events_of(result, "STEP_UP_FOR_RETRY")) == 0
    pd.testing.assert_frame_equal(stored_prices(db), before)


def test_reloading_the_same_week_changes_nothing(csv_week, instance):
    defs, _, db = csv_week
    before = stored_prices(db)
    result = execute_range(defs, *WEEK, instance, "test")
    assert result.success
    pd.testing.assert_frame_equal(stored_prices(db), before)  # loaded_at included
    materializations = [
        m
        for m in result.asset_materializations_for_node("raw_prices")
        if m.asset_key.to_user_string() == "raw/prices"
    ]
    assert sorted(m.partition for m in materializations) == [
        "2026-02-02",
        "2026-02-03",
        "2026-02-04",
        "2026-02-05",
        "2026-02-06",
    ]
    assert {m.metadata["rows_new_or_changed"].value for m in materializations} == {0}


class _RateLimitedTwice:
    """yf.download that is rate limited on the first two calls, then returns real-shape bars."""

    def __init__(self, tickers: list[str], sessions: list[dt.date]):
        self.calls = 0
        rows = {
            pd.Timestamp(day): (100.0 + i, 102.0 + i, 99.0 + i, 101.0 + i, 101.0 + i, 1000.0)
            for i, day in enumerate(sessions)
        }
        # history_frame rows: (open, high, low, close, adj_close, volume) by date.
        self.frame = assemble({t: history_frame(rows) for t in tickers})

    def __call__(self, tickers, **kwargs):
        self.calls += 1
        if self.calls <= 2:
            log_failures(
                {
                    t: "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
                    for t in tickers
                }
            )
            return assemble({t: None for t in tickers})
        return self.frame


def test_yfinance_rate_limit_is_retried_with_backoff_then_succeeds(tmp_path, instance, monkeypatch):
    import yfinance

    universe = load_universe()
    sessions = [WEEK[0] + dt.timedelta(days=i) for i in range(5)]
    fake = _RateLimitedTwice(list(universe["ticker"]), sessions)
    monkeypatch.setattr(yfinance, "download", fake)
    logging.getLogger("yfinance").propagate = False
    db = str(tmp_path / "w.duckdb")
    defs = build_definitions(DuckDBWarehouse(database=db), YFinancePriceSource())

    result = execute_range(defs, *WEEK, instance, "test")

    assert result.success, failure_messages(result)
    assert fake.calls == 3
    retries = events_of(result, "STEP_UP_FOR_RETRY")
    assert [e.step_key for e in retries] == ["raw_prices", "raw_prices"]
    stored = stored_prices(db)
    assert len(stored) == 5 * 24 and set(stored["source"]) == {"yfinance"}
    iwm = stored[stored["ticker"] == "IWM"]
    assert iwm["close"].tolist() == [101.0, 102.0, 103.0, 104.0, 105.0]


@requires_shared_prices
def test_csv_backfill_2000_to_2026_holds_exactly_the_file_rows_and_rerun_changes_nothing(
    tmp_path, instance
):
    start, end = dt.date(2000, 1, 3), dt.date(2026, 2, 13)
    db = str(tmp_path / "w.duckdb")
    defs = build_definitions(
        DuckDBWarehouse(database=db), CsvPriceSource(price_dir=str(SHARED_PRICES))
    )
    # Only raw prices are asserted here; the whole graph over history runs in test_real_history.
    raw_only = [
        AssetKey(["reference", "universe"]),
        AssetKey(["raw", "prices"]),
        AssetKey(["raw", "corporate_actions"]),
    ]

    result = execute_range(defs, start, end, instance, "test", asset_selection=raw_only)
    assert result.success, failure_messages(result)
    checked = {e.asset_key for e in result.get_asset_check_evaluations()}
    assert AssetKey(["raw", "prices"]) in checked
    stored = stored_prices(db)

    expected = []
    for row in load_universe().itertuples():
        bars = pd.read_csv(SHARED_PRICES / (row.ticker.replace("^", "_") + ".csv"))
        bars["trade_date"] = pd.to_datetime(bars.pop("date"))
        bars = bars[
            (bars["trade_date"] >= pd.Timestamp(start)) & (bars["trade_date"] <= pd.Timestamp(end))
        ]
        if row.ticker.startswith("^"):  # an index's volume of 0 is no figure: stored empty
            bars["volume"] = bars["volume"].where(bars["volume"] != 0)
        expected.append(bars.assign(ticker=row.ticker))
    expected = pd.concat(expected).sort_values(["trade_date", "ticker"]).reset_index(drop=True)

    sessions = sessions_between(start, end)
    assert len(sessions) == 6569
    # EXPI's file ends 2026-02-11 (a stale tail): 2026-02-12 and 02-13 have no EXPI bar.
    stale = 2
    assert len(stored) == len(expected) == len(sessions) * 24 - _not_yet_listed(sessions) - stale
    pd.testing.assert_frame_equal(
        stored[["trade_date", "ticker", *PRICE_COLUMNS]].reset_index(drop=True),
        expected[["trade_date", "ticker", *PRICE_COLUMNS]],
        check_dtype=False,
    )

    again = execute_range(defs, start, end, instance, "test", asset_selection=raw_only)
    assert again.success
    pd.testing.assert_frame_equal(stored_prices(db), stored)


def _not_yet_listed(sessions: list[dt.date]) -> int:
    """Ticker-sessions before each ticker's first trading date."""
    return sum(
        sum(1 for s in sessions if s < row.first_trading_date.date())
        for row in load_universe().itertuples()
    )


def test_analyst_holding_the_live_file_fails_the_run_naming_the_process(csv_week, instance):
    defs, _, db = csv_week
    before = stored_prices(db)
    # The analyst keeps the file until the run has ended: the 2 s budget runs out first.
    with LockHolder(db) as analyst, lock_wait_log() as waits:
        result = execute_range(defs, *WEEK, instance, "test")
    holders = waits.holders_waited_for()
    assert holders and all(h.startswith(f"PID {analyst.pid} (") for h in holders)
    assert not result.success
    message = " ".join(failure_messages(result))
    assert f"PID {analyst.pid}" in message and "Close that session" in message
    assert len(events_of(result, "STEP_UP_FOR_RETRY")) == 0  # the wait was the retry
    pd.testing.assert_frame_equal(stored_prices(db), before)


def test_partition_status_shows_a_failed_backfill_as_failed_and_its_fix_as_materialized(
    tmp_path, instance
):
    """What the UI's partition bar shows: the sessions of a failed backfill, only those."""
    first, second = WEEK, (dt.date(2026, 2, 9), dt.date(2026, 2, 13))
    folder = tmp_path / "prices"
    write_demo_csvs(folder, first[0], second[1])
    clear_price_file_cache()
    defs = build_definitions(
        DuckDBWarehouse(database=str(tmp_path / "w.duckdb"), lock_wait_seconds=2),
        CsvPriceSource(price_dir=str(folder)),
    )
    prices_key = AssetKey(["raw", "prices"])
    partitions = defs.resolve_assets_def(prices_key).partitions_def
    keys = [d.isoformat() for d in sessions_between(first[0], second[1])]

    def status() -> dict[str, str]:
        by_key = instance.get_status_by_partition(prices_key, keys, partitions)
        return {key: by_key[key].value for key in keys}

    assert execute_range(defs, *first, instance, "test").success
    path = folder / "IWM.csv"
    frame = pd.read_csv(path)
    good = frame.copy()
    frame.loc[frame["date"] == "2026-02-11", "close"] = -1.5
    frame.to_csv(path, index=False)
    clear_price_file_cache()
    assert not execute_range(defs, *second, instance, "test").success
    first_keys = [d.isoformat() for d in sessions_between(*first)]
    second_keys = [d.isoformat() for d in sessions_between(*second)]
    assert status() == {
        **dict.fromkeys(first_keys, "MATERIALIZED"),
        **dict.fromkeys(second_keys, "FAILED"),
    }

    good.to_csv(path, index=False)
    clear_price_file_cache()
    assert execute_range(defs, *second, instance, "test").success
    assert status() == dict.fromkeys(keys, "MATERIALIZED")


# --- series that stop (stale tails) and sessions missing in the middle (holes) --------------


def _drop_rows(path: Path, dates: list[str]) -> None:
    frame = pd.read_csv(path)
    frame[~frame["date"].isin(dates)].to_csv(path, index=False)
    clear_price_file_cache()


def _check(result, name: str):
    (evaluation,) = [c for c in result.get_asset_check_evaluations() if c.check_name == name]
    return evaluation


def test_a_session_missing_in_the_middle_is_a_hole_that_blocks_the_load(csv_week, instance):
    defs, folder, db = csv_week
    before = stored_prices(db)
    _drop_rows(folder / "IWM.csv", ["2026-02-04"])  # IWM has 02-03 and 02-05, not 02-04

    result = execute_range(defs, *WEEK, instance, "test")

    assert not result.success
    (message,) = failure_messages(result)
    assert "check expected_tickers_present failed" in message
    assert "on 1 rows: IWM on 2026-02-04" in message
    pd.testing.assert_frame_equal(stored_prices(db), before)


def test_a_series_that_stops_loads_to_its_end_warns_and_ends_its_pair_there(csv_week, instance):
    defs, folder, db = csv_week
    _drop_rows(folder / "IWO.csv", ["2026-02-05", "2026-02-06"])  # IWO stops after 02-04

    result = execute_range(defs, *WEEK, instance, "test")

    assert result.success, failure_messages(result)
    stale = _check(result, "no_stale_tails")
    assert not stale.passed and stale.severity.value == "WARN"
    # Named with its last session; 02-05 and 02-06 are the 2 sessions without a bar.
    assert "on 1 rows: IWO (last_session=2026-02-04, sessions_without_bar=2, " in stale.description
    assert _check(result, "expected_tickers_present").passed
    stored = stored_prices(db)
    assert stored.loc[stored["ticker"] == "IWO", "trade_date"].max() == pd.Timestamp("2026-02-04")
    assert len(stored) == 5 * 24 - 2
    with duckdb.connect(db, read_only=True) as con:
        spreads = con.execute(
            "SELECT trade_date FROM analytics.pair_spreads WHERE pair_id = 'IWN_IWO' ORDER BY 1"
        ).fetchall()
        dashboard = con.execute(
            "SELECT trade_date, stale_since, stale_legs FROM analytics.rotation_dashboard "
            "WHERE pair_id = 'IWN_IWO'"
        ).fetchone()
    # 02-02 is the legs' first stored session (no return); the pair ends with IWO, on 02-04.
    assert [d for (d,) in spreads] == [dt.date(2026, 2, 3), dt.date(2026, 2, 4)]
    assert dashboard == (dt.date(2026, 2, 4), dt.date(2026, 2, 4), "IWO (last 2026-02-04)")


def test_a_last_trading_date_ends_what_is_expected_of_a_delisted_ticker(
    tmp_path, instance, monkeypatch
):
    folder = tmp_path / "prices"
    write_demo_csvs(folder, *WEEK)
    _drop_rows(folder / "IWO.csv", ["2026-02-05", "2026-02-06"])
    seed = tmp_path / "universe.csv"
    lines = (SEEDS_DIR / "universe.csv").read_text().splitlines()
    seed.write_text(
        "\n".join(line + "2026-02-04" if line.startswith("IWO,") else line for line in lines) + "\n"
    )
    monkeypatch.setenv(UNIVERSE_PATH_ENV_VAR, str(seed))
    db = str(tmp_path / "w.duckdb")
    defs = build_definitions(
        DuckDBWarehouse(database=db, lock_wait_seconds=2), CsvPriceSource(price_dir=str(folder))
    )

    result = execute_range(defs, *WEEK, instance, "test")

    assert result.success, failure_messages(result)
    assert _check(result, "no_stale_tails").passed  # delisted on 02-04: nothing expected after
    stored = stored_prices(db)
    assert stored.loc[stored["ticker"] == "IWO", "trade_date"].max() == pd.Timestamp("2026-02-04")


def test_a_series_that_resumes_after_a_gap_is_a_hole_before_the_window(csv_week, instance):
    # IWO stopped after 02-04 (stored so), then the next week's file resumes it on 02-10. A
    # load of 02-09..02-10: 02-05 and 02-06 (before the window) and 02-09 lie between two
    # delivered IWO bars, a hole.
    defs, folder, db = csv_week
    _drop_rows(folder / "IWO.csv", ["2026-02-05", "2026-02-06"])
    assert execute_range(defs, *WEEK, instance, "test").success
    write_demo_csvs(folder, WEEK[0], dt.date(2026, 2, 10))
    _drop_rows(folder / "IWO.csv", ["2026-02-05", "2026-02-06", "2026-02-09"])
    before = stored_prices(db)

    result = execute_range(defs, dt.date(2026, 2, 9), dt.date(2026, 2, 10), instance, "test")

    assert not result.success
    (message,) = failure_messages(result)
    assert "check expected_tickers_present failed" in message
    assert "on 3 rows: IWO on 2026-02-05; IWO on 2026-02-06; IWO on 2026-02-09" in message
    pd.testing.assert_frame_equal(stored_prices(db), before)
