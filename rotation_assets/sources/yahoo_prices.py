"""Prices from Yahoo Finance through ``yfinance`` (1.x): one batched download per fetch.

``yfinance.download`` never raises for a ticker that fails: it returns an empty or all-NaN
column block for it and only *logs* why through the ``yfinance`` logger, e.g.::

    $BAD: possibly delisted; no price data found  (1d 2026-02-02 -> 2026-02-07)
    \\n2 Failed downloads:
    ['BAD', 'X']: possibly delisted; no price data found  (1d 2026-02-02 -> 2026-02-07)
    ['SPY']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')

So each fetch listens on that logger while it runs and turns the messages that name a ticker
without rows into a typed ``PriceSourceError``, telling retryable failures (rate limit, network)
from a ticker Yahoo does not know.

The log alone cannot tell everything apart, so each fetch also watches the wire: yfinance is
given this module's HTTP session (``download(session=...)``, a curl_cffi session that records
what Yahoo answered each chart request). Four failures of yfinance 1.7 that the log hides:

* Once yfinance holds a crumb, a timeout, DNS failure or HTTP 5xx on the chart request is
  swallowed (``PriceHistory.history`` catches it while ``YfConfig.debug.hide_exceptions`` is on,
  the default) and logged as "possibly delisted; no price data found", the same words as for a
  ticker Yahoo does not know; the crumb warning the log shows for an outage is only logged when
  there is no crumb yet (``YfData._make_request``). The watched session sees the exception or
  the status: a network failure, retried.
* ``YfData.cache_get`` (an in-process ``lru_cache`` for windows that ended more than 30 minutes
  ago) returns the cached response of a failed request, a 5xx included, to the same request
  again: a retry in the same process (the CLI runs jobs in process) would never reach Yahoo.
  Every fetch clears that cache first.
* With ``threads=True`` yfinance's worker threads race on its SQLite time-zone cache
  (``cache._TzCache``); "database is locked" then came back as a ticker without data. Fetches
  run single-threaded, and a locked cache (another process can hold it) is retryable.
* A known symbol with no bar in the window (Yahoo sends ``meta`` without ``timestamp``) was
  called delisted: the watched session sees the meta, and it is "no bars in this window".

Indices (``^`` symbols) have no volume of their own; Yahoo's is 0 or an aggregate, yfinance
fills null with 0, so their volume is stored as NULL, as the demo source does.
"""

from __future__ import annotations

import ast
import datetime as dt
import logging
import re
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd

from rotation_assets.sources.base import (
    ACTION_COLUMNS,
    PRICE_FIELDS,
    PRICE_FRAME_COLUMNS,
    MissingPricesError,
    PriceSourceError,
    RateLimitedError,
    RetryablePriceSourceError,
    SourceUnavailableError,
    UnknownTickerError,
    empty_price_frame,
    index_volume,
    is_index,
)

YFINANCE_LOGGER = "yfinance"

# yfinance 1.x column names ('Price' level) -> ours.
_FIELD_BY_COLUMN = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
_ACTION_BY_COLUMN = {"Dividends": "dividend", "Stock Splits": "split_ratio"}

# Failure kinds, most actionable first: a retry fixes a rate limit for every ticker, then a
# network failure, then a time-zone cache another process held; an unknown ticker needs a
# human; "no bars" is a symbol Yahoo knows without a bar in the window; "missing" is the rest.
_RATE_LIMIT, _NETWORK, _CACHE_BUSY = "rate limit", "network", "cache busy"
_UNKNOWN, _NO_BARS, _MISSING = "unknown", "no bars", "missing"
_PRECEDENCE = (_RATE_LIMIT, _NETWORK, _CACHE_BUSY, _UNKNOWN, _NO_BARS, _MISSING)
_ERROR_BY_KIND: dict[str, type[PriceSourceError]] = {
    _RATE_LIMIT: RateLimitedError,
    _NETWORK: SourceUnavailableError,
    _CACHE_BUSY: RetryablePriceSourceError,
    _UNKNOWN: UnknownTickerError,
    _NO_BARS: MissingPricesError,
    _MISSING: MissingPricesError,
}
# Matched against lower-cased messages and exception names.
_MARKERS = {
    _RATE_LIMIT: ("too many requests", "rate limit", "rate-limit", "yfratelimiterror", "http 429"),
    _NETWORK: (
        "curl",
        "could not resolve",
        "failed to perform",
        "failed to connect",
        "connection",
        "timeout",
        "timed out",
        "dnserror",
        "cookie/crumb fetch failed",
        "currently down",
    ),
    # yfinance's SQLite time-zone cache (peewee OperationalError), shared by every process.
    _CACHE_BUSY: ("database is locked", "database is busy"),
    _UNKNOWN: (
        "delisted",
        "no data found",
        "quote not found",
        "symbol may be",
        "no timezone found",
        "no price data found",
        "yftzmissingerror",
        "yfpricesmissingerror",
        "yftickermissingerror",
    ),
}
# Kinds the wire alone decides, whatever the log guessed.
_WIRE_DECIDES = (_RATE_LIMIT, _NETWORK)

# Ways yfinance 1.x names tickers in a log message.
_LIST_PREFIX = re.compile(r"^\s*(\[[^\]]*\]):\s?")  # "['BAD', 'X']: ..." (download summary)
_DOLLAR_PREFIX = re.compile(r"^\s*\$([^\s:]+):\s?")  # "$BAD: ..." (history, exceptions)
_QUOTED_TICKER = re.compile(r"ticker '([^']+)'")  # "Failed to get ticker 'BAD' reason: ..."
_PLAIN_PREFIX = re.compile(r"^\s*([A-Za-z0-9.\-^=]+):\s")  # "BAD: auto_adjust failed ..."
_SUMMARY_HEADER = re.compile(r"^\s*\d+ Failed downloads?:\s*$")

# The log capture and the wire watch cannot tell which download a record belongs to, so
# downloads in one process run one at a time.
_DOWNLOAD_LOCK = threading.Lock()


def download_prices(
    tickers: list[str],
    start: dt.date,
    end: dt.date,
    timeout_seconds: float = 20.0,
    with_history: Collection[str] = (),
) -> pd.DataFrame:
    """Daily bars of ``tickers`` in [start, end] from one batched ``yfinance.download``;
    ``close`` split-adjusted, ``adj_close`` fully adjusted, with dividends and splits; an
    index's volume is NaN.

    A ticker that comes back without a row raises a typed error, except a ticker of
    ``with_history`` (stored bars before ``start``) that Yahoo reports as unknown or without
    data while others do come back: its series has stopped (a stale tail, which the audit
    reports as a warning). A rate limit, a network failure or a locked time-zone cache raises
    whatever the ticker, and so does a download where no ticker came back. Every call asks
    Yahoo again: yfinance's in-process response cache is cleared first."""
    # Imported here: yfinance pulls in curl_cffi and more, and Dagster imports this module
    # in every process even when another source is configured.
    import yfinance
    from yfinance.data import YfData

    requested = list(dict.fromkeys(tickers))
    if not requested:
        return empty_price_frame()

    capture = _LogCapture()
    yf_logger = logging.getLogger(YFINANCE_LOGGER)
    session = watched_session()
    with _DOWNLOAD_LOCK:
        watch = ChartWatch()
        # A retry must reach Yahoo: cache_get would replay the failed response (a 5xx too).
        clear_responses = getattr(YfData.cache_get, "cache_clear", None)
        if clear_responses is not None:  # tests may replace cache_get
            clear_responses()
        yf_logger.addHandler(capture)
        session.watch = watch
        try:
            wide = yfinance.download(
                tickers=requested,
                start=start.isoformat(),
                # yfinance's end is exclusive; ours is inclusive.
                end=(end + dt.timedelta(days=1)).isoformat(),
                # Both close (split-adjusted) and Adj Close (also dividend-adjusted).
                auto_adjust=False,
                # Dividends and splits: Yahoo re-bases adj_close after each one, so
                # returns across separate loads are rebuilt from them.
                actions=True,
                group_by="column",
                multi_level_index=True,
                progress=False,
                # One thread: yfinance's worker threads race on its SQLite time-zone cache.
                threads=False,
                timeout=timeout_seconds,
                ignore_tz=True,
                session=session,
            )
        except Exception as exc:
            raise _error_for_exception(exc, requested, start, end) from exc
        finally:
            session.watch = None
            yf_logger.removeHandler(capture)

    bars = wide_to_long(wide, requested, start, end)
    delivered = set(bars["ticker"])
    absent = [t for t in requested if t not in delivered]
    if absent:
        seen = watch.outcomes()
        error = classify_missing(absent, capture.messages, start, end, seen)
        if isinstance(error, RetryablePriceSourceError):
            raise error  # a rate limit or an outage: retried, whatever the tickers' history
        # A ticker with stored history that Yahoo has nothing for has stopped: a stale tail.
        # When no ticker came back at all, Yahoo is failing rather than a series stopping.
        unexplained = [t for t in absent if t not in set(with_history)]
        if not delivered:
            raise error
        if unexplained:
            raise classify_missing(unexplained, capture.messages, start, end, seen)
    return bars


@dataclass(frozen=True)
class ChartOutcome:
    """What Yahoo answered the last chart request for one symbol: a failure kind and why."""

    kind: str
    reason: str


class ChartWatch:
    """Records, per symbol, what the wire did with yfinance's v8 chart requests.

    Only what the log cannot say is kept: an exception or a 429/5xx (the request failed; the
    log says "possibly delisted"), and an answer with the symbol's ``meta`` but no bar (Yahoo
    knows it; the log says "possibly delisted" too). A later answer with bars clears it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_symbol: dict[str, ChartOutcome | None] = {}

    def outcomes(self) -> dict[str, ChartOutcome]:
        """The failures seen, by upper-case symbol."""
        with self._lock:
            return {s: o for s, o in self._by_symbol.items() if o is not None}

    def record(
        self, url: str, params: Mapping[str, Any] | None, response: Any = None, error: Any = None
    ) -> None:
        path = urlsplit(url).path
        marker = "/v8/finance/chart/"
        if marker not in path:
            return
        symbol = unquote(path.split(marker, 1)[1].strip("/")).upper()
        request = "price request" if params and "period1" in params else "time-zone lookup"
        outcome = _chart_outcome(symbol, request, response, error)
        if outcome is not False:
            with self._lock:
                self._by_symbol[symbol] = outcome


def _chart_outcome(
    symbol: str, request: str, response: Any, error: Any
) -> ChartOutcome | None | bool:
    """The outcome to keep for one chart request; None clears, False keeps what was there."""
    if error is not None:
        if isinstance(error, (OSError, TimeoutError)):  # curl_cffi's errors are OSErrors
            return ChartOutcome(
                _NETWORK, f"the chart {request} failed: {type(error).__name__}: {error}"
            )
        return False
    status = int(getattr(response, "status_code", 0))
    if status == 429 or status >= 500:
        phrase = _status_phrase(status)
        kind = _RATE_LIMIT if status == 429 else _NETWORK
        return ChartOutcome(kind, f"Yahoo answered HTTP {status} ({phrase}) to the chart {request}")
    if status != 200 or request != "price request":
        return False
    content = getattr(response, "content", b"") or b""
    if b'"timestamp"' in content:
        return None  # bars came back
    try:
        meta = response.json()["chart"]["result"][0]["meta"]
    except Exception:  # not Yahoo's chart JSON: the log tells what yfinance made of it
        return False
    if not isinstance(meta, dict) or not meta.get("symbol"):
        return False
    what = ", ".join(
        str(meta[k]) for k in ("instrumentType", "exchangeTimezoneName") if meta.get(k)
    )
    return ChartOutcome(
        _NO_BARS,
        f"Yahoo knows {meta['symbol']} ({what}) but has no bars in this window",
    )


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"


_SESSION: Any = None
_SESSION_LOCK = threading.Lock()


def watched_session() -> Any:
    """This process's HTTP session for yfinance: curl_cffi with Chrome's fingerprint (what
    yfinance makes itself) that reports every request to its ``watch`` while one is set.

    One per process, so Yahoo's cookie and crumb (kept in the session's jar and in yfinance's
    ``YfData`` singleton) stay together across fetches."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            from curl_cffi import requests as curl_requests

            class WatchedSession(curl_requests.Session):
                watch: ChartWatch | None = None

                def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
                    watch = self.watch
                    try:
                        response = super().request(method, url, *args, **kwargs)
                    except Exception as exc:
                        if watch is not None:
                            watch.record(url, kwargs.get("params"), error=exc)
                        raise
                    if watch is not None:
                        watch.record(url, kwargs.get("params"), response=response)
                    return response

            _SESSION = WatchedSession(impersonate="chrome")
        return _SESSION


def forget_session() -> None:
    """Drop this process's session (tests that reset yfinance's state call it)."""
    global _SESSION
    with _SESSION_LOCK:
        _SESSION = None


class _LogCapture(logging.Handler):
    """Keeps the text of yfinance's WARNING+ records (the only place failures are reported).

    WARNING, not just ERROR: yfinance 1.x reports a rate-limited or unreachable crumb endpoint
    only as a warning, then the chart request fails silently as "possibly delisted".
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a malformed record must not break the download
            self.messages.append(str(record.msg))


def _ticker_bars(name: str, block: pd.DataFrame) -> pd.DataFrame:
    """One ticker's block of yfinance's wide frame as PRICE_FRAME_COLUMNS rows."""
    dates = pd.DatetimeIndex(block.index)
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    part = pd.DataFrame({"trade_date": dates.normalize().astype("datetime64[ns]"), "ticker": name})
    for column, field in _FIELD_BY_COLUMN.items():
        if column in block.columns:
            part[field] = pd.to_numeric(block[column], errors="coerce").to_numpy("float64")
        else:
            part[field] = np.nan
    for column, field in _ACTION_BY_COLUMN.items():
        values = block[column] if column in block.columns else pd.Series(0.0, block.index)
        part[field] = pd.to_numeric(values, errors="coerce").fillna(0.0).to_numpy("float64")
    # yfinance writes 0 for "no split"; a ratio of 1 means the same and multiplies cleanly.
    part.loc[part["split_ratio"] == 0.0, "split_ratio"] = 1.0
    if is_index(name):  # yfinance writes 0 where Yahoo has no figure for an index
        part["volume"] = index_volume(part["volume"])
    return part.reset_index(drop=True)


def wide_to_long(
    wide: pd.DataFrame | None, tickers: list[str], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """yfinance's wide frame (columns ``Price`` x ``Ticker``) as ``PRICE_FRAME_COLUMNS`` rows.

    Keeps only ``tickers`` (matched case-insensitively, reported as requested) and dates in
    [start, end]. Drops rows where every price field is NaN: yfinance reindexes each ticker onto
    the union of all tickers' dates, so those rows are padding, not bars. Rows with only some
    fields NaN are kept for the quality checks to report.
    """
    if wide is None or wide.empty:
        return empty_price_frame()
    name_by_symbol = {t.upper(): t for t in tickers}
    blocks = {}
    if isinstance(wide.columns, pd.MultiIndex):
        names = list(wide.columns.names)
        level = names.index("Ticker") if "Ticker" in names else 1
        for symbol in wide.columns.get_level_values(level).unique():
            name = name_by_symbol.get(str(symbol).upper())
            if name is not None:
                blocks[name] = wide.xs(symbol, axis=1, level=level)
    elif len(tickers) == 1:  # a single ticker with multi_level_index=False
        blocks[tickers[0]] = wide

    parts = []
    for name, block in blocks.items():
        try:
            parts.append(_ticker_bars(name, block))
        except (ValueError, TypeError) as error:
            # Not retryable: the same reply would come back. Named so the run says which ticker.
            raise PriceSourceError(
                f"yfinance returned a frame for {name} that is not daily bars "
                f"(dates as index, one column per field): {error}"
            ) from error
    if not parts:
        return empty_price_frame()

    bars = pd.concat(parts, ignore_index=True)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    bars = bars[bars["trade_date"].between(lo, hi)].dropna(subset=PRICE_FIELDS, how="all")
    if bars.empty:
        return empty_price_frame()
    bars = bars.astype(dict.fromkeys([*PRICE_FIELDS, "volume"], "float64"))
    order = {t: i for i, t in enumerate(tickers)}
    bars = bars.sort_values(
        ["trade_date", "ticker"], key=lambda s: s.map(order) if s.name == "ticker" else s
    )
    return bars.reset_index(drop=True)[[*PRICE_FRAME_COLUMNS, *ACTION_COLUMNS]]


def classify_missing(
    tickers: list[str],
    messages: list[str],
    start: dt.date,
    end: dt.date,
    wire: Mapping[str, ChartOutcome] | None = None,
) -> PriceSourceError:
    """The typed error for ``tickers`` that came back without a single row.

    Each ticker is judged by what the wire saw for it (``wire``, by upper-case symbol, from a
    ``ChartWatch``) and the messages naming it. A failed chart request (exception, 429, 5xx)
    decides alone: yfinance logs it as "possibly delisted". A symbol Yahoo answered with its
    meta but no bar has "no bars in this window" unless Yahoo itself said why. Messages naming
    no ticker (crumb warnings) count only for tickers with no message of their own or only
    yfinance's *guess* ("possibly delisted"). The error type is that of the most actionable
    kind across tickers; the text lists all.
    """
    named, unattributed = _attribute(messages, tickers)
    seen_by_symbol = wire or {}
    kinds: dict[str, list[str]] = {}
    reasons: dict[str, list[str]] = {}
    for ticker in tickers:
        own = named.get(ticker, [])
        guessed = all("possibly delisted" in m.lower() for m in own)
        seen = seen_by_symbol.get(ticker.upper())
        if seen is not None and (seen.kind in _WIRE_DECIDES or (seen.kind == _NO_BARS and guessed)):
            kind, evidence = seen.kind, [seen.reason]
        else:
            evidence = own + unattributed if guessed else own
            kind = _kind_of(" ".join(evidence))
        kinds.setdefault(kind, []).append(ticker)
        for reason in evidence or ["yfinance logged no reason"]:
            if reason not in reasons.setdefault(kind, []):
                reasons[kind].append(reason)

    window = f"between {start.isoformat()} and {end.isoformat()}"
    groups = [
        f"yfinance returned no prices for {kinds[k]} {window}: {'; '.join(reasons[k])}"
        for k in _PRECEDENCE
        if k in kinds
    ]
    worst = next(k for k in _PRECEDENCE if k in kinds)
    return _ERROR_BY_KIND[worst](" | ".join(groups))


def _attribute(messages: list[str], tickers: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Split log messages into those naming one of ``tickers`` (prefix removed) and the rest."""
    name_by_symbol = {t.upper(): t for t in tickers}
    named: dict[str, list[str]] = {}
    unattributed: list[str] = []
    for message in messages:
        text = message.strip()
        if not text or _SUMMARY_HEADER.match(text):
            continue
        symbols: set[str] = set()
        if match := _LIST_PREFIX.match(text):
            try:
                symbols = {str(s) for s in ast.literal_eval(match.group(1))}
                text = text[match.end() :]
            except (ValueError, SyntaxError):
                pass
        elif match := _DOLLAR_PREFIX.match(text):
            symbols, text = {match.group(1)}, text[match.end() :]
        else:
            symbols = set(_QUOTED_TICKER.findall(text))
            # "Word: ..." is only a ticker if it is one we asked for.
            match = _PLAIN_PREFIX.match(text)
            if match and match.group(1).upper() in name_by_symbol:
                symbols.add(match.group(1))
        hits = {name_by_symbol[s.upper()] for s in symbols if s.upper() in name_by_symbol}
        if hits:
            for ticker in hits:
                named.setdefault(ticker, []).append(text)
        elif not symbols:
            unattributed.append(text)
    return named, unattributed


def _kind_of(text: str) -> str:
    lowered = text.lower()
    for kind in (_RATE_LIMIT, _NETWORK, _CACHE_BUSY, _UNKNOWN):
        if any(marker in lowered for marker in _MARKERS[kind]):
            return kind
    return _MISSING


def _error_for_exception(
    exc: Exception, tickers: list[str], start: dt.date, end: dt.date
) -> PriceSourceError:
    """``download`` itself raised (it normally logs instead): type it like a logged failure."""
    names = " ".join(cls.__name__ for cls in type(exc).__mro__)
    kind = _kind_of(f"{names} {exc}")
    if kind == _MISSING and isinstance(exc, OSError):  # curl_cffi and socket errors
        kind = _NETWORK
    error = _ERROR_BY_KIND[kind] if kind != _MISSING else PriceSourceError
    return error(
        f"yfinance download failed for {tickers} between {start.isoformat()} and "
        f"{end.isoformat()}: {type(exc).__name__}: {exc}"
    )
