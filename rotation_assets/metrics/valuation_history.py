"""``analytics.valuation_history``: where the S&P 500's CAPE and trailing P/E stand against their
own history, month by month, and from which session each month's figure may be used.

From ``raw.shiller_monthly`` (Robert Shiller's monthly data), one row per month:

- ``cape`` and ``trailing_pe`` as Shiller's data give them (trailing P/E = price / trailing
  12-month earnings; CAPE = real price / 10-year average of real earnings, from 1881-01).
- **Percentile**, the one definition used for both measures and both windows: the share of the
  window's months whose value is <= this month's value (ties count as <=), in (0, 1]; 1 at the
  window's high. Every window ends with the month itself, so a month's percentile uses no later
  month and never changes when months are added.

  - ``*_percentile_25y``: the window is the 300 months ending with this month (this month and
    the 299 before it); null unless all 300 have a value (CAPE from 1905-12 on).
  - ``*_percentile_since_1881``: the window is every month with a value from 1881-01 (CAPE's
    first month, so both measures are ranked over the same span) through this month; null
    before 1881-01.

  Null when the month itself has no value.
- **When a month's figure is usable** (the lags; a view as of session D uses only rows with
  ``usable_from <= D``, or ``cape_usable_from <= D`` for CAPE alone):

  - ``cape_usable_from``: the first NYSE session after the month ends. The price in both
    measures is the month's average close, known when the month is over, and Shiller's sheet
    carries a month's CAPE from then on (the 2026-05-06 workbook has CAPE for April and for May
    to the 5th). CAPE's 10-year earnings average also holds the month's own earnings, not yet
    reported then: at most 3 of its 120 months, so the later value we store moves little.
  - ``usable_from`` (the whole row, and the trailing P/E): earnings lag a quarter. A month's
    trailing 12-month earnings are interpolated between the four-quarter totals at the ends of
    the quarters around it, so they need the earnings of the month's own calendar quarter.
    S&P 500 companies report a quarter within about six weeks of its end, S&P Dow Jones
    Indices then publishes the index's as-reported total, and Shiller's sheet carries a quarter
    about five weeks after it ends (the 2026-05-06 workbook has earnings through 2026-03 and
    none for April). The lag taken: usable from the first NYSE session on or after the 1st of
    the third month after the quarter ends (Q1 months from June 1, Q2 from September 1, Q3 from
    December 1, Q4 from March 1 of the next year): a month later than Shiller's own update,
    which also leaves room for S&P's final as-reported figures.

  Before 1989 the project's NYSE calendar has no sessions; there the first weekday on or after
  the date stands for the session (no view of the warehouse is dated before 1990).

The values are Shiller's latest revision (his newest month is a partial month until the next
update, and recent earnings are estimates until reported): the lag says when a month's figure
was first available, not that the stored number is the one published then.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rotation_assets.trading_days import sessions_on_or_after
from rotation_assets.warehouse.table_spec import Column, TableSpec

WINDOW_MONTHS = 300  # 25 years
SINCE_MONTH = dt.date(1881, 1, 1)  # CAPE's first month
MEASURES = ("cape", "trailing_pe")
_LABELS = {"cape": "CAPE", "trailing_pe": "trailing P/E"}
_PERCENTILE = "share of the window's months with a value <= this month's (ties count), in (0, 1]"


def _percentile_columns(measure: str) -> tuple[Column, Column]:
    label = _LABELS[measure]
    return (
        Column(
            f"{measure}_percentile_25y",
            "DOUBLE",
            f"Percentile of {label} over the 300 months (25 years) ending with this month: "
            f"{_PERCENTILE}; null unless all 300 months have a value.",
        ),
        Column(
            f"{measure}_percentile_since_1881",
            "DOUBLE",
            f"Percentile of {label} over every month with a value from 1881-01 through this "
            f"month: {_PERCENTILE}; null before 1881-01.",
        ),
    )


VALUATION_HISTORY = TableSpec(
    schema="analytics",
    name="valuation_history",
    description=(
        "Large caps against their own history: the S&P 500's CAPE and trailing P/E per month "
        "(raw.shiller_monthly, Robert Shiller's data), each with its percentile over the last "
        "25 years (300 months) and since 1881, and the first session each month's figures may "
        "be used (usable_from: earnings lag a quarter; cape_usable_from: after the month ends)."
    ),
    columns=(
        Column("month", "DATE", "First day of the month the figures describe.", nullable=False),
        Column(
            "sp500_price",
            "DOUBLE",
            "S&P Composite price: average of the month's daily closes (Shiller's P).",
            nullable=False,
        ),
        Column(
            "earnings_12m",
            "DOUBLE",
            "Trailing four-quarter earnings per share, interpolated to the month (Shiller's E).",
        ),
        Column(
            "cape",
            "DOUBLE",
            "Shiller's CAPE (P/E10): real price / 10-year average of real earnings; null "
            "before 1881-01.",
        ),
        *_percentile_columns("cape"),
        Column(
            "trailing_pe",
            "DOUBLE",
            "sp500_price / earnings_12m: trailing 12-month P/E; null without earnings.",
        ),
        *_percentile_columns("trailing_pe"),
        Column(
            "cape_usable_from",
            "DATE",
            "First NYSE session after the month ends: from then on a view may use the month's "
            "CAPE (its price is the month's average close; Shiller publishes a month's CAPE "
            "when it is over). Before 1989, where the project has no NYSE calendar, the first "
            "weekday.",
            nullable=False,
        ),
        Column(
            "usable_from",
            "DATE",
            "First NYSE session on or after the 1st of the third month after the month's "
            "calendar quarter ends (Q1 months: June 1; Q4: March 1): from then on a view may "
            "use the whole row, trailing P/E included. Earnings lag a quarter: a month's "
            "trailing earnings are interpolated from its quarter's total, which S&P 500 "
            "companies report within about six weeks and Shiller's sheet carries about five "
            "weeks after the quarter.",
            nullable=False,
        ),
        Column(
            "source",
            "VARCHAR",
            "Where the figures come from: raw.shiller_monthly's source (Robert Shiller's "
            "data and the file or workbook read); not a price source.",
            nullable=False,
        ),
    ),
    key=("month",),
)


def trailing_window_percentile(values: np.ndarray, months: int = WINDOW_MONTHS) -> np.ndarray:
    """For each i: share of ``values[i - months + 1 : i + 1]`` that are <= ``values[i]``.

    NaN while fewer than ``months`` values precede and include i, and when any value in the
    window is NaN (the module docstring's 25-year percentile).
    """
    if months <= 0:
        raise ValueError(f"months must be positive, got {months}")
    values = np.asarray(values, dtype="float64")
    out = np.full(len(values), np.nan)
    if len(values) < months:
        return out
    windows = sliding_window_view(values, months)  # row k = values[k : k + months]
    today = values[months - 1 :]
    share = (windows <= today[:, None]).sum(axis=1) / months
    out[months - 1 :] = np.where(np.isnan(windows).any(axis=1), np.nan, share)
    return out


def expanding_percentile(values: np.ndarray, first: int) -> np.ndarray:
    """For each i >= ``first``: share of the non-NaN values of ``values[first : i + 1]`` that
    are <= ``values[i]``; NaN before ``first`` and where ``values[i]`` is NaN (the module
    docstring's since-1881 percentile)."""
    values = np.asarray(values, dtype="float64")
    out = np.full(len(values), np.nan)
    for i in range(max(first, 0), len(values)):
        if np.isnan(values[i]):
            continue
        window = values[first : i + 1]
        known = window[~np.isnan(window)]
        out[i] = np.count_nonzero(known <= values[i]) / len(known)
    return out


def cape_usable_from(months: pd.Series) -> pd.DatetimeIndex:
    """For each month (its first day): the first session after it ends (module docstring)."""
    periods = pd.PeriodIndex(pd.to_datetime(months), freq="M")
    return sessions_on_or_after((periods + 1).to_timestamp())


def earnings_usable_from(months: pd.Series) -> pd.DatetimeIndex:
    """For each month: the first session on or after the 1st of the third month after the end of
    its calendar quarter; 2026-01, -02 and -03 give 2026-06-01 (module docstring)."""
    quarters = pd.PeriodIndex(pd.to_datetime(months), freq="Q")
    quarter_end = quarters.asfreq("M", how="end")
    return sessions_on_or_after((quarter_end + 3).to_timestamp())


def valuation_history(
    shiller: pd.DataFrame,
    window_months: int = WINDOW_MONTHS,
    since: dt.date = SINCE_MONTH,
) -> pd.DataFrame:
    """``analytics.valuation_history`` from ``raw.shiller_monthly`` rows (month, sp500_price,
    earnings_12m, trailing_pe, cape, source; one row per month, none skipped, as the loader
    guarantees). ``window_months`` and ``since`` are the 25-year window and the first month of
    the since-1881 window. Sorted by month."""
    frame = shiller.loc[
        :, ["month", "sp500_price", "earnings_12m", "trailing_pe", "cape", "source"]
    ].copy()
    frame["month"] = pd.to_datetime(frame["month"])
    frame = frame.sort_values("month", kind="stable").reset_index(drop=True)
    if frame["month"].duplicated().any():
        raise ValueError("shiller has more than one row for a month")
    first = int(frame["month"].searchsorted(pd.Timestamp(since), side="left"))
    for measure in MEASURES:
        values = frame[measure].to_numpy(dtype="float64")
        frame[f"{measure}_percentile_25y"] = trailing_window_percentile(values, window_months)
        frame[f"{measure}_percentile_since_1881"] = expanding_percentile(values, first)
    frame["cape_usable_from"] = cape_usable_from(frame["month"])
    frame["usable_from"] = earnings_usable_from(frame["month"])
    return VALUATION_HISTORY.conform(frame)


def standing_sql(session: str, history: str = "analytics.valuation_history") -> str:
    """SQL of one row: the S&P 500's latest CAPE and trailing P/E usable as of ``session`` (a
    SQL date expression, e.g. ``DATE '2026-02-13'`` or a column of an outer query), with their
    months and percentiles. CAPE: the newest month with ``cape_usable_from <= session``;
    trailing P/E: the newest with ``usable_from <= session``; each with the date it became usable
    (``cape_usable_from``, ``trailing_pe_usable_from``). Nulls when none is usable."""

    def latest(measure: str, usable: str) -> str:
        return (
            f"(SELECT month AS {measure}_month, {measure}, {measure}_percentile_25y, "
            f"{measure}_percentile_since_1881, {usable} AS {measure}_usable_from FROM {history} "
            f"WHERE {usable} <= {session} AND {measure} IS NOT NULL "
            "ORDER BY month DESC LIMIT 1)"
        )

    return (
        "SELECT cape_row.*, pe_row.* FROM (SELECT 1) AS one_row "
        f"LEFT JOIN {latest('cape', 'cape_usable_from')} AS cape_row ON true "
        f"LEFT JOIN {latest('trailing_pe', 'usable_from')} AS pe_row ON true"
    )
