"""The price source resource: one abstract ``ConfigurableResource``, one subclass per source.

Each subclass is thin: it names its ``source`` label and calls the plain reader of
``rotation_assets.sources`` (Yahoo Finance through yfinance, a folder of CSV files, or the
synthetic demo sample). ``defs/resources.py`` picks one from ROTATION_PRICE_SOURCE.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod

import pandas as pd
from dagster import ConfigurableResource
from pydantic import Field

from rotation_assets.sources.csv_prices import PRICE_DIR_ENV_VAR, read_prices
from rotation_assets.sources.demo_prices import synthetic_prices
from rotation_assets.sources.yahoo_prices import download_prices


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
    def fetch(
        self,
        tickers: list[str],
        start: dt.date,
        end: dt.date,
        with_history: frozenset[str] = frozenset(),
    ) -> pd.DataFrame:
        """Daily bars for ``tickers`` on every session in [start, end], long format.

        Returns columns ``PRICE_FRAME_COLUMNS`` with ``trade_date`` as datetime64 (midnight,
        no time zone). Rows for dates that are not sessions are dropped by the caller. Raises a
        ``PriceSourceError`` subclass that names the tickers and dates when it cannot deliver.
        ``with_history``: tickers with stored bars before ``start``; one of them that comes back
        without a bar has stopped (a stale tail the audit reports), which is not a failure.
        """


class YFinancePriceSource(PriceSource):
    """Daily bars from Yahoo Finance: split-adjusted ``close``, fully adjusted ``adj_close``.

    A rate limit, an outage (timeout, DNS, HTTP 5xx) or a locked yfinance time-zone cache
    raises a ``RetryablePriceSourceError``, which ``raw_prices`` retries with its policy's
    backoff; every fetch, a retry included, asks Yahoo again (``sources.yahoo_prices``)."""

    timeout_seconds: float = Field(
        default=20.0, description="Per-request timeout that yfinance passes to each HTTP call."
    )

    @property
    def label(self) -> str:
        return "yfinance"

    @property
    def records_actions(self) -> bool:
        return True

    def fetch(
        self,
        tickers: list[str],
        start: dt.date,
        end: dt.date,
        with_history: frozenset[str] = frozenset(),
    ) -> pd.DataFrame:
        return download_prices(tickers, start, end, self.timeout_seconds, with_history)


class CsvPriceSource(PriceSource):
    """Daily bars read from ``<price_dir>/<ticker>.csv``."""

    price_dir: str = Field(
        description=(
            "Folder of per-ticker CSV files (date,open,high,low,close,adj_close,volume), "
            f"usually set from the {PRICE_DIR_ENV_VAR} environment variable."
        )
    )

    @property
    def label(self) -> str:
        return "csv"

    def fetch(
        self,
        tickers: list[str],
        start: dt.date,
        end: dt.date,
        with_history: frozenset[str] = frozenset(),
    ) -> pd.DataFrame:
        return read_prices(self.price_dir, tickers, start, end)


class DemoPriceSource(PriceSource):
    """Synthetic, deterministic daily bars for any ticker (``sources.demo_prices``)."""

    @property
    def label(self) -> str:
        return "synthetic"

    def fetch(
        self,
        tickers: list[str],
        start: dt.date,
        end: dt.date,
        with_history: frozenset[str] = frozenset(),
    ) -> pd.DataFrame:
        return synthetic_prices(tickers, start, end)
