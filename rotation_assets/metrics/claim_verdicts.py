"""Verdicts of claim parts, and how a claim's verdict follows from its parts.

A part states a value with a comparison and an absolute tolerance t (``reference.claims``):

- ``about`` c: ``confirmed`` when |computed - c| <= t, ``close`` when <= 2t, else
  ``contradicted``.
- ``at_least`` c: ``confirmed`` when computed >= c, ``close`` when >= c - t, else contradicted.
- ``at_most`` c: ``confirmed`` when computed <= c, ``close`` when <= c + t, else contradicted.

A 1e-9 slack absorbs float rounding at every boundary. A part whose computed value is null
(e.g. "longest since" when no earlier run is as long) is ``contradicted``; a part that cannot be
computed is ``not_computable``.

The claim's verdict is its worst part, in the order confirmed < close < contradicted <
not_computable: ``confirmed`` only when every stated part holds, and ``not_computable`` as soon
as any part cannot be checked (a claim is never called contradicted, or confirmed, on the
strength of some of its parts while another is unchecked; the parts table still shows the
contradicted part).
"""

from __future__ import annotations

import math

VERDICTS = ("confirmed", "close", "contradicted", "not_computable")
_RANK = {verdict: rank for rank, verdict in enumerate(VERDICTS)}
_SLACK = 1e-9


def part_verdict(computed: float | None, comparison: str, claimed: float, tolerance: float) -> str:
    """The verdict of one computable part (see the module docstring)."""
    if computed is None or math.isnan(computed):
        return "contradicted"
    if comparison == "about":
        off = abs(computed - claimed)
        if off <= tolerance + _SLACK:
            return "confirmed"
        return "close" if off <= 2 * tolerance + _SLACK else "contradicted"
    # How far the value falls short of the bound on the wrong side (0 when it holds).
    short = claimed - computed if comparison == "at_least" else computed - claimed
    if short <= _SLACK:
        return "confirmed"
    return "close" if short <= tolerance + _SLACK else "contradicted"


def worst(verdicts: list[str]) -> str:
    """The worst verdict of a claim's parts (confirmed < close < contradicted < not_computable)."""
    if not verdicts:
        raise ValueError("a claim has at least one part")
    return max(verdicts, key=_RANK.__getitem__)


def flips(verdict: str, alternative: str | None) -> bool:
    """True when a reading's verdict differs from the stated one and both are computable
    verdicts: a reading that cannot be computed (e.g. the session after the data ends) shows
    what it would take, not a flip."""
    if alternative is None or "not_computable" in (verdict, alternative):
        return False
    return verdict != alternative


def describe_claimed(comparison: str, value: str) -> str:
    """'+8.0%' -> '+8.0%', '>= +8.0%', '<= +1.0%' by comparison."""
    return {"about": "", "at_least": ">= ", "at_most": "<= "}[comparison] + value
