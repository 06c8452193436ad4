"""``reference.valuation_points``: published P/E figures with their citation.

Seed: ``seeds/valuation_points.csv``.

One figure per line: date, index (its name as the source gives it), ticker (optional), metric,
value, source (the citation), confidence (high, medium, medium-low or low) and note. ``metric``
is ``forward_pe`` (price / expected earnings of the next 12 months), ``trailing_pe`` (price /
earnings of the last 12 months) or ``relative_forward_pe`` (small-cap forward P/E / large-cap
forward P/E, published as one number; its index names both sides as ``'<small> / <large>'``).
Each index name is classed as small-cap (Russell 2000, S&P 600, "small caps", ...) or
large-cap (S&P 500, Russell 1000, Nasdaq, ...); a name that is neither is a seed error.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.seed_files import SeedError, parse_seed_dates, read_seed
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import read_table

POINT_METRICS = ("forward_pe", "trailing_pe")
RELATIVE_METRICS = {"relative_forward_pe": "forward_pe"}
METRICS = (*POINT_METRICS, *RELATIVE_METRICS)
# Lowest first: a comparison is only as sure as its less sure side.
CONFIDENCE_LEVELS = ("low", "medium-low", "medium", "high")

# Lower-cased fragments of index names; small-cap ones are checked first.
_SMALL_NAMES = ("russell 2000", "s&p 600", "s&p smallcap", "small cap", "small-cap", "smallcap")
_LARGE_NAMES = (
    "s&p 500",
    "russell 1000",
    "nasdaq",
    "dow jones",
    "large cap",
    "large-cap",
    "largecap",
)

VALUATION_POINTS = TableSpec(
    schema="reference",
    name="valuation_points",
    description=(
        "Published P/E figures for small- and large-cap indices with their citation "
        "(seed: seeds/valuation_points.csv)."
    ),
    columns=(
        Column("date", "DATE", "Date the figure refers to (or was published).", nullable=False),
        Column("index", "VARCHAR", "Index name as the source gives it.", nullable=False),
        Column("ticker", "VARCHAR", "Yahoo symbol of the index, when it has one."),
        Column("metric", "VARCHAR", f"One of {', '.join(METRICS)}.", nullable=False),
        Column("value", "DOUBLE", "The published figure (a P/E, or a ratio).", nullable=False),
        Column("source", "VARCHAR", "Citation: who published it, where.", nullable=False),
        Column("confidence", "VARCHAR", "high, medium, medium-low or low.", nullable=False),
        Column("note", "VARCHAR", "Context from the source."),
    ),
    key=("date", "index", "metric", "source"),
)


def index_side(name: str) -> str | None:
    """'small' or 'large' for an index name, None when neither or both fit."""
    lowered = name.lower()
    small = any(fragment in lowered for fragment in _SMALL_NAMES)
    large = any(fragment in lowered for fragment in _LARGE_NAMES)
    if small == large:
        return None
    return "small" if small else "large"


def point_side(metric: str, index: str) -> str | None:
    return "relative" if metric in RELATIVE_METRICS else index_side(index)


def split_relative(text: str) -> tuple[str, str] | None:
    """'<small> / <large>' as its two stripped parts, or None."""
    parts = [p.strip() for p in text.split("/")]
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def load_valuation_points(path: Path = SEEDS_DIR / "valuation_points.csv") -> pd.DataFrame:
    """The valuation points seed, validated, with a ``side`` column added.

    Checks: every required field filled, no duplicate (date, index, metric, source), ISO dates,
    known metrics and confidences, values positive numbers, and each index name classed:
    ``side`` is 'small' or 'large' for a P/E, 'relative' for a relative metric (whose index
    must read '<small-cap name> / <large-cap name>'). Errors name the file and line.
    """
    frame = read_seed(path, VALUATION_POINTS)
    frame["date"] = parse_seed_dates(path, frame, "date")

    def fail(i: int, message: str) -> SeedError:
        return SeedError(f"{path} line {i + 2}: {message}")

    values = pd.to_numeric(frame["value"], errors="coerce")
    sides = []
    for i in frame.index:
        metric, index = frame.at[i, "metric"], frame.at[i, "index"]
        if metric not in METRICS:
            raise fail(i, f"metric {metric!r} is not one of {METRICS}")
        if not (np.isfinite(values[i]) and values[i] > 0):
            raise fail(i, f"value {frame.at[i, 'value']!r} is not a positive number")
        if frame.at[i, "confidence"] not in CONFIDENCE_LEVELS:
            raise fail(
                i, f"confidence {frame.at[i, 'confidence']!r} is not one of {CONFIDENCE_LEVELS}"
            )
        if metric in RELATIVE_METRICS:
            names = split_relative(index)
            if names is None or (index_side(names[0]), index_side(names[1])) != ("small", "large"):
                raise fail(i, f"{metric} index {index!r} is not '<small-cap> / <large-cap>'")
            sides.append("relative")
        else:
            side = index_side(index)
            if side is None:
                raise fail(i, f"index {index!r} is not a known small-cap or large-cap name")
            sides.append(side)
    frame["value"] = values.astype("float64")
    frame["side"] = sides
    # Empty optional fields are missing values, not empty names.
    for column in ("ticker", "note"):
        frame[column] = frame[column].where(frame[column] != "", None)
    return frame


def read_valuation_points(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.valuation_points`` as stored, dates as timestamps, with each point's ``side``
    ('small', 'large' or 'relative'), as ``load_valuation_points`` gives it."""
    frame = VALUATION_POINTS.with_timestamps(read_table(con, VALUATION_POINTS))
    frame["side"] = [point_side(m, i) for m, i in zip(frame["metric"], frame["index"], strict=True)]
    return frame
