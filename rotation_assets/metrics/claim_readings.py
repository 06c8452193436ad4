"""The values of a claim's parts under a reading: as stated, and the nearest other readings.

A *reading* is one way to measure what a document states. ``as_stated`` is the check itself;
the others are the nearest reasonable alternatives, whose verdicts say how fragile the check is
(``analytics.claim_parts``):

- ``near_ties_other_way`` (streak): the pair's sessions won or lost by about 1 bp or less (a
  near tie: 0 < |spread| < 1.5 bp, i.e. at most 1 bp rounded to whole basis points; RUT_GSPC
  lost 2025-12-31 by 1.13 bp) counted for the other side, from the session before the window's
  start through its end (so a run may grow over a near-tie session at its start or break at one
  inside it; earlier runs, the record it is compared with, stay as they are); exact ties stay
  ties.
- ``other_basis`` (return kinds, streak, ytd_rank): total return instead of price return
  (``adj_close`` instead of ``close``), of the instrument ``alternative_tickers`` names when it
  names one (IWM's total return for "Russell 2000 Index (IWM)", the IWM_SPY pair for RUT_GSPC).
- ``session_before`` / ``session_after``: the window's last session (the as-of session of a
  ytd_rank or valuation claim) moved one market session earlier / later; a one-session window
  moves whole. For ``max_daily_move`` the window is widened by one session at its start /
  its end instead (a move dated a session off).
- ``nearest_on_or_before`` (forward_pe): the newest published point dated on or before the
  as-of date (what a reader could have known), instead of the nearest in either direction.

Returns are simple (0.01 = +1%). Windows are in NYSE sessions: a window's first session is the
first NYSE session on or after its start_date, its base the NYSE session before that, its last
the last market session on or before end_date. Per kind (parts in order):

- ``period_return``: per ticker, ``prod(1 + return) - 1`` over the window (the base close to the
  last close), price return as stated.
- ``relative_return`` (A|B): A's and B's period returns and A - B.
- ``vs_benchmark``: per ticker, its period return minus its benchmark's (``reference.universe``).
- ``max_daily_move``: the most negative one-session return in the window when the claimed
  value is negative, the most positive otherwise.
- ``streak`` (pair): among the pair's runs (``metrics.outperformance_streaks`` over
  ``analytics.pair_spreads``), the longest small-led run ending in the window (the later on
  equal length); length = its sessions (0 when no small-led run ends in the window); since
  year = the calendar year of its ``longest_since`` (null, so contradicted, when no earlier run
  is as long: "longest on record").
- ``ytd_rank``: with N = the as-of session's number in its year, each year's return from its
  first session's base close through its N-th session, from start_date's year to the as-of
  year; the value is the as-of year's rank (1 = highest).
- ``forward_pe``: per index, the published forward P/E (``reference.valuation_points``, same
  ticker, or same size side when the point names no ticker) dated nearest the as-of date,
  excluding the document's own figure (a point dated the as-of date with the claimed value):
  OTHER sources, so a check of the figure against what others published; never a point dated
  after the data's latest session.
- ``valuation_extreme`` (pair): the pair's price-only ratio percentile over 25 years
  (``analytics.valuation_price_proxy``, a price proxy, not a valuation) on the as-of session,
  and the S&P 500 CAPE's 25-year percentile (``analytics.valuation_history``, Robert Shiller's
  data) of the newest month usable on that session.

Not computable (never computed on a partial window): a ticker outside the universe, no market
sessions in the window, data ending before the window, a ticker without the window's first or
last return, and **short history**: a window whose base close, or a look-back ("longest since
1996" reaches the year's first session; a 25-year percentile 25 years), lies before the first
loaded session of a ticker involved gives the reason "history starts <that session>".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rotation_assets import trading_days
from rotation_assets.metrics.outperformance_streaks import outperformance_streaks
from rotation_assets.reference.claims import ClaimedPart
from rotation_assets.reference.valuation_points import index_side

READINGS = (
    "as_stated",
    "near_ties_other_way",
    "other_basis",
    "session_before",
    "session_after",
    "nearest_on_or_before",
)
_RETURN_READINGS = ("other_basis", "session_before", "session_after")
KIND_READINGS: dict[str, tuple[str, ...]] = {
    "period_return": _RETURN_READINGS,
    "relative_return": _RETURN_READINGS,
    "vs_benchmark": _RETURN_READINGS,
    "max_daily_move": _RETURN_READINGS,
    "streak": ("near_ties_other_way", *_RETURN_READINGS),
    "ytd_rank": _RETURN_READINGS,
    "forward_pe": ("nearest_on_or_before",),
    "valuation_extreme": ("session_before", "session_after"),
}
# A near tie: a session decided by at most 1 bp when rounded to whole basis points.
NEAR_TIE = 1.5e-4


class NotComputable(Exception):
    """The claim (or one part) cannot be checked with the data at hand; the message says why."""


@dataclass
class PartValue:
    """A part's computed value (None: computed as null) and what exactly was computed, or the
    reason it is not computable."""

    value: float | None
    detail: str
    not_computable: str | None = None


@dataclass
class ClaimInputs:
    """What the claims are checked against. ``returns``: trade_date, ticker, price_return,
    total_return; ``universe``: ticker (and benchmark, role); ``pairs``: pair_id, small, large;
    ``spreads``: pair_spreads rows of the pairs the claims name; ``history_start``: each
    ticker's first loaded session (default: the NYSE session before its first return);
    ``sessions``: the market's sessions (default: the trade_dates of ``returns``);
    ``valuation_points``, ``price_proxy`` (valuation_price_proxy rows) and
    ``valuation_history``: for the valuation kinds."""

    returns: pd.DataFrame
    universe: pd.DataFrame
    pairs: pd.DataFrame
    spreads: pd.DataFrame | None = None
    history_start: dict[str, pd.Timestamp] | None = None
    sessions: pd.DatetimeIndex | None = None
    valuation_points: pd.DataFrame | None = None
    price_proxy: pd.DataFrame | None = None
    valuation_history: pd.DataFrame | None = None


def previous_session(day) -> pd.Timestamp:
    """The NYSE session before ``day``; outside the bundled calendar (before 1989, or more than
    about a year ahead) the previous weekday stands for it."""
    try:
        return pd.Timestamp(trading_days.previous_session(day))
    except Exception:  # exchange_calendars' DateOutOfBounds and its kin
        return pd.Timestamp(day) - pd.offsets.BDay(1)


def _day(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).date().isoformat()


def pct(value: float) -> str:
    return f"{value * 100:+.2f}%"


@dataclass
class _Window:
    first: pd.Timestamp
    last: pd.Timestamp


@dataclass
class ClaimData:
    """The inputs indexed once for the per-claim computations (see ``ClaimInputs``)."""

    inputs: ClaimInputs
    sessions: pd.DatetimeIndex = field(init=False)
    _runs: dict = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        returns = self.inputs.returns
        dates = returns["trade_date"].unique() if self.inputs.sessions is None else None
        self.sessions = pd.DatetimeIndex(
            sorted(pd.to_datetime(dates) if dates is not None else self.inputs.sessions)
        )
        self.by_ticker = {
            ticker: rows.set_index("trade_date").sort_index()
            for ticker, rows in returns.groupby("ticker", sort=False)
        }
        self.tickers = set(self.inputs.universe["ticker"])
        self.benchmarks = (
            dict(
                zip(self.inputs.universe["ticker"], self.inputs.universe["benchmark"], strict=True)
            )
            if "benchmark" in self.inputs.universe
            else {}
        )
        self.roles = (
            dict(zip(self.inputs.universe["ticker"], self.inputs.universe["role"], strict=True))
            if "role" in self.inputs.universe
            else {}
        )
        self.pairs = self.inputs.pairs.set_index("pair_id")
        given = self.inputs.history_start or {}
        self.history_start = {t: pd.Timestamp(d) for t, d in given.items()}
        for ticker, rows in self.by_ticker.items():
            if ticker not in self.history_start and len(rows):
                self.history_start[ticker] = pd.Timestamp(previous_session(rows.index[0]))

    # -- windows ------------------------------------------------------------------------------

    def window(self, start: pd.Timestamp, end: pd.Timestamp) -> _Window:
        """The window's first NYSE session and last market session; raises if the data does
        not reach it."""
        inside = self.sessions[(self.sessions >= start) & (self.sessions <= end)]
        if inside.empty:
            raise NotComputable(f"no sessions in the data between {_day(start)} and {_day(end)}")
        first = pd.Timestamp(trading_days.session_on_or_after(start))
        last = previous_session(end + pd.Timedelta(days=1))
        if self.sessions[-1] < last:
            raise NotComputable(
                f"data ends {_day(self.sessions[-1])}, before the window end {_day(end)}"
            )
        return _Window(first, inside[-1])

    def shifted(self, session: pd.Timestamp, step: int) -> pd.Timestamp:
        """The market session ``step`` (+1 or -1) sessions from ``session``."""
        position = self.sessions.searchsorted(session)
        target = position + step
        if target < 0 or target >= len(self.sessions):
            side = "after" if step > 0 else "before"
            raise NotComputable(f"no session {side} {_day(session)} in the data")
        return self.sessions[target]

    def check_history(self, ticker: str, needed: pd.Timestamp, what: str) -> None:
        """NotComputable when ``needed`` (a close or look-back) lies before the ticker's first
        loaded session."""
        start = self.history_start.get(ticker)
        if start is None:
            raise NotComputable(f"no {ticker} returns")
        if needed < start:
            raise NotComputable(
                f"{ticker} history starts {_day(start)} ({what} needs {_day(needed)})"
            )

    # -- returns ------------------------------------------------------------------------------

    def ticker_returns(
        self, ticker: str, first: pd.Timestamp, last: pd.Timestamp, basis: str
    ) -> pd.Series:
        """The ticker's ``basis`` returns on the window's sessions, after every check."""
        if ticker not in self.tickers:
            raise NotComputable(f"{ticker} is not in the universe")
        self.check_history(ticker, previous_session(first), "the window's base close")
        rows = self.by_ticker.get(ticker)
        if rows is None or rows.empty:
            raise NotComputable(f"no {ticker} returns between {_day(first)} and {_day(last)}")
        series = rows.loc[(rows.index >= first) & (rows.index <= last), basis]
        if series.empty:
            raise NotComputable(f"no {ticker} returns between {_day(first)} and {_day(last)}")
        window = self.sessions[(self.sessions >= first) & (self.sessions <= last)]
        for label, session, have in (
            ("first", window[0], series.index[0]),
            ("last", window[-1], series.index[-1]),
        ):
            if have != session:
                raise NotComputable(
                    f"{ticker} has no return on {_day(session)}, the window's {label} session"
                )
        if series.isna().any():
            raise NotComputable(
                f"{ticker} {basis} is null on {_day(series.index[series.isna()][0])}"
            )
        return series

    def period_return(
        self, ticker: str, first: pd.Timestamp, last: pd.Timestamp, basis: str
    ) -> tuple[float, str]:
        series = self.ticker_returns(ticker, first, last, basis)
        value = float(np.prod(1.0 + series.to_numpy(dtype="float64")) - 1.0)
        base = self.sessions[self.sessions < series.index[0]]
        base_day = _day(base[-1]) if len(base) else _day(previous_session(first))
        word = "price" if basis == "price_return" else "total"
        span = f"{base_day} close -> {_day(series.index[-1])} close, {len(series)} sessions"
        return value, f"{ticker} {word} return {span}: {pct(value)}"

    # -- streaks ------------------------------------------------------------------------------

    def pair_runs(
        self, pair_id: str, near_ties: tuple[pd.Timestamp, pd.Timestamp] | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(the pair's spreads, its runs); with ``near_ties`` = (from, to), the sessions in
        [from, to] decided by a near tie (0 < |spread| < NEAR_TIE) counted for the other side."""
        if pair_id not in self.pairs.index:
            raise NotComputable(f"{pair_id} is not a rotation pair")
        key = (pair_id, near_ties)
        if key not in self._runs:
            spreads = self.inputs.spreads
            rows = (
                spreads[spreads["pair_id"] == pair_id].sort_values("trade_date").copy()
                if spreads is not None
                else pd.DataFrame()
            )
            if rows.empty:
                raise NotComputable(f"no streaks for pair {pair_id}")
            if near_ties is not None:
                spread = rows["small_return"] - rows["large_return"]
                inside = rows["trade_date"].between(*near_ties)
                near = inside & (spread.abs() < NEAR_TIE) & (spread != 0)
                rows.loc[near, "leader"] = rows.loc[near, "leader"].map(
                    {"small": "large", "large": "small"}
                )
            self._runs[key] = (rows.reset_index(drop=True), outperformance_streaks(rows))
        return self._runs[key]

    def pair_history_start(self, pair_id: str, spreads: pd.DataFrame) -> pd.Timestamp:
        legs = self.pairs.loc[pair_id, ["small", "large"]].tolist()
        starts = [self.history_start.get(leg) for leg in legs]
        if any(s is None for s in starts):
            return previous_session(spreads["trade_date"].iloc[0])
        return max(starts)


def _alternative(claim: pd.Series, index: int, ticker: str) -> str:
    named = claim.get("alternative_tickers")
    if not isinstance(named, str) or not named:
        return ticker
    entry = named.split("|")[index].strip()
    return entry or ticker


def _window_for(data: ClaimData, claim: pd.Series, reading: str) -> _Window:
    window = data.window(claim["start_date"], claim["end_date"])
    one_session = window.first == window.last
    if reading in ("session_before", "session_after"):
        step = -1 if reading == "session_before" else 1
        if claim["kind"] == "max_daily_move":
            if step < 0:
                return _Window(data.shifted(window.first, -1), window.last)
            return _Window(window.first, data.shifted(window.last, 1))
        last = data.shifted(window.last, step)
        return _Window(last if one_session else window.first, last)
    return window


def moved_session(claim: pd.Series, data: ClaimData, reading: str) -> pd.Timestamp:
    """The session a session_before / session_after reading adds or moves to (for its label)."""
    step = -1 if reading == "session_before" else 1
    if claim["kind"] in ("ytd_rank", "valuation_extreme"):
        start = claim["end_date"] - pd.Timedelta(days=7)
        return data.shifted(data.window(start, claim["end_date"]).last, step)
    window = data.window(claim["start_date"], claim["end_date"])
    if claim["kind"] == "max_daily_move" and step < 0:
        return data.shifted(window.first, -1)
    return data.shifted(window.last, step)


def _basis(reading: str) -> str:
    return "total_return" if reading == "other_basis" else "price_return"


def _ticker(claim: pd.Series, index: int, ticker: str, reading: str) -> str:
    return _alternative(claim, index, ticker) if reading == "other_basis" else ticker


def _part(compute) -> PartValue:
    """A PartValue from ``compute()`` -> (value, detail); a NotComputable becomes the part's."""
    try:
        value, detail = compute()
    except NotComputable as problem:
        return PartValue(None, "", str(problem))
    return PartValue(value, detail)


def evaluate(
    claim: pd.Series, claimed: list[ClaimedPart | None], data: ClaimData, reading: str
) -> tuple[list[PartValue], pd.Timestamp]:
    """The values of every part of ``claim`` under ``reading``, and the latest date the reading
    used. Raises NotComputable when the whole claim cannot be computed under it."""
    kind = claim["kind"]
    tickers = claim["tickers"].split("|")
    basis = _basis(reading)
    if kind in ("period_return", "relative_return", "vs_benchmark", "max_daily_move"):
        window = _window_for(data, claim, reading)

        def leg(index: int, ticker: str) -> tuple[float, str]:
            return data.period_return(
                _ticker(claim, index, ticker, reading), window.first, window.last, basis
            )

        if kind == "period_return":
            return [_part(lambda i=i, t=t: leg(i, t)) for i, t in enumerate(tickers)], window.last
        if kind == "relative_return":
            a, a_text = leg(0, tickers[0])
            b, b_text = leg(1, tickers[1])
            gap = (a - b, f"{a_text} minus {b_text}: {pct(a - b)}")
            return [PartValue(a, a_text), PartValue(b, b_text), PartValue(*gap)], window.last
        if kind == "vs_benchmark":

            def versus(index: int, ticker: str) -> tuple[float, str]:
                benchmark = data.benchmarks.get(ticker)
                if not isinstance(benchmark, str) or not benchmark:
                    raise NotComputable(f"{ticker} has no benchmark")
                own, own_text = leg(index, ticker)
                other, other_text = data.period_return(benchmark, window.first, window.last, basis)
                return own - other, f"{own_text} minus {other_text}: {pct(own - other)}"

            parts = [_part(lambda i=i, t=t: versus(i, t)) for i, t in enumerate(tickers)]
            return parts, window.last
        return [_max_move(claim, claimed, data, window, reading)], window.last
    if kind == "streak":
        return _streak(claim, claimed, data, reading)
    if kind == "ytd_rank":
        return _ytd_rank(claim, data, reading)
    if kind == "forward_pe":
        return _forward_pe(claim, claimed, data, reading)
    return _valuation_extreme(claim, data, reading)


def _max_move(
    claim: pd.Series, claimed: list[ClaimedPart | None], data: ClaimData, window: _Window, reading
) -> PartValue:
    ticker = _ticker(claim, 0, claim["tickers"], reading)
    series = data.ticker_returns(ticker, window.first, window.last, _basis(reading))
    # The claim's sign says which extreme it is about: a drop or a jump.
    falling = claimed[0] is not None and claimed[0].value < 0
    when = series.idxmin() if falling else series.idxmax()
    value = float(series[when])
    word = "decline" if falling else "gain"
    kind_word = "price" if _basis(reading) == "price_return" else "total"
    return PartValue(
        value,
        f"{ticker} largest one-session {kind_word} {word} in {_day(window.first)}.."
        f"{_day(window.last)} ({len(series)} sessions): {pct(value)} on {_day(when)}",
    )


def _streak(
    claim: pd.Series, claimed: list[ClaimedPart | None], data: ClaimData, reading: str
) -> tuple[list[PartValue], pd.Timestamp]:
    pair_id = _ticker(claim, 0, claim["tickers"], reading)
    start = claim["start_date"]
    end = claim["end_date"]
    near_ties = None
    if reading == "near_ties_other_way":
        # From the session before the window (a run may reach back over it) to its end.
        near_ties = (previous_session(start), pd.Timestamp(end))
    spreads, runs = data.pair_runs(pair_id, near_ties)
    if reading in ("session_before", "session_after"):
        last = data.window(start, end).last
        end = data.shifted(last, -1 if reading == "session_before" else 1)
    window = f"{_day(start)}..{_day(end)}"
    overlapping = runs[(runs["start_date"] <= end) & (runs["end_date"] >= start)]
    if overlapping.empty:
        raise NotComputable(f"no {pair_id} sessions between {_day(start)} and {_day(end)}")
    latest = min(end, spreads["trade_date"].iloc[-1])
    small = overlapping[(overlapping["leader"] == "small") & (overlapping["end_date"] <= end)]
    if small.empty:
        reason = f"no small-led {pair_id} run ends in {window}"
        return [PartValue(0.0, reason), PartValue(None, "", reason)], latest
    run = small.sort_values(["sessions", "end_date"], kind="stable").iloc[-1]
    described = (
        f"longest small-led {pair_id} run ending in {window}: {int(run['sessions'])} sessions "
        f"{_day(run['start_date'])} -> {_day(run['end_date'])}"
    )
    if reading == "near_ties_other_way":
        described += " (near ties counted the other way)"
    since = run["longest_since"]
    since_text = (
        f"longest since {_day(since)}"
        if pd.notna(since)
        else "longest on record (no earlier run as long)"
    )
    history = data.pair_history_start(pair_id, spreads)
    if run["start_date"] == spreads["trade_date"].iloc[0]:
        length = PartValue(
            None, "", f"{pair_id} history starts {_day(history)} (the run may start earlier)"
        )
    else:
        length = PartValue(float(run["sessions"]), f"{described}, {since_text}")
    since_part = PartValue(
        float(pd.Timestamp(since).year) if pd.notna(since) else None, f"{described}; {since_text}"
    )
    if claimed[1] is not None:
        # The look-back of "longest since <year>" reaches that year's first session.
        year_start = pd.Timestamp(
            trading_days.session_on_or_after(f"{int(claimed[1].value)}-01-01")
        )
        if history >= year_start:
            since_part = PartValue(
                None,
                "",
                f"{pair_id} history starts {_day(history)} (the look-back to "
                f"{int(claimed[1].value)} needs {_day(previous_session(year_start))})",
            )
    return [length, since_part], latest


def _ytd_rank(
    claim: pd.Series, data: ClaimData, reading: str
) -> tuple[list[PartValue], pd.Timestamp]:
    ticker = _ticker(claim, 0, claim["tickers"], reading)
    as_of = data.window(claim["end_date"] - pd.Timedelta(days=7), claim["end_date"]).last
    if reading in ("session_before", "session_after"):
        as_of = data.shifted(as_of, -1 if reading == "session_before" else 1)
    number = len(trading_days.sessions_between(f"{as_of.year}-01-01", as_of))
    returns = {}
    for year in range(claim["start_date"].year, as_of.year + 1):
        year_sessions = trading_days.sessions_between(f"{year}-01-01", f"{year}-12-31")
        first, nth = pd.Timestamp(year_sessions[0]), pd.Timestamp(year_sessions[number - 1])
        returns[year], _ = data.period_return(ticker, first, nth, _basis(reading))
    this = returns[as_of.year]
    rank = 1 + sum(value > this for value in returns.values())
    others = {y: v for y, v in returns.items() if y != as_of.year}
    best = max(others, key=others.get) if others else None
    word = "price" if _basis(reading) == "price_return" else "total"
    detail = (
        f"{ticker} {word} return to session {number} of each year {claim['start_date'].year}-"
        f"{as_of.year}: {as_of.year} {pct(this)} ({_day(as_of)}) ranks {rank} of {len(returns)}"
    )
    if best is not None:
        detail += f"; best other year {best} {pct(others[best])}"
    return [PartValue(float(rank), detail)], as_of


def _forward_pe(
    claim: pd.Series, claimed: list[ClaimedPart | None], data: ClaimData, reading: str
) -> tuple[list[PartValue], pd.Timestamp]:
    points = data.inputs.valuation_points
    if points is None or points.empty:
        raise NotComputable("no published valuation points")
    if len(data.sessions) == 0:
        raise NotComputable("no session with returns yet")
    as_of = pd.Timestamp(claim["as_of_date"])
    forward = points[points["metric"] == "forward_pe"]
    parts, latest = [], pd.Timestamp(claim["end_date"])
    for index, ticker in enumerate(claim["tickers"].split("|")):
        role = str(data.roles.get(ticker, ""))
        side = (
            "small" if role.startswith("small") else "large" if role.startswith("large") else None
        )
        ticker_match = forward["ticker"] == ticker
        side_match = forward["ticker"].isna() & forward["index"].map(index_side).eq(side)
        own = claimed[index]
        candidates = forward[ticker_match | side_match]
        if own is not None:
            # The document's own figure (repeated in the seed) is not another source.
            candidates = candidates[
                ~((candidates["date"] == as_of) & np.isclose(candidates["value"], own.value))
            ]
        # Never a point published after the data's latest session (a view of that session
        # could not have read it).
        candidates = candidates[candidates["date"] <= data.sessions[-1]]
        if reading == "nearest_on_or_before":
            candidates = candidates[candidates["date"] <= as_of]
        if candidates.empty:
            parts.append(PartValue(None, "", f"no other published forward P/E for {ticker}"))
            continue
        distance = (candidates["date"] - as_of).abs()
        order = candidates.assign(distance=distance, same=~ticker_match[candidates.index])
        point = order.sort_values(["distance", "same", "date"], kind="stable").iloc[0]
        latest = max(latest, point["date"])
        parts.append(
            PartValue(
                float(point["value"]),
                f"{point['value']:.1f}x: {point['index']} forward P/E dated {_day(point['date'])} "
                f"(another source: {point['source']})",
            )
        )
    return parts, latest


def _valuation_extreme(
    claim: pd.Series, data: ClaimData, reading: str
) -> tuple[list[PartValue], pd.Timestamp]:
    pair_id = claim["tickers"]
    if pair_id not in data.pairs.index:
        raise NotComputable(f"{pair_id} is not a rotation pair")
    as_of = data.window(claim["end_date"] - pd.Timedelta(days=7), claim["end_date"]).last
    if reading in ("session_before", "session_after"):
        as_of = data.shifted(as_of, -1 if reading == "session_before" else 1)

    def proxy() -> tuple[float, str]:
        legs = data.pairs.loc[pair_id, ["small", "large"]].tolist()
        needed = as_of - pd.DateOffset(years=25)
        for leg in legs:
            data.check_history(leg, needed, "the 25-year window")
        rows = data.inputs.price_proxy
        row = (
            rows[(rows["pair_id"] == pair_id) & (rows["trade_date"] == as_of)]
            if rows is not None
            else pd.DataFrame()
        )
        if row.empty:
            raise NotComputable(f"no {pair_id} price ratio percentile on {_day(as_of)}")
        value = float(row["price_ratio_percentile"].iloc[0])
        return value, (
            f"{pair_id} price ratio on {_day(as_of)} at the {value:.1%} percentile of the last "
            "25 years' sessions (PRICE-ONLY PROXY, NOT A VALUATION)"
        )

    def cape() -> tuple[float, str]:
        history = data.inputs.valuation_history
        if history is None or history.empty:
            raise NotComputable("no Shiller valuation history")
        usable = history[
            (history["cape_usable_from"] <= as_of) & history["cape_percentile_25y"].notna()
        ]
        if usable.empty:
            raise NotComputable(f"no S&P 500 CAPE month usable on {_day(as_of)}")
        row = usable.sort_values("month").iloc[-1]
        value = float(row["cape_percentile_25y"])
        return value, (
            f"S&P 500 CAPE {row['cape']:.1f} for {pd.Timestamp(row['month']):%Y-%m} (usable "
            f"{_day(row['cape_usable_from'])}) at the {value:.1%} percentile of the last 25 years "
            "(Robert Shiller's data; large caps against their own history)"
        )

    return [_part(proxy), _part(cape)], as_of
