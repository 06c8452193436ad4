"""Synthetic universes for the scale benchmark: a folder of per-ticker CSVs and a universe seed.

Deterministic for a given size and seed. What makes them realistic enough to exercise the
pipeline as real data would:

* the tickers of the project's universe keep their names, roles and benchmarks (so the rotation
  pairs, event windows, leaders/laggards and claims find their tickers); the rest are large-cap
  stocks (benchmark SPY), with a few large-cap ETFs (SPY) and indices (^GSPC); their files carry
  one adjusted series (close = adj_close), so stocks and ETFs are total_return_only and indices
  price_only;
* inception dates: about a third of the tickers list during the window (their file starts
  there), the others before it;
* vendor noise the loader must drop: some files carry bars on weekday holidays and bars from
  before the first trading date;
* indices have no volume (empty field), prices are random walks with fat-tailed daily moves
  and the odd jump beyond the 25% warning threshold.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from rotation_assets.reference.universe import load_universe
from rotation_assets.sources.csv_prices import price_file_name
from rotation_assets.trading_days import non_session_weekdays, sessions_between

SEED = 20260821


def synthetic_universe(size: int, start: dt.date, end: dt.date, seed: int = SEED) -> pd.DataFrame:
    """The universe seed's columns for ``size`` instruments."""
    rng = np.random.default_rng(seed)
    real = load_universe(Path(__file__).resolve().parents[1] / "seeds" / "universe.csv")
    real = real.assign(
        first_trading_date=min(real["first_trading_date"].min(), pd.Timestamp(start))
    )
    extra = size - len(real)
    if extra < 0:
        raise ValueError(f"a synthetic universe holds at least the {len(real)} real tickers")
    kinds = rng.choice(["stock", "etf", "index"], size=extra, p=[0.9, 0.07, 0.03])
    sessions = pd.DatetimeIndex(pd.to_datetime(sessions_between(start, end)))
    listed_during = rng.random(extra) < 0.33
    first = np.where(
        listed_during,
        sessions[rng.integers(1, len(sessions) - 20, size=extra)].to_numpy(),
        np.datetime64(pd.Timestamp(start) - pd.Timedelta(days=365), "ns"),
    )
    generated = pd.DataFrame(
        {
            "ticker": [f"SYN{i:05d}" for i in range(extra)],
            "name": [f"Synthetic instrument {i}" for i in range(extra)],
            "role": pd.Series(kinds).map(
                {"stock": "large_cap_stock", "etf": "large_cap_etf", "index": "large_cap_index"}
            ),
            "instrument_type": kinds,
            "benchmark": pd.Series(kinds).map({"stock": "SPY", "etf": "SPY", "index": "^GSPC"}),
            "return_basis": np.where(kinds == "index", "price_only", "total_return_only"),
            "first_trading_date": pd.to_datetime(first),
            "last_trading_date": pd.NaT,
        }
    )
    return pd.concat([real, generated], ignore_index=True)


def _bars(rng: np.random.Generator, dates: pd.DatetimeIndex, index: bool) -> pd.DataFrame:
    n = len(dates)
    moves = rng.standard_t(4, size=n) * rng.uniform(0.005, 0.025)
    jumps = rng.random(n) < 1 / 3000  # about one jump beyond 25% per dozen years
    moves = np.where(jumps, rng.choice([-0.3, 0.3], size=n), moves)
    close = rng.uniform(5, 500) * np.exp(np.cumsum(np.log1p(np.clip(moves, -0.9, None))))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.003, size=n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, size=n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, size=n))
    volume = np.full(n, np.nan) if index else rng.integers(1e4, 1e8, size=n).astype(float)
    return pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "adj_close": close,
            "volume": volume,
        }
    )


def write_synthetic_universe(folder: Path, size: int, start: dt.date, end: dt.date) -> Path:
    """CSV files and ``universe.csv`` in ``folder`` (reused when already written); the seed path."""
    marker = folder / "generated.json"
    # "format" 2: the universe seed with benchmark, return_basis and last_trading_date.
    spec = {
        "size": size,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "seed": SEED,
        "format": 2,
    }
    seed_path = folder / "universe.csv"
    if marker.exists() and json.loads(marker.read_text()) == spec:
        return seed_path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED + size)
    universe = synthetic_universe(size, start, end)
    sessions = pd.DatetimeIndex(pd.to_datetime(sessions_between(start, end)))
    holidays = pd.DatetimeIndex(pd.to_datetime(non_session_weekdays(start.isoformat(), end)))
    for row in universe.itertuples():
        listed = sessions[sessions >= row.first_trading_date]
        noisy = rng.random() < 0.1
        dates = listed
        if noisy:  # a vendor's holiday bars and pre-listing bars, which the loader drops
            before = sessions[sessions < row.first_trading_date][-5:]
            dates = listed.union(holidays[holidays >= listed[0]][:3]).union(before)
        bars = _bars(rng, dates, index=row.instrument_type == "index")
        bars.to_csv(folder / price_file_name(row.ticker), index=False, float_format="%.6g")
    out = universe.assign(
        first_trading_date=universe["first_trading_date"].dt.strftime("%Y-%m-%d"),
        last_trading_date=universe["last_trading_date"].dt.strftime("%Y-%m-%d"),
    )
    out.to_csv(seed_path, index=False)
    marker.write_text(json.dumps(spec))
    return seed_path
