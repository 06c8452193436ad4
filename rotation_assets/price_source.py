"""The price source: one abstract resource, one implementation per place prices come from.

Every implementation returns daily bars in long format, one row per (trade_date, ticker), with
``PRICE_FRAME_COLUMNS``: ``close`` split-adjusted, ``adj_close`` split- and dividend-adjusted.
A ticker is only asked for on sessions on or after its first trading date. Failures are typed
so that the asset can tell a retryable condition (rate limit, network) from bad data.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod

import pandas as pd
from dagster import ConfigurableResource

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


class PriceSource(ConfigurableResource, ABC):
    """Where daily bars come from. Subclasses implement ``fetch``."""

    @property
    @abstractmethod
    def label(self) -> str:
        """The value of ``raw.prices.source`` for rows from this source."""

    @property
    def records_actions(self) -> bool:
        """True when ``fetch`` also returns ``ACTION_COLUMNS`` (dividends and splits)."""
        return False

    @abstractmethod
    def fetch(self, tickers: list[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        """Daily bars for ``tickers`` on every session in [start, end], long format.

        Returns columns ``PRICE_FRAME_COLUMNS`` with ``trade_date`` as datetime64 (midnight,
        no time zone). Rows for dates that are not sessions are dropped by the caller. Raises a
        ``PriceSourceError`` subclass that names the tickers and dates when it cannot deliver.
        """


def empty_price_frame() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in PRICE_FRAME_COLUMNS})
    frame["trade_date"] = pd.Series(dtype="datetime64[ns]")
    frame["ticker"] = pd.Series(dtype="object")
    return frame[PRICE_FRAME_COLUMNS]
