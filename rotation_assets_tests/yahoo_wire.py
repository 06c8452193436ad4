"""A fake Yahoo Finance on the wire, for tests that run the real ``yfinance`` code.

``install_wire`` replaces ``curl_cffi.requests.Session.request`` (the one call every HTTP
request of yfinance 1.x goes through) with ``YahooWire.request``, which answers like Yahoo does:

* ``https://fc.yahoo.com`` (the "basic" cookie): a 404 that sets the ``A3`` cookie on the
  session, as the real host does;
* ``guce.yahoo.com/consent``, ``consent.yahoo.com/v2/collectConsent`` and
  ``guce.yahoo.com/copyConsent`` (the "csrf" cookie yfinance falls back to after an HTTP error);
* ``query1|query2.finance.yahoo.com/v1/test/getcrumb``: the crumb as text;
* ``/v8/finance/chart/<symbol>``: Yahoo's v8 chart JSON, ``chart.result[0]`` with ``meta``
  (``exchangeTimezoneName``, ``gmtoffset``, ``instrumentType``, ...), ``timestamp`` (each
  session's 09:30 open, in UTC seconds), ``indicators.quote[0]`` open/high/low/close/volume,
  ``indicators.adjclose[0].adjclose`` and ``events.dividends/splits`` for ``period1/period2``
  (and the last bar for ``range=1d``, the time-zone lookup); a known symbol without bars in the
  window gets ``meta`` without ``timestamp``, an unknown one Yahoo's 404 "No data found,
  symbol may be delisted";
* ``/v10/finance/quoteSummary/<symbol>``, ``/v7/finance/quote`` and the fundamentals time
  series (what ``Ticker.info``, yfinance's fallback for a missing time zone, asks): the quote
  type, or Yahoo's 404 "Quote not found";
* anything else: a 404.

Faults are scripted per request kind and symbol (``YahooWire.fail``): an exception raised
where curl would raise it, or an HTTP status with a body. Every request is recorded
(``YahooWire.requests``) with its parameters (the crumb among them), the thread it came from
and what it was answered.

``fresh_yfinance_state`` points yfinance's caches (time zones, cookies, ISINs) at a folder and
forgets its in-process state (the ``YfData`` singleton with its cookie and crumb, the response
cache, the time-zone fetch counter, the project's watched session and its cookie jar), so tests
do not share state with each other or the user.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookiejar import Cookie
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pandas as pd
import pytest

CRUMB = "wIr3CrUmB.t3st"
NEW_YORK = "America/New_York"
_VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]


@dataclass
class Listing:
    """One symbol Yahoo knows: its daily bars and events.

    ``bars``: index of ISO dates (or Timestamps), columns ``PRICE_COLUMNS``; NaN is sent as
    JSON null. ``dividends``: ex-date -> cash amount; ``splits``: ex-date -> (numerator,
    denominator).
    """

    symbol: str
    bars: pd.DataFrame
    instrument_type: str = "EQUITY"
    dividends: dict[str, float] = field(default_factory=dict)
    splits: dict[str, tuple[int, int]] = field(default_factory=dict)
    timezone: str = NEW_YORK


def listing(
    symbol: str,
    rows: dict[str, tuple[float, float, float, float, float, float]],
    instrument_type: str | None = None,
    **events: dict,
) -> Listing:
    """A listing from ISO date -> (open, high, low, close, adj_close, volume)."""
    bars = pd.DataFrame.from_dict(rows, orient="index", columns=PRICE_COLUMNS, dtype="float64")
    kind = instrument_type or ("INDEX" if symbol.startswith("^") else "EQUITY")
    return Listing(symbol, bars, kind, **events)


def listing_from_csv(path: Path, symbol: str, start: str, end: str) -> Listing:
    """A listing from one shared price file (``date,open,...,volume``), rows in [start, end]."""
    rows = pd.read_csv(path, index_col="date")
    rows = rows.loc[(rows.index >= start) & (rows.index <= end), PRICE_COLUMNS]
    kind = "INDEX" if symbol.startswith("^") else "EQUITY"
    return Listing(symbol, rows.astype("float64"), kind)


@dataclass
class WireRequest:
    """One HTTP request yfinance made."""

    method: str
    host: str
    path: str
    params: dict[str, str]
    kind: str  # cookie, consent, crumb, chart-tz, chart-prices, quote-summary, quote, other
    symbol: str | None
    thread: int
    answered: str  # "200", "503", "DNSError", ...


@dataclass
class _Fault:
    kind: str
    symbol: str | None
    action: Exception | tuple[int, str]
    remaining: int


def _open_timestamp(day: str, tz: str) -> int:
    """Yahoo stamps a daily bar with the session's 09:30 open, in UTC seconds."""
    return int(pd.Timestamp(f"{day} 09:30").tz_localize(tz).timestamp())


def _midnight(day: str, tz: str) -> int:
    return int(pd.Timestamp(day).tz_localize(tz).timestamp())


def _number(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class YahooWire:
    """Answers yfinance's requests from ``listings``; see the module docstring."""

    def __init__(self, *listings: Listing) -> None:
        self.listings: dict[str, Listing] = {}
        for item in listings:
            self.add(item)
        self.requests: list[WireRequest] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()

    def add(self, item: Listing) -> None:
        self.listings[item.symbol.upper()] = item

    def fail(
        self,
        kind: str,
        symbol: str | None = None,
        *,
        raises: Exception | None = None,
        status: int | None = None,
        body: str = "",
        times: int = 1,
    ) -> None:
        """The next ``times`` requests of ``kind`` (for ``symbol``, or any) raise ``raises``
        or are answered with HTTP ``status`` and ``body``. ``kind`` "*" matches every request."""
        action: Exception | tuple[int, str]
        if raises is not None:
            action = raises
        elif status is not None:
            action = (status, body)
        else:
            raise ValueError("a fault raises an exception or answers a status")
        self._faults.append(_Fault(kind, symbol, action, times))

    def requests_of(self, kind: str, symbol: str | None = None) -> list[WireRequest]:
        return [
            r for r in self.requests if r.kind == kind and (symbol is None or r.symbol == symbol)
        ]

    # --- the patched Session.request ---------------------------------------------------------

    def request(self, session, method: str, url: str, params=None, **kwargs) -> object:
        from curl_cffi.requests import Response

        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        query.update({k: str(v) for k, v in (params or {}).items()})
        kind, symbol = self._kind_of(parts.hostname or "", parts.path, query)
        with self._lock:
            fault = next(
                (
                    f
                    for f in self._faults
                    if f.remaining > 0
                    and f.kind in (kind, "*")
                    and (f.symbol is None or f.symbol == symbol)
                ),
                None,
            )
            if fault is not None:
                fault.remaining -= 1
        record = WireRequest(
            method.upper(),
            parts.hostname or "",
            parts.path,
            query,
            kind,
            symbol,
            threading.get_ident(),
            "",
        )
        self.requests.append(record)
        if fault is not None and isinstance(fault.action, Exception):
            record.answered = type(fault.action).__name__
            raise fault.action
        if fault is not None:
            status, body, content_type = (*fault.action, "text/html")
        else:
            status, body, content_type = self._answer(session, kind, symbol, query)
        record.answered = str(status)
        response = Response()
        response.url = url
        response.status_code = status
        response.reason = HTTPStatus(status).phrase
        response.ok = status < 400
        response.content = body.encode()
        response.headers["content-type"] = content_type
        return response

    def _kind_of(self, host: str, path: str, query: dict[str, str]) -> tuple[str, str | None]:
        if host == "fc.yahoo.com":
            return "cookie", None
        if host.endswith("consent.yahoo.com") or host == "guce.yahoo.com":
            return "consent", None
        if path.endswith("/v1/test/getcrumb"):
            return "crumb", None
        if "/v8/finance/chart/" in path:
            symbol = unquote(path.rsplit("/", 1)[1]).upper()
            return ("chart-prices" if "period1" in query else "chart-tz"), symbol
        if "/v10/finance/quoteSummary/" in path:
            return "quote-summary", unquote(path.rsplit("/", 1)[1]).upper()
        if path.endswith("/v7/finance/quote"):
            return "quote", query.get("symbols", "").upper()
        if "/fundamentals-timeseries/" in path:
            return "timeseries", unquote(path.rsplit("/", 1)[1]).upper()
        return "other", None

    def _answer(self, session, kind: str, symbol: str | None, query: dict) -> tuple[int, str, str]:
        as_json = "application/json;charset=utf-8"
        if kind == "cookie":
            _set_a3_cookie(session)
            return 404, "<html><body>Not Found</body></html>", "text/html"
        if kind == "consent":
            _set_a3_cookie(session)
            form = (
                '<html><body><form method="post" action="https://consent.yahoo.com/v2/collect'
                'Consent"><input type="hidden" name="csrfToken" value="csrf-wire"/><input '
                'type="hidden" name="sessionId" value="session-wire"/></form></body></html>'
            )
            return 200, form, "text/html"
        if kind == "crumb":
            return 200, CRUMB, "text/plain"
        known = self.listings.get(symbol or "")
        if kind in ("chart-prices", "chart-tz"):
            if known is None:
                reason = "No data found, symbol may be delisted"
                error = {"code": "Not Found", "description": reason}
                return 404, json.dumps({"chart": {"result": None, "error": error}}), as_json
            return 200, json.dumps(chart_json(known, query)), as_json
        if kind == "quote-summary":
            if known is None:
                reason = f"Quote not found for symbol: {symbol}"
                error = {"code": "Not Found", "description": reason}
                return 404, json.dumps({"quoteSummary": {"result": None, "error": error}}), as_json
            result = [{"quoteType": {"symbol": symbol, "quoteType": known.instrument_type,
                                     "exchangeTimezoneName": known.timezone}}]  # fmt: skip
            return 200, json.dumps({"quoteSummary": {"result": result, "error": None}}), as_json
        if kind == "quote":
            found = {"symbol": symbol, "quoteType": known.instrument_type} if known else None
            result = [found] if found else []
            return 200, json.dumps({"quoteResponse": {"result": result, "error": None}}), as_json
        if kind == "timeseries":  # info's complement (trailingPegRatio): no values here
            meta = {"symbol": [symbol], "type": [query.get("type", "trailingPegRatio")]}
            result = [{"meta": meta, "timestamp": None}]
            return 200, json.dumps({"timeseries": {"result": result, "error": None}}), as_json
        nothing = {"finance": {"result": None, "error": {"code": "Not Found"}}}
        return 404, json.dumps(nothing), as_json


def chart_json(item: Listing, query: dict[str, str]) -> dict:
    """Yahoo's v8 chart answer for ``item``: bars with period1 <= open < period2, or the last
    bar for a ``range`` request (the time-zone lookup asks ``range=1d``)."""
    tz = item.timezone
    days = [str(pd.Timestamp(d).date()) for d in item.bars.index]
    stamps = [_open_timestamp(d, tz) for d in days]
    if "period1" in query:
        lo, hi = int(query["period1"]), int(query["period2"])
        chosen = [i for i, s in enumerate(stamps) if lo <= s < hi]
    else:
        chosen = [len(days) - 1] if days else []
    last_day = days[-1] if days else "2026-01-02"
    offset = int(pd.Timestamp(last_day).tz_localize(tz).utcoffset().total_seconds())
    abbreviation = pd.Timestamp(last_day).tz_localize(tz).tzname()

    def period(start: str, end: str) -> dict:
        return {
            "timezone": abbreviation,
            "start": _open_timestamp(last_day, tz) if start == "09:30" else 0,
            "end": int(pd.Timestamp(f"{last_day} {end}").tz_localize(tz).timestamp()),
            "gmtoffset": offset,
        }

    meta = {
        "currency": "USD",
        "symbol": item.symbol,
        "exchangeName": "NYQ",
        "fullExchangeName": "NYSE",
        "instrumentType": item.instrument_type,
        "firstTradeDate": stamps[0] if stamps else None,
        "regularMarketTime": _open_timestamp(last_day, tz) + 6 * 3600 + 1800,
        "hasPrePostMarketData": item.instrument_type != "INDEX",
        "gmtoffset": offset,
        "timezone": abbreviation,
        "exchangeTimezoneName": tz,
        "regularMarketPrice": _number(float(item.bars["close"].iloc[-1])) if days else None,
        "priceHint": 2,
        "currentTradingPeriod": {
            "pre": {**period("04:00", "09:30"), "start": _midnight(last_day, tz) + 4 * 3600},
            "regular": period("09:30", "16:00"),
            "post": {**period("16:00", "20:00"), "start": _midnight(last_day, tz) + 16 * 3600},
        },
        "dataGranularity": "1d",
        "range": query.get("range", ""),
        "validRanges": _VALID_RANGES,
    }
    result: dict = {"meta": meta}
    if chosen:
        rows = item.bars.iloc[chosen]
        result["timestamp"] = [stamps[i] for i in chosen]
        quote = {c: [_number(float(v)) for v in rows[c]] for c in ("open", "high", "low", "close")}
        quote["volume"] = [None if math.isnan(v) else int(v) for v in rows["volume"]]
        result["indicators"] = {
            "quote": [quote],
            "adjclose": [{"adjclose": [_number(float(v)) for v in rows["adj_close"]]}],
        }
        chosen_days = {days[i] for i in chosen}
        events: dict = {}
        dividends = {
            str(_open_timestamp(d, tz)): {"amount": a, "date": _open_timestamp(d, tz)}
            for d, a in item.dividends.items()
            if d in chosen_days
        }
        splits = {
            str(_open_timestamp(d, tz)): {
                "date": _open_timestamp(d, tz),
                "numerator": n,
                "denominator": m,
                "splitRatio": f"{n}:{m}",
            }
            for d, (n, m) in item.splits.items()
            if d in chosen_days
        }
        if dividends:
            events["dividends"] = dividends
        if splits:
            events["splits"] = splits
        if events:
            result["events"] = events
    else:
        # What Yahoo sends for a known symbol without a bar in the window: meta, no timestamp.
        result["indicators"] = {"quote": [{}], "adjclose": [{}]}
    return {"chart": {"result": [result], "error": None}}


def _set_a3_cookie(session) -> None:
    """The consent cookie Yahoo sets, valid for a year (yfinance caches it with its expiry)."""
    cookie = Cookie(
        version=0, name="A3", value="d=AQABBwire&S=AQAAAwire", port=None,
        port_specified=False, domain=".yahoo.com", domain_specified=True,
        domain_initial_dot=True, path="/", path_specified=True, secure=True,
        expires=int(time.time()) + 365 * 86400, discard=False, comment=None,
        comment_url=None, rest={"SameSite": "None"},
    )  # fmt: skip
    session.cookies.jar.set_cookie(cookie)


def fresh_yfinance_state(cache_dir: Path) -> None:
    """yfinance as a new process would find it, with its caches under ``cache_dir``."""
    import yfinance
    import yfinance.base
    from yfinance import cache
    from yfinance.data import YfData

    from rotation_assets.sources.yahoo_prices import forget_session

    cache_dir.mkdir(parents=True, exist_ok=True)
    yfinance.set_tz_cache_location(str(cache_dir))
    cache._TzCacheManager._tz_cache = None
    cache._CookieCacheManager._Cookie_cache = None
    cache._ISINCacheManager._isin_cache = None
    type(YfData)._instances.pop(YfData, None)
    YfData.cache_get.cache_clear()
    yfinance.base._tz_info_fetch_ctr = 0
    forget_session()  # the project's session keeps Yahoo's cookie in its jar


@contextmanager
def install_wire(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path, *listings: Listing
) -> Iterator[YahooWire]:
    """A ``YahooWire`` serving ``listings`` in place of the network, with fresh yfinance state;
    the previous cache location and state come back afterwards."""
    from curl_cffi import requests as curl_requests
    from yfinance import cache

    wire = YahooWire(*listings)
    before = cache._TzDBManager.get_location()
    monkeypatch.setattr(curl_requests.Session, "request", _bound(wire))
    fresh_yfinance_state(cache_dir)
    try:
        yield wire
    finally:
        fresh_yfinance_state(Path(before))


def _bound(wire: YahooWire) -> Callable:
    def request(session, method: str, url: str, params=None, **kwargs):
        return wire.request(session, method, url, params=params, **kwargs)

    return request


def sessions(start: str, end: str) -> list[str]:
    """Weekdays in [start, end] as ISO dates (the tests' windows hold no holidays)."""
    days = pd.bdate_range(start, end)
    return [d.date().isoformat() for d in days]
