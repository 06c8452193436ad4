"""``reference.historical_periods``: earlier small-cap rotations to compare the current one with
(``seeds/historical_periods.csv``); an empty end_date means through the latest session."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.seed_files import check_date_order, parse_seed_dates, read_seed
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import read_table

HISTORICAL_PERIODS = TableSpec(
    schema="reference",
    name="historical_periods",
    description=(
        "Earlier small-cap rotations to compare the current one with, and the current period "
        "itself (seed: seeds/historical_periods.csv). An empty end_date means through the "
        "latest session."
    ),
    columns=(
        Column(
            "period_id", "VARCHAR", "Identifier, e.g. dotcom_rotation_2000_2006.", nullable=False
        ),
        Column("name", "VARCHAR", "Short name of the period.", nullable=False),
        Column("start_date", "DATE", "First day of the period (inclusive).", nullable=False),
        Column(
            "end_date",
            "DATE",
            "Last day of the period (inclusive); null = open-ended, through the latest session.",
        ),
        Column("description", "VARCHAR", "What happened in the period.", nullable=False),
        Column(
            "source", "VARCHAR", "Why these dates, and where figures come from.", nullable=False
        ),
    ),
    key=("period_id",),
)


def load_historical_periods(path: Path = SEEDS_DIR / "historical_periods.csv") -> pd.DataFrame:
    """The periods seed, validated: unique ids, ISO dates, start <= end; errors name the line.

    An empty end_date is kept as NaT: the period runs through the latest session.
    """
    frame = read_seed(path, HISTORICAL_PERIODS)
    frame["start_date"] = parse_seed_dates(path, frame, "start_date")
    filled = frame["end_date"] != ""
    end = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    end[filled] = parse_seed_dates(path, frame.loc[filled], "end_date")
    frame["end_date"] = end
    check_date_order(path, frame)
    return frame


def read_historical_periods(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.historical_periods`` as stored, dates as timestamps (end_date NaT when
    open-ended): what the analytics read."""
    return HISTORICAL_PERIODS.with_timestamps(read_table(con, HISTORICAL_PERIODS))
