"""Data-quality rules for daily bars, as plain functions over a long price frame.

The same rules audit a fetched frame before it is written (so bad data never replaces good
rows) and check the stored partition afterwards (the Dagster asset checks). Each rule returns
the offending rows, so a failure can name ticker and date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rotation_assets.sources.base import PRICE_FIELDS

# Vendors round open/high/low/close separately: allow 0.1% before calling a bar inconsistent.
OHLC_TOLERANCE = 0.001
# Real single-session moves beyond this exist (silver fell ~30% on 2026-01-30): warn only.
LARGE_MOVE_THRESHOLD = 0.25

# The rules that block a write, as the checks that re-run them on stored rows describe them.
BLOCKING_RULES = {
    "expected_tickers_present": "Every universe ticker listed by the session has a bar.",
    "no_null_prices": "open, high, low, close and adj_close are all present.",
    "prices_positive": "Every price is > 0.",
    "ohlc_consistent": "low <= min(open, close) and max(open, close) <= high, within 0.1%.",
    "unique_trade_date_ticker": "One bar per (trade_date, ticker).",
}


@dataclass(frozen=True)
class RuleResult:
    name: str
    description: str
    violations: pd.DataFrame
    blocking: bool = True

    @property
    def passed(self) -> bool:
        return self.violations.empty

    def summary(self, limit: int = 5) -> str:
        """One line naming the rule and the first offending tickers and dates."""
        if self.passed:
            return f"{self.name}: passed"
        shown = "; ".join(_describe_row(r) for r in self.violations.head(limit).to_dict("records"))
        more = len(self.violations) - limit
        return (
            f"check {self.name} failed ({self.description}) on {len(self.violations)} rows: "
            f"{shown}{f'; and {more} more' if more > 0 else ''}"
        )


def _describe_row(row: dict) -> str:
    date = row.get("trade_date")
    if isinstance(date, pd.Timestamp):
        date = date.date().isoformat()
    details = ", ".join(
        f"{k}={_fmt(v)}" for k, v in row.items() if k not in ("trade_date", "ticker")
    )
    return f"{row.get('ticker')} on {date}" + (f" ({details})" if details else "")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def missing_tickers(
    frame: pd.DataFrame, expected: Callable[[dt.date], Iterable[str]], sessions: list[dt.date]
) -> pd.DataFrame:
    """(trade_date, ticker) pairs expected on a session but absent from ``frame``."""
    # One set of tickers per session, compared with C-level set operations: a set of every
    # (date, ticker) pair cost ~50 s and 1.2 GB at 3,000 tickers x 10 years.
    dates = pd.to_datetime(frame["trade_date"]).dt.normalize().to_numpy()
    order = np.argsort(dates, kind="stable")
    days, starts = np.unique(dates[order], return_index=True)
    tickers = frame["ticker"].to_numpy()[order]
    bounds = [*starts[1:], len(order)]
    present = {
        pd.Timestamp(day): set(tickers[a:b]) for day, a, b in zip(days, starts, bounds, strict=True)
    }
    rows = []
    for day in sessions:
        wanted = expected(day)
        have = present.get(pd.Timestamp(day), set())
        if have.issuperset(wanted):
            continue
        rows += [
            {"trade_date": pd.Timestamp(day), "ticker": ticker}
            for ticker in wanted
            if ticker not in have
        ]
    return pd.DataFrame(rows, columns=["trade_date", "ticker"])


def null_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with a missing open, high, low, close or adj_close (volume may be empty)."""
    mask = frame[PRICE_FIELDS].isna().any(axis=1)
    return frame.loc[mask, ["trade_date", "ticker", *PRICE_FIELDS]]


def nonpositive_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows where any price is zero or negative."""
    mask = (frame[PRICE_FIELDS] <= 0).any(axis=1)
    return frame.loc[mask, ["trade_date", "ticker", *PRICE_FIELDS]]


def inconsistent_ohlc(frame: pd.DataFrame, tolerance: float = OHLC_TOLERANCE) -> pd.DataFrame:
    """Rows where ``low > min(open, close)`` or ``max(open, close) > high``, beyond rounding."""
    body_low = frame[["open", "close"]].min(axis=1)
    body_high = frame[["open", "close"]].max(axis=1)
    mask = (frame["low"] > body_low * (1 + tolerance)) | (
        body_high > frame["high"] * (1 + tolerance)
    )
    return frame.loc[mask, ["trade_date", "ticker", "open", "high", "low", "close"]]


def duplicate_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose (trade_date, ticker) occurs more than once."""
    mask = frame.duplicated(["trade_date", "ticker"], keep=False)
    return frame.loc[mask, ["trade_date", "ticker"]]


def large_moves(
    frame: pd.DataFrame,
    previous_close: pd.DataFrame | None = None,
    threshold: float = LARGE_MOVE_THRESHOLD,
) -> pd.DataFrame:
    """Sessions whose close moved more than ``threshold`` from the ticker's previous close.

    ``previous_close`` (trade_date, ticker, close) supplies the session before the frame's
    first date, so the first day of a partition window is compared too.
    """
    bars = frame[["trade_date", "ticker", "close"]]
    if previous_close is not None and not previous_close.empty:
        bars = pd.concat([previous_close[["trade_date", "ticker", "close"]], bars])
    bars = bars.sort_values(["ticker", "trade_date"])
    prior = bars.groupby("ticker")["close"].shift(1)
    move = bars["close"] / prior - 1
    out = bars.assign(previous_close=prior, move=move)
    out = out[move.abs() > threshold]
    first_date = pd.to_datetime(frame["trade_date"]).min()
    return out[pd.to_datetime(out["trade_date"]) >= first_date].reset_index(drop=True)


def audit_prices(
    frame: pd.DataFrame,
    expected: Callable[[dt.date], Iterable[str]],
    sessions: list[dt.date],
) -> list[RuleResult]:
    """Every blocking rule over ``frame``: what must hold before the rows are published."""
    return [
        RuleResult(
            "expected_tickers_present",
            "every universe ticker listed by the session has a bar",
            missing_tickers(frame, expected, sessions),
        ),
        RuleResult(
            "no_null_prices",
            "open, high, low, close and adj_close are all present",
            null_prices(frame),
        ),
        RuleResult("prices_positive", "every price is > 0", nonpositive_prices(frame)),
        RuleResult(
            "ohlc_consistent",
            f"low <= min(open, close) and max(open, close) <= high within {OHLC_TOLERANCE:.1%}",
            inconsistent_ohlc(frame),
        ),
        RuleResult(
            "unique_trade_date_ticker", "one bar per (trade_date, ticker)", duplicate_keys(frame)
        ),
    ]
