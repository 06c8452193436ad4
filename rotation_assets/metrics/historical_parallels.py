"""Historical parallels: the current rotation set against earlier small-cap rotations.

Returns are simple (0.01 = +1%). ``ratio`` is ``analytics.relative_strength``'s ratio, 100 *
small index / large index on the pair's basis (price or total return), 100 at the pair's base
(the virtual session before its first spread row). A pair's *sessions* are its rows in
``analytics.pair_spreads`` (both sides have a return), which are also its rows in
relative_strength. Every table is rebuilt from the full history; episodes and similarity
can also be computed as of an earlier session (``as_of``), from the rows on or before it
only.

``analytics.historical_parallels``: one row per period of ``seeds/historical_periods.csv``
(``reference.historical_periods``) and rotation pair with at least one session in the period's
window, the inclusive date range [start_date, end_date]; an empty end_date means open-ended
(through the latest session) and makes the period ``is_current``. Measures run from the close of
the pair's session before ``first_session`` (the *base close*) to the close of ``last_session``,
so the start day's own move counts:

- ``sessions``: the pair's sessions in the window.
- ``small_price_return = prod(1 + price_return) - 1`` of the small ticker over those sessions;
  ``large_price_return`` likewise; null if any of the sessions lacks a price return.
- ``small_total_return`` / ``large_total_return``: the same with the daily total returns.
- ``relative_return = small_total_return - large_total_return``.
- ``small_led_share``: sessions with leader ``small`` / sessions (ties count in the denominator).
- ``longest_small_streak``: the longest run of consecutive ``small`` sessions inside the window
  (a run that began before the window counts only its sessions inside; a tie ends a run); 0 if
  none.
- ``max_relative_drawdown = min_t ratio_t / max(ratio_base, ratio_first, ..., ratio_t) - 1``
  over the window's sessions t, with ``ratio_base`` the ratio at the base close (100 when
  first_session is the pair's first session); <= 0.
- ``coverage_note``: set when the pair's sessions begin after the window's first market session
  (the first trade_date of any ticker in ``returns`` in the window) or end before its last. It
  names the side(s) at fault: ``'IWM starts 2000-05-26'`` (the ticker's first close, when
  ``prices_close`` is given), otherwise ``'IWM returns start 2000-05-30'`` (its first return);
  ``'X ends <last return date>'`` at the end. Null when the pair covers the whole window.

A pair without sessions in a period has no row.

``analytics.rotation_episodes``: each pair's small-cap rotations, from the ratio's trough to its
peak. Run config (the launchpad's ``analytics`` config, stored on every row): ``window_sessions``
W (default 60), ``threshold`` (0.05), ``end_drawdown`` (0.05) and ``merge_gap_sessions`` (20).
Sessions are counted in the pair's rows; the sessions are scanned once in date order, so an
episode as of session D depends only on the rows up to D (``as_of``).

- A *leg* opens on the first session t, outside a leg, on which the ratio stands more than
  ``threshold`` above its *trough*: ``ratio_t / ratio_m - 1 > threshold``, m being the session
  of the lowest ratio among t-W..t (the last of equal lows; never before the previous leg's
  peak, nor before the pair's first row). The leg starts at m, not at t: the move that crossed
  the threshold began at the trough. t is its ``confirmed_date``, the first session on which
  the leg could be known.
- Hysteresis: a leg runs until the ratio closes at or below ``(1 - end_drawdown)`` times its
  highest ratio since the leg began; a smaller dip does not end it, however often the ratio
  crosses any level. It then ends at its peak (the first session of that high); the session of
  the drawdown is its ``ended_date``. A leg still running on the pair's last session is current.
- Merging: a leg whose start (trough) comes fewer than ``merge_gap_sessions`` sessions after the
  previous leg's peak (start position - peak position < merge_gap_sessions) continues that leg's
  episode: one episode from the first leg's trough to the last leg's end, peaking at its highest
  ratio. 0 never merges.

Per episode: ``episode_id = '<pair_id>:<start_date as YYYY-MM-DD>'``; ``sessions`` = the
sessions after start_date up to end_date (the trough's close is the base, session 0);
``peak_ratio_change = ratio_peak / ratio_start - 1``; ``ratio_change_over_episode = ratio_end /
ratio_start - 1``; ``end_date`` is the last leg's peak (the pair's last session while current).

``analytics.episode_similarity``: each pair's current episode against the pair's past
episodes. A *path* from start session j is the volatility-normalised log ratio
``z_j(k) = ln(ratio_(j+k) / ratio_j) / sigma_j`` for k = 1..N: rebased to 0 at j and divided by
``sigma_j``, the standard deviation (ddof 1) of the ratio's daily log changes over the 252
sessions up to and including j (at least 60 of them; a start with fewer has no path). A path is
thus in units of the ratio's daily volatility going into it: the same 5% move counts more in a
calm year than in a turbulent one. N (``sessions_compared``) is the current episode's age, its
sessions from start_date to the pair's last session; a current episode younger than 20 sessions
is not compared yet (no rows).

- ``distance = sqrt(mean_k (z_current(k) - z_past(k))^2)``, in daily standard deviations
  (rounded to 12 decimals, so that paths equal up to float rounding tie): the primary
  measure. ``rank`` orders the past episodes by it (1 = closest; ties share the best rank,
  1, 1, 3).
- ``correlation``: Pearson correlation of the two paths over k = 1..N (the shape alone),
  reported beside distance, never ranked; null when a path is flat.
- ``distance_percentile`` (the base rate): every session j whose path exists and whose N
  sessions end by the current start s (j + N <= s) gives a *window*; the share of those windows
  whose distance to the current path is smaller than the episode's. 0.02 = closer than 98% of
  every stretch of N sessions in the history; about 0.5 = no closer than a random stretch.
  ``windows_compared`` is their number.
- A past episode, starting at p, is compared when its path exists and its N sessions end by the
  current start (p + N <= s): a path sharing sessions with the current one is no parallel.
- Outcomes, what followed the parallel: ``past_ratio_change = ratio_(p+N) / ratio_p - 1`` (the
  past episode at the current one's age) and ``ratio_change_after_H = ratio_(p+N+H) /
  ratio_(p+N) - 1`` for H = 20, 60, 120, 250 sessions; null when the history (up to the latest
  session, or ``as_of``) does not reach p+N+H.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rotation_assets.metrics.relative_strength import BASE
from rotation_assets.warehouse.table_spec import Column, TableSpec

PERIOD_COMPARISON = TableSpec(
    schema="analytics",
    name="historical_parallels",
    description=(
        "Per historical period (reference.historical_periods) and rotation pair with sessions "
        "in it: price and total returns of both sides from the close before the first session "
        "in [start_date, end_date] to the close of the last (the start day's move counts), "
        "their difference, the share of small-led sessions, the longest small-led streak and "
        "the ratio's deepest drawdown inside the period. Pairs without data have no row."
    ),
    columns=(
        Column("period_id", "VARCHAR", "Period from reference.historical_periods.", nullable=False),
        Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
        Column("small", "VARCHAR", "Ticker of the small-cap side.", nullable=False),
        Column("large", "VARCHAR", "Ticker of the large-cap side.", nullable=False),
        Column(
            "first_session",
            "DATE",
            "First session of the pair in [start_date, end_date]; measures start from the close "
            "of the pair's session before it.",
            nullable=False,
        ),
        Column(
            "last_session",
            "DATE",
            "Last session of the pair in [start_date, end_date] (the latest one for an "
            "open-ended period).",
            nullable=False,
        ),
        Column("sessions", "INTEGER", "The pair's sessions in the window.", nullable=False),
        Column(
            "small_price_return",
            "DOUBLE",
            "prod(1 + price_return) - 1 of the small side over the sessions; null if one lacks "
            "a price return.",
        ),
        Column(
            "large_price_return",
            "DOUBLE",
            "prod(1 + price_return) - 1 of the large side over the sessions; null if one lacks "
            "a price return.",
        ),
        Column(
            "small_total_return",
            "DOUBLE",
            "prod(1 + total_return) - 1 of the small side over the sessions (dividends "
            "reinvested; a price index has none, so for ^RUT this is its price return).",
            nullable=False,
        ),
        Column(
            "large_total_return",
            "DOUBLE",
            "prod(1 + total_return) - 1 of the large side over the sessions (dividends "
            "reinvested; a price index has none, so for ^GSPC this is its price return).",
            nullable=False,
        ),
        Column(
            "relative_return",
            "DOUBLE",
            "small_total_return - large_total_return.",
            nullable=False,
        ),
        Column(
            "small_led_share",
            "DOUBLE",
            "Sessions with leader small / sessions; ties count in the denominator.",
            nullable=False,
        ),
        Column(
            "longest_small_streak",
            "INTEGER",
            "Longest run of consecutive small-led sessions inside the window (clipped at its "
            "edges; a tie ends a run); 0 if none.",
            nullable=False,
        ),
        Column(
            "max_relative_drawdown",
            "DOUBLE",
            "min over the window of ratio / running max of ratio - 1, the running max starting "
            "at the ratio at the base close (100 at the pair's base); <= 0.",
        ),
        Column(
            "is_current",
            "BOOLEAN",
            "True for an open-ended period (empty end_date: through the latest session).",
            nullable=False,
        ),
        Column(
            "coverage_note",
            "VARCHAR",
            "Set when the pair's data begins after the window's first market session or ends "
            "before its last, naming the side, e.g. 'IWM starts 2000-05-26'; null when covered.",
        ),
    ),
    key=("period_id", "pair_id"),
)

EPISODES = TableSpec(
    schema="analytics",
    name="rotation_episodes",
    description=(
        "Small-cap rotation episodes per pair, from the ratio's trough to its peak: a leg opens "
        "once the ratio stands more than threshold above its lowest close of the last "
        "window_sessions sessions and starts at that trough; it ends at its peak once the ratio "
        "falls end_drawdown below its high since the start (hysteresis); legs fewer than "
        "merge_gap_sessions apart merge (run config, stored on every row)."
    ),
    columns=(
        Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
        Column(
            "episode_id",
            "VARCHAR",
            "'<pair_id>:<start_date YYYY-MM-DD>', e.g. RUT_GSPC:2025-11-17.",
            nullable=False,
        ),
        Column(
            "start_date",
            "DATE",
            "The trough: the session of the lowest ratio before the move (its close is the base "
            "of every measure of the episode).",
            nullable=False,
        ),
        Column(
            "confirmed_date",
            "DATE",
            "First session the ratio stood more than threshold above the trough: the first day "
            "the episode could be known.",
            nullable=False,
        ),
        Column(
            "peak_date",
            "DATE",
            "First session of the highest ratio from start_date to end_date.",
            nullable=False,
        ),
        Column(
            "end_date",
            "DATE",
            "The last leg's peak (the episode's peak unless a merged later leg peaked lower); "
            "the pair's last session while the episode is current.",
            nullable=False,
        ),
        Column(
            "ended_date",
            "DATE",
            "Session the ratio first closed end_drawdown below its high (when the end became "
            "known); null while current.",
        ),
        Column(
            "sessions",
            "INTEGER",
            "Sessions after start_date up to and including end_date (the trough is session 0); "
            "for the current episode, its age.",
            nullable=False,
        ),
        Column("legs", "INTEGER", "Legs merged into the episode (1 = none).", nullable=False),
        Column(
            "peak_ratio_change",
            "DOUBLE",
            "ratio at peak_date / ratio at start_date - 1.",
            nullable=False,
        ),
        Column(
            "ratio_change_over_episode",
            "DOUBLE",
            "ratio at end_date / ratio at start_date - 1.",
            nullable=False,
        ),
        Column(
            "is_current",
            "BOOLEAN",
            "True when the last leg had not ended by the pair's last session (still under way).",
            nullable=False,
        ),
        Column(
            "window_sessions",
            "INTEGER",
            "W: the trough is the lowest ratio of the last W sessions.",
            nullable=False,
        ),
        Column(
            "threshold",
            "DOUBLE",
            "Rise over the trough that opens a leg (ratio / trough - 1 must exceed it).",
            nullable=False,
        ),
        Column(
            "end_drawdown",
            "DOUBLE",
            "Fall from the high since the leg began that ends it (hysteresis).",
            nullable=False,
        ),
        Column(
            "merge_gap_sessions",
            "INTEGER",
            "A leg starting fewer sessions than this after the previous leg's peak merges "
            "with it (0 = never).",
            nullable=False,
        ),
    ),
    key=("pair_id", "start_date"),
)

# Outcome horizons, sessions after the past episode reached the current episode's age.
OUTCOME_HORIZONS = (20, 60, 120, 250)
# Sessions of daily log changes behind each path's volatility, and the fewest usable.
VOLATILITY_SESSIONS = 252
MIN_VOLATILITY_SESSIONS = 60
# The current episode is compared once it is at least this many sessions old.
MIN_SESSIONS_COMPARED = 20

SIMILARITY = TableSpec(
    schema="analytics",
    name="episode_similarity",
    description=(
        "For each pair's current rotation episode, every earlier episode of the same pair "
        "compared over the same number of sessions since its trough (the current episode's "
        "age, at least 20): distance (RMSE) and correlation of the volatility-normalised "
        "log-ratio paths, ranked by distance, with the base rate (share of all windows of that "
        "length in the history that are closer) and what the ratio did 20, 60, 120 and 250 "
        "sessions later."
    ),
    columns=(
        Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
        Column("current_episode_id", "VARCHAR", "The pair's current episode.", nullable=False),
        Column(
            "past_episode_id", "VARCHAR", "An earlier episode of the same pair.", nullable=False
        ),
        Column("past_start_date", "DATE", "Start (trough) of the past episode.", nullable=False),
        Column(
            "past_episode_sessions",
            "INTEGER",
            "Sessions of the past episode (trough to end); when fewer than sessions_compared, "
            "its path goes on with the sessions after its end.",
            nullable=False,
        ),
        Column(
            "sessions_compared",
            "INTEGER",
            "N, the current episode's age: both paths are compared over the N sessions after "
            "their start.",
            nullable=False,
        ),
        Column(
            "distance",
            "DOUBLE",
            "sqrt(mean over k = 1..N of (z_current(k) - z_past(k))^2), z(k) = ln(ratio_(start+k) "
            "/ ratio_start) / the ratio's daily log-change volatility over the 252 sessions to "
            "the start: in daily standard deviations. The ranking measure.",
            nullable=False,
        ),
        Column(
            "correlation",
            "DOUBLE",
            "Pearson correlation of the two normalised paths over k = 1..N (shape only; "
            "reported, not ranked); null when a path is flat.",
        ),
        Column(
            "distance_percentile",
            "DOUBLE",
            "Base rate: share of all N-session windows of the pair's history ending by the "
            "current start whose distance to the current path is smaller (0.02 = closer than "
            "98% of them; about 0.5 = no closer than a random stretch).",
            nullable=False,
        ),
        Column(
            "windows_compared",
            "INTEGER",
            "Windows in the base rate: start sessions with a volatility whose N sessions end by "
            "the current start.",
            nullable=False,
        ),
        Column(
            "rank",
            "INTEGER",
            "Rank by distance ascending; 1 = closest (ties share the best rank).",
            nullable=False,
        ),
        Column(
            "past_ratio_change",
            "DOUBLE",
            "ratio N sessions after the past start / ratio at it - 1: the past episode at the "
            "current one's age.",
            nullable=False,
        ),
        *(
            Column(
                f"ratio_change_after_{h}",
                "DOUBLE",
                f"ratio {h} sessions after that point (past start + N) / ratio at it - 1: what "
                "followed; null when the history does not reach that far.",
            )
            for h in OUTCOME_HORIZONS
        ),
    ),
    key=("pair_id", "past_episode_id"),
)


def _longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True in ``flags``."""
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def _compounded(returns: pd.Series | None, dates: pd.DatetimeIndex) -> float:
    """prod(1 + r) - 1 over ``dates``; NaN if a date has no return (never skipped)."""
    if returns is None:
        return np.nan
    values = returns.reindex(dates).to_numpy(dtype="float64")
    if np.isnan(values).any():
        return np.nan
    return float(np.prod(1.0 + values) - 1.0)


def _max_drawdown(ratio: np.ndarray, base: float) -> float:
    """min of ratio / running max - 1, the running max starting at ``base``."""
    if len(ratio) == 0:
        return np.nan
    running = np.maximum.accumulate(np.concatenate(([base], ratio)))[1:]
    return float(np.min(ratio / running - 1.0))


def _per_pair(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    frame = frame.assign(trade_date=pd.to_datetime(frame["trade_date"]))
    frame = frame.sort_values(["pair_id", "trade_date"], kind="stable")
    return {
        pair_id: rows.reset_index(drop=True)
        for pair_id, rows in frame.groupby("pair_id", sort=False)
    }


def _coverage_note(
    pair: pd.Series,
    first_session: pd.Timestamp,
    last_session: pd.Timestamp,
    market: pd.DatetimeIndex,
    first_return: pd.Series,
    last_return: pd.Series,
    first_close: pd.Series | None,
) -> str | None:
    notes = []
    if first_session > market[0]:
        late = [
            t for t in (pair["small"], pair["large"]) if first_return.get(t, pd.NaT) > market[0]
        ]
        for ticker in late:
            if first_close is not None and ticker in first_close.index:
                notes.append(f"{ticker} starts {first_close[ticker]:%Y-%m-%d}")
            else:
                notes.append(f"{ticker} returns start {first_return[ticker]:%Y-%m-%d}")
        if not late:
            notes.append(f"{pair['pair_id']} data starts {first_session:%Y-%m-%d}")
    if last_session < market[-1]:
        early = [
            t for t in (pair["small"], pair["large"]) if last_return.get(t, pd.NaT) < market[-1]
        ]
        notes += [f"{t} ends {last_return[t]:%Y-%m-%d}" for t in early]
        if not early:
            notes.append(f"{pair['pair_id']} data ends {last_session:%Y-%m-%d}")
    return "; ".join(notes) or None


def period_comparison(
    periods: pd.DataFrame,
    pairs: pd.DataFrame,
    returns: pd.DataFrame,
    spreads: pd.DataFrame,
    relative: pd.DataFrame,
    prices_close: pd.DataFrame | None = None,
    sessions: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Per period and pair with sessions in it: returns, leadership and drawdown.

    ``periods`` has period_id, start_date, end_date (NaT = open-ended); ``pairs`` pair_id, small,
    large; ``returns`` the daily trade_date, ticker, price_return, total_return; ``spreads`` the
    pair_spreads frame; ``relative`` trade_date, pair_id, ratio. ``prices_close`` (trade_date,
    ticker and optionally close) only dates a late ticker's first close in coverage_note.
    ``sessions`` are the market's sessions when ``returns`` holds only the pairs' tickers
    (default: the trade_dates of ``returns``). Sorted by period start_date, period_id, pair_id.
    See the module docstring.
    """
    returns = returns.assign(trade_date=pd.to_datetime(returns["trade_date"]))
    dates = returns["trade_date"].unique() if sessions is None else sessions
    market_dates = pd.DatetimeIndex(np.sort(pd.to_datetime(dates)))
    first_return = returns.groupby("ticker")["trade_date"].min()
    last_return = returns.groupby("ticker")["trade_date"].max()
    price_by_ticker = {
        t: rows.set_index("trade_date")["price_return"].astype("float64")
        for t, rows in returns.groupby("ticker")
    }
    first_close = None
    if prices_close is not None:
        priced = prices_close
        if "close" in priced.columns:
            priced = priced[priced["close"].notna()]
        first_close = pd.to_datetime(priced["trade_date"]).groupby(priced["ticker"]).min()
    spreads_by_pair = _per_pair(spreads)
    relative_by_pair = _per_pair(relative.loc[:, ["trade_date", "pair_id", "ratio"]])

    ordered = periods.assign(
        start_date=pd.to_datetime(periods["start_date"]),
        end_date=pd.to_datetime(periods["end_date"]),
    ).sort_values(["start_date", "period_id"], kind="stable")
    rows = []
    for period in ordered.itertuples(index=False):
        is_current = pd.isna(period.end_date)
        end = pd.Timestamp.max if is_current else period.end_date
        market = market_dates[(market_dates >= period.start_date) & (market_dates <= end)]
        for _, pair in pairs.sort_values("pair_id", kind="stable").iterrows():
            pair_spreads = spreads_by_pair.get(pair["pair_id"])
            if pair_spreads is None:
                continue
            dates = pair_spreads["trade_date"]
            window = pair_spreads[(dates >= period.start_date) & (dates <= end)]
            if window.empty:
                continue
            sessions = pd.DatetimeIndex(window["trade_date"])
            small_tr = float(np.prod(1.0 + window["small_return"].to_numpy("float64")) - 1.0)
            large_tr = float(np.prod(1.0 + window["large_return"].to_numpy("float64")) - 1.0)
            drawdown = np.nan
            pair_relative = relative_by_pair.get(pair["pair_id"])
            if pair_relative is not None:
                rel_dates = pair_relative["trade_date"].to_numpy()
                lo = np.searchsorted(rel_dates, np.datetime64(sessions[0]), side="left")
                hi = np.searchsorted(rel_dates, np.datetime64(sessions[-1]), side="right")
                ratio = pair_relative["ratio"].to_numpy("float64")
                # The running high starts at the base close, so a period that opens below the
                # ratio's level just before it already counts as a drawdown.
                drawdown = _max_drawdown(ratio[lo:hi], ratio[lo - 1] if lo > 0 else BASE)
            rows.append(
                {
                    "period_id": period.period_id,
                    "pair_id": pair["pair_id"],
                    "small": pair["small"],
                    "large": pair["large"],
                    "first_session": sessions[0],
                    "last_session": sessions[-1],
                    "sessions": len(sessions),
                    "small_price_return": _compounded(price_by_ticker.get(pair["small"]), sessions),
                    "large_price_return": _compounded(price_by_ticker.get(pair["large"]), sessions),
                    "small_total_return": small_tr,
                    "large_total_return": large_tr,
                    "relative_return": small_tr - large_tr,
                    "small_led_share": float((window["leader"] == "small").mean()),
                    "longest_small_streak": _longest_run((window["leader"] == "small").to_numpy()),
                    "max_relative_drawdown": drawdown,
                    "is_current": is_current,
                    "coverage_note": _coverage_note(
                        pair,
                        sessions[0],
                        sessions[-1],
                        market,
                        first_return,
                        last_return,
                        first_close,
                    ),
                }
            )
    if not rows:
        return PERIOD_COMPARISON.empty()
    return PERIOD_COMPARISON.conform(pd.DataFrame(rows))


def _up_to(frame: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """The rows of ``frame`` dated on or before ``as_of`` (all of them when None)."""
    if as_of is None:
        return frame
    return frame[pd.to_datetime(frame["trade_date"]) <= pd.Timestamp(as_of)]


@dataclass
class _Leg:
    """One leg, as positions in the pair's sessions; ``ended`` is None while it runs."""

    start: int
    confirmed: int
    peak: int
    ended: int | None = None


def _legs(ratio: np.ndarray, threshold: float, window: int, end_drawdown: float) -> list[_Leg]:
    """Every leg of one pair's ratio, scanning the sessions once in date order."""
    legs: list[_Leg] = []
    floor = 0  # a trough is never before the previous leg's peak
    leg: _Leg | None = None
    high = np.nan
    for t in range(len(ratio)):
        if leg is None:
            lo = max(t - window, floor)
            # The last of equal lows: the move starts after the final touch of the trough.
            segment = ratio[lo : t + 1][::-1]
            trough = t - int(np.argmin(segment))
            if ratio[t] / ratio[trough] - 1.0 > threshold:
                peak = trough + int(np.argmax(ratio[trough : t + 1]))
                leg, high = _Leg(trough, t, peak), ratio[peak]
        elif ratio[t] > high:
            leg.peak, high = t, ratio[t]
        elif ratio[t] <= high * (1.0 - end_drawdown):
            leg.ended = t
            legs.append(leg)
            floor, leg = leg.peak, None
    if leg is not None:
        legs.append(leg)
    return legs


def _merged(legs: list[_Leg], merge_gap: int) -> list[list[_Leg]]:
    """Legs grouped into episodes: a leg starting < ``merge_gap`` sessions after the previous
    leg's peak joins its episode."""
    episodes: list[list[_Leg]] = []
    for leg in legs:
        if episodes and leg.start - episodes[-1][-1].peak < merge_gap:
            episodes[-1].append(leg)
        else:
            episodes.append([leg])
    return episodes


def detect_episodes(
    relative: pd.DataFrame,
    threshold: float = 0.05,
    window: int = 60,
    end_drawdown: float = 0.05,
    merge_gap_sessions: int = 20,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Every rotation episode of each pair, trough to peak, as of ``as_of`` (default: the last
    session), from the rows on or before it only.

    ``relative`` is the relative_strength history (trade_date, pair_id, ratio). Sorted by
    pair_id, start_date. See the module docstring.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1 session, not {window}")
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, not {threshold}")
    if not 0 < end_drawdown < 1:
        raise ValueError(f"end_drawdown must be between 0 and 1, not {end_drawdown}")
    if merge_gap_sessions < 0:
        raise ValueError(f"merge_gap_sessions must be >= 0, not {merge_gap_sessions}")
    rows = []
    relative = _up_to(relative.loc[:, ["trade_date", "pair_id", "ratio"]], as_of)
    for pair_id, pair in _per_pair(relative).items():
        ratio = pair["ratio"].to_numpy("float64")
        dates = pair["trade_date"]
        legs = _legs(ratio, threshold, window, end_drawdown)
        for group in _merged(legs, merge_gap_sessions):
            start, last = group[0].start, group[-1]
            end = last.peak if last.ended is not None else len(ratio) - 1
            peak = start + int(np.argmax(ratio[start : end + 1]))
            rows.append(
                {
                    "pair_id": pair_id,
                    "episode_id": f"{pair_id}:{dates[start]:%Y-%m-%d}",
                    "start_date": dates[start],
                    "confirmed_date": dates[group[0].confirmed],
                    "peak_date": dates[peak],
                    "end_date": dates[end],
                    "ended_date": dates[last.ended] if last.ended is not None else pd.NaT,
                    "sessions": end - start,
                    "legs": len(group),
                    "peak_ratio_change": ratio[peak] / ratio[start] - 1.0,
                    "ratio_change_over_episode": ratio[end] / ratio[start] - 1.0,
                    "is_current": last.ended is None,
                    "window_sessions": window,
                    "threshold": float(threshold),
                    "end_drawdown": float(end_drawdown),
                    "merge_gap_sessions": merge_gap_sessions,
                }
            )
    if not rows:
        return EPISODES.empty()
    return EPISODES.conform(pd.DataFrame(rows))


def _volatility(log_ratio: np.ndarray, sessions: int, min_sessions: int) -> np.ndarray:
    """Per session j: the standard deviation (ddof 1) of the daily log changes into the
    ``sessions`` sessions up to and including j; NaN with fewer than ``min_sessions`` of them,
    or when the ratio did not move."""
    changes = pd.Series(np.concatenate(([np.nan], np.diff(log_ratio))))
    sigma = changes.rolling(sessions, min_periods=min_sessions).std(ddof=1)
    return np.where(sigma.to_numpy("float64") > 0, sigma.to_numpy("float64"), np.nan)


def _path(log_ratio: np.ndarray, sigma: np.ndarray, start: int, length: int) -> np.ndarray:
    """z(k) = (ln ratio_(start+k) - ln ratio_start) / sigma_start for k = 1..length."""
    return (log_ratio[start + 1 : start + length + 1] - log_ratio[start]) / sigma[start]


def _window_distances(
    log_ratio: np.ndarray, sigma: np.ndarray, current: np.ndarray, last_start: int
) -> np.ndarray:
    """RMSE of the path from every start j = 0..last_start to ``current``; NaN where sigma_j
    is. Rounded to 12 decimals, so that paths equal up to float rounding tie (in rank and base
    rate) instead of ordering by noise. Blocks of 2048 windows bound memory for a long current
    episode."""
    length = len(current)
    if last_start < 0:
        return np.empty(0)
    views = sliding_window_view(log_ratio[: last_start + length + 1], length + 1)
    out = np.empty(len(views))
    for lo in range(0, len(views), 2048):
        block = views[lo : lo + 2048]
        paths = (block[:, 1:] - block[:, :1]) / sigma[lo : lo + len(block), None]
        out[lo : lo + len(block)] = np.sqrt(np.mean((paths - current) ** 2, axis=1))
    return np.round(out, 12)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3:
        return np.nan
    da, db = a - a.mean(), b - b.mean()
    denominator = np.sqrt((da * da).sum() * (db * db).sum())
    if denominator == 0:
        return np.nan
    return float(np.clip((da * db).sum() / denominator, -1.0, 1.0))


def episode_similarity(
    relative: pd.DataFrame,
    episodes: pd.DataFrame,
    as_of: pd.Timestamp | None = None,
    min_sessions: int = MIN_SESSIONS_COMPARED,
    volatility_sessions: int = VOLATILITY_SESSIONS,
    min_volatility_sessions: int = MIN_VOLATILITY_SESSIONS,
) -> pd.DataFrame:
    """Each pair's current episode against its past episodes: distance and correlation of the
    normalised paths, base rate, rank and outcomes, from the rows on or before ``as_of`` only.

    ``relative`` is the relative_strength history (trade_date, pair_id, ratio); ``episodes``
    the rotation_episodes frame as of the same session (a current episode must end on the
    pair's last session up to ``as_of``). ``min_sessions``, ``volatility_sessions`` and
    ``min_volatility_sessions`` are the 20, 252 and 60 of the module docstring (smaller in
    tests). Sorted by pair_id, rank, past_start_date. See the module docstring.
    """
    if min_sessions < 1 or not 2 <= min_volatility_sessions <= volatility_sessions:
        raise ValueError(
            "need min_sessions >= 1 and 2 <= min_volatility_sessions <= volatility_sessions"
        )
    relative_by_pair = _per_pair(_up_to(relative.loc[:, ["trade_date", "pair_id", "ratio"]], as_of))
    episodes = episodes.assign(
        start_date=pd.to_datetime(episodes["start_date"]),
        end_date=pd.to_datetime(episodes["end_date"]),
    )
    parts = []
    for current in episodes[episodes["is_current"].astype(bool)].itertuples(index=False):
        pair = relative_by_pair.get(current.pair_id)
        if pair is None:
            continue
        dates = pair["trade_date"]
        if dates.iloc[-1] != current.end_date:
            raise ValueError(
                f"{current.episode_id} is current through {current.end_date:%Y-%m-%d}, but the "
                f"pair's last session is {dates.iloc[-1]:%Y-%m-%d}: episodes are not as of the "
                "same session"
            )
        ratio = pair["ratio"].to_numpy("float64")
        log_ratio = np.log(ratio)
        sigma = _volatility(log_ratio, volatility_sessions, min_volatility_sessions)
        start = int(np.searchsorted(dates.to_numpy(), np.datetime64(current.start_date)))
        length = len(ratio) - 1 - start
        if length < min_sessions or np.isnan(sigma[start]):
            continue
        current_path = _path(log_ratio, sigma, start, length)
        distances = _window_distances(log_ratio, sigma, current_path, start - length)
        windows = distances[~np.isnan(distances)]
        past = episodes[
            (episodes["pair_id"] == current.pair_id)
            & ~episodes["is_current"].astype(bool)
            & (episodes["start_date"] < current.start_date)
        ]
        rows = []
        for episode in past.itertuples(index=False):
            first = int(np.searchsorted(dates.to_numpy(), np.datetime64(episode.start_date)))
            if first + length > start or np.isnan(distances[first]):
                continue
            at_age = first + length
            rows.append(
                {
                    "pair_id": current.pair_id,
                    "current_episode_id": current.episode_id,
                    "past_episode_id": episode.episode_id,
                    "past_start_date": episode.start_date,
                    "past_episode_sessions": episode.sessions,
                    "sessions_compared": length,
                    "distance": distances[first],
                    "correlation": _pearson(current_path, _path(log_ratio, sigma, first, length)),
                    "distance_percentile": float(np.mean(windows < distances[first])),
                    "windows_compared": len(windows),
                    "past_ratio_change": ratio[at_age] / ratio[first] - 1.0,
                    **{
                        f"ratio_change_after_{h}": (
                            ratio[at_age + h] / ratio[at_age] - 1.0
                            if at_age + h < len(ratio)
                            else np.nan
                        )
                        for h in OUTCOME_HORIZONS
                    },
                }
            )
        if rows:
            part = pd.DataFrame(rows)
            part["rank"] = part["distance"].rank(method="min", ascending=True)
            parts.append(part)
    if not parts:
        return SIMILARITY.empty()
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["pair_id", "rank", "past_start_date"], kind="stable")
    return SIMILARITY.conform(frame)
