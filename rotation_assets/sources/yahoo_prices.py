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
"""

from __future__ import annotations

import ast
import datetime as dt
import logging
import re
import threading
from collections.abc import Collection

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
# network failure; an unknown ticker needs a human; "missing" is what is left unexplained.
_RATE_LIMIT, _NETWORK, _UNKNOWN, _MISSING = "rate limit", "network", "unknown", "missing"
_PRECEDENCE = (_RATE_LIMIT, _NETWORK, _UNKNOWN, _MISSING)
_ERROR_BY_KIND: dict[str, type[PriceSourceError]] = {
    _RATE_LIMIT: RateLimitedError,
    _NETWORK: SourceUnavailableError,
    _UNKNOWN: UnknownTickerError,
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

# Ways yfinance 1.x names tickers in a log message.
_LIST_PREFIX = re.compile(r"^\s*(\[[^\]]*\]):\s?")  # "['BAD', 'X']: ..." (download summary)
_DOLLAR_PREFIX = re.compile(r"^\s*\$([^\s:]+):\s?")  # "$BAD: ..." (history, exceptions)
_QUOTED_TICKER = re.compile(r"ticker '([^']+)'")  # "Failed to get ticker 'BAD' reason: ..."
_PLAIN_PREFIX = re.compile(r"^\s*([A-Za-z0-9.\-^=]+):\s")  # "BAD: auto_adjust failed ..."
_SUMMARY_HEADER = re.compile(r"^\s*\d+ Failed downloads?:\s*$")

# The log capture cannot tell which download a record belongs to (yfinance logs from its own
# worker threads), so downloads in one process run one at a time.
_DOWNLOAD_LOCK = threading.Lock()


def download_prices(
    tickers: list[str],
    start: dt.date,
    end: dt.date,
    timeout_seconds: float = 20.0,
    with_history: Collection[str] = (),
) -> pd.DataFrame:
    """Daily bars of ``tickers`` in [start, end] from one batched ``yfinance.download``;
    ``close`` split-adjusted, ``adj_close`` fully adjusted, with dividends and splits.

    A ticker that comes back without a row raises a typed error, except a ticker of
    ``with_history`` (stored bars before ``start``) that Yahoo reports as unknown or without
    data while others do come back: its series has stopped (a stale tail, which the audit
    reports as a warning). A rate limit or a network failure raises whatever the ticker, and so
    does a download where no ticker came back."""
    # Imported here: yfinance pulls in curl_cffi and more, and Dagster imports this module
    # in every process even when another source is configured.
    import yfinance

    requested = list(dict.fromkeys(tickers))
    if not requested:
        return empty_price_frame()

    capture = _LogCapture()
    yf_logger = logging.getLogger(YFINANCE_LOGGER)
    with _DOWNLOAD_LOCK:
        yf_logger.addHandler(capture)
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
                threads=True,
                timeout=timeout_seconds,
                ignore_tz=True,
            )
        except Exception as exc:
            raise _error_for_exception(exc, requested, start, end) from exc
        finally:
            yf_logger.removeHandler(capture)

    bars = wide_to_long(wide, requested, start, end)
    delivered = set(bars["ticker"])
    absent = [t for t in requested if t not in delivered]
    if absent:
        error = classify_missing(absent, capture.messages, start, end)
        if isinstance(error, RetryablePriceSourceError):
            raise error  # a rate limit or an outage: retried, whatever the tickers' history
        # A ticker with stored history that Yahoo has nothing for has stopped: a stale tail.
        # When no ticker came back at all, Yahoo is failing rather than a series stopping.
        unexplained = [t for t in absent if t not in set(with_history)]
        if not delivered:
            raise error
        if unexplained:
            raise classify_missing(unexplained, capture.messages, start, end)
    return bars


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
        dates = pd.DatetimeIndex(block.index)
        if dates.tz is not None:
            dates = dates.tz_localize(None)
        part = pd.DataFrame(
            {"trade_date": dates.normalize().astype("datetime64[ns]"), "ticker": name}
        )
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
        parts.append(part.reset_index(drop=True))
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
    tickers: list[str], messages: list[str], start: dt.date, end: dt.date
) -> PriceSourceError:
    """The typed error for ``tickers`` that came back without a single row.

    Each ticker is judged by the messages naming it. Messages naming no ticker (crumb warnings)
    count only for tickers with no message of their own or only yfinance's *guess* ("possibly
    delisted"), which is what a failed chart request looks like once the time zone is cached.
    The error type is that of the most actionable kind across tickers; the text lists all.
    """
    named, unattributed = _attribute(messages, tickers)
    kinds: dict[str, list[str]] = {}
    reasons: dict[str, list[str]] = {}
    for ticker in tickers:
        own = named.get(ticker, [])
        guessed = all("possibly delisted" in m.lower() for m in own)
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
    for kind in (_RATE_LIMIT, _NETWORK, _UNKNOWN):
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
