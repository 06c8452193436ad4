"""Daily price and total returns per ticker, correct across splits, dividends and re-based loads.

For consecutive stored sessions p -> d of a ticker:

* Single-basis rows (csv files, synthetic demo data, or yfinance rows fetched by the same load):
  ``price_return = close_d / close_p - 1`` and ``total_return = adj_close_d / adj_close_p - 1``.
  A csv file the vendor re-based between two loads keeps one basis in the warehouse: the load
  rescales the stored history by the factor, or is refused (``sources.vendor_rebasing``), so p
  and d are on one basis even when two loads stored them.
* yfinance rows, always: Yahoo re-bases history after every split (``close``) and dividend
  (``adj_close``), so an ``adj_close`` stored yesterday and one fetched today sit on different
  bases and their ratio drops the dividend. For yfinance rows both returns are therefore built
  from what does not re-base: each row's close converted back to the unadjusted price with the
  splits known when it was fetched, plus the recorded dividend and split of session d::

      raw_close_r   = close_r * prod(split_ratio_e for splits e with r < e <= fetched_r)
      raw_dividend  = dividend_d * prod(split_ratio_e for splits e with d < e <= fetched_d)
      base          = raw_close_p / split_ratio_d       # p's close on d's share basis
      price_return  = raw_close_d / base - 1
      total_return  = raw_close_d / (base - raw_dividend) - 1

  where ``fetched_r`` is the row's ``loaded_at`` (when its values were fetched) and splits and
  dividends come from ``raw.corporate_actions`` (yfinance ``actions=True``). The result is the
  same whether p and d were loaded by one backfill or by two daily runs, and it is Yahoo's own
  convention (``adj_close`` scales history by ``1 - dividend / close_p``), so it also equals
  ``adj_close_d / adj_close_p - 1`` of a single load.

A ticker's first stored session has no row (never NaN). What the two returns are depends on
what the stored close and adj_close are (``reference.universe.return_basis``): for a price index
both are its price return; for an adjusted-only csv file (``total_return_only``) both are its
total return, since its close already includes dividends.

Computed in DuckDB SQL (``daily_returns_sql``): the previous session of each ticker by a window
``lag``, the split factors by correlated ``product`` aggregates over ``raw.corporate_actions``.
Only rows from a start date on are produced, so a daily run appends one session's returns and a
re-loaded session rebuilds from that session on; the rows read start at the last stored session
before it (every ticker has a bar on every session from its first, so that session holds each
ticker's previous bar).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.warehouse.table_spec import Column, TableSpec

DAILY_RETURNS = TableSpec(
    schema="analytics",
    name="daily_returns",
    description=(
        "Daily price and total return per ticker and NYSE session, from consecutive stored "
        "sessions of that ticker; correct across splits and dividends even when the two days "
        "were loaded by separate runs. A ticker's first session has no row."
    ),
    columns=(
        Column("trade_date", "DATE", "NYSE session d.", nullable=False),
        Column("ticker", "VARCHAR", "Yahoo Finance symbol.", nullable=False),
        Column(
            "price_return",
            "DOUBLE",
            "close_d / close_p - 1 on one split basis (p = the ticker's previous session). For a "
            "csv ticker whose reference.universe.return_basis is total_return_only (an "
            "adjusted-only file) close already includes dividends, so this equals "
            "total_return.",
            nullable=False,
        ),
        Column(
            "total_return",
            "DOUBLE",
            "Price return plus the dividend of session d, reinvested: adj_close_d / adj_close_p "
            "- 1 on one adjustment basis. A price index (return_basis price_only) has no "
            "dividends in its adj_close: this is its price return.",
            nullable=False,
        ),
        Column("previous_date", "DATE", "The session p the return is measured from."),
        Column(
            "source",
            "VARCHAR",
            "Source of session d's price row: yfinance, csv or synthetic (never market data).",
            nullable=False,
        ),
    ),
    key=("trade_date", "ticker"),
)

REBASING_SOURCES = ("yfinance",)


def daily_returns_sql(prices: str, actions: str, start: str | None = None) -> str:
    """SQL for the returns of every session (>= ``start``, a SQL date expression, if given),
    reading the
    relations ``prices`` (trade_date, ticker, close, adj_close, source, loaded_at) and
    ``actions`` (trade_date, ticker, dividend, split_ratio). ``prices`` must hold each
    ticker's bar of the session before ``start``."""
    rebasing = ", ".join(f"'{s}'" for s in REBASING_SOURCES)
    since = f"b.trade_date >= {start}" if start else "TRUE"
    return f"""
WITH bars AS (
    SELECT trade_date, ticker, close, adj_close, source,
           CAST(loaded_at AS DATE) AS fetched,
           lag(trade_date) OVER w AS previous_date,
           lag(close) OVER w AS close_p,
           lag(adj_close) OVER w AS adj_p,
           lag(source) OVER w AS source_p,
           lag(CAST(loaded_at AS DATE)) OVER w AS fetched_p
    FROM {prices}
    WINDOW w AS (PARTITION BY ticker ORDER BY trade_date)
),
day_actions AS (
    SELECT CAST(trade_date AS DATE) AS trade_date, ticker,
           coalesce(dividend, 0.0) AS dividend, coalesce(split_ratio, 1.0) AS split_ratio
    FROM {actions}
),
splits AS (SELECT trade_date, ticker, split_ratio FROM day_actions WHERE split_ratio <> 1.0),
rows_wanted AS (
    SELECT b.*,
        coalesce(a.dividend, 0.0) AS dividend_d,
        coalesce(a.split_ratio, 1.0) AS split_d,
        b.source IN ({rebasing}) OR b.source_p IN ({rebasing}) AS rebasing,
        -- the splits a row's close already reflects: after its date, up to its fetch day
        coalesce((SELECT product(s.split_ratio ORDER BY s.trade_date) FROM splits s
                  WHERE s.ticker = b.ticker AND s.trade_date > b.trade_date
                    AND s.trade_date <= b.fetched), 1.0) AS factor_d,
        coalesce((SELECT product(s.split_ratio ORDER BY s.trade_date) FROM splits s
                  WHERE s.ticker = b.ticker AND s.trade_date > b.previous_date
                    AND s.trade_date <= b.fetched_p), 1.0) AS factor_p
    FROM bars b
    LEFT JOIN day_actions a ON a.ticker = b.ticker AND a.trade_date = b.trade_date
    WHERE b.previous_date IS NOT NULL AND {since}
)
SELECT trade_date, ticker,
    CASE WHEN rebasing
         THEN (close * factor_d) / ((close_p * factor_p) / split_d) - 1
         ELSE close / close_p - 1 END AS price_return,
    CASE WHEN rebasing
         THEN (close * factor_d) / ((close_p * factor_p) / split_d - dividend_d * factor_d) - 1
         ELSE adj_close / adj_p - 1 END AS total_return,
    previous_date, source
FROM rows_wanted
ORDER BY trade_date, ticker
"""


def daily_returns(
    prices: pd.DataFrame, actions: pd.DataFrame | None = None, start: dt.date | None = None
) -> pd.DataFrame:
    """Returns of every stored session after a ticker's first (from ``start`` on, if given),
    per the module's definition.

    ``prices``: trade_date, ticker, close, adj_close, source, loaded_at (one row per ticker and
    session, including the session before the first one wanted). ``actions``: trade_date,
    ticker, dividend, split_ratio (may be None or empty).
    """
    if actions is None or actions.empty:
        actions = pd.DataFrame(
            {
                "trade_date": pd.Series(dtype="datetime64[ns]"),
                "ticker": pd.Series(dtype="object"),
                "dividend": pd.Series(dtype="float64"),
                "split_ratio": pd.Series(dtype="float64"),
            }
        )
    since = f"DATE '{start.isoformat()}'" if start else None
    out = query_frames(
        daily_returns_sql("prices", "actions", since), prices=prices, actions=actions
    )
    return DAILY_RETURNS.conform(out)
