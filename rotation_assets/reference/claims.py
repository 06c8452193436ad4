"""``reference.claims``: the quantitative claims of the two source documents (``seeds/claims.csv``).

Claims to check, not facts: ``analytics.claim_parts`` and ``analytics.claims_check`` compute
each from the warehouse. One line per claim:

- ``document``: ``article`` (as of 2026-02-11) or ``note`` (created 2026-02-04); ``as_of_date``
  must be that document's date (``DOCUMENTS``), and no window may end after it.
- ``kind`` (``CLAIM_KINDS``) says what is computed and which parts the claim has; ``tickers``
  the instruments (universe tickers, or one rotation pair_id for the pair kinds), ``|``-separated;
  ``alternative_tickers`` optionally names, per ticker, the instrument of the nearest other
  reading (``IWM`` beside ``^RUT`` where the document says "Russell 2000 Index (IWM)"; a pair for
  a pair kind); blank entries keep the ticker.
- ``claimed`` and ``tolerance``: one entry per part of the kind, ``|``-separated, in the kind's
  part order; a blank entry is a part the document does not state (not checked). An entry is a
  number (the claim is "about" it), ``>=x`` (at least x) or ``<=x`` (at most x); tolerances are
  absolute, in the part's unit, >= 0, blank exactly where the claim is.
- ``text``: the figures quoted and how they are checked (never the document's sentences);
  ``source``: the document (file in ``../shared/seeds``).

Kinds and their parts (the part's unit in brackets):

- ``period_return`` (1+ tickers): each ticker's return over the window [return].
- ``relative_return`` (``A|B``): A's leg, B's leg, and the gap A - B [return].
- ``vs_benchmark`` (1+ tickers): each ticker's return minus its universe benchmark's [return].
- ``max_daily_move`` (1 ticker): its largest one-session move in the window [return].
- ``streak`` (a pair_id): the small-led run's length [sessions] and the year since which it
  is the longest [year].
- ``ytd_rank`` (1 ticker): the rank of the as-of year's year-to-date return among the same
  session number of each year from start_date's year [rank, 1 = best].
- ``forward_pe`` (1+ index tickers): each index's forward P/E, checked against other published
  points (``reference.valuation_points``) [P/E].
- ``valuation_extreme`` (a pair_id): the pair's price-only ratio percentile over 25 years and
  the S&P 500 CAPE's 25-year percentile (Robert Shiller's data) [percentile].

A problem raises ``ClaimSeedError`` (a ``SeedError``) naming the file, the line and the claim_id,
before anything is written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.seed_files import (
    SeedError,
    parse_seed_dates,
    read_seed,
)
from rotation_assets.reference.universe import load_rotation_pairs, load_universe
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import read_table

# The source documents and their as-of dates (../shared/seeds/README.md).
DOCUMENTS: dict[str, dt.date] = {
    "article": dt.date(2026, 2, 11),
    "note": dt.date(2026, 2, 4),
}


@dataclass(frozen=True)
class ClaimKind:
    """What a kind names (``tickers`` ticker count: exact, or None for one or more; ``pair``:
    the one ticker is a pair_id) and its parts' units (``per_ticker``: one part per ticker)."""

    count: int | None
    pair: bool
    units: tuple[str, ...]
    per_ticker: bool = False


CLAIM_KINDS: dict[str, ClaimKind] = {
    "period_return": ClaimKind(None, False, ("return",), per_ticker=True),
    "relative_return": ClaimKind(2, False, ("return", "return", "return")),
    "vs_benchmark": ClaimKind(None, False, ("return",), per_ticker=True),
    "max_daily_move": ClaimKind(1, False, ("return",)),
    "streak": ClaimKind(1, True, ("sessions", "year")),
    "ytd_rank": ClaimKind(1, False, ("rank",)),
    "forward_pe": ClaimKind(None, False, ("P/E",), per_ticker=True),
    "valuation_extreme": ClaimKind(1, True, ("percentile", "percentile")),
}

# What each kind computes, part by part (the TableSpecs quote it).
KIND_DOC = (
    "period_return (per ticker: its return over the window), relative_return (A|B: A's leg, "
    "B's leg, the gap A - B), vs_benchmark (per ticker: its return minus its universe "
    "benchmark's), max_daily_move (the largest one-session move in the window), streak (pair: "
    "the small-led run's length in sessions and the year since which it is the longest), "
    "ytd_rank (the as-of year's year-to-date return ranked among the same session number of "
    "each year from start_date's year; 1 = best), forward_pe (per index: the forward P/E other "
    "sources published nearest the as-of date), valuation_extreme (pair: its price-only ratio "
    "percentile over 25 years, and the S&P 500 CAPE's 25-year percentile)."
)

COMPARISONS = ("about", "at_least", "at_most")
# ASCII digits only: \d alone also matches other scripts' digits ('１' would read as 1).
_CLAIMED = re.compile(r"(>=|<=)?\s*(-?\d+(?:\.\d+)?)", re.ASCII)


def part_names(kind: str, tickers: list[str]) -> list[str]:
    """The names of a claim's parts, in the order of its claimed entries."""
    if kind == "relative_return":
        return [f"{tickers[0]} leg", f"{tickers[1]} leg", "gap"]
    if kind == "period_return":
        return [f"{t} return" for t in tickers]
    if kind == "vs_benchmark":
        return [f"{t} vs benchmark" for t in tickers]
    if kind == "forward_pe":
        return [f"{t} forward P/E" for t in tickers]
    if kind == "max_daily_move":
        return ["largest one-session move"]
    if kind == "streak":
        return ["length", "longest since year"]
    if kind == "ytd_rank":
        return ["rank"]
    return ["price ratio percentile 25y (price-only proxy)", "S&P 500 CAPE percentile 25y"]


def part_units(kind: str, tickers: list[str]) -> list[str]:
    spec = CLAIM_KINDS[kind]
    return list(spec.units) * len(tickers) if spec.per_ticker else list(spec.units)


@dataclass(frozen=True)
class ClaimedPart:
    """One stated part: the comparison (about, at_least, at_most), the value and tolerance."""

    comparison: str
    value: float
    tolerance: float


def parse_claimed(claimed: str, tolerance: str) -> list[ClaimedPart | None]:
    """The ``claimed``/``tolerance`` entries of a seed line; None for a part not stated.
    Raises ValueError with the problem (the seed reader adds file, line and claim)."""
    values, tolerances = claimed.split("|"), tolerance.split("|")
    if len(values) != len(tolerances):
        raise ValueError(f"claimed {claimed!r} and tolerance {tolerance!r} differ in length")
    parts: list[ClaimedPart | None] = []
    for value, tol in zip(values, tolerances, strict=True):
        value, tol = value.strip(), tol.strip()
        if not value:
            if tol:
                raise ValueError(f"tolerance {tol!r} given for a part that is not claimed")
            parts.append(None)
            continue
        match = _CLAIMED.fullmatch(value)
        if match is None:
            raise ValueError(f"claimed {value!r} is not a number, '>=x' or '<=x'")
        try:
            tolerance_value = float(tol)
        except ValueError:
            raise ValueError(f"tolerance {tol!r} is not a number") from None
        # A tolerance of inf (or 1e999) would make a claim that cannot fail.
        if not 0 <= tolerance_value < float("inf"):
            raise ValueError(f"tolerance must be finite and >= 0, got {tol!r}")
        comparison = {">=": "at_least", "<=": "at_most", None: "about"}[match.group(1)]
        parts.append(ClaimedPart(comparison, float(match.group(2)), tolerance_value))
    if all(p is None for p in parts):
        raise ValueError("no part is claimed")
    return parts


CLAIMS = TableSpec(
    schema="reference",
    name="claims",
    description=(
        "Machine-readable claims of the two source documents on the 2026 rotation (seed: "
        "seeds/claims.csv): figures to check, not facts, each with its document and as-of date."
    ),
    columns=(
        Column("claim_id", "VARCHAR", "Identifier of the claim.", nullable=False),
        Column(
            "document",
            "VARCHAR",
            "Source document: article (as of 2026-02-11) or note (created 2026-02-04).",
            nullable=False,
        ),
        Column(
            "as_of_date",
            "DATE",
            "The document's as-of date; the sensitivity's session-before/after readings move "
            "around it.",
            nullable=False,
        ),
        Column("kind", "VARCHAR", KIND_DOC, nullable=False),
        Column(
            "tickers",
            "VARCHAR",
            "Universe tickers, '|'-separated, or one pair_id for streak and valuation_extreme.",
            nullable=False,
        ),
        Column(
            "alternative_tickers",
            "VARCHAR",
            "Per ticker, the instrument of the other-basis reading (e.g. IWM for ^RUT, IWM_SPY "
            "for RUT_GSPC); blank entries keep the ticker. Null when none is named.",
        ),
        Column("start_date", "DATE", "First day of the claim's window.", nullable=False),
        Column(
            "end_date",
            "DATE",
            "Last day of the claim's window (the as-of day of a ytd_rank or valuation claim).",
            nullable=False,
        ),
        Column(
            "claimed",
            "VARCHAR",
            "One entry per part of the kind, '|'-separated: x (about x), >=x or <=x; blank for a "
            "part the document does not state.",
            nullable=False,
        ),
        Column(
            "tolerance",
            "VARCHAR",
            "Absolute tolerance per claimed part, in the part's unit, '|'-separated.",
            nullable=False,
        ),
        Column("text", "VARCHAR", "The figures quoted, and how they are checked.", nullable=False),
        Column("source", "VARCHAR", "The source document (../shared/seeds file).", nullable=False),
    ),
    key=("claim_id",),
)


class ClaimSeedError(SeedError):
    """A claims seed line is malformed: names the file, the line and the claim_id."""

    def __init__(self, path: Path, line: int, claim_id: str, problem: str) -> None:
        super().__init__(f"{path} line {line} (claim {claim_id}): {problem}")
        self.path, self.line, self.claim_id = path, line, claim_id


def load_claims(
    path: Path = SEEDS_DIR / "claims.csv",
    universe: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The claims seed, validated: known documents and their as-of dates, kinds, ticker counts,
    tickers in the universe (pair ids among the rotation pairs), claimed parts, dates.
    ``universe`` and ``pairs`` default to the universe and pairs seeds."""
    frame = read_seed(path, CLAIMS)
    frame["alternative_tickers"] = (
        frame["alternative_tickers"].astype(object).where(frame["alternative_tickers"] != "", None)
    )
    if universe is None:
        universe = load_universe()
    if pairs is None:
        pairs = load_rotation_pairs(universe)
    tickers = set(universe["ticker"])
    benchmarks = dict(zip(universe["ticker"], universe["benchmark"], strict=True))
    pair_ids = set(pairs["pair_id"])
    for i, row in frame.iterrows():

        def fail(problem: str, i=i, row=row) -> None:
            raise ClaimSeedError(path, i + 2, row["claim_id"], problem)

        if row["document"] not in DOCUMENTS:
            fail(f"document {row['document']!r} is not one of {tuple(DOCUMENTS)}")
        if row["kind"] not in CLAIM_KINDS:
            fail(f"kind {row['kind']!r} is not one of {tuple(CLAIM_KINDS)}")
        spec = CLAIM_KINDS[row["kind"]]
        named = [t.strip() for t in row["tickers"].split("|")]
        if any(not t for t in named) or (spec.count is not None and len(named) != spec.count):
            need = spec.count if spec.count is not None else "1 or more"
            fail(f"{row['kind']} needs {need} ticker(s) separated by '|', got {row['tickers']!r}")
        known = pair_ids if spec.pair else tickers
        what = "rotation pair" if spec.pair else "universe ticker"
        given = isinstance(row["alternative_tickers"], str)
        alternatives = row["alternative_tickers"].split("|") if given else []
        if given and len(alternatives) != len(named):
            fail(f"alternative_tickers {row['alternative_tickers']!r} needs one entry per ticker")
        for name in named + [a.strip() for a in alternatives if a.strip()]:
            if name not in known:
                fail(f"{name!r} is not a {what}")
        if row["kind"] == "vs_benchmark":
            for name in named:
                if not isinstance(benchmarks.get(name), str) or not benchmarks[name]:
                    fail(f"{name} has no benchmark in the universe")
        try:
            claimed = parse_claimed(row["claimed"], row["tolerance"])
        except ValueError as problem:
            fail(str(problem))
        expected = len(part_names(row["kind"], named))
        if len(claimed) != expected:
            fail(f"{row['kind']} of {row['tickers']} has {expected} part(s), got {len(claimed)}")
    for column in ("start_date", "end_date", "as_of_date"):
        try:
            frame[column] = parse_seed_dates(path, frame, column)
        except SeedError as problem:
            line = int(re.search(r"line (\d+)", str(problem)).group(1))
            raise ClaimSeedError(
                path, line, frame.at[line - 2, "claim_id"], str(problem).split(": ", 1)[1]
            ) from None
    for i, row in frame.iterrows():
        if row["start_date"] > row["end_date"]:
            raise ClaimSeedError(
                path,
                i + 2,
                row["claim_id"],
                f"start_date {row['start_date'].date()} is after end_date {row['end_date'].date()}",
            )
        document_date = pd.Timestamp(DOCUMENTS[row["document"]])
        if row["as_of_date"] != document_date:
            raise ClaimSeedError(
                path,
                i + 2,
                row["claim_id"],
                f"as_of_date {row['as_of_date'].date()} is not the {row['document']}'s "
                f"{document_date.date()}",
            )
        if row["end_date"] > row["as_of_date"]:
            raise ClaimSeedError(
                path,
                i + 2,
                row["claim_id"],
                f"end_date {row['end_date'].date()} is after the as_of_date",
            )
    return frame


def read_claims(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.claims`` as stored, dates as timestamps: what the analytics read."""
    return CLAIMS.with_timestamps(read_table(con, CLAIMS))
