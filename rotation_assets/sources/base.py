"""What every price source delivers: daily bars in one long frame, and typed failures.

Every source returns one row per (trade_date, ticker) with ``PRICE_FRAME_COLUMNS``: ``close``
split-adjusted, ``adj_close`` split- and dividend-adjusted. A ticker is only asked for on
sessions on or after its first trading date (and up to its last, for a delisted one). A source
delivers what it has: a ticker whose series stopped comes back with fewer bars, or none, and the
audit tells a stale tail (no bars after some session: a warning) from a hole (a session missing
between two delivered ones: blocking). Failures are typed so that the loader can tell a
retryable condition (rate limit, network) from bad data. The Dagster resources that choose a
source live in ``rotation_assets.defs.prices.sources``.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import numpy as np
import pandas as pd

PRICE_FIELDS = ["open", "high", "low", "close", "adj_close"]
PRICE_FRAME_COLUMNS = ["trade_date", "ticker", *PRICE_FIELDS, "volume"]
# Sources whose history re-bases (yfinance) also return these: the cash dividend going ex on
# the session and the split ratio (1.0 when none), so returns survive the re-basing.
ACTION_COLUMNS = ["dividend", "split_ratio"]


class PriceSourceError(Exception):
    """A price source could not deliver; nothing has been written."""


class RetryablePriceSourceError(PriceSourceError):
    """A transient failure (rate limit, network): worth retrying with backoff."""


class RateLimitedError(RetryablePriceSourceError):
    """The vendor refused requests for being too many."""


class SourceUnavailableError(RetryablePriceSourceError):
    """The vendor could not be reached (DNS, connection, timeout)."""


class MissingPricesError(PriceSourceError):
    """Tickers expected on some sessions came back without prices."""


class UnknownTickerError(PriceSourceError):
    """The vendor does not know a ticker (or reports it delisted)."""


class MalformedPriceFileError(PriceSourceError):
    """A price file could not be read: names the file and the line."""


class BarSource(Protocol):
    """What the loader needs of a source (the ``PriceSource`` resources provide it)."""

    @property
    def label(self) -> str:
        """The value of ``raw.prices.source`` for its rows: yfinance, csv or synthetic."""
        ...

    @property
    def records_actions(self) -> bool:
        """True when ``fetch`` also returns ``ACTION_COLUMNS`` (dividends and splits)."""
        ...

    def fetch(
        self,
        tickers: list[str],
        start: dt.date,
        end: dt.date,
        with_history: frozenset[str] = frozenset(),
    ) -> pd.DataFrame:
        """Bars in ``PRICE_FRAME_COLUMNS`` (plus ``ACTION_COLUMNS`` if it records actions).
        A ticker of ``with_history`` (stored bars before ``start``) may come back with none."""
        ...


def is_index(ticker: str) -> bool:
    """True for an index (Yahoo's ``^`` symbols: ^GSPC, ^RUT, ^VIX). An index trades no shares
    of its own: its volume of 0 means "no figure" and is stored NULL (``index_volume``)."""
    return ticker.startswith("^")


def empty_price_frame() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in PRICE_FRAME_COLUMNS})
    frame["trade_date"] = pd.Series(dtype="datetime64[ns]")
    frame["ticker"] = pd.Series(dtype="object")
    return frame[PRICE_FRAME_COLUMNS]


def slice_window(bars: pd.DataFrame, ticker: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The bars of one ticker (sorted by trade_date, no ticker column) in [start, end], with
    the ticker inserted as the second column; a copy, so shared cached bars stay untouched.
    An index's volume of 0 is NaN: an index trades no shares of its own, so 0 means "no
    figure" (Yahoo's files and yfinance write 0 where they have none; where they have one, it
    is the constituents' volume and is kept). Every source applies this same rule."""
    lo, hi = np.datetime64(start.isoformat(), "ns"), np.datetime64(end.isoformat(), "ns")
    dates = bars["trade_date"].to_numpy()
    first, last = dates.searchsorted(lo, "left"), dates.searchsorted(hi, "right")
    window = bars.iloc[first:last].copy()
    window.insert(1, "ticker", ticker)
    if is_index(ticker):
        window["volume"] = index_volume(window["volume"])
    return window


def index_volume(volume: pd.Series) -> pd.Series:
    """An index's volume as stored: the vendor's figure, NaN where it is 0 (no figure)."""
    return volume.where(volume != 0.0)


def concat_windows(windows: list[pd.DataFrame]) -> pd.DataFrame:
    """The non-empty windows as one long frame in ``PRICE_FRAME_COLUMNS`` order."""
    frames = [w for w in windows if not w.empty]
    if not frames:
        return empty_price_frame()
    return pd.concat(frames, ignore_index=True)[PRICE_FRAME_COLUMNS]
