"""``reference.claims``: quantitative claims from commentary on the rotation (``seeds/claims.csv``).

Claims to check, not facts: ``analytics.claims_check`` computes each from the warehouse.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.seed_files import (
    SeedError,
    check_date_order,
    parse_seed_dates,
    read_seed,
)
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import read_table

# kind -> (number of '|'-separated tickers, unit)
CLAIM_KINDS: dict[str, tuple[int, str]] = {
    "period_return": (1, "return"),
    "relative_return": (2, "return"),
    "max_daily_move": (1, "return"),
    "streak": (1, "sessions"),
    "streak_longest_since": (1, "year"),
}

CLAIMS = TableSpec(
    schema="reference",
    name="claims",
    description=(
        "Machine-readable claims from commentary on the 2026 rotation (seed: seeds/claims.csv): "
        "claims to check, not facts."
    ),
    columns=(
        Column("claim_id", "VARCHAR", "Identifier of the claim.", nullable=False),
        Column("kind", "VARCHAR", f"One of {', '.join(CLAIM_KINDS)}.", nullable=False),
        Column(
            "tickers",
            "VARCHAR",
            "Ticker, 'A|B' for relative_return, or a pair_id for streak kinds.",
            nullable=False,
        ),
        Column("start_date", "DATE", "First day of the claim's window.", nullable=False),
        Column("end_date", "DATE", "Last day of the claim's window.", nullable=False),
        Column("claimed_value", "DOUBLE", "The value claimed, in unit.", nullable=False),
        Column("tolerance", "DOUBLE", "Absolute tolerance, in unit (>= 0).", nullable=False),
        Column("unit", "VARCHAR", "return (0.01 = 1%), sessions or year.", nullable=False),
        Column("text", "VARCHAR", "The claim as quoted, and how it is checked.", nullable=False),
        Column("source", "VARCHAR", "Where the claim was published.", nullable=False),
    ),
    key=("claim_id",),
)


def load_claims(path: Path = SEEDS_DIR / "claims.csv") -> pd.DataFrame:
    """The claims seed, validated: known kinds and units, ticker counts, dates, numbers."""
    frame = read_seed(path, CLAIMS)
    for i, row in frame.iterrows():
        where = f"{path} line {i + 2}"
        if row["kind"] not in CLAIM_KINDS:
            raise SeedError(f"{where}: kind {row['kind']!r} is not one of {tuple(CLAIM_KINDS)}")
        count, unit = CLAIM_KINDS[row["kind"]]
        parts = row["tickers"].split("|")
        if len(parts) != count or any(not p.strip() for p in parts):
            raise SeedError(
                f"{where}: {row['kind']} needs {count} ticker(s) separated by '|', "
                f"got {row['tickers']!r}"
            )
        if row["unit"] != unit:
            raise SeedError(f"{where}: unit of {row['kind']} must be {unit!r}, not {row['unit']!r}")
    for column in ("claimed_value", "tolerance"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.index[numbers.isna() | ~np.isfinite(numbers)]
        if len(bad):
            i = bad[0]
            raise SeedError(
                f"{path} line {i + 2}: {column} {frame.at[i, column]!r} is not a number"
            )
        frame[column] = numbers.astype("float64")
    negative = frame.index[frame["tolerance"] < 0]
    if len(negative):
        raise SeedError(f"{path} line {negative[0] + 2}: tolerance must be >= 0")
    for column in ("start_date", "end_date"):
        frame[column] = parse_seed_dates(path, frame, column)
    check_date_order(path, frame)
    return frame


def read_claims(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.claims`` as stored, dates as timestamps: what the analytics read."""
    return CLAIMS.with_timestamps(read_table(con, CLAIMS))
