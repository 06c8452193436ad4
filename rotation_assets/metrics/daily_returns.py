"""Daily price and total returns per ticker, correct across splits, dividends and re-based loads.

For consecutive stored sessions p -> d of a ticker:

* Single-basis rows (csv files, synthetic demo data, or yfinance rows fetched by the same load):
  ``price_return = close_d / close_p - 1`` and ``total_return = adj_close_d / adj_close_p - 1``.
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

A ticker's first stored session has no row (never NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
        Column("trade_date", "DATE", "NYSE session d (the partition key).", nullable=False),
        Column("ticker", "VARCHAR", "Yahoo Finance symbol.", nullable=False),
        Column(
            "price_return",
            "DOUBLE",
            "close_d / close_p - 1 on one split basis (p = the ticker's previous session).",
            nullable=False,
        ),
        Column(
            "total_return",
            "DOUBLE",
            "Price return plus the dividend of session d, reinvested: adj_close_d / adj_close_p "
            "- 1 on one adjustment basis.",
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
    partition_column="trade_date",
)

REBASING_SOURCES = frozenset({"yfinance"})


def _split_factor_since(
    splits: pd.DataFrame, tickers: pd.Series, after: pd.Series, until: pd.Series
) -> np.ndarray:
    """prod(split_ratio) of each ticker's splits with after < ex-date <= until (row-wise)."""
    factor = np.ones(len(tickers))
    if splits.empty:
        return factor
    for split in splits.itertuples():
        hit = (
            (tickers.to_numpy() == split.ticker)
            & (after.to_numpy() < np.datetime64(split.trade_date))
            & (until.to_numpy() >= np.datetime64(split.trade_date))
        )
        factor[hit] *= split.split_ratio
    return factor


def daily_returns(prices: pd.DataFrame, actions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Returns of every stored session after a ticker's first, per the module's definition.

    ``prices``: trade_date, ticker, close, adj_close, source, loaded_at (one row per ticker and
    session, including the session before the first one wanted). ``actions``: trade_date,
    ticker, dividend, split_ratio (may be None or empty).
    """
    frame = prices.sort_values(["ticker", "trade_date"]).reset_index(drop=True)
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    # The day (not the time) a row was fetched decides which splits its close already reflects.
    fetched = pd.to_datetime(frame["loaded_at"]).dt.normalize()
    group = frame.groupby("ticker", sort=False)
    prev = pd.DataFrame(
        {
            "previous_date": group["trade_date"].shift(1),
            "close_p": group["close"].shift(1),
            "adj_p": group["adj_close"].shift(1),
            "source_p": group["source"].shift(1),
            "fetched_p": fetched.groupby(frame["ticker"]).shift(1),
        }
    )
    frame = pd.concat([frame, prev], axis=1)
    frame["fetched"] = fetched
    has_prev = frame["previous_date"].notna()
    frame = frame[has_prev].reset_index(drop=True)

    actions = actions if actions is not None else pd.DataFrame()
    if actions.empty:
        actions = pd.DataFrame(
            {
                "trade_date": pd.Series(dtype="datetime64[ns]"),
                "ticker": pd.Series(dtype="object"),
                "dividend": pd.Series(dtype="float64"),
                "split_ratio": pd.Series(dtype="float64"),
            }
        )
    actions = actions.assign(trade_date=pd.to_datetime(actions["trade_date"]))
    splits = actions[actions["split_ratio"].fillna(1.0) != 1.0][
        ["trade_date", "ticker", "split_ratio"]
    ]
    on_day = frame[["trade_date", "ticker"]].merge(
        actions[["trade_date", "ticker", "dividend", "split_ratio"]],
        on=["trade_date", "ticker"],
        how="left",
    )
    dividend_d = on_day["dividend"].fillna(0.0).to_numpy()
    split_d = on_day["split_ratio"].fillna(1.0).to_numpy()

    single_basis = ~(
        frame["source"].isin(REBASING_SOURCES) | frame["source_p"].isin(REBASING_SOURCES)
    ).to_numpy()

    raw_close_d = frame["close"].to_numpy() * _split_factor_since(
        splits, frame["ticker"], frame["trade_date"], frame["fetched"]
    )
    raw_close_p = frame["close_p"].to_numpy() * _split_factor_since(
        splits, frame["ticker"], frame["previous_date"], frame["fetched_p"]
    )
    raw_dividend = dividend_d * _split_factor_since(
        splits, frame["ticker"], frame["trade_date"], frame["fetched"]
    )
    base = raw_close_p / split_d
    rebased_price = raw_close_d / base - 1
    rebased_total = raw_close_d / (base - raw_dividend) - 1

    out = pd.DataFrame(
        {
            "trade_date": frame["trade_date"],
            "ticker": frame["ticker"],
            "price_return": np.where(
                single_basis, frame["close"] / frame["close_p"] - 1, rebased_price
            ),
            "total_return": np.where(
                single_basis, frame["adj_close"] / frame["adj_p"] - 1, rebased_total
            ),
            "previous_date": frame["previous_date"],
            "source": frame["source"],
        }
    )
    return out.sort_values(["trade_date", "ticker"]).reset_index(drop=True)
