"""Reading the reference seeds (``seeds/*.csv``): strict, with errors naming file and line.

Every seed is read as text, trimmed, checked for its columns, required fields and unique key,
and its dates parsed as zero-padded ISO dates; a problem raises ``SeedError`` naming the file,
the 1-based line (the header is line 1) and the value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from rotation_assets.warehouse.table_spec import TableSpec

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class SeedError(ValueError):
    """A seed file is malformed: names the file, the line and the problem."""


def read_seed(path: Path, spec: TableSpec) -> pd.DataFrame:
    if not path.exists():
        raise SeedError(f"Seed file {path} is missing")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in spec.column_names if c not in frame.columns]
    if missing:
        raise SeedError(f"{path}: missing columns {missing}")
    frame = frame[spec.column_names].apply(lambda s: s.str.strip())
    for column in spec.columns:
        if not column.nullable:
            blank = frame.index[frame[column.name] == ""]
            if len(blank):
                raise SeedError(f"{path} line {blank[0] + 2}: empty {column.name}")
    duplicated = frame.index[frame.duplicated(list(spec.key), keep="first")]
    if len(duplicated):
        raise SeedError(
            f"{path} line {duplicated[0] + 2}: duplicate "
            f"{', '.join(spec.key)} {frame.iloc[duplicated[0]][list(spec.key)].tolist()}"
        )
    return frame


def parse_seed_dates(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    """``frame[column]`` as zero-padded ISO dates; a SeedError names the file and line of the
    first bad one ('2000-3-10' is refused too)."""
    loose = frame.index[~frame[column].astype(str).str.fullmatch(_ISO_DATE)]
    if len(loose):
        i = loose[0]
        raise SeedError(f"{path} line {i + 2}: {column} {frame.at[i, column]!r} is not YYYY-MM-DD")
    dates = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
    bad = dates.index[dates.isna()]
    if len(bad):
        i = bad[0]
        raise SeedError(f"{path} line {i + 2}: {column} {frame.at[i, column]!r} is not YYYY-MM-DD")
    return dates


def check_date_order(path: Path, frame: pd.DataFrame) -> None:
    """SeedError naming the first line whose start_date is after its end_date."""
    reversed_rows = frame.index[frame["start_date"] > frame["end_date"]]
    if len(reversed_rows):
        i = reversed_rows[0]
        raise SeedError(
            f"{path} line {i + 2}: start_date {frame.at[i, 'start_date'].date()} is after "
            f"end_date {frame.at[i, 'end_date'].date()}"
        )
