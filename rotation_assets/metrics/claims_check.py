"""``analytics.claims_check``: published claims about the 2026 rotation, checked against the data.

Claims come from ``seeds/claims.csv`` (``reference.claims``); each has a kind, tickers, an
inclusive date window [start_date, end_date], a claimed value and a tolerance. Returns are
simple (0.01 = +1%) and, for every return kind, computed from the daily **price** returns
(split-adjusted close, dividends excluded): commentary quotes price moves, and for the indices
price and total return are the same. The window's sessions are the distinct trade_dates of
``returns`` (any ticker) in [start_date, end_date]. Kinds and their computed value:

- ``period_return`` (one ticker): ``prod(1 + price_return) - 1`` over the window's sessions,
  i.e. from the close of the session before start_date to the close of the last session on or
  before end_date.
- ``relative_return`` (``A|B``): period return of A minus period return of B.
- ``max_daily_move`` (one ticker): the most negative single-session price return in the window
  when the claimed value is negative, the most positive otherwise.
- ``streak`` (a pair_id): ``sessions`` of the longest small-led run of the pair in
  ``analytics.outperformance_streaks`` whose end_date lies in the window (the later one on equal
  length); 0 when the pair has runs overlapping the window but no small-led run ends in it.
- ``streak_longest_since`` (a pair_id): the calendar year of that run's ``longest_since``; when
  it is null (no earlier run as long) the computed value is null and the verdict contradicted.

``difference = computed_value - claimed_value``. Verdict: ``confirmed`` when |difference| <=
tolerance, ``close`` when <= 2 * tolerance, ``contradicted`` otherwise (a 1e-9 slack absorbs
float rounding at the boundary); ``not_computable`` when a ticker is not in the universe, the
pair is not a rotation pair or has no streaks, or the data does not cover the window (no rows,
a ticker's first or last return missing from the window's first or last session, or data
ending before end_date). ``reason`` says why, or what exactly was computed.

Seed convention for tolerances (absolute, in the claim's unit): 0.005 for a return quoted to one
decimal of a percent, 0.01 for a whole percent, or 5% of the claimed magnitude if larger (a round
30% or 80%); a range claim uses its midpoint and half-width; a relative claim the sum of its two
legs' tolerances; 0 for session counts and years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rotation_assets.warehouse.table_spec import Column, TableSpec

VERDICTS = ("confirmed", "close", "contradicted", "not_computable")
_SLACK = 1e-9


CLAIMS_CHECK = TableSpec(
    schema="analytics",
    name="claims_check",
    description=(
        "Each claim of reference.claims checked against the warehouse: the computed value, its "
        "difference from the claim, and a verdict (confirmed within tolerance, close within "
        "twice it, contradicted, or not_computable) with the reason."
    ),
    columns=(
        Column("claim_id", "VARCHAR", "Claim from reference.claims.", nullable=False),
        Column("kind", "VARCHAR", "Kind of claim.", nullable=False),
        Column("tickers", "VARCHAR", "Ticker, 'A|B' or pair_id.", nullable=False),
        Column("start_date", "DATE", "First day of the window.", nullable=False),
        Column("end_date", "DATE", "Last day of the window.", nullable=False),
        Column("text", "VARCHAR", "The claim as quoted, and how it is checked."),
        Column("unit", "VARCHAR", "return, sessions or year.", nullable=False),
        Column("claimed_value", "DOUBLE", "The value claimed.", nullable=False),
        Column(
            "computed_value",
            "DOUBLE",
            "The value computed from price returns or streaks; null when not computable.",
        ),
        Column("difference", "DOUBLE", "computed_value - claimed_value."),
        Column("tolerance", "DOUBLE", "Absolute tolerance of the claim.", nullable=False),
        Column(
            "verdict",
            "VARCHAR",
            "confirmed (|difference| <= tolerance), close (<= 2 * tolerance), contradicted, "
            "or not_computable.",
            nullable=False,
        ),
        Column(
            "reason",
            "VARCHAR",
            "Why it is not computable, or what exactly was computed.",
            nullable=False,
        ),
    ),
    key=("claim_id",),
)


class _NotComputable(Exception):
    """The claim cannot be checked with the data at hand; the message is the reason."""


def _day(ts: pd.Timestamp) -> str:
    return ts.date().isoformat()


class _Data:
    """The inputs of check_claims, indexed once for the per-claim helpers."""

    def __init__(
        self,
        returns: pd.DataFrame,
        universe: pd.DataFrame,
        pairs: pd.DataFrame,
        streaks: pd.DataFrame,
        sessions: pd.DatetimeIndex | None = None,
    ) -> None:
        self.returns = returns.sort_values(["ticker", "trade_date"], kind="stable")
        dates = returns["trade_date"].unique() if sessions is None else sessions
        self.sessions = pd.DatetimeIndex(sorted(dates))
        self.tickers = set(universe["ticker"])
        self.pairs = set(pairs["pair_id"])
        self.streaks = streaks

    def daily(self, ticker: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """The ticker's price returns on the window's sessions; raises if they do not cover it."""
        if ticker not in self.tickers:
            raise _NotComputable(f"{ticker} is not in the universe")
        window = self.sessions[(self.sessions >= start) & (self.sessions <= end)]
        if window.empty:
            raise _NotComputable(f"no sessions in the data between {_day(start)} and {_day(end)}")
        if self.sessions[-1] < end:
            raise _NotComputable(
                f"data ends {_day(self.sessions[-1])}, before the window end {_day(end)}"
            )
        rows = self.returns[
            (self.returns["ticker"] == ticker)
            & (self.returns["trade_date"] >= start)
            & (self.returns["trade_date"] <= end)
        ]
        if rows.empty:
            raise _NotComputable(f"no {ticker} returns between {_day(start)} and {_day(end)}")
        # Without a return on the first session there is no close before the window.
        for label, session, have in (
            ("first", window[0], rows["trade_date"].iloc[0]),
            ("last", window[-1], rows["trade_date"].iloc[-1]),
        ):
            if have != session:
                raise _NotComputable(
                    f"{ticker} has no return on {_day(session)}, the window's {label} session"
                )
        if rows["price_return"].isna().any():
            missing = rows.loc[rows["price_return"].isna(), "trade_date"].iloc[0]
            raise _NotComputable(f"{ticker} price_return is null on {_day(missing)}")
        return rows

    def base_close(self, first: pd.Timestamp) -> str:
        """The session before ``first`` in the data, for describing a window's base close."""
        earlier = self.sessions[self.sessions < first]
        return _day(earlier[-1]) if len(earlier) else f"the session before {_day(first)}"

    def period_return(
        self, ticker: str, start: pd.Timestamp, end: pd.Timestamp
    ) -> tuple[float, str]:
        rows = self.daily(ticker, start, end)
        value = float(np.prod(1.0 + rows["price_return"].to_numpy(dtype="float64")) - 1.0)
        first, last = rows["trade_date"].iloc[0], rows["trade_date"].iloc[-1]
        span = f"{self.base_close(first)} close -> {_day(last)} close, {len(rows)} sessions"
        return value, span

    def small_run(self, pair_id: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series | None:
        """The longest small-led run ending in the window, the later on ties; None if none."""
        if pair_id not in self.pairs:
            raise _NotComputable(f"{pair_id} is not a rotation pair")
        runs = self.streaks[self.streaks["pair_id"] == pair_id]
        if runs.empty:
            raise _NotComputable(f"no streaks for pair {pair_id}")
        overlapping = runs[(runs["start_date"] <= end) & (runs["end_date"] >= start)]
        if overlapping.empty:
            raise _NotComputable(f"no {pair_id} sessions between {_day(start)} and {_day(end)}")
        small = overlapping[(overlapping["leader"] == "small") & (overlapping["end_date"] <= end)]
        if small.empty:
            return None
        return small.sort_values(["sessions", "end_date"], kind="stable").iloc[-1]


def _pct(value: float) -> str:
    return f"{value * 100:+.2f}%"


def _compute(claim: pd.Series, data: _Data) -> tuple[float | None, str]:
    """(computed value, description of what was computed) for one claim."""
    kind, start, end = claim["kind"], claim["start_date"], claim["end_date"]
    tickers = claim["tickers"].split("|")
    window = f"{_day(start)}..{_day(end)}"
    if kind == "period_return":
        value, span = data.period_return(tickers[0], start, end)
        return value, f"{tickers[0]} price return {span}: {_pct(value)}"
    if kind == "relative_return":
        a, span = data.period_return(tickers[0], start, end)
        b, _ = data.period_return(tickers[1], start, end)
        return a - b, (
            f"{tickers[0]} {_pct(a)} minus {tickers[1]} {_pct(b)} price return ({span}): "
            f"{_pct(a - b)}"
        )
    if kind == "max_daily_move":
        rows = data.daily(tickers[0], start, end)
        # The claim's sign says which extreme it is about: a drop or a jump.
        falling = claim["claimed_value"] < 0
        pick = rows["price_return"].idxmin() if falling else rows["price_return"].idxmax()
        value = float(rows.at[pick, "price_return"])
        word = "decline" if falling else "gain"
        return value, (
            f"{tickers[0]} largest one-session price {word} in {window} ({len(rows)} sessions): "
            f"{_pct(value)} on {_day(rows.at[pick, 'trade_date'])}"
        )
    run = data.small_run(tickers[0], start, end)
    if run is None:
        if kind == "streak":
            return 0.0, f"no small-led {tickers[0]} run ends in {window}"
        raise _NotComputable(f"no small-led {tickers[0]} run ends in {window}")
    described = (
        f"longest small-led {tickers[0]} run ending in {window}: {int(run['sessions'])} sessions "
        f"{_day(run['start_date'])} -> {_day(run['end_date'])}"
    )
    since = run["longest_since"]
    since_text = (
        f"longest since {_day(since)}"
        if pd.notna(since)
        else "longest on record (no earlier run as long)"
    )
    if kind == "streak":
        return float(run["sessions"]), f"{described}, {since_text}"
    return (float(pd.Timestamp(since).year) if pd.notna(since) else None), (
        f"{described}; {since_text}"
    )


def _verdict(difference: float | None, tolerance: float) -> str:
    if difference is None or np.isnan(difference):
        return "contradicted"
    if abs(difference) <= tolerance + _SLACK:
        return "confirmed"
    if abs(difference) <= 2 * tolerance + _SLACK:
        return "close"
    return "contradicted"


def check_claims(
    claims: pd.DataFrame,
    returns: pd.DataFrame,
    universe: pd.DataFrame,
    pairs: pd.DataFrame,
    streaks: pd.DataFrame,
    sessions: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """One row per claim: computed value, difference, verdict and reason; in the claims' order.

    ``claims`` is the load_claims frame; ``returns`` has trade_date, ticker, price_return;
    ``universe`` ticker; ``pairs`` pair_id; ``streaks`` the outperformance_streaks frame;
    ``sessions`` the market's sessions when ``returns`` holds only the claims' tickers (default:
    the trade_dates of ``returns``). See the module docstring for the definitions.
    """
    data = _Data(returns, universe, pairs, streaks, sessions)
    rows = []
    for _, claim in claims.iterrows():
        try:
            computed, reason = _compute(claim, data)
        except _NotComputable as problem:
            computed, reason, verdict = None, str(problem), "not_computable"
            difference = None
        else:
            difference = None if computed is None else computed - claim["claimed_value"]
            verdict = _verdict(difference, claim["tolerance"])
        rows.append(
            {
                **{c: claim[c] for c in ("claim_id", "kind", "tickers", "start_date", "end_date")},
                **{c: claim[c] for c in ("text", "unit", "claimed_value", "tolerance")},
                "computed_value": np.nan if computed is None else computed,
                "difference": np.nan if difference is None else difference,
                "verdict": verdict,
                "reason": reason,
            }
        )
    if not rows:
        return CLAIMS_CHECK.conform(pd.DataFrame({c: [] for c in CLAIMS_CHECK.column_names}))
    return CLAIMS_CHECK.conform(pd.DataFrame(rows))
