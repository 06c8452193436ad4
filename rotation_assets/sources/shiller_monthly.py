"""``raw.shiller_monthly``: Robert Shiller's monthly S&P 500 data, and what every source of it
delivers.

Shiller publishes the data behind "Irrational Exuberance" as the workbook ``ie_data.xls``
(sheet ``Data``): per month since 1871-01 the S&P Composite price (a monthly average of daily
closes; the newest month may be a single day's close), trailing twelve-month dividends and
earnings (quarterly totals interpolated to months; the newest quarters are S&P estimates), the
CPI, the 10-year Treasury yield and his cyclically adjusted P/E (CAPE, from 1881-01: price over
the 10-year average of real earnings) and total-return CAPE. Two readers deliver it in one
shape (``SHILLER_FIELDS`` per month, ascending, one row per month, no month skipped):

- ``sources.shiller_csv``: a CSV copy of the sheet (the offline default,
  ``../shared/data/valuation/shiller_sp500_monthly.csv``), which also carries ``trailing_pe``;
- ``sources.shiller_workbook``: Shiller's published workbook itself (the online source), where
  ``trailing_pe`` is computed as price / earnings.

A malformed file (missing column, unparsable month or number, duplicate or skipped month) is
refused as a whole with a ``MalformedValuationFileError`` naming the file and the line (or the
sheet's row and column), before anything is written.

Each load records one row in ``raw.shiller_loads`` with the md5 of the bytes it read: the loader
skips a file whose bytes it has already loaded, so a daily run costs one hash of the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from rotation_assets.warehouse.connection import table_exists
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import WriteSummary, ensure_table

SHILLER_PUBLISHER = "Robert Shiller, Irrational Exuberance data (ie_data.xls, sheet Data)"
# The numbers of a month, in the table's order (``month`` first, ``source`` and ``loaded_at``
# after them).
SHILLER_FIELDS = (
    "sp500_price",
    "dividend_12m",
    "earnings_12m",
    "cpi",
    "gs10",
    "trailing_pe",
    "cape",
    "tr_cape",
)


class ValuationSourceError(Exception):
    """The valuation source could not deliver; nothing has been written."""


class ValuationSourceUnavailableError(ValuationSourceError):
    """The published workbook could not be downloaded (network, HTTP error)."""


class MalformedValuationFileError(ValuationSourceError):
    """A valuation file could not be read: names the file and the line (or row and column)."""


SHILLER_MONTHLY = TableSpec(
    schema="raw",
    name="shiller_monthly",
    description=(
        "Robert Shiller's monthly S&P 500 data (ie_data.xls, sheet Data): price, trailing "
        "12-month dividends and earnings, CPI, 10-year yield, trailing P/E and CAPE, one row "
        "per month since 1871-01, as the configured source delivers them (source names where "
        "each row came from). Values are Shiller's latest revision, not what was published in "
        "the month itself: analytics.valuation_history says from when each is usable."
    ),
    columns=(
        Column(
            "month",
            "DATE",
            "First day of the month the figures describe (1871-01-01 = January 1871).",
            nullable=False,
        ),
        Column(
            "sp500_price",
            "DOUBLE",
            "S&P Composite price: the average of the month's daily closes (Shiller's P); the "
            "newest month of a workbook may be a single day's close (the sheet's footnote says "
            "which).",
            nullable=False,
        ),
        Column(
            "dividend_12m",
            "DOUBLE",
            "Dividends per share of the trailing four quarters, interpolated to the month "
            "(Shiller's D); null where not yet published.",
        ),
        Column(
            "earnings_12m",
            "DOUBLE",
            "Earnings per share of the trailing four quarters, interpolated to the month "
            "(Shiller's E; the newest quarters are S&P estimates); null where not yet published.",
        ),
        Column("cpi", "DOUBLE", "Consumer price index (Shiller's CPI)."),
        Column("gs10", "DOUBLE", "10-year Treasury yield, percent (Shiller's Rate GS10)."),
        Column(
            "trailing_pe",
            "DOUBLE",
            "sp500_price / earnings_12m: the trailing 12-month P/E; null without earnings.",
        ),
        Column(
            "cape",
            "DOUBLE",
            "Shiller's cyclically adjusted P/E (P/E10): real price / average real earnings of "
            "the past 10 years; null before 1881-01.",
        ),
        Column(
            "tr_cape",
            "DOUBLE",
            "Shiller's total-return CAPE (dividends reinvested in price and earnings); null "
            "before 1881-01.",
        ),
        Column(
            "source",
            "VARCHAR",
            f"Where the row came from: '{SHILLER_PUBLISHER}', and the file or workbook read "
            "(via ...).",
            nullable=False,
        ),
        Column(
            "loaded_at",
            "TIMESTAMP",
            "UTC time this exact row was first loaded; re-loading identical values keeps it.",
            nullable=False,
        ),
    ),
    key=("month",),
)

SHILLER_LOADS = TableSpec(
    schema="raw",
    name="shiller_loads",
    description=(
        "One row per read of the Shiller data that was loaded into raw.shiller_monthly: what "
        "was read (md5 of its bytes) and what it changed. A source whose md5 equals the latest "
        "load's is not read again."
    ),
    columns=(
        Column("load_id", "BIGINT", "Increasing number of the load.", nullable=False),
        Column("origin", "VARCHAR", "The file path or workbook URL read.", nullable=False),
        Column("content_md5", "VARCHAR", "md5 of the bytes read.", nullable=False),
        Column("first_month", "DATE", "First month delivered.", nullable=False),
        Column("last_month", "DATE", "Last month delivered.", nullable=False),
        Column("months", "INTEGER", "Months (rows) delivered.", nullable=False),
        Column(
            "rows_changed",
            "BIGINT",
            "Months new or with changed values in raw.shiller_monthly (0 when only the bytes "
            "changed); months the source no longer has show in first_month, last_month and "
            "months.",
            nullable=False,
        ),
        Column("loaded_at", "TIMESTAMP", "UTC time of the load.", nullable=False),
    ),
    key=("load_id",),
)


@dataclass(frozen=True)
class ShillerContent:
    """The bytes a source read and where from, before they are parsed."""

    data: bytes
    origin: str

    @property
    def md5(self) -> str:
        return hashlib.md5(self.data).hexdigest()


def source_label(origin: str) -> str:
    """The ``source`` of rows read from ``origin`` (a file name or a URL)."""
    return f"{SHILLER_PUBLISHER} via {origin}"


def month_start(year: int, month: int) -> dt.date:
    return dt.date(year, month, 1)


def shiller_frame(
    months: list[dt.date],
    values: dict[str, list[float]],
    where: list[str],
    origin: str,
    read_from: str,
) -> pd.DataFrame:
    """The rows of one source as ``raw.shiller_monthly`` columns (without ``loaded_at``).

    ``months[i]`` and ``values[field][i]`` were read at ``where[i]`` (e.g. '<file> line 8'),
    named in errors; ``origin`` is the file or URL (in errors), ``read_from`` what the
    ``source`` column names (a file's name, so the rows do not change with the folder).
    Checks every month once, ascending without a gap (the percentiles of
    ``analytics.valuation_history`` count windows in months), and a positive price.
    """
    if not months:
        raise MalformedValuationFileError(f"{origin}: no monthly rows")
    seen: dict[dt.date, str] = {}
    for i, month in enumerate(months):
        if month in seen:
            raise MalformedValuationFileError(
                f"{where[i]}: duplicate month {month:%Y-%m} (also at {seen[month]})"
            )
        seen[month] = where[i]
        if i:
            previous = months[i - 1]
            expected = month_start(previous.year + previous.month // 12, previous.month % 12 + 1)
            if month != expected:
                raise MalformedValuationFileError(
                    f"{where[i]}: month {month:%Y-%m} follows {previous:%Y-%m}; expected "
                    f"{expected:%Y-%m} (one row per month, ascending, none skipped)"
                )
        price = values["sp500_price"][i]
        if not (np.isfinite(price) and price > 0):
            raise MalformedValuationFileError(
                f"{where[i]}: sp500_price {price!r} is not a positive number"
            )
    frame = pd.DataFrame({"month": pd.to_datetime(months).astype("datetime64[ns]")})
    for field in SHILLER_FIELDS:
        frame[field] = np.asarray(values[field], dtype="float64")
    frame["source"] = source_label(read_from)
    return frame


@dataclass(frozen=True)
class ShillerLoad:
    """The newest row of ``raw.shiller_loads``."""

    load_id: int
    content_md5: str
    months: int


def latest_load(con: duckdb.DuckDBPyConnection) -> ShillerLoad | None:
    """The newest load, if ``raw.shiller_monthly`` still holds exactly what it delivered (same
    number of months); None otherwise, so a wiped or edited table is loaded again."""
    if not table_exists(con, SHILLER_LOADS.schema, SHILLER_LOADS.name):
        return None
    row = con.execute(
        f"SELECT load_id, content_md5, months FROM {SHILLER_LOADS.qualified_name} "
        "ORDER BY load_id DESC LIMIT 1"
    ).fetchone()
    if row is None or not table_exists(con, SHILLER_MONTHLY.schema, SHILLER_MONTHLY.name):
        return None
    (stored,) = con.execute(f"SELECT count(*) FROM {SHILLER_MONTHLY.qualified_name}").fetchone()
    load = ShillerLoad(int(row[0]), str(row[1]), int(row[2]))
    return load if stored == load.months else None


def record_load(
    con: duckdb.DuckDBPyConnection,
    content: ShillerContent,
    frame: pd.DataFrame,
    written: WriteSummary,
    loaded_at: dt.datetime,
) -> int:
    """Append the load of ``frame`` (read as ``content``) to ``raw.shiller_loads``, inside the
    caller's transaction with the write it describes, and return its load_id."""
    ensure_table(con, SHILLER_LOADS)
    (last,) = con.execute(
        f"SELECT coalesce(max(load_id), 0) FROM {SHILLER_LOADS.qualified_name}"
    ).fetchone()
    load_id = int(last) + 1
    con.execute(
        f"INSERT INTO {SHILLER_LOADS.qualified_name} BY NAME SELECT ? AS load_id, ? AS origin, "
        "? AS content_md5, ? AS first_month, ? AS last_month, ? AS months, ? AS rows_changed, "
        "? AS loaded_at",
        [
            load_id,
            content.origin,
            content.md5,
            frame["month"].min().date(),
            frame["month"].max().date(),
            len(frame),
            written.rows_changed,
            loaded_at,
        ],
    )
    return load_id
