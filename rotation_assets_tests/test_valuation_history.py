"""analytics.valuation_history: percentiles and publication lags by hand, what a view as of a
session may use, and the raw.shiller_monthly load (only when its bytes change)."""

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster import materialize

from rotation_assets.defs.valuation.assets import SHILLER_LOADS_KEY, shiller_monthly
from rotation_assets.defs.valuation.sources import ShillerFileSource, ShillerWorkbookSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.metrics.valuation_history import (
    VALUATION_HISTORY,
    cape_usable_from,
    earnings_usable_from,
    expanding_percentile,
    standing_sql,
    trailing_window_percentile,
    valuation_history,
)
from rotation_assets.sources.shiller_csv import DEFAULT_SHILLER_FILE
from rotation_assets.sources.shiller_monthly import SHILLER_FIELDS, SHILLER_LOADS, SHILLER_MONTHLY

D = pd.Timestamp
NAN = math.nan


# --- the percentile, by hand -----------------------------------------------------------------


def test_trailing_window_percentile_by_hand():
    values = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    # Window of 3 months ending with each month; share of the window <= the month's value:
    # i=2: [3, 1, 2] vs 2 -> 1, 2 -> 2/3; i=3: [1, 2, 2] vs 2 -> 3/3 (ties count);
    # i=4: [2, 2, 5] vs 5 -> 3/3. Before a full window (i < 2): none.
    out = trailing_window_percentile(values, 3)
    assert np.isnan(out[:2]).all()
    assert out[2:].tolist() == [2 / 3, 1.0, 1.0]


def test_trailing_window_percentile_needs_every_month_of_the_window():
    values = np.array([NAN, 1.0, 2.0, 0.5, NAN])
    # i=2: [nan, 1, 2] has a hole -> none; i=3: [1, 2, 0.5] vs 0.5 -> 1/3; i=4: own value nan.
    out = trailing_window_percentile(values, 3)
    assert np.isnan(out[[0, 1, 2, 4]]).all()
    assert out[3] == 1 / 3
    assert np.isnan(trailing_window_percentile(values[:2], 3)).all()  # shorter than a window


def test_expanding_percentile_by_hand():
    values = np.array([9.0, 3.0, 1.0, 2.0, 2.0, 5.0, NAN])
    # From index 1 (the 9 before it is outside): i=1: [3] -> 1; i=2: [3, 1] vs 1 -> 1/2;
    # i=3: [3, 1, 2] vs 2 -> 2/3; i=4: [3, 1, 2, 2] vs 2 -> 3/4; i=5: all 5 <= 5 -> 1.
    out = expanding_percentile(values, first=1)
    assert np.isnan(out[0]) and np.isnan(out[6])
    assert out[1:6].tolist() == [1.0, 1 / 2, 2 / 3, 3 / 4, 1.0]


def test_expanding_percentile_counts_only_months_with_a_value():
    values = np.array([2.0, NAN, 1.0, 3.0])
    # i=2: known [2, 1] vs 1 -> 1/2; i=3: known [2, 1, 3] vs 3 -> 3/3.
    assert expanding_percentile(values, first=0)[[0, 2, 3]].tolist() == [1.0, 1 / 2, 1.0]


# --- the lags --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "cape_from", "row_from"),
    [
        # Feb 1 2026 is a Sunday; Q1 ends in March: its earnings from June 1 (a Monday).
        ("2026-01", "2026-02-02", "2026-06-01"),
        ("2026-03", "2026-04-01", "2026-06-01"),
        # Q4 2025 months: March 1 2026 is a Sunday -> March 2; Jan 1 2026 is a holiday -> Jan 2.
        ("2025-10", "2025-11-03", "2026-03-02"),
        ("2025-12", "2026-01-02", "2026-03-02"),
        # Q3: from December 1 (a Monday in 2025).
        ("2025-07", "2025-08-01", "2025-12-01"),
        # Q2: from September 1 -- Labor Day 2025 -- so September 2.
        ("2025-06", "2025-07-01", "2025-09-02"),
        # Before the project's calendar (1989): the first weekday. 1881-02-01 is a Tuesday.
        ("1881-01", "1881-02-01", "1881-06-01"),
    ],
)
def test_usable_from_by_hand(month, cape_from, row_from):
    months = pd.Series([D(f"{month}-01")])
    assert cape_usable_from(months)[0] == D(cape_from)
    assert earnings_usable_from(months)[0] == D(row_from)


# --- the table -------------------------------------------------------------------------------


def shiller_rows(months: list[str], cape: list[float], pe: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame({"month": pd.to_datetime([f"{m}-01" for m in months])})
    for field in SHILLER_FIELDS:
        frame[field] = 1.0
    frame["cape"], frame["trailing_pe"] = cape, pe
    frame["source"] = "Robert Shiller via test.csv"
    return frame


def test_history_rows_by_hand_with_a_3_month_window():
    raw = shiller_rows(
        ["1880-11", "1880-12", "1881-01", "1881-02", "1881-03"],
        cape=[NAN, NAN, 20.0, 18.0, 19.0],
        pe=[10.0, 12.0, 11.0, 12.0, 9.0],
    )
    # Shuffled on purpose: rows come back by month.
    history = valuation_history(raw.iloc[[3, 0, 4, 2, 1]], window_months=3)
    assert list(history.columns) == VALUATION_HISTORY.column_names
    assert list(history["month"]) == list(raw["month"])
    # CAPE over 3 months: only 1881-03 has 3 CAPEs: [20, 18, 19] vs 19 -> 2/3.
    assert history["cape_percentile_25y"].isna().tolist() == [True, True, True, True, False]
    assert history["cape_percentile_25y"].iloc[4] == 2 / 3
    # CAPE since 1881-01: [20] -> 1; [20, 18] vs 18 -> 1/2; [20, 18, 19] vs 19 -> 2/3.
    assert history["cape_percentile_since_1881"].tolist()[2:] == [1.0, 1 / 2, 2 / 3]
    # P/E over 3 months: 1881-01 [10, 12, 11] vs 11 -> 2/3; 1881-02 [12, 11, 12] vs 12 -> 1;
    # 1881-03 [11, 12, 9] vs 9 -> 1/3.
    assert history["trailing_pe_percentile_25y"].tolist()[2:] == [2 / 3, 1.0, 1 / 3]
    # P/E since 1881-01 (1880's months are outside): [11] 1; [11, 12] vs 12 -> 1;
    # [11, 12, 9] vs 9 -> 1/3; nothing before 1881.
    assert history["trailing_pe_percentile_since_1881"].isna().tolist()[:2] == [True, True]
    assert history["trailing_pe_percentile_since_1881"].tolist()[2:] == [1.0, 1.0, 1 / 3]
    assert history["cape_usable_from"].iloc[4] == D("1881-04-01")
    assert history["usable_from"].iloc[4] == D("1881-06-01")
    assert (history["source"] == "Robert Shiller via test.csv").all()


def test_no_months_give_an_empty_table():
    history = valuation_history(SHILLER_MONTHLY.empty())
    assert history.empty and list(history.columns) == VALUATION_HISTORY.column_names


def standing(history: pd.DataFrame, session: str) -> dict:
    with duckdb.connect() as con:
        con.register("history", history)
        return con.execute(standing_sql(f"DATE '{session}'", "history")).df().iloc[0].to_dict()


def test_a_view_as_of_a_session_uses_only_months_usable_by_then():
    raw = shiller_rows(
        ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01"],
        cape=[38.0, 39.0, 39.5, 40.0, 41.0],
        pe=[27.0, 28.0, 29.0, 30.0, NAN],
    )
    history = valuation_history(raw, window_months=2)
    # 2026-02-13: CAPE of 2026-01 (usable from 2026-02-02); P/E of Q3's 2025-09 (from
    # 2025-12-01), Q4's from 2026-03-02 only.
    row = standing(history, "2026-02-13")
    assert (row["cape_month"], row["cape"]) == (D("2026-01-01"), 41.0)
    assert (row["trailing_pe_month"], row["trailing_pe"]) == (D("2025-09-01"), 27.0)
    assert (row["cape_usable_from"], row["trailing_pe_usable_from"]) == (
        D("2026-02-02"),
        D("2025-12-01"),
    )
    # CAPE 2026-01 over 2 months: [40, 41] vs 41 -> 1; P/E 2025-09 has no 2-month window.
    assert row["cape_percentile_25y"] == 1.0 and np.isnan(row["trailing_pe_percentile_25y"])
    # The session before 2026-02-02: 2025-12's CAPE.
    assert standing(history, "2026-01-30")["cape_month"] == D("2025-12-01")
    # From 2026-03-02 Q4 is usable: 2025-12's P/E 30 ([29, 30] vs 30 -> 1).
    row = standing(history, "2026-03-02")
    assert (row["trailing_pe_month"], row["trailing_pe"]) == (D("2025-12-01"), 30.0)
    assert row["trailing_pe_percentile_25y"] == 1.0
    # Before any month is usable: nothing.
    row = standing(history, "2025-09-30")
    assert pd.isna(row["cape_month"]) and pd.isna(row["trailing_pe_month"])


@pytest.mark.skipif(not DEFAULT_SHILLER_FILE.exists(), reason=f"{DEFAULT_SHILLER_FILE} is absent")
def test_real_history_as_of_the_2026_02_13_report():
    from rotation_assets.sources.shiller_csv import parse_shiller_csv, read_shiller_file

    history = valuation_history(parse_shiller_csv(read_shiller_file(DEFAULT_SHILLER_FILE)))
    # CAPE's record (December 1999, 44.20) is at the top of both windows.
    top = history.loc[history["cape"].idxmax()]
    assert top["month"] == D("1999-12-01") and round(top["cape"], 2) == 44.2
    assert top["cape_percentile_25y"] == 1.0 and top["cape_percentile_since_1881"] == 1.0
    # The 25-year window first fills in 1905-12 (CAPE starts 1881-01: 300 months later).
    # Row 419 = 1871-01 + 419 months = 1905-12 = 1881-01 + 299 months.
    assert history["cape_percentile_25y"].first_valid_index() == 419
    assert history.at[419, "month"] == D("1905-12-01")
    row = standing(history, "2026-02-13")
    # PROVENANCE.md: 2026-01 CAPE 39.59; the P/E is September 2025's (Q3, usable 2025-12-01).
    assert row["cape_month"] == D("2026-01-01") and round(row["cape"], 2) == 39.59
    assert row["trailing_pe_month"] == D("2025-09-01")


# --- the load --------------------------------------------------------------------------------

HEADER = "month,sp500_price,dividend_12m,earnings_12m,cpi,gs10,trailing_pe,cape,tr_cape\n"
ROWS = (
    "2026-01,6929.1,79.7,261.1,325.3,4.2,26.5,39.6,42.3\n"
    "2026-02,6893.8,79.8,269.1,326.8,4.1,25.6,38.9,41.6\n"
)


@pytest.fixture
def warehouse(tmp_path) -> DuckDBWarehouse:
    return DuckDBWarehouse(database=str(tmp_path / "w.duckdb"), lock_wait_seconds=2)


def load(warehouse, source):
    result = materialize(
        [shiller_monthly],
        resources={"warehouse": warehouse, "shiller_source": source},
        raise_on_error=False,
    )
    notes = {
        e.materialization.asset_key: e.materialization.metadata["load"].value
        for e in result.get_asset_materialization_events()
    }
    return result, notes


def stored(warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        warehouse.query(f"SELECT * FROM {SHILLER_MONTHLY.qualified_name} ORDER BY month"),
        warehouse.query(f"SELECT * FROM {SHILLER_LOADS.qualified_name} ORDER BY load_id"),
    )


def test_the_file_is_loaded_once_and_again_only_when_it_changes(tmp_path, warehouse):
    path = tmp_path / "shiller.csv"
    path.write_text(HEADER + ROWS)
    source = ShillerFileSource(path=str(path))

    result, notes = load(warehouse, source)
    assert result.success
    rows, loads = stored(warehouse)
    assert rows["month"].tolist() == [D("2026-01-01"), D("2026-02-01")]
    assert rows["cape"].tolist() == [39.6, 38.9]
    assert loads[["load_id", "months", "rows_changed"]].values.tolist() == [[1, 2, 2]]
    assert loads.at[0, "origin"] == str(path)

    # The same bytes again: nothing parsed, nothing written, no new load.
    result, notes = load(warehouse, source)
    assert result.success
    assert notes[SHILLER_LOADS_KEY].startswith("unchanged since load 1 (md5 ")
    assert stored(warehouse)[0].equals(rows) and len(stored(warehouse)[1]) == 1

    # One value revised: load 2 changes one row; the other keeps its loaded_at.
    path.write_text(HEADER + ROWS.replace("38.9", "39.0"))
    result, notes = load(warehouse, source)
    assert result.success
    after, loads = stored(warehouse)
    assert loads[["load_id", "rows_changed"]].values.tolist() == [[1, 2], [2, 1]]
    assert after["cape"].tolist() == [39.6, 39.0]
    assert after.at[0, "loaded_at"] == rows.at[0, "loaded_at"]
    assert after.at[1, "loaded_at"] > rows.at[1, "loaded_at"]


def test_a_malformed_file_fails_naming_the_line_and_writes_nothing(tmp_path, warehouse):
    path = tmp_path / "shiller.csv"
    path.write_text(HEADER + ROWS)
    assert load(warehouse, ShillerFileSource(path=str(path)))[0].success
    before = stored(warehouse)
    path.write_text(HEADER + ROWS.replace("2026-02", "2026-14"))
    result, _ = load(warehouse, ShillerFileSource(path=str(path)))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert f"{path} line 3 column month: '2026-14' is not a YYYY-MM month" in message
    after = stored(warehouse)
    assert after[0].equals(before[0]) and after[1].equals(before[1])


def test_an_absent_default_file_loads_nothing_and_says_so(tmp_path, warehouse):
    missing = tmp_path / "absent.csv"
    result, notes = load(warehouse, ShillerFileSource(path=str(missing), optional=True))
    assert result.success
    assert notes[SHILLER_LOADS_KEY] == (
        f"nothing loaded: no Shiller file at {missing} (set ROTATION_SHILLER_FILE to load one)"
    )
    rows, loads = stored(warehouse)
    assert rows.empty and loads.empty
    # Named explicitly, the same absent file is an error.
    result, _ = load(warehouse, ShillerFileSource(path=str(missing)))
    assert not result.success


def test_the_workbook_source_loads_through_the_same_asset(tmp_path, warehouse):
    from rotation_assets_tests.test_shiller_sources import workbook_rows, write_workbook

    path = tmp_path / "ie_data.xls"
    path.write_bytes(write_workbook(workbook_rows()))
    result, _ = load(warehouse, ShillerWorkbookSource(url=str(path)))
    assert result.success
    rows, loads = stored(warehouse)
    assert len(rows) == 6 and rows["month"].iloc[-1] == D("1881-04-01")
    assert loads.at[0, "origin"] == str(path)
    assert rows["source"].unique().tolist() == [
        "Robert Shiller, Irrational Exuberance data (ie_data.xls, sheet Data) via ie_data.xls"
    ]


def test_the_shiller_source_is_chosen_from_the_environment(monkeypatch, tmp_path):
    from rotation_assets.defs.resources import ConfigurationError, configured_shiller_source
    from rotation_assets.sources.shiller_workbook import DEFAULT_SHILLER_URL

    for variable in ("ROTATION_SHILLER_SOURCE", "ROTATION_SHILLER_FILE", "ROTATION_SHILLER_URL"):
        monkeypatch.delenv(variable, raising=False)
    default = configured_shiller_source()
    assert isinstance(default, ShillerFileSource)
    assert (default.path, default.required) == (str(DEFAULT_SHILLER_FILE), False)
    monkeypatch.setenv("ROTATION_SHILLER_FILE", str(tmp_path / "s.csv"))
    named = configured_shiller_source().process_config_and_initialize()
    assert (named.path, named.required) == (str(tmp_path / "s.csv"), True)
    monkeypatch.setenv("ROTATION_SHILLER_SOURCE", "workbook")
    assert configured_shiller_source().url == DEFAULT_SHILLER_URL
    monkeypatch.setenv("ROTATION_SHILLER_URL", "https://example.org/ie_data.xls")
    online = configured_shiller_source().process_config_and_initialize()
    assert isinstance(online, ShillerWorkbookSource)
    assert online.url == "https://example.org/ie_data.xls"
    monkeypatch.setenv("ROTATION_SHILLER_SOURCE", "fred")
    with pytest.raises(ConfigurationError, match="'fred' is not one of file, workbook"):
        configured_shiller_source()
