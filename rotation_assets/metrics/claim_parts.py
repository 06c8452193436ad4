"""``analytics.claim_parts``: every stated part of every claim, with its verdict and sensitivity.

A claim (``reference.claims``) is split into the parts its kind defines (each leg, the gap, the
magnitude, the length and the since-year of a streak, ...; ``reference.claims.part_names``);
only the parts the document states are checked. Each part is computed as stated and under the
kind's nearest other readings (``metrics.claim_readings``), and judged by
``metrics.claim_verdicts`` (about / at least / at most, within its tolerance).

Sensitivity: a part's ``alternative_reading`` is the first of its kind's readings (in the order
near ties, other basis, session before, session after, nearest on or before) whose verdict
differs from the stated one (``flips``), or else the first computable one, so its value is always
shown; ``readings`` lists every reading with its value and verdict. A reading that cannot be
computed (e.g. the session after the data ends) never counts as a flip.

``latest_session_used``: the latest date any reading of the part used (the session after the
as-of date included; the publication date of a P/E point), so a view as of session D can keep
only what D could know.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pandas as pd

from rotation_assets.metrics.claim_readings import (
    KIND_READINGS,
    ClaimData,
    ClaimInputs,
    NotComputable,
    PartValue,
    evaluate,
    moved_session,
    previous_session,
)
from rotation_assets.metrics.claim_verdicts import describe_claimed, flips, part_verdict
from rotation_assets.reference.claims import ClaimedPart, parse_claimed, part_names, part_units
from rotation_assets.warehouse.table_spec import Column, TableSpec

READING_COLUMN_DOC = (
    "near_ties_other_way (streak sessions won or lost by about 1 bp or less, |spread| < 1.5 bp, "
    "counted for the other side, from the session before the window through its end), "
    "other_basis (total return instead of price return, of the alternative instrument the claim "
    "names, e.g. IWM for ^RUT or IWM_SPY for RUT_GSPC), session_before / session_after (the "
    "window's last session or the as-of session one market session earlier / later; a "
    "max_daily_move window widened by a session), nearest_on_or_before (the newest published "
    "P/E point on or before the as-of date)"
)

CLAIM_PARTS = TableSpec(
    schema="analytics",
    name="claim_parts",
    description=(
        "One row per stated part of each claim of reference.claims (each leg, the gap, the "
        "magnitude, a streak's length and since-year, ...): the value computed as stated, the "
        "claimed value and tolerance, a verdict, and its sensitivity: the nearest other reading "
        "(near ties of about 1 bp, price vs total return, the session before or after the as-of "
        "date), "
        "the value and verdict under it, and whether the verdict flips."
    ),
    columns=(
        Column("claim_id", "VARCHAR", "Claim from reference.claims.", nullable=False),
        Column("part", "VARCHAR", "The part, e.g. 'IWM leg', 'gap', 'length'.", nullable=False),
        Column(
            "part_order", "INTEGER", "Position of the part in the claim (0-based).", nullable=False
        ),
        Column(
            "unit",
            "VARCHAR",
            "return (0.01 = +1%), sessions, year, rank (1 = best), P/E or percentile (0-1).",
            nullable=False,
        ),
        Column(
            "comparison",
            "VARCHAR",
            "about (within tolerance of claimed_value), at_least or at_most (claimed_value is a "
            "bound).",
            nullable=False,
        ),
        Column("claimed_value", "DOUBLE", "The value (or bound) claimed.", nullable=False),
        Column("tolerance", "DOUBLE", "Absolute tolerance, in unit.", nullable=False),
        Column(
            "computed_value",
            "DOUBLE",
            "The value computed as stated; null when not computable (or computed as null: no "
            "earlier run as long).",
        ),
        Column("difference", "DOUBLE", "computed_value - claimed_value."),
        Column(
            "verdict",
            "VARCHAR",
            "confirmed, close or contradicted (about: |difference| <= tolerance, <= 2 x "
            "tolerance, more; at_least / at_most: the bound holds, misses by <= tolerance, "
            "more), or not_computable.",
            nullable=False,
        ),
        Column(
            "detail",
            "VARCHAR",
            "What exactly was computed, or why it is not computable (e.g. 'history starts "
            "2000-01-03').",
            nullable=False,
        ),
        Column(
            "alternative_reading",
            "VARCHAR",
            "The nearest other reading shown, as a label with its session where it has one "
            f"(readings: {READING_COLUMN_DOC}); the first that flips the verdict, else the first "
            "computable. Null when none is computable.",
        ),
        Column("alternative_value", "DOUBLE", "The part's value under alternative_reading."),
        Column(
            "alternative_verdict",
            "VARCHAR",
            "The part's verdict under alternative_reading.",
        ),
        Column(
            "flips",
            "BOOLEAN",
            "True when alternative_verdict differs from verdict (both computable).",
            nullable=False,
        ),
        Column(
            "readings",
            "VARCHAR",
            "Every reading of the part: 'reading (what): value verdict', '; '-separated.",
            nullable=False,
        ),
        Column(
            "latest_session_used",
            "DATE",
            "Latest date any reading of the part used (the session after the as-of date "
            "included; a P/E point's date).",
            nullable=False,
        ),
    ),
    key=("claim_id", "part"),
)


def format_value(value: float | None, unit: str, signed: bool = False) -> str:
    """A part value as its unit reads: returns as signed %, P/E with an x, percentiles in %,
    sessions, years and ranks as integers (signed when ``signed``)."""
    if value is None or pd.isna(value):
        return "-"
    if unit == "return":
        return f"{value:+.1%}"
    if unit == "percentile":
        return f"{value:.1%}"
    if unit == "P/E":
        return f"{value:.1f}x"
    return f"{value:+.0f}" if signed else f"{value:.0f}"


@dataclass
class ReadingResult:
    """One reading of one claim: its label, part values (None where not computable) and the
    latest date it used."""

    name: str
    label: str
    parts: list[PartValue]
    latest: pd.Timestamp | None


def _label(name: str, claim: pd.Series, data: ClaimData) -> str:
    if name == "as_stated":
        return "as stated"
    if name == "near_ties_other_way":
        return "sessions decided by about 1 bp or less counted the other way"
    if name == "other_basis":
        named = claim.get("alternative_tickers")
        if isinstance(named, str) and named:
            pairs = [
                f"{alt.strip()} for {t}"
                for t, alt in zip(claim["tickers"].split("|"), named.split("|"), strict=True)
                if alt.strip()
            ]
            return "total return of " + ", ".join(pairs)
        return "total return (adj_close) instead of price return"
    if name == "nearest_on_or_before":
        return f"nearest point on or before {pd.Timestamp(claim['as_of_date']).date()}"
    return "session before" if name == "session_before" else "session after"


def claim_readings(claim: pd.Series, data: ClaimData) -> list[ReadingResult]:
    """The claim computed as stated and under each of its kind's other readings."""
    tickers = claim["tickers"].split("|")
    count = len(part_names(claim["kind"], tickers))
    claimed = parse_claimed(claim["claimed"], claim["tolerance"])
    results = []
    for name in ("as_stated", *KIND_READINGS[claim["kind"]]):
        try:
            parts, latest = evaluate(claim, claimed, data, name)
        except NotComputable as problem:
            parts, latest = [PartValue(None, "", str(problem)) for _ in range(count)], None
        label = _label(name, claim, data)
        if name in ("session_before", "session_after"):
            with contextlib.suppress(NotComputable):  # no such session: the bare label
                label = f"{label} ({moved_session(claim, data, name).date()})"
        results.append(ReadingResult(name, label, parts, latest))
    return results


def part_verdict_of(value: PartValue, claimed: ClaimedPart) -> str:
    if value.not_computable is not None:
        return "not_computable"
    return part_verdict(value.value, claimed.comparison, claimed.value, claimed.tolerance)


def fallback_session(claim: pd.Series) -> pd.Timestamp:
    """The last NYSE session on or before the claim's end_date: what a claim that could not be
    computed is dated by."""
    return previous_session(pd.Timestamp(claim["end_date"]) + pd.Timedelta(days=1))


def choose_alternative(stated: str, alternatives: list[tuple[str, str]]) -> int | None:
    """Index of the reading to show among (name, verdict) pairs: the first that flips, else the
    first computable; None when none is computable."""
    for i, (_, verdict) in enumerate(alternatives):
        if flips(stated, verdict):
            return i
    for i, (_, verdict) in enumerate(alternatives):
        if verdict != "not_computable":
            return i
    return None


def parts_of_claim(claim: pd.Series, results: list[ReadingResult]) -> list[dict]:
    """The claim_parts rows of one claim (its stated parts only)."""
    tickers = claim["tickers"].split("|")
    names = part_names(claim["kind"], tickers)
    units = part_units(claim["kind"], tickers)
    claimed = parse_claimed(claim["claimed"], claim["tolerance"])
    latest = [r.latest for r in results if r.latest is not None]
    latest_used = max(latest) if latest else fallback_session(claim)
    rows = []
    for i, want in enumerate(claimed):
        if want is None:
            continue
        stated = results[0].parts[i]
        verdict = part_verdict_of(stated, want)
        others = [(r, part_verdict_of(r.parts[i], want)) for r in results[1:]]
        pick = choose_alternative(verdict, [(r.name, v) for r, v in others])
        unit = units[i]
        readings = "; ".join(
            " ".join(
                [
                    f"{r.label}:",
                    format_value(r.parts[i].value, unit),
                    v if v != "not_computable" else f"not computable ({r.parts[i].not_computable})",
                ]
            )
            for r, v in others
        )
        alternative = others[pick] if pick is not None else None
        rows.append(
            {
                "claim_id": claim["claim_id"],
                "part": names[i],
                "part_order": i,
                "unit": unit,
                "comparison": want.comparison,
                "claimed_value": want.value,
                "tolerance": want.tolerance,
                "computed_value": stated.value if verdict != "not_computable" else None,
                "difference": (
                    stated.value - want.value
                    if verdict != "not_computable" and stated.value is not None
                    else None
                ),
                "verdict": verdict,
                "detail": stated.not_computable if verdict == "not_computable" else stated.detail,
                "alternative_reading": alternative[0].label if alternative else None,
                "alternative_value": (
                    alternative[0].parts[i].value
                    if alternative and alternative[1] != "not_computable"
                    else None
                ),
                "alternative_verdict": alternative[1] if alternative else None,
                "flips": bool(alternative and flips(verdict, alternative[1])),
                "readings": readings or "none",
                "latest_session_used": latest_used,
                "claimed_text": describe_claimed(want.comparison, format_value(want.value, unit)),
            }
        )
    return rows


def claim_parts(claims: pd.DataFrame, inputs: ClaimInputs) -> pd.DataFrame:
    """One row per stated part of each claim, in the claims' order (see the module docstring)."""
    data = ClaimData(inputs)
    rows = []
    for _, claim in claims.iterrows():
        rows += parts_of_claim(claim, claim_readings(claim, data))
    frame = pd.DataFrame(rows, columns=[*CLAIM_PARTS.column_names])
    return CLAIM_PARTS.conform(frame)
