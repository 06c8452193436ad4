"""The universe and rotation pairs: reading and validating the reference seeds.

``seeds/universe.csv`` lists the instruments loaded every session and the first session each is
expected on; ``seeds/rotation_pairs.csv`` pairs a small-cap side with a large-cap side.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pandas as pd

from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.seed_files import SeedError, read_seed
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import read_table

ROLES = ("small_cap", "large_cap", "index", "stock", "macro")
INSTRUMENT_TYPES = ("index", "etf", "stock")

UNIVERSE = TableSpec(
    schema="reference",
    name="universe",
    description="Instruments loaded every NYSE session (seed: seeds/universe.csv).",
    columns=(
        Column("ticker", "VARCHAR", "Yahoo Finance symbol, e.g. ^RUT, IWM.", nullable=False),
        Column("name", "VARCHAR", "Instrument name."),
        Column(
            "role",
            "VARCHAR",
            "small_cap, large_cap, index, stock or macro: the instrument's part in a rotation.",
            nullable=False,
        ),
        Column("instrument_type", "VARCHAR", "index, etf or stock."),
        Column(
            "first_trading_date",
            "DATE",
            "First session with a price; the ticker is expected on every session from here on.",
            nullable=False,
        ),
    ),
    key=("ticker",),
)

ROTATION_PAIRS = TableSpec(
    schema="reference",
    name="rotation_pairs",
    description="Small-cap vs large-cap pairs the analytics compare (seeds/rotation_pairs.csv).",
    columns=(
        Column("pair_id", "VARCHAR", "Identifier of the pair, e.g. IWM_SPY.", nullable=False),
        Column("small", "VARCHAR", "Ticker of the small-cap side.", nullable=False),
        Column("large", "VARCHAR", "Ticker of the large-cap side.", nullable=False),
        Column("description", "VARCHAR", "What the pair compares."),
    ),
    key=("pair_id",),
)


UNIVERSE_PATH_ENV_VAR = "ROTATION_UNIVERSE_PATH"


def universe_seed_path() -> Path:
    """``seeds/universe.csv``, or the file ROTATION_UNIVERSE_PATH names (e.g. a benchmark's)."""
    override = os.environ.get(UNIVERSE_PATH_ENV_VAR)
    return Path(override) if override else SEEDS_DIR / "universe.csv"


def load_universe(path: Path | None = None) -> pd.DataFrame:
    """The universe seed, validated: unique tickers, known roles, ISO first trading dates."""
    path = path or universe_seed_path()
    frame = read_seed(path, UNIVERSE)
    bad_role = frame.index[~frame["role"].isin(ROLES)]
    if len(bad_role):
        i = bad_role[0]
        raise SeedError(f"{path} line {i + 2}: role {frame.at[i, 'role']!r} is not one of {ROLES}")
    dates = pd.to_datetime(frame["first_trading_date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = dates.index[dates.isna()][0]
        raise SeedError(
            f"{path} line {i + 2}: first_trading_date "
            f"{frame.at[i, 'first_trading_date']!r} is not YYYY-MM-DD"
        )
    frame["first_trading_date"] = dates
    return frame


def load_rotation_pairs(
    universe: pd.DataFrame, path: Path = SEEDS_DIR / "rotation_pairs.csv"
) -> pd.DataFrame:
    """The pairs seed, validated: both sides of every pair are in the universe."""
    frame = read_seed(path, ROTATION_PAIRS)
    known = set(universe["ticker"])
    for i, row in frame.iterrows():
        for side in ("small", "large"):
            if row[side] not in known:
                raise SeedError(
                    f"{path} line {i + 2}: {side} ticker {row[side]!r} of pair "
                    f"{row['pair_id']} is not in the universe"
                )
    return frame


def expected_tickers(universe: pd.DataFrame, session: dt.date) -> list[str]:
    """Tickers that must have a price on ``session``: those listed by then."""
    # Compared as timestamps: converting the column to dates costs ms per call, per session.
    active = universe.loc[universe["first_trading_date"] <= pd.Timestamp(session), "ticker"]
    return sorted(active)


def read_universe(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.universe`` as stored, first_trading_date as a timestamp, by ticker."""
    frame = UNIVERSE.with_timestamps(read_table(con, UNIVERSE))
    return frame.sort_values("ticker").reset_index(drop=True)


def read_rotation_pairs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.rotation_pairs`` as stored, by pair_id."""
    return read_table(con, ROTATION_PAIRS).sort_values("pair_id").reset_index(drop=True)
