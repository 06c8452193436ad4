import pandas as pd
import pytest

from rotation_assets.metrics.event_windows import EVENT_WINDOWS, event_windows, event_windows_spec
from rotation_assets.reference.market_events import MARKET_EVENTS, load_market_events
from rotation_assets.reference.seed_files import SeedError

HEADER = "event_id,name,start_date,end_date,description,source\n"


def test_real_market_events_seed_loads_with_the_commentary_events():
    events = load_market_events().set_index("event_id")
    day = pd.Timestamp
    expected = {
        "fed_chair_nomination": ("2026-01-30", "2026-01-30"),
        "silver_crash": ("2026-01-30", "2026-01-30"),
        "ai_disruption_selloff": ("2026-02-03", "2026-02-04"),
        "trade_deal_capex_reaction": ("2026-02-06", "2026-02-06"),
    }
    for event_id, (start, end) in expected.items():
        assert events.at[event_id, "start_date"] == day(start)
        assert events.at[event_id, "end_date"] == day(end)
    assert len(events) >= 5
    assert (events["source"] != "").all()
    assert list(events.reset_index().columns) == MARKET_EVENTS.column_names


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("e1,E,2026-02-30,2026-03-01,d,s\n", r"line 2: start_date '2026-02-30' is not YYYY-MM-DD"),
        ("e1,E,2026-02-03,2026-02-04,d,s\ne2,E,2026-02-05,5/2/2026,d,s\n", r"line 3: end_date"),
        ("e1,E,2026-02-03,2026-02-04,d,s\ne2,E,2026-02-06,2026-02-05,d,s\n", r"line 3: start_date"),
        ("e1,E,2026-02-03,2026-02-04,d,s\ne1,E,2026-02-03,2026-02-04,d,s\n", r"line 3: duplicate"),
        ("e1,E,2026-02-03,2026-02-04,d,\n", r"line 2: empty source"),
    ],
)
def test_broken_events_seed_names_file_and_line(tmp_path, body, message):
    path = tmp_path / "market_events.csv"
    path.write_text(HEADER + body)
    with pytest.raises(SeedError, match=r"market_events\.csv " + message):
        load_market_events(path)


def test_events_seed_without_a_column_is_refused(tmp_path):
    path = tmp_path / "market_events.csv"
    path.write_text("event_id,name,start_date,end_date,description\ne1,E,2026-02-03,2026-02-03,d\n")
    with pytest.raises(SeedError, match=r"market_events\.csv: missing columns \['source'\]"):
        load_market_events(path)


UNIVERSE = pd.DataFrame(
    {
        "ticker": ["IWM", "SPY", "AAA", "BBB", "DDD"],
        "role": ["small_cap", "large_cap", "stock", "stock", "stock"],
    }
)


def _returns(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["trade_date", "ticker", "price_return", "total_return"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    frame["source"] = "csv"
    return frame


# Sessions 2026-02-02 (Mon) .. 2026-02-05 (Thu). BBB lists on 02-03, so its first return is on
# 02-04; DDD only trades on 02-05; CCC is not in the universe.
RETURNS = _returns(
    [
        ("2026-02-02", "IWM", 0.50, 0.50),  # before every window: must be ignored
        ("2026-02-03", "IWM", 0.10, 0.10),
        ("2026-02-04", "IWM", -0.10, -0.10),
        ("2026-02-05", "IWM", 0.00, float("nan")),
        ("2026-02-03", "SPY", 0.05, 0.05),
        ("2026-02-04", "SPY", 0.00, 0.00),
        ("2026-02-05", "SPY", 0.01, 0.01),
        ("2026-02-03", "AAA", 0.20, 0.20),
        ("2026-02-04", "AAA", 0.00, 0.05),
        ("2026-02-05", "AAA", 0.01, 0.01),
        ("2026-02-04", "BBB", 0.02, 0.02),
        ("2026-02-05", "BBB", -0.03, -0.03),
        ("2026-02-05", "DDD", 0.30, 0.30),
        ("2026-02-03", "CCC", 0.90, 0.90),
        ("2026-02-04", "CCC", 0.90, 0.90),
    ]
)

EVENTS = pd.DataFrame(
    {
        "event_id": ["tie_day", "weekend", "two_days"],
        "start_date": pd.to_datetime(["2026-02-05", "2026-02-07", "2026-02-03"]),
        "end_date": pd.to_datetime(["2026-02-05", "2026-02-08", "2026-02-04"]),
    }
)


def _row(frame: pd.DataFrame, event_id: str, ticker: str) -> pd.Series:
    match = frame[(frame["event_id"] == event_id) & (frame["ticker"] == ticker)]
    assert len(match) == 1, (event_id, ticker)
    return match.iloc[0]


def test_event_windows_compound_relate_and_rank():
    result = event_windows(EVENTS, RETURNS, UNIVERSE)
    assert list(result.columns) == EVENT_WINDOWS.column_names

    # two_days = 02-03..02-04 (listed last but starts first, so it comes first):
    #   IWM 1.10 * 0.90 - 1 = -0.01; SPY 1.05 * 1.00 - 1 = 0.05
    #   AAA price 1.20 * 1.00 - 1 = 0.20, total 1.20 * 1.05 - 1 = 0.26
    #   BBB only 02-04: 0.02 (measured from its first close, 02-03); DDD none; CCC not in universe
    two = result[result["event_id"] == "two_days"]
    assert list(two["ticker"]) == ["AAA", "SPY", "BBB", "IWM"]  # best first
    assert list(two["rank"]) == [1, 2, 3, 4]
    aaa = _row(result, "two_days", "AAA")
    assert aaa["price_return"] == pytest.approx(0.20)
    assert aaa["total_return"] == pytest.approx(0.26)
    assert aaa["vs_iwm"] == pytest.approx(0.26 - (-0.01))  # 0.27
    assert aaa["vs_spy"] == pytest.approx(0.26 - 0.05)  # 0.21
    assert aaa["role"] == "stock"
    assert (aaa["first_session"], aaa["last_session"], aaa["sessions"]) == (
        pd.Timestamp("2026-02-03"),
        pd.Timestamp("2026-02-04"),
        2,
    )
    iwm = _row(result, "two_days", "IWM")
    assert iwm["total_return"] == pytest.approx(-0.01)
    assert iwm["vs_iwm"] == 0.0
    assert iwm["vs_spy"] == pytest.approx(-0.06)
    bbb = _row(result, "two_days", "BBB")
    assert bbb["first_session"] == pd.Timestamp("2026-02-04")
    assert bbb["sessions"] == 1
    assert bbb["total_return"] == pytest.approx(0.02)
    assert bbb["vs_spy"] == pytest.approx(-0.03)
    assert "CCC" not in set(result["ticker"])
    assert "DDD" not in set(two["ticker"])

    # The weekend has no sessions: no rows at all.
    assert "weekend" not in set(result["event_id"])


def test_null_returns_and_ties_in_an_event():
    result = event_windows(EVENTS, RETURNS, UNIVERSE)
    # tie_day = 02-05: DDD 0.30, AAA 0.01, SPY 0.01 (tie: both rank 2), BBB -0.03 (rank 4),
    # IWM's total return is NaN: no total return, no rank, and every vs_iwm is null.
    tie = result[result["event_id"] == "tie_day"].set_index("ticker")
    assert tie.loc["DDD", "rank"] == 1
    assert tie.loc["AAA", "rank"] == 2
    assert tie.loc["SPY", "rank"] == 2
    assert tie.loc["BBB", "rank"] == 4
    assert pd.isna(tie.loc["IWM", "rank"])
    assert pd.isna(tie.loc["IWM", "total_return"])
    assert tie.loc["IWM", "price_return"] == 0.0
    assert tie["vs_iwm"].isna().all()
    assert tie.loc["DDD", "vs_spy"] == pytest.approx(0.29)
    assert list(tie.index)[-1] == "IWM"  # null rank sorts last


def test_other_benchmarks_name_their_columns():
    result = event_windows(EVENTS, RETURNS, UNIVERSE, benchmarks=("SPY",))
    assert list(result.columns) == event_windows_spec(("SPY",)).column_names
    assert "vs_spy" in result.columns and "vs_iwm" not in result.columns


def test_no_events_gives_an_empty_table():
    result = event_windows(EVENTS.iloc[0:0], RETURNS, UNIVERSE)
    assert result.empty
    assert list(result.columns) == EVENT_WINDOWS.column_names


def test_source_is_the_combined_source_of_the_rows_in_the_window():
    result = event_windows(EVENTS, RETURNS, UNIVERSE)
    assert (result["source"] == "csv").all()
    # A synthetic AAA return on 02-04 marks AAA's two_days row only: not tie_day (02-05), not
    # another ticker; IWM's synthetic 02-02 return lies before every window and marks nothing.
    mixed = RETURNS.copy()
    aaa_0204 = (mixed["ticker"] == "AAA") & (mixed["trade_date"] == pd.Timestamp("2026-02-04"))
    mixed.loc[aaa_0204 | (mixed["trade_date"] == pd.Timestamp("2026-02-02")), "source"] = (
        "synthetic"
    )
    result = event_windows(EVENTS, mixed, UNIVERSE).set_index(["event_id", "ticker"])
    assert result.loc[("two_days", "AAA"), "source"] == "csv+synthetic"
    assert (result["source"].drop(("two_days", "AAA")) == "csv").all()
