"""``analytics.claims_check``: each claim of the source documents, judged by its worst part.

The claims (``reference.claims``, from ``seeds/claims.csv``) come from the two source documents,
each with the document's as-of date (the article 2026-02-11, the note 2026-02-04). A claim is
split into its stated parts (``analytics.claim_parts``; kinds, parts and readings in
``reference.claims`` and ``metrics.claim_readings``); the claim's verdict is its worst part
(confirmed < close < contradicted < not_computable, ``metrics.claim_verdicts``): ``confirmed``
only when every stated part holds, ``not_computable`` when any part cannot be checked (e.g.
"history starts 2000-01-03": a window or look-back reaching before the first loaded session is
never computed on a partial window, nor contradicted).

The *deciding part* is the first part with the claim's verdict; ``claimed_value``,
``computed_value``, ``difference``, ``tolerance``, ``unit`` and ``reason`` are its. ``parts``
summarises every part readably.

Sensitivity of the claim: its verdict recomputed under each of its kind's other readings (the
worst part under that reading). ``alternative_reading`` is the first reading that changes the
claim's verdict (``flips``), else the first computable one; ``alternative_value`` is the value
under it of the part that decides the claim there; ``sensitivity`` says it in words.
``latest_session_used`` is the latest date any reading of the claim used (the session after the
as-of date included): a view as of session D shows only claims with latest_session_used <= D.

Seed convention for tolerances (absolute, in the part's unit): 0.005 for a return quoted to one
decimal of a percent, 0.01 for a whole percent, or 5% of the claimed magnitude if larger (a round
30% or 80%); a range claim uses its midpoint and half-width; a gap the sum of its legs'
tolerances; 0 for session counts, years and ranks; for a P/E "18x" 5% of it.
"""

from __future__ import annotations

import pandas as pd

from rotation_assets.metrics.claim_parts import (
    ReadingResult,
    choose_alternative,
    claim_readings,
    format_value,
    part_verdict_of,
    parts_of_claim,
)
from rotation_assets.metrics.claim_readings import ClaimData, ClaimInputs
from rotation_assets.metrics.claim_verdicts import VERDICTS, flips, worst
from rotation_assets.reference.claims import KIND_DOC, parse_claimed, part_names, part_units
from rotation_assets.warehouse.table_spec import Column, TableSpec

__all__ = ["CLAIMS_CHECK", "VERDICTS", "check_claims", "ClaimInputs"]

CLAIMS_CHECK = TableSpec(
    schema="analytics",
    name="claims_check",
    description=(
        "Each claim of reference.claims (the article as of 2026-02-11, the note as of "
        "2026-02-04) checked part by part: the verdict is the worst part's (confirmed only when "
        "every stated part holds; not_computable when any part cannot be checked, e.g. history "
        "too short), with a readable summary of the parts, the deciding part's values, and the "
        "sensitivity: whether the verdict flips under the nearest other reading."
    ),
    columns=(
        Column("claim_id", "VARCHAR", "Claim from reference.claims.", nullable=False),
        Column("document", "VARCHAR", "Source document: article or note.", nullable=False),
        Column("as_of_date", "DATE", "The document's as-of date.", nullable=False),
        Column("kind", "VARCHAR", KIND_DOC, nullable=False),
        Column("tickers", "VARCHAR", "Tickers ('|'-separated) or pair_id.", nullable=False),
        Column("start_date", "DATE", "First day of the window.", nullable=False),
        Column("end_date", "DATE", "Last day of the window.", nullable=False),
        Column("text", "VARCHAR", "The figures quoted, and how they are checked."),
        Column(
            "verdict",
            "VARCHAR",
            "The worst part's verdict: confirmed < close < contradicted < not_computable.",
            nullable=False,
        ),
        Column(
            "parts",
            "VARCHAR",
            "Every stated part: 'part: computed vs claimed -> verdict', '; '-separated.",
            nullable=False,
        ),
        Column("part_count", "INTEGER", "Number of stated parts.", nullable=False),
        Column(
            "deciding_part",
            "VARCHAR",
            "The first part whose verdict is the claim's.",
            nullable=False,
        ),
        Column(
            "unit",
            "VARCHAR",
            "Unit of the deciding part: return, sessions, year, rank, P/E or percentile.",
            nullable=False,
        ),
        Column("claimed_value", "DOUBLE", "The deciding part's claimed value.", nullable=False),
        Column(
            "computed_value",
            "DOUBLE",
            "The deciding part's computed value; null when not computable.",
        ),
        Column("difference", "DOUBLE", "computed_value - claimed_value."),
        Column("tolerance", "DOUBLE", "The deciding part's tolerance.", nullable=False),
        Column(
            "reason",
            "VARCHAR",
            "What the deciding part computed, or why it is not computable.",
            nullable=False,
        ),
        Column(
            "alternative_reading",
            "VARCHAR",
            "The nearest other reading shown (analytics.claim_parts.alternative_reading): the "
            "first that flips the claim's verdict, else the first computable; null when none.",
        ),
        Column(
            "alternative_value",
            "DOUBLE",
            "Under alternative_reading, the value of the part that decides the claim there.",
        ),
        Column(
            "alternative_verdict",
            "VARCHAR",
            "The claim's verdict (its worst part) under alternative_reading.",
        ),
        Column(
            "flips",
            "BOOLEAN",
            "True when alternative_verdict differs from verdict (both computable).",
            nullable=False,
        ),
        Column(
            "sensitivity",
            "VARCHAR",
            "In words: which reading flips the verdict and to what, with the value, or that no "
            "nearest reading does.",
            nullable=False,
        ),
        Column(
            "latest_session_used",
            "DATE",
            "Latest date any reading of the claim used (the session after the as-of date "
            "included; a P/E point's date): a view as of D shows the claim only when this <= D.",
            nullable=False,
        ),
    ),
    key=("claim_id",),
)


def _claim_verdict_under(claim: pd.Series, result: ReadingResult) -> tuple[str, int]:
    """(worst verdict, index of the part deciding it) of the claim's stated parts."""
    claimed = parse_claimed(claim["claimed"], claim["tolerance"])
    verdicts = {
        i: part_verdict_of(result.parts[i], want)
        for i, want in enumerate(claimed)
        if want is not None
    }
    verdict = worst(list(verdicts.values()))
    return verdict, next(i for i, v in verdicts.items() if v == verdict)


def _summary(parts: list[dict]) -> str:
    pieces = []
    for part in parts:
        computed = (
            format_value(part["computed_value"], part["unit"])
            if part["verdict"] != "not_computable"
            else "not computable"
        )
        tolerance = part["tolerance"]
        tol = (
            f"{tolerance * 100:.1f}pp"
            if part["unit"] in ("return", "percentile")
            else f"{tolerance:g}"
        )
        piece = (
            f"{part['part']}: {computed} vs {part['claimed_text']} (±{tol}) -> {part['verdict']}"
        )
        if part["flips"]:
            piece += (
                f" [{part['alternative_verdict']} under {part['alternative_reading']}: "
                f"{format_value(part['alternative_value'], part['unit'])}]"
            )
        pieces.append(piece)
    return "; ".join(pieces)


def claim_row(claim: pd.Series, results: list[ReadingResult]) -> dict:
    """The claims_check row of one claim from its readings."""
    parts = parts_of_claim(claim, results)
    tickers = claim["tickers"].split("|")
    names, units = part_names(claim["kind"], tickers), part_units(claim["kind"], tickers)
    verdict, deciding = _claim_verdict_under(claim, results[0])
    decided = next(p for p in parts if p["part_order"] == deciding)
    others = [(r, *_claim_verdict_under(claim, r)) for r in results[1:]]
    pick = choose_alternative(verdict, [(r.name, v) for r, v, _ in others])
    alternative = others[pick] if pick is not None else None
    flipped = bool(alternative and flips(verdict, alternative[1]))
    if alternative is None:
        sensitivity = "no other reading is computable"
        alt_value = None
    else:
        reading, alt_verdict, alt_part = alternative
        alt_value = reading.parts[alt_part].value if alt_verdict != "not_computable" else None
        shown = f"{names[alt_part]} {format_value(alt_value, units[alt_part])}"
        if flipped:
            sensitivity = f"flips to {alt_verdict} under {reading.label} ({shown})"
        else:
            sensitivity = f"holds under every nearest reading (e.g. {reading.label}: {shown})"
    return {
        **{c: claim[c] for c in ("claim_id", "document", "as_of_date", "kind", "tickers")},
        **{c: claim[c] for c in ("start_date", "end_date", "text")},
        "verdict": verdict,
        "parts": _summary(parts),
        "part_count": len(parts),
        "deciding_part": names[deciding],
        "unit": units[deciding],
        "claimed_value": decided["claimed_value"],
        "computed_value": decided["computed_value"],
        "difference": decided["difference"],
        "tolerance": decided["tolerance"],
        "reason": decided["detail"],
        "alternative_reading": alternative[0].label if alternative else None,
        "alternative_value": alt_value,
        "alternative_verdict": alternative[1] if alternative else None,
        "flips": flipped,
        "sensitivity": sensitivity,
        "latest_session_used": max(p["latest_session_used"] for p in parts),
    }


def check_claims(claims: pd.DataFrame, inputs: ClaimInputs) -> pd.DataFrame:
    """One row per claim, in the claims' order (see the module docstring).

    ``claims`` is the load_claims frame; ``inputs`` what they are checked against.
    """
    data = ClaimData(inputs)
    rows = [claim_row(claim, claim_readings(claim, data)) for _, claim in claims.iterrows()]
    frame = pd.DataFrame(rows, columns=CLAIMS_CHECK.column_names)
    for column in ("computed_value", "difference", "alternative_value"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["flips"] = frame["flips"].astype(bool) if len(frame) else frame["flips"]
    return CLAIMS_CHECK.conform(frame)
