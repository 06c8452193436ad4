"""``YFinancePriceSource`` through the real yfinance 1.7 code, against a faked wire.

Nothing of yfinance is replaced: its cookie and crumb handling, time-zone cache (SQLite, in a
temporary folder), response cache, JSON parsing and ``download`` run as they do against Yahoo;
only curl_cffi's ``Session.request`` answers from ``yahoo_wire.YahooWire`` (Yahoo's v8 chart
JSON built from the rows below). Each test starts from a fresh yfinance state.

The five defects of issue 10 each have a test here: a failed chart request once yfinance holds a
crumb, the response cache replaying a failure on a retry, the SQLite time-zone cache lock, a
known symbol with no bars in the window, and index volume.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from contextlib import ExitStack

import pandas as pd
import pytest
from curl_cffi.requests.exceptions import DNSError, Timeout

from rotation_assets.defs.prices.sources import YFinancePriceSource
from rotation_assets.sources.base import (
    MissingPricesError,
    RateLimitedError,
    RetryablePriceSourceError,
    SourceUnavailableError,
    UnknownTickerError,
)
from rotation_assets_tests.conftest import SHARED_PRICES, requires_shared_prices
from rotation_assets_tests.yahoo_wire import (
    CRUMB,
    PRICE_COLUMNS,
    Listing,
    YahooWire,
    install_wire,
    listing,
    listing_from_csv,
)

WEEK = (dt.date(2026, 2, 2), dt.date(2026, 2, 6))
NEXT_WEEK = (dt.date(2026, 2, 9), dt.date(2026, 2, 13))
NAN = float("nan")
CURL_DNS = (
    "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
    "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
)
CURL_TIMEOUT = "Failed to perform, curl: (28) Operation timed out after 20001 milliseconds"

# Served rows: ISO date -> (open, high, low, close, adj_close, volume). Two weeks each, so a
# second fetch (NEXT_WEEK) finds yfinance holding a cookie, a crumb and cached time zones.
SPY_ROWS = {
    "2026-02-02": (600.0, 605.0, 598.0, 604.0, 603.5, 1_000_000),
    "2026-02-03": (604.0, 610.0, 603.0, 609.0, 608.5, 1_100_000),
    "2026-02-04": (609.0, 611.0, 601.0, 602.0, 601.5, 1_200_000),
    "2026-02-05": (602.0, 606.0, 600.5, 605.5, 605.5, 900_000),
    "2026-02-06": (605.5, 607.0, 603.0, 606.0, 606.0, 950_000),
    "2026-02-09": (606.0, 608.0, 604.0, 607.0, 607.0, 800_000),
    "2026-02-10": (607.0, 609.0, 605.0, 608.0, 608.0, 810_000),
}
IWM_ROWS = {
    "2026-02-02": (250.0, 252.0, 249.0, 251.0, 250.2, 500_000),
    "2026-02-03": (251.0, 253.0, 250.0, 252.0, 251.2, 510_000),
    "2026-02-04": (252.0, 254.0, 251.0, 253.0, 252.2, 520_000),
    "2026-02-05": (253.0, 255.0, 252.0, 254.0, 253.2, 530_000),
    "2026-02-06": (254.0, 256.0, 253.0, 255.0, 254.2, 540_000),
    "2026-02-09": (255.0, 257.0, 254.0, 256.0, 255.2, 550_000),
    "2026-02-10": (256.0, 258.0, 255.0, 257.0, 256.2, 560_000),
}
# NVDA splits 2:1 on 2026-02-04 (its bars from then on are at the new basis).
NVDA_ROWS = {
    "2026-02-02": (200.0, 202.0, 199.0, 201.0, 201.0, 5_000_000),
    "2026-02-03": (201.0, 204.0, 200.0, 203.0, 203.0, 5_100_000),
    "2026-02-04": (101.0, 103.0, 100.0, 102.0, 102.0, 9_000_000),
    "2026-02-05": (102.0, 104.0, 101.0, 103.0, 103.0, 9_100_000),
    "2026-02-06": (103.0, 105.0, 102.0, 104.0, 104.0, 9_200_000),
}
# Yahoo reports 0 volume for ^RUT and none (null) for ^VIX.
FIRST_WEEK = ["2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05", "2026-02-06"]
RUT_ROWS = {
    d: (2300.0 + i, 2310.0 + i, 2290.0 + i, 2305.0 + i, 2305.0 + i, 0)
    for i, d in enumerate(FIRST_WEEK)
}
VIX_ROWS = {
    d: (17.0, 18.0, 16.5, 17.5 + i / 10, 17.5 + i / 10, NAN) for i, d in enumerate(FIRST_WEEK)
}


def spy() -> Listing:
    return listing("SPY", SPY_ROWS, "ETF", dividends={"2026-02-03": 1.85})


def iwm() -> Listing:
    return listing("IWM", IWM_ROWS, "ETF")


def nvda() -> Listing:
    return listing("NVDA", NVDA_ROWS, splits={"2026-02-04": (2, 1)})


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """``wire(*listings)`` installs a ``YahooWire`` serving them; yfinance's caches live in
    ``tmp_path`` and its in-process state is fresh, before and after."""
    with ExitStack() as stack:

        def install(*listings: Listing) -> YahooWire:
            return stack.enter_context(install_wire(monkeypatch, tmp_path / "yf", *listings))

        yield install


def served(rows: dict, day: str) -> dict:
    return dict(zip(PRICE_COLUMNS, rows[day], strict=True))


def prices_requests(wire: YahooWire) -> list:
    return wire.requests_of("chart-prices")


# --- success ---------------------------------------------------------------------------------


def test_success_values_equal_the_served_rows(wire) -> None:
    yahoo = wire(spy(), iwm(), nvda(), listing("^RUT", RUT_ROWS), listing("^VIX", VIX_ROWS))
    tickers = ["SPY", "IWM", "NVDA", "^RUT", "^VIX"]

    bars = YFinancePriceSource().fetch(tickers, *WEEK)

    assert len(bars) == 5 * 5
    assert list(bars["ticker"][:5]) == tickers  # by date, then in the order asked
    rows = {"SPY": SPY_ROWS, "IWM": IWM_ROWS, "NVDA": NVDA_ROWS, "^RUT": RUT_ROWS}
    for bar in bars.itertuples():
        day = bar.trade_date.date().isoformat()
        if bar.ticker == "^VIX":
            assert (bar.open, bar.close) == (17.0, VIX_ROWS[day][3])
            continue
        expected = served(rows[bar.ticker], day)
        got = {c: getattr(bar, c) for c in PRICE_COLUMNS}
        if bar.ticker == "^RUT":
            # Defect 5: yfinance turns ^RUT's 0 (and ^VIX's null) into volume 0; an index's 0
            # is no figure, so it is NaN here, as from the csv and demo sources.
            assert math.isnan(got.pop("volume"))
            expected.pop("volume")
        assert got == expected, (bar.ticker, day)
    assert bars.loc[bars["ticker"] == "^VIX", "volume"].isna().all()
    # Events on their ex-dates: SPY's 1.85 dividend, NVDA's 2:1 split; neutral elsewhere.
    events = bars.set_index(["ticker", bars["trade_date"].dt.strftime("%Y-%m-%d")])
    assert events.loc[("SPY", "2026-02-03"), ["dividend", "split_ratio"]].tolist() == [1.85, 1.0]
    assert events.loc[("NVDA", "2026-02-04"), ["dividend", "split_ratio"]].tolist() == [0.0, 2.0]
    assert events["dividend"].sum() == 1.85
    assert (events["split_ratio"] != 1.0).sum() == 1

    # What yfinance asked: one cookie and one crumb, then per ticker its time zone (range=1d)
    # and its bars from midnight New York on 02-02 to midnight on 02-07 (end exclusive:
    # 2026-02-02 00:00 EST = 05:00 UTC = 1770008400; +5 days = 1770440400), with the crumb.
    assert [r.kind for r in yahoo.requests[:2]] == ["cookie", "crumb"]
    assert sorted(r.symbol for r in yahoo.requests_of("chart-tz")) == sorted(tickers)
    asked = prices_requests(yahoo)
    assert sorted(r.symbol for r in asked) == sorted(tickers)
    assert {(r.params["period1"], r.params["period2"]) for r in asked} == {
        ("1770008400", "1770440400")
    }
    assert {r.params["crumb"] for r in asked} == {CRUMB}
    assert {r.params["events"] for r in asked} == {"div,splits,capitalGains"}
    # Defect 3: one thread, the caller's (yfinance's worker threads raced on its tz cache).
    assert {r.thread for r in yahoo.requests} == {threading.get_ident()}


def test_a_second_fetch_reuses_cookie_crumb_and_time_zones(wire) -> None:
    yahoo = wire(spy(), iwm())
    source = YFinancePriceSource()
    source.fetch(["SPY", "IWM"], *WEEK)
    before = len(yahoo.requests)

    bars = source.fetch(["SPY", "IWM"], *NEXT_WEEK)

    later = yahoo.requests[before:]
    # yfinance walks the tickers in set order (it varies between processes).
    assert sorted((r.kind, r.symbol) for r in later) == [
        ("chart-prices", "IWM"),
        ("chart-prices", "SPY"),
    ]
    assert {r.params["crumb"] for r in later} == {CRUMB}
    assert sorted(bars["trade_date"].dt.strftime("%Y-%m-%d").unique()) == [
        "2026-02-09",
        "2026-02-10",
    ]


@requires_shared_prices
def test_a_week_of_every_shared_instrument_comes_back_as_its_file_rows(wire) -> None:
    paths = sorted(SHARED_PRICES.glob("*.csv"))
    symbols = [p.stem.replace("_", "^", 1) if p.stem[0] == "_" else p.stem for p in paths]
    window = ("2026-02-02", "2026-02-06")  # every file has this week (EXPI ends 2026-02-11)
    yahoo = wire(*(listing_from_csv(p, s, *window) for p, s in zip(paths, symbols, strict=True)))

    bars = YFinancePriceSource().fetch(symbols, *(dt.date.fromisoformat(d) for d in window))

    expected = []
    for path, symbol in zip(paths, symbols, strict=True):
        rows = pd.read_csv(path)
        rows = rows[rows["date"].between(*window)].assign(ticker=symbol)
        if symbol.startswith("^"):  # an index's 0 is no figure; its other figures are kept
            rows["volume"] = rows["volume"].where(rows["volume"] != 0, NAN)
        expected.append(rows)
    want = pd.concat(expected).rename(columns={"date": "trade_date"})
    want["trade_date"] = pd.to_datetime(want["trade_date"])
    got = bars[want.columns].sort_values(["ticker", "trade_date"]).reset_index(drop=True)
    want = want.sort_values(["ticker", "trade_date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want.astype(got.dtypes.to_dict()), check_exact=True)
    assert len(prices_requests(yahoo)) == len(symbols)


# --- failures yfinance already reported right -------------------------------------------------


def test_a_429_on_the_chart_request_is_rate_limited(wire) -> None:
    yahoo = wire(spy(), iwm())
    # yfinance retries once after an HTTP error (with its other cookie strategy): both 429.
    yahoo.fail("chart-prices", "SPY", status=429, body="Too Many Requests", times=2)

    with pytest.raises(RateLimitedError) as raised:
        YFinancePriceSource().fetch(["SPY", "IWM"], *WEEK)

    assert str(raised.value).startswith(
        "yfinance returned no prices for ['SPY'] between 2026-02-02 and 2026-02-06: "
        "Yahoo answered HTTP 429 (Too Many Requests) to the chart price request"
    )
    assert len(prices_requests(yahoo)) == 3  # SPY twice, IWM once


def test_an_unknown_ticker_is_unknown_and_only_it_is_named(wire) -> None:
    yahoo = wire(spy())

    with pytest.raises(UnknownTickerError) as raised:
        YFinancePriceSource().fetch(["SPY", "BAD"], *WEEK)

    message = str(raised.value)
    assert message.startswith("yfinance returned no prices for ['BAD'] between 2026-02-02 and")
    assert "no timezone found" in message and "Quote not found for symbol: BAD" in message
    assert "SPY" not in message
    assert [r.answered for r in yahoo.requests_of("chart-tz", "BAD")] == ["404", "404"]
    assert yahoo.requests_of("chart-prices", "BAD") == []


def test_a_fully_unreachable_yahoo_is_source_unavailable(wire, caplog) -> None:
    yahoo = wire(spy(), iwm())
    yahoo.fail("*", raises=DNSError(CURL_DNS), times=1000)

    with pytest.raises(SourceUnavailableError) as raised:
        YFinancePriceSource().fetch(["SPY", "IWM"], *WEEK)

    message = str(raised.value)
    assert message.startswith("yfinance returned no prices for ['SPY', 'IWM'] between 2026-02-02")
    assert "Could not resolve host" in message
    assert {r.answered for r in yahoo.requests} == {"DNSError"}


# --- defect 1: a failed chart request once yfinance holds a crumb ----------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"raises": Timeout(CURL_TIMEOUT)}, "the chart price request failed: Timeout: Failed"),
        ({"raises": DNSError(CURL_DNS)}, "failed: DNSError: Failed to perform, curl: (6)"),
        ({"status": 503, "body": "<html>Service Unavailable</html>"}, "HTTP 503 (Service"),
    ],
    ids=["timeout", "dns", "http-503"],
)
def test_a_failed_chart_request_with_a_crumb_held_is_retryable(wire, caplog, fault, reason):
    # yfinance swallows the failure (debug.hide_exceptions) and logs "possibly delisted; no
    # price data found", the words for an unknown ticker; with a crumb held it logs no crumb
    # warning either. Before the fix this was UnknownTickerError for every ticker, not retried.
    yahoo = wire(spy(), iwm())
    source = YFinancePriceSource()
    source.fetch(["SPY", "IWM"], *WEEK)  # cookie, crumb and time zones now held
    yahoo.fail("chart-prices", **fault, times=4)  # 2 tickers x (request + yfinance's retry)
    caplog.clear()

    with pytest.raises(SourceUnavailableError) as raised:
        source.fetch(["SPY", "IWM"], *NEXT_WEEK)

    message = str(raised.value)
    assert message.startswith(
        "yfinance returned no prices for ['SPY', 'IWM'] between 2026-02-09 and 2026-02-13: "
    )
    assert reason in message
    assert "delisted" not in message
    assert isinstance(raised.value, RetryablePriceSourceError)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "yfinance")
    assert "possibly delisted; no price data found" in logged
    assert "continuing without crumb" not in logged


# --- defect 2: the response cache replayed a failure on a retry ------------------------------


def test_a_retry_after_a_transient_outage_reaches_yahoo_and_succeeds(wire) -> None:
    yahoo = wire(spy(), iwm())
    source = YFinancePriceSource()
    yahoo.fail("chart-prices", status=503, body="<html>Will be back</html>", times=4)

    with pytest.raises(SourceUnavailableError, match=r"HTTP 503"):
        source.fetch(["SPY", "IWM"], *WEEK)
    failed = prices_requests(yahoo)
    assert [r.answered for r in failed] == ["503"] * 4

    # The retry, in the same process: before the fix yfinance's cache_get answered it with the
    # cached 503s and no request reached the wire.
    bars = source.fetch(["SPY", "IWM"], *WEEK)

    retried = prices_requests(yahoo)[len(failed) :]
    assert sorted((r.symbol, r.answered) for r in retried) == [("IWM", "200"), ("SPY", "200")]
    assert {tuple(sorted(r.params.items())) for r in retried} <= {
        tuple(sorted(r.params.items())) for r in failed
    }  # the very request the cache would have answered
    assert len(bars) == 10
    assert bars.loc[bars["ticker"] == "IWM", "close"].tolist() == [251.0, 252, 253, 254, 255]


# --- defect 3: yfinance's SQLite time-zone cache locked --------------------------------------


def test_a_locked_time_zone_cache_is_retryable_and_the_retry_succeeds(wire, monkeypatch) -> None:
    import peewee
    from yfinance import cache

    yahoo = wire(spy(), iwm())
    lookup = cache._TzCache.lookup
    locked = {"left": 1}

    def lookup_once_locked(self, key):
        if key == "SPY" and locked["left"]:
            locked["left"] -= 1
            raise peewee.OperationalError("database is locked")
        return lookup(self, key)

    monkeypatch.setattr(cache._TzCache, "lookup", lookup_once_locked)
    source = YFinancePriceSource()

    with pytest.raises(RetryablePriceSourceError) as raised:
        source.fetch(["SPY", "IWM"], *WEEK)

    # Not a MissingPricesError (permanent) as before: another process may hold the cache.
    assert type(raised.value) is RetryablePriceSourceError
    assert str(raised.value) == (
        "yfinance returned no prices for ['SPY'] between 2026-02-02 and 2026-02-06: "
        "OperationalError('database is locked')"
    )
    bars = source.fetch(["SPY", "IWM"], *WEEK)
    assert sorted(set(bars["ticker"])) == ["IWM", "SPY"] and len(bars) == 10
    assert {r.thread for r in yahoo.requests} == {threading.get_ident()}


# --- defect 4: a known symbol with no bars in the window -------------------------------------


def test_a_known_symbol_without_bars_in_the_window_is_not_called_delisted(wire) -> None:
    yahoo = wire(spy(), iwm())
    holiday = dt.date(2026, 2, 16)  # Presidents' Day: Yahoo has no bar for any symbol

    with pytest.raises(MissingPricesError) as raised:
        YFinancePriceSource().fetch(["SPY", "IWM"], holiday, holiday)

    assert type(raised.value) is MissingPricesError
    assert str(raised.value) == (
        "yfinance returned no prices for ['SPY', 'IWM'] between 2026-02-16 and 2026-02-16: "
        "Yahoo knows SPY (ETF, America/New_York) but has no bars in this window; "
        "Yahoo knows IWM (ETF, America/New_York) but has no bars in this window"
    )
    assert [r.answered for r in prices_requests(yahoo)] == ["200", "200"]


def test_one_known_symbol_without_bars_beside_others_is_missing_and_only_it_named(wire) -> None:
    stopped = listing("GONE", {"2026-01-30": (10.0, 10.5, 9.5, 10.0, 10.0, 1000)})
    wire(spy(), stopped, listing("^RUT", RUT_ROWS))

    with pytest.raises(MissingPricesError) as raised:
        YFinancePriceSource().fetch(["SPY", "GONE"], *WEEK)

    assert type(raised.value) is MissingPricesError
    assert str(raised.value) == (
        "yfinance returned no prices for ['GONE'] between 2026-02-02 and 2026-02-06: "
        "Yahoo knows GONE (EQUITY, America/New_York) but has no bars in this window"
    )
    # With stored history before the window, the same series has stopped: no failure.
    bars = YFinancePriceSource().fetch(["SPY", "GONE"], *WEEK, with_history=frozenset({"GONE"}))
    assert set(bars["ticker"]) == {"SPY"}


def test_an_unknown_ticker_beside_a_known_one_without_bars_is_unknown_listing_both(wire):
    wire(spy(), listing("GONE", {"2026-01-30": (10.0, 10.5, 9.5, 10.0, 10.0, 1000)}))

    with pytest.raises(UnknownTickerError) as raised:
        YFinancePriceSource().fetch(["SPY", "GONE", "BAD"], *WEEK)

    first, second = str(raised.value).split(" | ")
    assert first.startswith("yfinance returned no prices for ['BAD'] between 2026-02-02")
    assert second == (
        "yfinance returned no prices for ['GONE'] between 2026-02-02 and 2026-02-06: "
        "Yahoo knows GONE (EQUITY, America/New_York) but has no bars in this window"
    )


def test_a_dns_failure_is_still_retryable_when_logs_name_the_ticker(wire, caplog) -> None:
    # The log's guess and the wire's evidence disagree: the wire decides.
    yahoo = wire(spy())
    yahoo.fail("chart-prices", "SPY", raises=DNSError(CURL_DNS), times=1)
    source = YFinancePriceSource()

    with pytest.raises(SourceUnavailableError):
        source.fetch(["SPY"], *WEEK)
    assert len(source.fetch(["SPY"], *WEEK)) == 5
    # Each fetch removes the log handler it added.
    assert all(type(h).__name__ != "_LogCapture" for h in logging.getLogger("yfinance").handlers)


# --- the raw/prices step, retried by Dagster after a transient outage -------------------------


def test_raw_prices_step_is_retried_after_an_outage_and_stores_the_served_rows(
    wire, monkeypatch, tmp_path
) -> None:
    import duckdb
    from dagster import AssetKey, DagsterInstance

    from rotation_assets.cli import execute_range, step_failures
    from rotation_assets.definitions import build_definitions
    from rotation_assets.defs.prices.assets import PRICE_FETCH_RETRY, raw_prices
    from rotation_assets.defs.prices.sources import DemoPriceSource
    from rotation_assets.defs.warehouse import DuckDBWarehouse
    from rotation_assets.reference.universe import load_universe

    # The real policy (3 retries, exponential, jitter) with no backoff: the test waits for
    # nothing. Dagster reads the op's policy when it plans the step.
    monkeypatch.setattr(raw_prices.op, "_retry_policy", PRICE_FETCH_RETRY._replace(delay=0.0))
    tickers = list(load_universe()["ticker"])
    demo = DemoPriceSource().fetch(tickers, *WEEK)
    served_rows = {
        t: {
            r.trade_date.date().isoformat(): tuple(getattr(r, c) for c in PRICE_COLUMNS)
            for r in rows.itertuples()
        }
        for t, rows in demo.groupby("ticker")
    }
    yahoo = wire(*(listing(t, rows) for t, rows in served_rows.items()))
    # The first attempt: every chart request (and yfinance's own retry of it) answers 503.
    yahoo.fail("chart-prices", status=503, body="<html>Service Unavailable</html>", times=48)
    db = str(tmp_path / "w.duckdb")
    defs = build_definitions(DuckDBWarehouse(database=db), YFinancePriceSource())
    selection = [AssetKey(["reference", "universe"]), AssetKey(["raw", "prices"])]

    with DagsterInstance.ephemeral() as instance:
        result = execute_range(defs, *WEEK, instance, "test", asset_selection=selection)

    assert result.success, step_failures(result)
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.step_key for e in retries] == ["raw_prices"]
    answers = [r.answered for r in prices_requests(yahoo)]
    assert answers == ["503"] * 48 + ["200"] * 24  # the retry reached the wire
    with duckdb.connect(db, read_only=True) as con:
        stored = con.execute(
            "SELECT ticker, strftime(trade_date, '%Y-%m-%d') AS day, open, high, low, close, "
            "adj_close, volume, source FROM raw.prices"
        ).df()
    assert len(stored) == 5 * len(tickers) and set(stored["source"]) == {"yfinance"}
    for row in stored.itertuples():
        want = dict(zip(PRICE_COLUMNS, served_rows[row.ticker][row.day], strict=True))
        got = {c: getattr(row, c) for c in PRICE_COLUMNS}
        if row.ticker.startswith("^"):  # the demo's indices have no volume; neither does Yahoo's
            assert math.isnan(got.pop("volume")) and math.isnan(want.pop("volume"))
        assert got == want, (row.ticker, row.day)
