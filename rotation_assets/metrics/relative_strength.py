"""``analytics.relative_strength``: the legs' indices, their ratio and windowed measures.

Built from the full history of ``analytics.pair_spreads``; one row per pair and session (one row
per spread row, so a pair whose leg stops ends at the legs' last common session). Every return
and index is on the pair's basis (``reference.rotation_pairs.basis``): total return (dividends
reinvested) for the ETF pairs, price for the index pairs, whose legs are price indices. For a
pair, number its spread rows k = 1..n in date order; k = 0 is the pair's *base*, a virtual
session just before its first spread row where every index is 100. With ``s_k`` / ``l_k`` the
small / large return and ``spread_k = s_k - l_k`` (pair_spreads' spread, taken as stored):

- ``small_index_k = 100 * (1 + s_1) * ... * (1 + s_k)``, ``large_index_k`` likewise: the first
  spread session already includes its own return (its index is 100 * (1 + s_1), not 100).
- ``ratio_k = 100 * small_index_k / large_index_k`` (100 at the base); rising = small-caps lead.
- ``ratio_drawdown_k = ratio_k / max(100, ratio_1, ..., ratio_k) - 1`` (<= 0; the running max
  includes the base 100).

For each window W in 1, 5, 20, 60, 90, 252 sessions, with j = k - W the session W sessions ago:

- ``ratio_change_W = ratio_k / ratio_j - 1``
- ``return_difference_W = (small_index_k / small_index_j - 1) - (large_index_k / large_index_j
  - 1)``: compounded small return minus compounded large return over the window.
- ``spread_sum_W = spread_{j+1} + ... + spread_k``: the sum of the last W daily spreads, window
  end inclusive (``spread_sum_1`` is the day's spread itself).

All three are null while j < 0, i.e. before the pair has W sessions; the base counts as a
session, so on the pair's W-th session (j = 0) they are measured from 100.

``ytd`` is the same three measures with j = the pair's last session of an earlier calendar year
(the year-end index), or the base (index 100) during the pair's first calendar year; it is
never null. ``spread_sum_ytd`` sums the spreads of the current calendar year.

``ratio_change_252_percentile`` is a point-in-time percentile rank in [0, 1]: the share of the
pair's non-null ``ratio_change_252`` values on sessions up to and including today that are <=
today's value (ties count as <=). It only looks back, so later rows never change it; it is null
while ``ratio_change_252`` is null.

The 1-session measures must agree: ``spread_sum_1 == spread`` bit for bit,
``return_difference_1 == spread`` and ``ratio_change_1 == (1 + s) / (1 + l) - 1`` up to float
rounding (``relative_measures_agree``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rotation_assets.metrics.provenance import with_source
from rotation_assets.warehouse.table_spec import Column, TableSpec

WINDOWS = (1, 5, 20, 60, 90, 252)
WINDOW_LABELS = (*(str(w) for w in WINDOWS), "ytd")
BASE = 100.0


def _window_columns(label: str) -> tuple[Column, ...]:
    if label == "ytd":
        then = "at the previous year-end"
        note = (
            ". The previous year-end is the pair's last session in an earlier calendar year, or "
            "the base (100) during the pair's first calendar year; never null."
        )
        spread_sum = "Sum of this calendar year's daily spreads up to and including this session."
    elif label == "1":
        then = "1 session earlier"
        note = "; on the pair's first session, measured from the base (100)."
        spread_sum = "The session's spread itself (a 1-session sum), bit for bit."
    else:
        then = f"{label} sessions earlier"
        note = f"; null until the pair has {label} sessions (the base 100 counts as session 0)."
        spread_sum = f"Sum of the last {label} daily spreads, this session included{note}"
    return (
        Column(f"ratio_change_{label}", "DOUBLE", f"ratio / ratio {then} - 1{note}"),
        Column(
            f"return_difference_{label}",
            "DOUBLE",
            f"Compounded small return minus compounded large return: (small_index / small_index "
            f"{then} - 1) - (large_index / large_index {then} - 1){note}",
        ),
        Column(f"spread_sum_{label}", "DOUBLE", spread_sum),
    )


RELATIVE_STRENGTH = with_source(
    TableSpec(
        schema="analytics",
        name="relative_strength",
        description=(
            "Relative strength per rotation pair and session: the legs' indices on the pair's "
            "basis (total return for ETF pairs, price for index pairs: "
            "reference.rotation_pairs.basis) rebased to 100 just before the pair's first spread "
            "session, their ratio, the ratio's "
            "drawdown, and ratio change, return difference and spread sum over 1, 5, 20, 60, 90 "
            "and 252 sessions and year to date, from the pair's whole analytics.pair_spreads "
            "history."
        ),
        columns=(
            Column("trade_date", "DATE", "NYSE session.", nullable=False),
            Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
            Column(
                "small_return",
                "DOUBLE",
                "Small leg's return this session, on the pair's basis (price or total return).",
                nullable=False,
            ),
            Column(
                "large_return",
                "DOUBLE",
                "Large leg's return this session, on the pair's basis (price or total return).",
                nullable=False,
            ),
            Column(
                "spread",
                "DOUBLE",
                "small_return - large_return (from pair_spreads).",
                nullable=False,
            ),
            Column(
                "small_index",
                "DOUBLE",
                "Small leg's index on the pair's basis (a total-return index for a total_return "
                "pair, a price index for a price pair): 100 * prod(1 + small_return) over the "
                "pair's sessions up to and including this one (100 just before the first).",
                nullable=False,
            ),
            Column(
                "large_index",
                "DOUBLE",
                "Large leg's index on the pair's basis: 100 * prod(1 + large_return) over the "
                "pair's sessions up to and including this one (100 just before the first).",
                nullable=False,
            ),
            Column(
                "ratio",
                "DOUBLE",
                "100 * small_index / large_index; 100 at the base, rising when small-caps lead.",
                nullable=False,
            ),
            Column(
                "ratio_drawdown",
                "DOUBLE",
                "ratio / running max of ratio (including the base 100) - 1; 0 at a new high, <= 0.",
                nullable=False,
            ),
            *(column for label in WINDOW_LABELS for column in _window_columns(label)),
            Column(
                "ratio_change_252_percentile",
                "DOUBLE",
                "Point-in-time percentile rank (0..1) of ratio_change_252: the share of the pair's "
                "non-null ratio_change_252 values up to and including this session that are <= "
                "this session's value. Never uses later sessions; null when ratio_change_252 is.",
            ),
        ),
        key=("trade_date", "pair_id"),
    )
)


def _trailing_sums(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of each length-``window`` run of ``values`` ending at each position; NaN if short."""
    out = np.full(len(values), np.nan)
    if window == 1:
        # The sum of one spread is that spread, bit for bit.
        out[:] = values
    elif len(values) >= window:
        # Fresh sums per window rather than a running cumsum difference, which drifts.
        out[window - 1 :] = sliding_window_view(values, window).sum(axis=1)
    return out


def _expanding_percentile(values: np.ndarray) -> np.ndarray:
    """Share of non-NaN values so far that are <= the current one; NaN where it is NaN."""
    # Expanding rank 'max' counts the values so far that are <= today's (ties included) and
    # pct divides by the non-NaN count so far: exactly the point-in-time definition.
    ranks = pd.Series(values).expanding().rank(method="max", pct=True)
    return ranks.to_numpy(dtype="float64")


def _pair_measures(pair: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every measure for one pair's spread rows, already in date order."""
    n = len(pair)
    spread = pair["spread"].to_numpy(dtype="float64")
    small_index = BASE * np.cumprod(1.0 + pair["small_return"].to_numpy(dtype="float64"))
    large_index = BASE * np.cumprod(1.0 + pair["large_return"].to_numpy(dtype="float64"))
    ratio = BASE * small_index / large_index
    # Position 0 holds the base, so position k is session k and a lag of W is position k - W.
    small0 = np.concatenate(([BASE], small_index))
    large0 = np.concatenate(([BASE], large_index))
    ratio0 = np.concatenate(([BASE], ratio))
    k = np.arange(1, n + 1)

    out: dict[str, np.ndarray] = {
        "small_index": small_index,
        "large_index": large_index,
        "ratio": ratio,
        "ratio_drawdown": ratio / np.maximum(BASE, np.maximum.accumulate(ratio)) - 1.0,
    }

    def from_position(label: str, then: np.ndarray, valid: np.ndarray) -> None:
        then = np.where(valid, then, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rc = ratio / ratio0[then] - 1.0
            rd = (small_index / small0[then] - 1.0) - (large_index / large0[then] - 1.0)
        out[f"ratio_change_{label}"] = np.where(valid, rc, np.nan)
        out[f"return_difference_{label}"] = np.where(valid, rd, np.nan)

    for window in WINDOWS:
        from_position(str(window), k - window, k >= window)
        out[f"spread_sum_{window}"] = _trailing_sums(spread, window)

    # Year-to-date base: the count of the pair's sessions in earlier years is the position of its
    # last earlier-year session (0, the base, in the pair's first year).
    years = pair["trade_date"].dt.year.to_numpy()
    from_position("ytd", np.searchsorted(years, years, side="left"), np.ones(n, dtype=bool))
    out["spread_sum_ytd"] = pd.Series(spread).groupby(years).cumsum().to_numpy()

    out["ratio_change_252_percentile"] = _expanding_percentile(out["ratio_change_252"])
    return out


def relative_strength(spreads: pd.DataFrame, since: pd.Timestamp | None = None) -> pd.DataFrame:
    """Relative-strength measures per pair and session from the full pair_spreads history
    (trade_date, pair_id, small_return, large_return, spread, source); only the rows from
    ``since`` on when given (every measure still uses the pair's whole history).

    Sorted by trade_date, pair_id. See the module docstring for the definitions.
    """
    columns = ["trade_date", "pair_id", "small_return", "large_return", "spread", "source"]
    frame = spreads.loc[:, columns].sort_values(["pair_id", "trade_date"], kind="stable")
    if frame.duplicated(["pair_id", "trade_date"]).any():
        raise ValueError("spreads has more than one row for a pair and session")
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])

    parts = []
    for _, pair in frame.groupby("pair_id", sort=False):
        measures = pd.DataFrame(_pair_measures(pair), index=pair.index)
        part = pd.concat([pair, measures], axis=1)
        parts.append(part if since is None else part[part["trade_date"] >= since])
    if not parts:
        return RELATIVE_STRENGTH.empty()
    result = pd.concat(parts).sort_values(["trade_date", "pair_id"], kind="stable")
    return RELATIVE_STRENGTH.conform(result)


def relative_measures_agree(frame: pd.DataFrame, tol: float = 1e-12) -> pd.DataFrame:
    """Rows where the 1-session measures disagree, with the rule(s) each breaks.

    spread_sum_1 must equal spread exactly; return_difference_1 must be within ``tol`` of
    spread, and ratio_change_1 within ``tol`` of (1 + small_return) / (1 + large_return) - 1.
    A null where a value is expected counts as a disagreement.
    """
    expected_ratio_change = (1.0 + frame["small_return"]) / (1.0 + frame["large_return"]) - 1.0
    rules = {
        "spread_sum_1 != spread": ~(frame["spread_sum_1"] == frame["spread"]),
        "return_difference_1 !~ spread": ~(
            (frame["return_difference_1"] - frame["spread"]).abs() <= tol
        ),
        "ratio_change_1 !~ (1+s)/(1+l)-1": ~(
            (frame["ratio_change_1"] - expected_ratio_change).abs() <= tol
        ),
    }
    broken = pd.DataFrame(rules, index=frame.index)
    bad = broken.any(axis=1)
    columns = [
        "trade_date",
        "pair_id",
        "small_return",
        "large_return",
        "spread",
        "spread_sum_1",
        "return_difference_1",
        "ratio_change_1",
    ]
    result = frame.loc[bad, columns].copy()
    result["problem"] = [
        "; ".join(name for name, hit in zip(rules, hits, strict=True) if hit)
        for hits in broken.loc[bad].itertuples(index=False)
    ]
    return result.reset_index(drop=True)
