"""Vendor re-basing: a csv file whose adjusted history changed basis between two loads is
re-based in the warehouse (a constant factor) or refused naming the ticker, never joined to the
stored rows with a jump at the seam."""

import datetime as dt

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance

from rotation_assets.cli import execute_range
from rotation_assets.defs.prices.sources import DemoPriceSource
from rotation_assets.reference.universe import load_universe
from rotation_assets.sources.csv_prices import clear_price_file_cache
from rotation_assets.sources.price_window import RAW_PRICES, stage_price_window
from rotation_assets.sources.vendor_rebasing import (
    OVERLAP_SESSIONS,
    VendorRebaseError,
    judge_overlap,
    overlap_sessions,
    rebase_stored_history,
)
from rotation_assets.warehouse.writes import ensure_table
from rotation_assets_tests.test_raw_prices_pipeline import (
    WEEK,
    csv_week,  # noqa: F401 (a fixture)
    failure_messages,
    write_demo_csvs,
)


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


MONDAY = dt.date(2026, 2, 9)  # the session after WEEK (2026-02-02..06)
WEEK_DATES = ["2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05", "2026-02-06"]


# ---- the rule, on hand-made ratios ----------------------------------------------------------


def ratios(ticker: str, dates: list[str], close: list[float], adj: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ticker": ticker,
            "trade_date": pd.to_datetime(dates),
            "close": close,
            "adj_close": adj,
        }
    )


def test_a_constant_factor_is_a_rebasing_with_the_ratio_at_the_seam():
    frame = ratios("IWM", WEEK_DATES, [1.0] * 5, [0.98] * 5)
    (verdict,) = judge_overlap(frame, MONDAY)
    assert verdict.ticker == "IWM"
    assert verdict.factors == {"adj_close": 0.98}  # close kept its basis: not rescaled
    assert verdict.overlap[-1] == dt.date(2026, 2, 6)


def test_ratios_within_the_tolerance_of_one_are_no_change():
    # A re-rounded file: ratios 1 +- 4e-6, inside the 1e-5 tolerance.
    frame = ratios("SPY", WEEK_DATES, [1.0] * 5, [1.000004, 0.999996, 1.0, 1.0, 1.000001])
    assert judge_overlap(frame, MONDAY) == []


def test_the_factor_is_taken_on_the_overlap_session_nearest_the_window():
    # Ratios within 1e-5 of each other: the one of 02-06, the session before the window.
    frame = ratios("IWN", WEEK_DATES, [0.98] * 5, [0.980001, 0.980002, 0.98, 0.98, 0.980004])
    (verdict,) = judge_overlap(frame, MONDAY)
    assert verdict.factors == {"close": 0.98, "adj_close": 0.980004}
    # A re-load of 02-03..02-04 compares 02-02 before the window and 02-05/06 after: the
    # seam before it, 02-02.
    (verdict,) = judge_overlap(frame, dt.date(2026, 2, 3))
    assert verdict.factors["adj_close"] == 0.980001


def test_a_factor_that_moves_across_the_overlap_is_refused_naming_the_ticker():
    # IWM re-based from 02-05 back only (0.98 up to 02-04, 1 after): not one factor.
    good = ratios("SPY", WEEK_DATES, [1.0] * 5, [0.99] * 5)
    bad = ratios("IWM", WEEK_DATES, [1.0] * 5, [0.98, 0.98, 0.98, 1.0, 1.0])
    with pytest.raises(VendorRebaseError) as err:
        judge_overlap(pd.concat([good, bad]), MONDAY)
    message = str(err.value)
    assert "IWM (adj_close file/stored: 2026-02-02 adj_close=0.98" in message
    assert "2026-02-06 adj_close=1;" not in message and "2026-02-06 adj_close=1)" in message
    assert "SPY" not in message  # a constant factor is not refused


def test_the_overlap_is_five_sessions_each_side_on_the_nyse_calendar():
    before, after = overlap_sessions([MONDAY])
    assert OVERLAP_SESSIONS == 5
    assert before == [dt.date.fromisoformat(d) for d in WEEK_DATES]
    # 2026-02-16 is Presidents' Day: the fifth session after 02-09 is 02-17.
    assert after == [
        dt.date(2026, 2, 10),
        dt.date(2026, 2, 11),
        dt.date(2026, 2, 12),
        dt.date(2026, 2, 13),
        dt.date(2026, 2, 17),
    ]


# ---- through the pipeline: a daily load after the vendor re-based IWM -----------------------

# IWM by hand. The first load (WEEK) stores the old file; the vendor then re-bases for a
# dividend going ex on 02-09 (every earlier adj_close x 0.98) and the daily load of 02-09
# reads the new file.
IWM_CLOSE = [100.0, 101.0, 102.0, 103.0, 104.0]
IWM_OLD_ADJ = [50.0, 50.5, 51.0, 51.5, 52.0]
# 0.98 x the old values: 49, 49.49, 49.98, 50.47, 50.96.
IWM_NEW_ADJ = [49.0, 49.49, 49.98, 50.47, 50.96]
# 02-09: the true total return is +1%: 50.96 x 1.01 = 51.4696; the close drops 1% (the
# dividend): 104 x 0.99 = 102.96.
MONDAY_CLOSE, MONDAY_ADJ = 102.96, 51.4696


def write_iwm(folder, adj: list[float], monday: bool) -> None:
    dates, close = list(WEEK_DATES), list(IWM_CLOSE)
    adj = list(adj)
    if monday:
        dates.append(MONDAY.isoformat())
        close.append(MONDAY_CLOSE)
        adj.append(MONDAY_ADJ)
    frame = pd.DataFrame(
        {"date": dates, "open": close, "high": close, "low": close, "close": close}
    )
    frame["adj_close"] = adj
    frame["volume"] = 1000.0
    frame.to_csv(folder / "IWM.csv", index=False)
    clear_price_file_cache()


@pytest.fixture
def iwm_week(csv_week, instance):  # noqa: F811
    """The week loaded with IWM's hand-made old file; the folder then holds every ticker's
    file through 02-09 (demo bars, unchanged before 02-09)."""
    defs, folder, db = csv_week
    write_iwm(folder, IWM_OLD_ADJ, monday=False)
    assert execute_range(defs, *WEEK, instance, "test").success
    write_demo_csvs(folder, WEEK[0], MONDAY)
    return defs, folder, db


def tables(db: str) -> dict[str, pd.DataFrame]:
    """Every table of the warehouse, sorted, to compare before and after a load."""
    with duckdb.connect(db, read_only=True) as con:
        names = [
            f"{schema}.{name}"
            for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
            ).fetchall()
        ]
        return {n: con.execute(f"SELECT * FROM {n} ORDER BY ALL").df() for n in names}


def test_a_file_rebased_between_two_loads_is_rebased_and_the_seam_return_is_true(
    iwm_week, instance
):
    defs, folder, db = iwm_week
    write_iwm(folder, IWM_NEW_ADJ, monday=True)

    result = execute_range(defs, MONDAY, MONDAY, instance, "test")

    assert result.success, failure_messages(result)
    with duckdb.connect(db, read_only=True) as con:
        stored = con.execute(
            "SELECT close, adj_close FROM raw.prices WHERE ticker = 'IWM' ORDER BY trade_date"
        ).df()
        returns = con.execute(
            "SELECT trade_date, total_return, price_return FROM analytics.daily_returns "
            "WHERE ticker = 'IWM' ORDER BY trade_date"
        ).df()
        load = con.execute(
            "SELECT first_session, last_session, rows_changed FROM raw.price_loads "
            "ORDER BY load_id DESC LIMIT 1"
        ).fetchone()
    # The stored history is on the new basis: 50 x 0.98 = 49, ..., 52 x 0.98 = 50.96; the
    # close kept its basis.
    assert list(stored["adj_close"]) == pytest.approx([*IWM_NEW_ADJ, MONDAY_ADJ], rel=1e-12)
    assert list(stored["close"]) == [*IWM_CLOSE, MONDAY_CLOSE]
    # The seam: 51.4696 / 50.96 - 1 = 0.01 (against the stored 52 it would be
    # 51.4696 / 52 - 1 = 1.01 x 0.98 - 1 = -0.0102). Price return 102.96 / 104 - 1 = -0.01.
    monday = returns.iloc[-1]
    assert monday["trade_date"] == pd.Timestamp(MONDAY)
    assert monday["total_return"] == pytest.approx(0.01, abs=1e-12)
    assert monday["price_return"] == pytest.approx(-0.01, abs=1e-12)
    # Returns inside the rescaled history are unchanged: 50.5 / 50 - 1 = 49.49 / 49 - 1 = 0.01.
    assert returns["total_return"].iloc[0] == pytest.approx(0.01, abs=1e-12)
    # The load starts at the first rescaled session (the analytics rebuild from there) and
    # counts the 5 rescaled rows with the 24 new ones.
    assert load == (dt.date(2026, 2, 2), MONDAY, 24 + 5)
    (materialization,) = [
        m
        for m in result.asset_materializations_for_node("raw_prices")
        if m.asset_key.to_user_string() == "raw/prices"
    ]
    note = materialization.metadata["rebased"].value
    assert "IWM" in note and "0.98" in note and "2026-02-02" in note and "2026-02-06" in note
    assert _logged(
        instance,
        result,
        "IWM: vendor re-based its history (adj_close x 0.98, constant on the 5 overlapping "
        "session(s) 2026-02-02..2026-02-06); 5 stored row(s) 2026-02-02..2026-02-06 rescaled",
    )


def _logged(instance, result, text: str) -> bool:
    records = instance.all_logs(result.run_id)
    return any(text in (r.user_message or "") for r in records)


def test_a_change_that_is_not_one_factor_is_refused_and_nothing_is_written(iwm_week, instance):
    defs, folder, db = iwm_week
    # Re-based from 02-05 back only: 02-02..02-04 x 0.98, 02-05 and 02-06 as stored.
    write_iwm(folder, [*IWM_NEW_ADJ[:3], *IWM_OLD_ADJ[3:]], monday=True)
    before = tables(db)

    result = execute_range(defs, MONDAY, MONDAY, instance, "test")

    assert not result.success
    (message,) = failure_messages(result)
    assert "no constant factor" in message and "IWM (adj_close file/stored:" in message
    after = tables(db)
    assert after.keys() == before.keys()
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)


def test_an_unchanged_file_is_compared_and_nothing_is_rescaled(iwm_week, instance):
    defs, folder, db = iwm_week
    write_iwm(folder, IWM_OLD_ADJ, monday=True)  # same basis, one more session

    result = execute_range(defs, MONDAY, MONDAY, instance, "test")

    assert result.success, failure_messages(result)
    with duckdb.connect(db, read_only=True) as con:
        load = con.execute(
            "SELECT first_session, rows_changed FROM raw.price_loads ORDER BY load_id DESC LIMIT 1"
        ).fetchone()
    assert load == (MONDAY, 24)


# ---- the rescaling, on a warehouse table --------------------------------------------------


def warehouse_with(rows: list[tuple[str, str, float, float, str]]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse whose raw.prices holds ``rows`` (date, ticker, close, adj_close,
    source), open/high/low equal to close."""
    con = duckdb.connect()
    frame = pd.DataFrame(rows, columns=["trade_date", "ticker", "close", "adj_close", "source"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    frame = frame.assign(open=frame["close"], high=frame["close"], low=frame["close"])
    frame["volume"] = 1000.0
    frame["loaded_at"] = pd.Timestamp("2026-02-06 23:00")
    frame = RAW_PRICES.conform(frame)
    ensure_table(con, RAW_PRICES)
    con.register("rows", frame)
    con.execute("INSERT INTO raw.prices BY NAME SELECT * FROM rows")
    con.unregister("rows")
    return con


def delivered_bars(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["trade_date", "ticker", "close", "adj_close"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame


def test_a_middle_reload_rescales_the_stored_rows_on_both_sides_of_its_window():
    # Stored: IWM 02-02..02-06 (csv), adj_close 50, 51, 52, 53, 54; SPY's rows of another
    # source on the same sessions. The file, re-based x 0.98, is re-loaded for 02-04 only: the
    # overlap is 02-02, 02-03 before and 02-05, 02-06 after, each at 0.98 (49/50 = 49.98/51
    # = 51.94/53 = 52.92/54 = 0.98).
    con = warehouse_with(
        [(d, "IWM", 100.0, 50.0 + i, "csv") for i, d in enumerate(WEEK_DATES)]
        + [(d, "SPY", 500.0, 400.0, "yfinance") for d in WEEK_DATES]
    )
    delivered = delivered_bars(
        [
            ("2026-02-02", "IWM", 100.0, 49.0),
            ("2026-02-03", "IWM", 100.0, 49.98),
            ("2026-02-05", "IWM", 100.0, 51.94),
            ("2026-02-06", "IWM", 100.0, 52.92),
            ("2026-02-02", "SPY", 500.0, 392.0),  # SPY stored by yfinance: not compared
        ]
    )
    con.register("delivered", delivered)
    window = (dt.date(2026, 2, 4), dt.date(2026, 2, 4))
    loaded_at = dt.datetime(2026, 2, 9, 23, 0)

    (done,) = rebase_stored_history(con, "raw.prices", "delivered", window, "csv", loaded_at)

    assert (done.ticker, done.close_factor) == ("IWM", 1.0)
    assert done.adj_close_factor == pytest.approx(0.98, rel=1e-12)  # 49.98 / 51, at the seam
    assert (done.first_session, done.last_session, done.rows) == (
        dt.date(2026, 2, 2),
        dt.date(2026, 2, 6),
        4,
    )
    stored = con.execute(
        "SELECT ticker, adj_close, close, loaded_at FROM raw.prices ORDER BY ticker, trade_date"
    ).df()
    iwm = stored[stored["ticker"] == "IWM"]
    # 50, 51 x 0.98 = 49, 49.98; 02-04 (the window's own row, replaced by the load) as it was;
    # 53, 54 x 0.98 = 51.94, 52.92.
    assert list(iwm["adj_close"]) == pytest.approx([49.0, 49.98, 52.0, 51.94, 52.92], rel=1e-12)
    assert list(iwm["close"]) == [100.0] * 5
    assert (
        list(iwm["loaded_at"])
        == [pd.Timestamp(loaded_at)] * 2
        + [pd.Timestamp("2026-02-06 23:00")]
        + [pd.Timestamp(loaded_at)] * 2
    )
    spy = stored[stored["ticker"] == "SPY"]
    assert list(spy["adj_close"]) == [400.0] * 5


def test_a_refused_comparison_changes_no_stored_row():
    con = warehouse_with([(d, "IWM", 100.0, 50.0, "csv") for d in WEEK_DATES])
    before = con.execute("SELECT * FROM raw.prices ORDER BY ALL").df()
    # An adjusted-only file whose close moved by 0.98 on 02-02..02-04 and not after.
    delivered = delivered_bars(
        [(d, "IWM", 98.0 if d < "2026-02-05" else 100.0, 50.0) for d in WEEK_DATES]
    )
    con.register("delivered", delivered)
    with pytest.raises(VendorRebaseError, match=r"IWM \(close file/stored: 2026-02-02 close=0.98"):
        rebase_stored_history(
            con, "raw.prices", "delivered", (MONDAY, MONDAY), "csv", dt.datetime(2026, 2, 9)
        )
    pd.testing.assert_frame_equal(con.execute("SELECT * FROM raw.prices ORDER BY ALL").df(), before)


def test_a_source_that_records_actions_stages_no_overlap_and_csv_stages_it_apart(tmp_path):
    # The demo source (one basis per file, like csv) is read on the overlap sessions around a
    # daily window too; they are staged apart from the window's rows. A source recording dividends
    # and splits (yfinance) is not compared: nothing staged apart.
    universe = load_universe()
    sessions = [MONDAY]
    staged = stage_price_window(
        DemoPriceSource(), universe, sessions, dt.datetime(2026, 2, 9), tmp_path / "a"
    )
    with duckdb.connect() as con:
        window_dates = con.execute(f"SELECT DISTINCT trade_date FROM {staged.prices}").fetchall()
        overlap_dates = con.execute(
            f"SELECT DISTINCT trade_date FROM {staged.overlap} ORDER BY 1"
        ).fetchall()
    assert window_dates == [(MONDAY,)]
    # The 5 sessions before 02-09 and, since the demo path runs on, the 5 after it.
    assert [d for (d,) in overlap_dates] == [
        *(dt.date.fromisoformat(d) for d in WEEK_DATES),
        *overlap_sessions(sessions)[1],
    ]

    class WithActions(DemoPriceSource):
        @property
        def records_actions(self) -> bool:
            return True

        def fetch(self, tickers, start, end, with_history=frozenset()):
            assert (start, end) == (MONDAY, MONDAY)  # no overlap read
            bars = super().fetch(tickers, start, end, with_history)
            return bars.assign(dividend=0.0, split_ratio=1.0)

    staged = stage_price_window(
        WithActions(), universe, sessions, dt.datetime(2026, 2, 9), tmp_path / "b"
    )
    assert staged.overlap is None
