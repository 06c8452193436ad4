"""Reading the reference seeds (``seeds/*.csv``): strict, with errors naming file and line.

Every seed is read as CSV text (standard quoting: a quoted field may hold commas and line
breaks), trimmed, checked for its columns, its number of fields per line, required fields and
unique key, and its dates parsed as zero-padded ISO dates; a problem raises ``SeedError`` naming
the file, the 1-based line (the header is line 1) and the value. A byte-order mark, CRLF line
ends and blank lines are harmless; a column the seed's table does not have is ignored with a
warning (logger ``rotation_assets.reference.seed_files``) naming it.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path

import pandas as pd

from rotation_assets.warehouse.table_spec import TableSpec

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

log = logging.getLogger(__name__)
# The dates a seed may hold: what the nanosecond timestamps of pandas and the analytics hold,
# in whole years (year 0 or 9999 is a typo, not a date).
FIRST_DATE, LAST_DATE = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")


class SeedError(ValueError):
    """A seed file is malformed: names the file, the line and the problem."""


def read_seed(path: Path, spec: TableSpec) -> pd.DataFrame:
    """The rows of the seed at ``path`` as trimmed text, in ``spec``'s columns.

    The frame's index is each row's line in the file minus 2 (0 for line 2, the first row), so
    ``i + 2`` names the line of row ``i`` even after a blank line or a quoted line break.
    """
    if not path.exists():
        raise SeedError(f"Seed file {path} is missing")
    records, lines = _read_records(path)
    if not records:
        raise SeedError(f"{path} line 1: empty file, expected header {','.join(spec.column_names)}")
    header = [name.strip() for name in records[0]]
    missing = [c for c in spec.column_names if c not in header]
    if missing:
        raise SeedError(f"{path}: missing columns {missing}")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise SeedError(f"{path} line {lines[0]}: repeated column(s) {', '.join(repeated)}")
    unknown = [(i, c) for i, c in enumerate(header) if c not in spec.column_names]
    if unknown:
        log.warning(
            "%s line %d: ignoring column(s) %s (the %s seed has %s)",
            path,
            lines[0],
            ", ".join(f"{c!r} (column {i + 1})" for i, c in unknown),
            spec.qualified_name,
            ",".join(spec.column_names),
        )
    for fields, line in zip(records[1:], lines[1:], strict=True):
        if len(fields) != len(header):
            raise SeedError(
                f"{path} line {line}: {len(fields)} field(s), expected {len(header)} "
                f"({','.join(header)})"
            )
    position = [header.index(c) for c in spec.column_names]
    frame = pd.DataFrame(
        [[fields[i].strip() for i in position] for fields in records[1:]],
        columns=spec.column_names,
        index=pd.Index([line - 2 for line in lines[1:]], dtype="int64"),
        dtype=object,
    )
    for column in spec.columns:
        if not column.nullable:
            blank = frame.index[frame[column.name] == ""]
            if len(blank):
                raise SeedError(f"{path} line {blank[0] + 2}: empty {column.name}")
    duplicated = frame.index[frame.duplicated(list(spec.key), keep="first")]
    if len(duplicated):
        raise SeedError(
            f"{path} line {duplicated[0] + 2}: duplicate "
            f"{', '.join(spec.key)} {frame.loc[duplicated[0], list(spec.key)].tolist()}"
        )
    return frame


def _read_records(path: Path) -> tuple[list[list[str]], list[int]]:
    """The non-blank CSV records of ``path`` and the line each starts on."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SeedError(f"{path} line {line}: not UTF-8 text ({exc.reason})") from exc
    # newline="": line breaks inside quoted fields stay in the field; strict: a quote in the
    # middle of an unquoted field, or one never closed, is an error rather than a guess.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for fields in reader:
            if fields and any(f.strip() for f in fields) or len(fields) > 1:
                records.append(fields)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SeedError(f"{path} line {start}: not valid CSV ({exc})") from exc
    return records, lines


def parse_seed_dates(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    """``frame[column]`` as zero-padded ISO dates from FIRST_DATE to LAST_DATE; a SeedError
    names the file and line of the first bad one ('2000-3-10' and '0000-01-01' are refused)."""
    dates = pd.to_datetime(frame[column], format="%Y-%m-%d", errors="coerce")
    iso = frame[column].astype(str).str.fullmatch(_ISO_DATE)
    good = iso & dates.notna() & (dates >= FIRST_DATE) & (dates <= LAST_DATE)
    bad = frame.index[~good]
    if len(bad):
        i = bad[0]
        raise SeedError(
            f"{path} line {i + 2}: {column} {frame.at[i, column]!r} is not YYYY-MM-DD (a date "
            f"from {FIRST_DATE.date()} to {LAST_DATE.date()})"
        )
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
