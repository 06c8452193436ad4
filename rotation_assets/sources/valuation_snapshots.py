"""``raw.valuation_snapshots``: Yahoo Finance's P/E fields for each ticker, as of the fetch.

One row per ticker and session, read from ``yfinance.Ticker(ticker).info``:

- ``trailing_pe``: Yahoo's ``trailingPE`` field (price / earnings of the last 12 months).
- ``forward_pe``: Yahoo's ``forwardPE`` field (price / expected earnings of the next 12 months).

Both are taken as Yahoo states them, without recomputation; a field that is absent or null is
stored as null. A value that is not a positive finite number (Yahoo sometimes sends the string
``'Infinity'``; a P/E <= 0 has no meaning for a ratio) is stored as null and reported. Indices
such as ^RUT usually have neither field; ETFs such as IWM and SPY have ``trailingPE`` only some
of the time.

Yahoo keeps no history of these fields: a fetch describes the moment it runs (``fetched_at``,
UTC), whatever ``trade_date`` it is filed under. So a snapshot is recorded only for the latest
session on live runs, and never for a backfill of past sessions: that would stamp today's P/E on
an old date. Deciding when to fetch is the caller's job; this module only fetches.

A ticker whose ``.info`` raises or comes back empty gets no row; the fetch returns it in its list
of problems instead, so one failing ticker neither blocks the others nor leaves a row of nulls
that looks like "Yahoo has no P/E".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from rotation_assets.warehouse.table_spec import Column, TableSpec

SNAPSHOT_SOURCE = "yfinance Ticker.info"
# Yahoo's field name -> our column.
_FIELDS = {"trailingPE": "trailing_pe", "forwardPE": "forward_pe"}

VALUATION_SNAPSHOTS = TableSpec(
    schema="raw",
    name="valuation_snapshots",
    description=(
        "Trailing and forward P/E per ticker as Yahoo Finance states them (yfinance "
        "Ticker.info trailingPE / forwardPE) at fetched_at. Yahoo keeps no history of these "
        "fields, so rows exist only for sessions fetched live as the latest session, never "
        "for backfilled dates. Null where Yahoo has no value (usual for indices such as ^RUT)."
    ),
    columns=(
        Column(
            "trade_date",
            "DATE",
            "The latest NYSE session when the snapshot was fetched; the values describe "
            "fetched_at, not this session's close.",
            nullable=False,
        ),
        Column("ticker", "VARCHAR", "Yahoo Finance symbol, e.g. IWM.", nullable=False),
        Column(
            "trailing_pe",
            "DOUBLE",
            "Yahoo's trailingPE: price / earnings of the last 12 months; null when absent or "
            "not a positive finite number.",
        ),
        Column(
            "forward_pe",
            "DOUBLE",
            "Yahoo's forwardPE: price / expected earnings of the next 12 months; null when "
            "absent or not a positive finite number.",
        ),
        Column(
            "source", "VARCHAR", f"Where the values come from: '{SNAPSHOT_SOURCE}'.", nullable=False
        ),
        Column("fetched_at", "TIMESTAMP", "UTC time Ticker.info was read.", nullable=False),
    ),
    key=("trade_date", "ticker"),
    window_column="trade_date",
)


def _default_ticker_factory() -> Callable[[str], Any]:
    # Imported here: yfinance pulls in curl_cffi and more, and tests inject a fake instead.
    import yfinance

    return yfinance.Ticker


def _pe_value(ticker: str, field: str, value: object) -> tuple[float, str | None]:
    """``value`` as a P/E (NaN when absent) and a problem text when it had to be discarded."""
    if value is None:
        return math.nan, None
    number = math.nan
    # bool is an int subclass; True is not a P/E.
    if not isinstance(value, bool):
        try:
            number = float(value)  # numbers and numeric strings; anything else fails
        except (TypeError, ValueError):
            number = math.nan
    if math.isfinite(number) and number > 0:
        return number, None
    return math.nan, f"{ticker}: {field} {value!r} is not a positive finite number; stored as null"


def fetch_valuation_snapshot(
    tickers: list[str],
    trade_date: dt.date,
    ticker_factory: Callable[[str], Any] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Trailing and forward P/E of ``tickers`` now, filed under ``trade_date``.

    ``ticker_factory(symbol)`` returns an object with an ``.info`` mapping; it defaults to
    ``yfinance.Ticker`` (imported only then). Returns the ``VALUATION_SNAPSHOTS`` rows, in the
    order of ``tickers`` (duplicates dropped), and the problems: tickers skipped because
    ``.info`` raised or was empty, and values discarded as not positive finite numbers.
    Call it only for the latest session of a live run (see the module docstring).
    """
    factory = ticker_factory or _default_ticker_factory()
    rows: list[dict[str, object]] = []
    problems: list[str] = []
    for ticker in dict.fromkeys(tickers):
        try:
            info = factory(ticker).info
        except Exception as exc:  # yfinance raises many types (HTTP, parsing, rate limit)
            problems.append(f"{ticker}: Ticker.info raised {type(exc).__name__}: {exc}; no row")
            continue
        # Unknown symbols come back as {} or a dict of nulls (e.g. {'trailingPegRatio': None}).
        if not isinstance(info, Mapping) or all(v is None for v in info.values()):
            problems.append(f"{ticker}: Ticker.info is empty; no row")
            continue
        row: dict[str, object] = {"trade_date": pd.Timestamp(trade_date), "ticker": ticker}
        for field, column in _FIELDS.items():
            row[column], problem = _pe_value(ticker, field, info.get(field))
            if problem:
                problems.append(problem)
        row["source"] = SNAPSHOT_SOURCE
        row["fetched_at"] = pd.Timestamp(dt.datetime.now(dt.UTC).replace(tzinfo=None))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=VALUATION_SNAPSHOTS.column_names)
    return VALUATION_SNAPSHOTS.conform(frame), problems
