"""A deterministic synthetic price sample, for demos on machines with no network and no data.

Each ticker gets one random path over every XNYS session from 1990-01-02 to the last session the
bundled calendar knows, drawn from a generator seeded by the CRC-32 of the ticker. A window is a
cut of that path, so the bar on a given date never depends on the window asked for, and every run
on every machine sees the same numbers. The path is a random walk in log price that is pulled
weakly towards a drifting trend, which keeps 36 years of 1-2% daily moves at plausible levels;
``^VIX`` is pulled strongly towards 20 instead. None of it is market data.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from rotation_assets.sources.base import PRICE_FIELDS, concat_windows, slice_window
from rotation_assets.trading_days import FIRST_SESSION, calendar_last_date, sessions_between

# Adjusted closes are discounted back from this date, so adj_close <= close on every earlier day.
DIVIDEND_ANCHOR = dt.date(2030, 1, 1)
_DAYS_PER_YEAR = 365.25
# Shocks per session: close move, opening gap, high extension, low extension, volume noise.
_SHOCKS_PER_SESSION = 5


@dataclass(frozen=True)
class _Profile:
    """How one ticker's synthetic path behaves."""

    start_level: float
    daily_vol: float
    daily_growth: float
    # Pull of log price towards its trend per session: weak for prices, strong for ^VIX.
    reversion: float
    dividend_yield: float
    # Mean volume; NaN for indices, which have no traded volume.
    base_volume: float


def _profile(ticker: str, draws: np.ndarray) -> _Profile:
    """A plausible profile from the name pattern, varied per ticker by five uniform draws."""
    u0, u1, u2, u3, u4 = draws
    if ticker.startswith("^VIX"):
        return _Profile(20.0, 0.06, 0.0, 0.03, 0.0, np.nan)
    if ticker.startswith("^"):
        return _Profile(150 + 450 * u0, 0.010 + 0.004 * u1, 0.0003, 0.001, 0.0, np.nan)
    return _Profile(
        start_level=15 + 85 * u0,
        daily_vol=0.010 + 0.010 * u1,
        daily_growth=0.00015 + 0.00015 * u2,
        reversion=0.001,
        dividend_yield=0.005 + 0.020 * u3,
        base_volume=float(np.exp(np.log(5e5) + np.log(100) * u4)),
    )


@lru_cache(maxsize=1)
def _sessions() -> pd.DatetimeIndex:
    """Every session from the fixed origin to the end of the bundled calendar."""
    days = sessions_between(FIRST_SESSION, calendar_last_date())
    return pd.DatetimeIndex(pd.to_datetime(days)).astype("datetime64[ns]")


def _deviation_path(shocks: np.ndarray, reversion: float) -> np.ndarray:
    """AR(1) path d[t] = (1 - reversion) * d[t-1] + shocks[t], d[-1] = 0.

    A plain loop: sequential, so d[t] depends only on shocks up to t, whatever the length.
    """
    keep = 1.0 - reversion
    out = np.empty(len(shocks))
    level = 0.0
    for i, shock in enumerate(shocks.tolist()):
        level = keep * level + shock
        out[i] = level
    return out


@lru_cache(maxsize=128)
def demo_bars(ticker: str) -> pd.DataFrame:
    """The whole synthetic path of ``ticker`` (no ticker column). Shared: do not modify."""
    sessions = _sessions()
    n = len(sessions)
    rng = np.random.default_rng(zlib.crc32(ticker.encode("utf-8")))
    # Fixed-size draws first, then one (n, k) block filled row by row: row t is the same
    # whatever n is, so a longer calendar extends the path without changing its past.
    profile = _profile(ticker, rng.random(5))
    z = rng.standard_normal((n, _SHOCKS_PER_SESSION))
    vol = profile.daily_vol

    log_close = (
        np.log(profile.start_level)
        + profile.daily_growth * np.arange(n)
        + _deviation_path(vol * z[:, 0], profile.reversion)
    )
    close = np.exp(log_close)
    previous_close = np.concatenate(([close[0]], close[:-1]))
    open_ = previous_close * np.exp(0.3 * vol * z[:, 1])
    high = np.maximum(open_, close) * np.exp(0.6 * vol * np.abs(z[:, 2]))
    low = np.minimum(open_, close) * np.exp(-0.6 * vol * np.abs(z[:, 3]))
    # Rounding is monotone, so low <= min(open, close) <= max(open, close) <= high survives it.
    open_, high, low, close = (np.round(x, 2) for x in (open_, high, low, close))

    anchor = np.datetime64(DIVIDEND_ANCHOR.isoformat(), "D")
    years_left = (anchor - sessions.to_numpy().astype("datetime64[D]")).astype(np.float64)
    years_left = np.clip(years_left / _DAYS_PER_YEAR, 0.0, None)
    # Derived from the rounded close: rounding a value <= close to 4 decimals stays <= close.
    adj_close = np.round(close * np.exp(-profile.dividend_yield * years_left), 4)

    if np.isnan(profile.base_volume):
        volume = np.full(n, np.nan)
    else:
        # Busier on days with bigger moves, as real volume is.
        noise = 0.35 * z[:, 4] + 0.3 * np.abs(z[:, 0])
        volume = np.maximum(np.round(profile.base_volume * np.exp(noise)), 1.0)

    return pd.DataFrame(
        {
            "trade_date": sessions,
            **dict(zip(PRICE_FIELDS, (open_, high, low, close, adj_close), strict=True)),
            "volume": volume,
        }
    )


def synthetic_prices(tickers: list[str], start: dt.date, end: dt.date) -> pd.DataFrame:
    """Synthetic daily bars of ``tickers`` in [start, end] (see the module docstring)."""
    return concat_windows(
        [slice_window(demo_bars(ticker), ticker, start, end) for ticker in dict.fromkeys(tickers)]
    )
