"""Offline tests of ``YFinancePriceSource``: yfinance is faked, Yahoo is never called.

The fakes build frames the way yfinance 1.7's ``multi.download`` does (per-ticker frames
reindexed onto the union of dates, concatenated under ``Ticker``/``Price``, levels swapped and
sorted) and log failures with the same lines through the ``yfinance`` logger. Two tests run the
real ``yfinance.download`` with only its per-ticker worker replaced, to keep the fakes honest.
"""

from __future__ import annotations

import datetime as dt
import logging
import math

import numpy as np
import pandas as pd
import pytest
import yfinance
import yfinance.multi
from yfinance import utils as yf_utils
from yfinance.data import YfData
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError

from rotation_assets.defs.prices.sources import YFinancePriceSource
from rotation_assets.sources.base import (
    PRICE_FRAME_COLUMNS,
    MissingPricesError,
    PriceSourceError,
    RateLimitedError,
    RetryablePriceSourceError,
    SourceUnavailableError,
    UnknownTickerError,
)

START, END = dt.date(2026, 2, 2), dt.date(2026, 2, 6)
WINDOW = "between 2026-02-02 and 2026-02-06"
# What yfinance's history() puts in its "no price data" messages for this window.
DEBUG_INFO = " (1d 2026-02-02 -> 2026-02-07)"
DELISTED = f"possibly delisted; no price data found {DEBUG_INFO}"
CURL_DNS = (
    "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
    "See https://curl.se/libcurl/c/libcurl-errors.html first for more details."
)
YF_LOGGER = logging.getLogger("yfinance")


# --- building frames and log lines the way yfinance 1.7 does -------------------------------


def history_frame(
    rows: dict[str, tuple[float, float, float, float, float, float]],
    actions: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """One ticker's ``Ticker.history(auto_adjust=False, actions=True)`` result.

    ``rows`` maps ISO date -> (open, high, low, close, adj_close, volume); ``actions`` maps ISO
    date -> (dividend, split ratio), 0.0 where none, as yfinance reports them. Like Yahoo's, the
    index is exchange-local midnight, tz-aware, named 'Date'.
    """
    index = pd.DatetimeIndex(list(rows), name="Date").tz_localize("America/New_York")
    values = np.array(list(rows.values()), dtype="float64").reshape(-1, 6)
    columns = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    frame = pd.DataFrame(values, index=index, columns=columns)
    actions = actions or {}
    frame["Dividends"] = [actions.get(str(d), (0.0, 0.0))[0] for d in rows]
    frame["Stock Splits"] = [actions.get(str(d), (0.0, 0.0))[1] for d in rows]
    return frame


def assemble(dfs: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """The tail of ``yfinance.multi._download_impl`` (ignore_tz=True, group_by='column')."""
    dfs = {t: (yf_utils.empty_df() if df is None else df.copy()) for t, df in dfs.items()}
    for df in dfs.values():
        if df.shape[0] > 0:
            df.index = df.index.tz_localize(None)
    idx = None
    for df in dfs.values():
        if not df.empty:
            idx = df.index if idx is None else idx.union(df.index)
    if idx is None:
        idx = pd.DatetimeIndex([])
    dfs = {t: df.reindex(idx) for t, df in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    data.sort_index(level=0, axis=1, inplace=True)
    return data


def log_failures(errors: dict[str, str]) -> None:
    """The summary ``_download_impl`` logs when tickers failed (same grouping and format)."""
    if not errors:
        return
    YF_LOGGER.error(f"\n{len(errors)} Failed download{'s' if len(errors) > 1 else ''}:")
    grouped: dict[str, list[str]] = {}
    for ticker, err in errors.items():
        grouped.setdefault(err.replace(f"${ticker}: ", ""), []).append(ticker)
    for err, syms in grouped.items():
        YF_LOGGER.error(f"{syms}: " + err)


class FakeDownload:
    """Stands in for ``yfinance.download``; each call plays the next scripted response.

    A response is (per-ticker history frames, log lines to emit as (level, text), failures for
    the summary), or an exception to raise.
    """

    def __init__(self, *responses: tuple | Exception) -> None:
        self.responses = list(responses)
        self.calls: list[dict] = []

    def __call__(self, **kwargs: object) -> pd.DataFrame:
        self.calls.append(kwargs)
        response = self.responses[min(len(self.calls), len(self.responses)) - 1]
        if isinstance(response, Exception):
            raise response
        frames, lines, failures = response
        for level, text in lines:
            YF_LOGGER.log(level, text)
        log_failures(failures)
        symbols = {str(t).upper() for t in kwargs["tickers"]}
        return assemble({t: f for t, f in frames.items() if t.upper() in symbols})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    def install(*responses: tuple | Exception) -> FakeDownload:
        download = FakeDownload(*responses)
        monkeypatch.setattr(yfinance, "download", download)
        return download

    return install


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any request that reaches yfinance's HTTP layer fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to reach Yahoo")

    monkeypatch.setattr(YfData, "get", refuse)
    monkeypatch.setattr(YfData, "cache_get", refuse)


@pytest.fixture(autouse=True)
def handlers_restored():
    """Every fetch must leave the yfinance logger's handlers as it found them."""
    before = list(YF_LOGGER.handlers)
    yield
    assert YF_LOGGER.handlers == before


SPY = history_frame(
    {
        "2026-02-02": (600.0, 605.0, 598.0, 604.0, 603.5, 1_000_000),
        "2026-02-03": (604.0, 610.0, 603.0, 609.0, 608.5, 1_100_000),
        "2026-02-04": (609.0, 611.0, 601.0, 602.0, 601.5, 1_200_000),
    }
)
IWM = history_frame(
    {
        "2026-02-02": (250.0, 252.0, 249.0, 251.0, 250.2, 500_000),
        "2026-02-03": (251.0, 253.0, 250.0, 252.0, 251.2, 510_000),
        "2026-02-04": (252.0, 254.0, 251.0, 253.0, 252.2, 520_000),
    }
)


# --- success --------------------------------------------------------------------------------


def test_success_puts_every_value_in_its_column(fake) -> None:
    download = fake(({"SPY": SPY, "IWM": IWM}, [], {}))
    source = YFinancePriceSource(timeout_seconds=7.5)

    bars = source.fetch(["SPY", "IWM"], START, END)

    assert list(bars.columns) == [*PRICE_FRAME_COLUMNS, "dividend", "split_ratio"]
    assert str(bars["trade_date"].dtype) == "datetime64[ns]"
    assert bars["volume"].dtype == np.float64
    assert len(bars) == 6
    # Sorted by date, then in the order the tickers were asked for.
    assert list(bars["ticker"]) == ["SPY", "IWM"] * 3
    first_spy = bars.iloc[0].to_dict()
    assert first_spy == {
        "trade_date": pd.Timestamp("2026-02-02"),
        "ticker": "SPY",
        "open": 600.0,
        "high": 605.0,
        "low": 598.0,
        "close": 604.0,
        "adj_close": 603.5,
        "volume": 1_000_000.0,
        "dividend": 0.0,
        "split_ratio": 1.0,  # yfinance's 0 ("no split") becomes a neutral ratio
    }
    last_iwm = bars.iloc[-1]
    assert last_iwm["trade_date"] == pd.Timestamp("2026-02-04")
    assert (last_iwm["close"], last_iwm["adj_close"]) == (253.0, 252.2)
    assert last_iwm["volume"] == 520_000.0
    assert (bars["trade_date"] == bars["trade_date"].dt.normalize()).all()

    assert len(download.calls) == 1
    call = download.calls[0]
    assert sorted(call["tickers"]) == ["IWM", "SPY"]
    assert call["start"] == "2026-02-02"
    assert call["end"] == "2026-02-07"  # yfinance's end is exclusive
    assert call["auto_adjust"] is False
    assert call["actions"] is True
    assert call["group_by"] == "column"
    assert call["multi_level_index"] is True
    assert call["progress"] is False
    assert call["ignore_tz"] is True
    assert call["timeout"] == 7.5
    assert source.label == "yfinance"


def test_single_ticker_and_index_without_volume(fake) -> None:
    rut = history_frame(
        {
            "2026-02-02": (2300.0, 2310.0, 2290.0, 2305.0, 2305.0, 0.0),
            "2026-02-03": (2305.0, 2320.0, 2300.0, 2315.0, 2315.0, float("nan")),
        }
    )
    download = fake(({"^RUT": rut}, [], {}))

    bars = YFinancePriceSource().fetch(["^RUT"], START, END)

    assert download.calls[0]["tickers"] == ["^RUT"]
    assert list(bars["ticker"]) == ["^RUT", "^RUT"]
    assert list(bars["close"]) == [2305.0, 2315.0]
    # An index has no volume of its own: yfinance's 0 and its NaN both become NaN (stored
    # NULL), as the demo source delivers it.
    assert math.isnan(bars["volume"].iloc[0])
    assert math.isnan(bars["volume"].iloc[1])


def test_all_nan_padding_rows_dropped_partial_nan_rows_kept(fake) -> None:
    nan = float("nan")
    # IWM did not trade on 02-03 (yfinance pads it with NaN because SPY did) and lacks a close
    # on 02-04; SPY has a bar on 02-02 with volume but no prices at all.
    iwm = history_frame(
        {
            "2026-02-02": (250.0, 252.0, 249.0, 251.0, 250.2, 500_000),
            "2026-02-04": (252.0, 254.0, 251.0, nan, 252.2, 520_000),
        }
    )
    spy = SPY.copy()
    spy.iloc[0, :5] = nan
    fake(({"SPY": spy, "IWM": iwm}, [], {}))

    bars = YFinancePriceSource().fetch(["SPY", "IWM"], START, END)

    got = {(r.ticker, r.trade_date.date().isoformat()) for r in bars.itertuples()}
    assert got == {
        ("SPY", "2026-02-03"),
        ("SPY", "2026-02-04"),
        ("IWM", "2026-02-02"),
        ("IWM", "2026-02-04"),
    }
    partial = bars[(bars["ticker"] == "IWM") & (bars["trade_date"] == "2026-02-04")].iloc[0]
    assert math.isnan(partial["close"])
    assert (partial["open"], partial["adj_close"], partial["volume"]) == (252.0, 252.2, 520_000.0)


# --- failures -------------------------------------------------------------------------------


def test_everything_empty_after_network_error_is_source_unavailable(fake) -> None:
    # yfinance 1.7 with an uncached time zone: the tz lookup logs the curl error, then
    # history() reports the ticker as "possibly delisted; no timezone found".
    lines = [
        (logging.ERROR, f"Failed to get ticker '{t}' reason: {CURL_DNS}") for t in ("SPY", "IWM")
    ]
    lines += [
        (logging.ERROR, f"${t}: possibly delisted; no timezone found") for t in ("SPY", "IWM")
    ]
    failures = {t: "possibly delisted; no timezone found" for t in ("SPY", "IWM")}
    fake(({"SPY": None, "IWM": None}, lines, failures))

    with pytest.raises(SourceUnavailableError) as raised:
        YFinancePriceSource().fetch(["SPY", "IWM"], START, END)

    message = str(raised.value)
    assert "['SPY', 'IWM']" in message
    assert WINDOW in message
    assert "Could not resolve host" in message
    assert isinstance(raised.value, RetryablePriceSourceError)


def test_network_error_with_cached_time_zone_is_source_unavailable(fake) -> None:
    # Once the tz is cached, a failed chart request is swallowed and only guessed "delisted";
    # the one trace of the outage is yfinance's warning about the crumb fetch.
    lines = [
        (logging.WARNING, "Cookie/crumb fetch failed (DNSError), continuing without crumb"),
        (logging.ERROR, f"$SPY: {DELISTED}"),
    ]
    fake(({"SPY": None}, lines, {"SPY": DELISTED}))

    with pytest.raises(SourceUnavailableError, match=r"\['SPY'\] between 2026-02-02"):
        YFinancePriceSource().fetch(["SPY"], START, END)


def test_everything_empty_with_nothing_logged_is_missing_prices(fake) -> None:
    fake(({"SPY": None, "IWM": None}, [], {}))

    with pytest.raises(MissingPricesError) as raised:
        YFinancePriceSource().fetch(["SPY", "IWM"], START, END)

    assert str(raised.value) == (
        f"yfinance returned no prices for ['SPY', 'IWM'] {WINDOW}: yfinance logged no reason"
    )


def test_requested_ticker_absent_from_columns_is_missing_prices(fake) -> None:
    fake(({"SPY": SPY}, [], {}))  # IWM's columns are simply not there

    with pytest.raises(MissingPricesError, match=r"no prices for \['IWM'\] between"):
        YFinancePriceSource().fetch(["SPY", "IWM"], START, END)


def test_one_delisted_ticker_is_unknown_and_only_it_is_named(fake) -> None:
    lines = [(logging.ERROR, f"$BAD: {DELISTED}")]
    fake(({"SPY": SPY, "BAD": None}, lines, {"BAD": DELISTED}))

    with pytest.raises(UnknownTickerError) as raised:
        YFinancePriceSource().fetch(["SPY", "BAD"], START, END)

    assert str(raised.value) == f"yfinance returned no prices for ['BAD'] {WINDOW}: {DELISTED}"
    assert "SPY" not in str(raised.value)


def test_yahoo_explicit_not_found_beats_an_unrelated_crumb_warning(fake) -> None:
    # Yahoo said why (no "possibly" guess), so a crumb warning does not make it retryable.
    reason = "No data found, symbol may be delisted"
    lines = [
        (logging.WARNING, "Crumb fetch rate-limited (HTTP 429), continuing without crumb"),
        (logging.ERROR, f"$BAD: {reason}"),
    ]
    fake(({"SPY": SPY, "BAD": None}, lines, {"BAD": reason}))

    with pytest.raises(UnknownTickerError, match="symbol may be delisted"):
        YFinancePriceSource().fetch(["SPY", "BAD"], START, END)


def test_rate_limit_logged_is_rate_limited(fake) -> None:
    limited = repr(YFRateLimitError())
    fake(({"SPY": None, "IWM": IWM}, [], {"SPY": limited}))

    with pytest.raises(RateLimitedError) as raised:
        YFinancePriceSource().fetch(["SPY", "IWM"], START, END)

    assert str(raised.value) == (
        f"yfinance returned no prices for ['SPY'] {WINDOW}: "
        "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
    )


def test_rate_limit_takes_precedence_and_every_failure_is_listed(fake) -> None:
    failures = {"SPY": repr(YFRateLimitError()), "BAD": DELISTED, "GONE": DELISTED}
    lines = [(logging.ERROR, f"${t}: {DELISTED}") for t in ("BAD", "GONE")]
    download = fake(({"SPY": None, "BAD": None, "GONE": None, "IWM": IWM}, lines, failures))

    with pytest.raises(RateLimitedError) as raised:
        YFinancePriceSource().fetch(["SPY", "BAD", "IWM", "GONE"], START, END)

    message = str(raised.value)
    assert message.startswith(f"yfinance returned no prices for ['SPY'] {WINDOW}: YFRateLimit")
    assert f"no prices for ['BAD', 'GONE'] {WINDOW}: {DELISTED}" in message
    assert "IWM" not in message
    assert len(download.calls) == 1
    assert sorted(download.calls[0]["tickers"]) == ["BAD", "GONE", "IWM", "SPY"]


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (YFRateLimitError(), RateLimitedError),
        (ConnectionError("Failed to perform, curl: (7) Failed to connect"), SourceUnavailableError),
        (TimeoutError("read timed out"), SourceUnavailableError),
        (YFPricesMissingError("BAD", DEBUG_INFO), UnknownTickerError),
        (ValueError("something inside pandas"), PriceSourceError),
    ],
)
def test_exception_from_download_is_typed(fake, raised: Exception, expected: type) -> None:
    fake(raised)

    with pytest.raises(expected) as caught:
        YFinancePriceSource().fetch(["SPY", "IWM"], START, END)

    assert type(caught.value) is expected
    assert caught.value.__cause__ is raised
    assert f"['SPY', 'IWM'] {WINDOW}" in str(caught.value)


def test_curl_exception_from_download_is_source_unavailable(fake) -> None:
    from curl_cffi.requests.exceptions import DNSError

    fake(DNSError(CURL_DNS))

    with pytest.raises(SourceUnavailableError, match="Could not resolve host"):
        YFinancePriceSource().fetch(["SPY"], START, END)


def test_consecutive_calls_are_independent(fake) -> None:
    limited = (
        {"SPY": None, "IWM": None},
        [],
        dict.fromkeys(["SPY", "IWM"], repr(YFRateLimitError())),
    )
    download = fake(limited, limited, ({"SPY": SPY, "IWM": IWM}, [], {}))
    source = YFinancePriceSource()
    handlers = list(YF_LOGGER.handlers)

    for _ in range(2):
        with pytest.raises(RateLimitedError):
            source.fetch(["SPY", "IWM"], START, END)
        assert YF_LOGGER.handlers == handlers
    bars = source.fetch(["SPY", "IWM"], START, END)

    assert len(bars) == 6
    assert len(download.calls) == 3
    # Earlier calls' log lines do not leak into a later one: an empty window now is "missing".
    fake(({"SPY": None}, [], {}))
    with pytest.raises(MissingPricesError):
        source.fetch(["SPY"], START, END)


def test_handler_removed_when_download_raises(fake) -> None:
    fake(RuntimeError("boom"))
    handlers = list(YF_LOGGER.handlers)

    with pytest.raises(PriceSourceError):
        YFinancePriceSource().fetch(["SPY"], START, END)

    assert YF_LOGGER.handlers == handlers


def test_no_tickers_makes_no_call(fake) -> None:
    download = fake(({}, [], {}))

    bars = YFinancePriceSource().fetch([], START, END)

    assert bars.empty and list(bars.columns) == PRICE_FRAME_COLUMNS
    assert download.calls == []


# --- the real yfinance.download, with only its per-ticker worker faked ----------------------


def fake_download_one(outcomes: dict[str, pd.DataFrame | Exception | str]):
    """Replaces ``yfinance.multi._download_one`` as its real body would behave per outcome.

    A frame is a success, an exception is raised by ``history()``, and a string is a soft error
    that ``history()`` logs and records as ``_last_error``.
    """

    def download_one(ctx, ticker, *args: object, **kwargs: object) -> None:
        sym = ticker.upper()
        outcome = outcomes[sym]
        with ctx.lock:
            if isinstance(outcome, pd.DataFrame):
                ctx.dfs[sym] = outcome.copy()
            elif isinstance(outcome, Exception):
                ctx.dfs[sym] = yf_utils.empty_df()
                ctx.errors[sym] = repr(outcome)
                ctx.tracebacks[sym] = f"Traceback: {outcome!r}"
            else:
                yf_utils.get_yf_logger().error(f"${sym}: {outcome}")
                ctx.dfs[sym] = yf_utils.empty_df()
                ctx.errors[sym] = outcome

    return download_one


def test_fake_frames_match_real_download(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        yfinance.multi, "_download_one", fake_download_one({"SPY": SPY, "BAD": DELISTED})
    )
    real = yfinance.download(
        tickers=["SPY", "BAD"], start="2026-02-02", end="2026-02-07", auto_adjust=False,
        progress=False, threads=True, ignore_tz=True,
    )  # fmt: skip

    pd.testing.assert_frame_equal(real, assemble({"SPY": SPY, "BAD": None}), check_freq=False)


def test_real_download_failures_are_classified(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = {"SPY": SPY, "IWM": YFRateLimitError(), "BAD": DELISTED}
    monkeypatch.setattr(yfinance.multi, "_download_one", fake_download_one(outcomes))

    with pytest.raises(RateLimitedError) as raised:
        YFinancePriceSource().fetch(["SPY", "IWM", "BAD"], START, END)

    message = str(raised.value)
    assert f"['IWM'] {WINDOW}: YFRateLimitError('Too Many Requests." in message
    assert f"['BAD'] {WINDOW}: {DELISTED}" in message

    monkeypatch.setattr(
        yfinance.multi, "_download_one", fake_download_one({"SPY": SPY, "BAD": DELISTED})
    )
    with pytest.raises(UnknownTickerError, match=r"^yfinance returned no prices for \['BAD'\]"):
        YFinancePriceSource().fetch(["SPY", "BAD"], START, END)

    monkeypatch.setattr(yfinance.multi, "_download_one", fake_download_one({"SPY": SPY}))
    bars = YFinancePriceSource().fetch(["SPY"], START, END)
    assert list(bars["adj_close"]) == [603.5, 608.5, 601.5]


def test_dividends_and_splits_are_kept_on_their_ex_dates(fake) -> None:
    nvda = history_frame(
        {
            "2026-02-02": (200.0, 202.0, 199.0, 201.0, 201.0, 5e6),
            "2026-02-03": (101.0, 103.0, 100.0, 102.0, 102.0, 9e6),
        },
        actions={"2026-02-03": (0.0, 2.0)},
    )
    spy = history_frame(
        {
            "2026-02-02": (600.0, 605.0, 598.0, 604.0, 603.5, 1e6),
            "2026-02-03": (603.0, 606.0, 597.0, 599.0, 599.0, 1e6),
        },
        actions={"2026-02-03": (1.85, 0.0)},
    )
    fake(({"NVDA": nvda, "SPY": spy}, [], {}))
    bars = (
        YFinancePriceSource().fetch(["NVDA", "SPY"], START, END).set_index(["ticker", "trade_date"])
    )
    day = pd.Timestamp("2026-02-03")
    assert bars.loc[("NVDA", day), ["dividend", "split_ratio"]].tolist() == [0.0, 2.0]
    assert bars.loc[("SPY", day), ["dividend", "split_ratio"]].tolist() == [1.85, 1.0]
    assert bars.loc[("SPY", pd.Timestamp("2026-02-02")), "split_ratio"] == 1.0


# --- a ticker whose series stopped (stored history, nothing from Yahoo now) -----------------


def test_a_ticker_with_history_that_yahoo_has_nothing_for_is_no_failure(fake) -> None:
    # GONE has stored bars before START: its series has stopped (a stale tail the audit warns
    # about), so the fetch returns the others' bars instead of failing.
    lines = [(logging.ERROR, f"$GONE: {DELISTED}")]
    fake(({"SPY": SPY, "GONE": None}, lines, {"GONE": DELISTED}))

    bars = YFinancePriceSource().fetch(
        ["SPY", "GONE"], START, END, with_history=frozenset({"GONE"})
    )

    assert set(bars["ticker"]) == {"SPY"} and len(bars) == len(SPY)


def test_without_history_the_same_empty_ticker_still_fails_naming_only_it(fake) -> None:
    lines = [(logging.ERROR, f"${t}: {DELISTED}") for t in ("GONE", "BAD")]
    fake(({"SPY": SPY, "GONE": None, "BAD": None}, lines, {"GONE": DELISTED, "BAD": DELISTED}))

    with pytest.raises(UnknownTickerError) as raised:
        YFinancePriceSource().fetch(
            ["SPY", "GONE", "BAD"], START, END, with_history=frozenset({"GONE"})
        )

    assert str(raised.value) == f"yfinance returned no prices for ['BAD'] {WINDOW}: {DELISTED}"


def test_a_rate_limit_is_retried_even_for_a_ticker_with_history(fake) -> None:
    fake(({"SPY": None, "IWM": IWM}, [], {"SPY": repr(YFRateLimitError())}))

    with pytest.raises(RateLimitedError):
        YFinancePriceSource().fetch(["SPY", "IWM"], START, END, with_history=frozenset({"SPY"}))


def test_nothing_back_for_every_ticker_is_a_failure_even_with_history(fake) -> None:
    # When no ticker comes back at all, Yahoo is failing, not a series stopping.
    lines = [(logging.ERROR, f"${t}: {DELISTED}") for t in ("SPY", "IWM")]
    fake(({"SPY": None, "IWM": None}, lines, {"SPY": DELISTED, "IWM": DELISTED}))

    with pytest.raises(UnknownTickerError, match=r"\['SPY', 'IWM'\]"):
        YFinancePriceSource().fetch(
            ["SPY", "IWM"], START, END, with_history=frozenset({"SPY", "IWM"})
        )
