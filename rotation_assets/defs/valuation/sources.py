"""The Shiller data source resource: one abstract ``ConfigurableResource``, one subclass per
source, as for prices (``defs/prices/sources.py``).

Each subclass reads bytes (``read``) and parses them (``parse``) with the plain readers of
``rotation_assets.sources``: a CSV copy of Shiller's sheet (offline, the default) or his
published workbook ``ie_data.xls`` (online). ``defs/resources.py`` picks one from
ROTATION_SHILLER_SOURCE.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import pandas as pd
from dagster import ConfigurableResource
from pydantic import Field

from rotation_assets.sources.shiller_csv import (
    SHILLER_FILE_ENV_VAR,
    parse_shiller_csv,
    read_shiller_file,
)
from rotation_assets.sources.shiller_monthly import ShillerContent
from rotation_assets.sources.shiller_workbook import (
    SHILLER_URL_ENV_VAR,
    download_workbook,
    parse_shiller_workbook,
)


class ShillerSource(ConfigurableResource, ABC):
    """Where Shiller's monthly S&P 500 data come from. Subclasses implement ``read`` and
    ``parse``; both raise a ``ValuationSourceError`` naming the file when they cannot deliver."""

    @property
    @abstractmethod
    def label(self) -> str:
        """'file' or 'workbook'."""

    @property
    @abstractmethod
    def location(self) -> str:
        """The file path or URL read."""

    @property
    def required(self) -> bool:
        """False when a missing file means 'no valuation data here' rather than an error."""
        return True

    def available(self) -> bool:
        """Whether ``read`` can be tried (an absent optional file is skipped, not an error)."""
        return True

    @abstractmethod
    def read(self) -> ShillerContent:
        """The bytes to load, and where they came from."""

    @abstractmethod
    def parse(self, content: ShillerContent) -> pd.DataFrame:
        """``raw.shiller_monthly`` columns without ``loaded_at``, one row per month."""


class ShillerFileSource(ShillerSource):
    """A CSV copy of Shiller's sheet (``sources.shiller_csv``)."""

    path: str = Field(
        description=f"The CSV file, usually set from the {SHILLER_FILE_ENV_VAR} environment "
        "variable (default ../shared/data/valuation/shiller_sp500_monthly.csv beside the "
        "project)."
    )
    optional: bool = Field(
        default=False,
        description="True for the default file: when it is absent the load records nothing "
        "and warns, instead of failing.",
    )

    @property
    def label(self) -> str:
        return "file"

    @property
    def location(self) -> str:
        return self.path

    @property
    def required(self) -> bool:
        return not self.optional

    def available(self) -> bool:
        return self.required or Path(self.path).expanduser().is_file()

    def read(self) -> ShillerContent:
        return read_shiller_file(self.path)

    def parse(self, content: ShillerContent) -> pd.DataFrame:
        return parse_shiller_csv(content)


class ShillerWorkbookSource(ShillerSource):
    """Shiller's published workbook ``ie_data.xls`` (``sources.shiller_workbook``; needs xlrd)."""

    url: str = Field(
        description=f"URL (or path) of ie_data.xls, usually set from {SHILLER_URL_ENV_VAR}."
    )
    timeout_seconds: float = Field(default=60.0, description="Download timeout.")

    @property
    def label(self) -> str:
        return "workbook"

    @property
    def location(self) -> str:
        return self.url

    def read(self) -> ShillerContent:
        return download_workbook(self.url, self.timeout_seconds)

    def parse(self, content: ShillerContent) -> pd.DataFrame:
        return parse_shiller_workbook(content)
