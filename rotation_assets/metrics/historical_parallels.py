"""Historical parallels: the current rotation set against earlier small-cap rotations.

Returns are simple (0.01 = +1%). ``ratio`` is ``analytics.relative_strength``'s ratio, 100 *
small index / large index on the pair's basis (price or total return), 100 at the pair's base
(the virtual session before its first spread row). A pair's *sessions* are its rows in
``analytics.pair_spreads`` (both sides have a return), which are also its rows in
relative_strength. Every table is rebuilt from the full history.

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

``analytics.rotation_episodes``: every maximal run of consecutive sessions of a pair on which
``ratio_change_W > threshold`` (strictly; a null ends a run). W (``window_sessions``, default 60)
and ``threshold`` (default 0.05) are run config, stored on every row; runs shorter than
``min_sessions`` (default 1) are dropped, the current one included.

- ``episode_id = '<pair_id>:<start_date as YYYY-MM-DD>'``; ``sessions``: rows in the run.
- ``peak_ratio_change``: the highest ratio_change_W in the run; ``peak_date``: its first session.
- ``ratio_change_over_episode = ratio_end / ratio_before - 1``, ``ratio_before`` being the ratio
  at the pair's session before start_date (100 when the run starts on the pair's first session).
  The move that lifted ratio_change_W over the threshold began up to W sessions before start_date
  and is not in it.
- ``is_current``: the run contains the pair's last session.

``analytics.episode_similarity``: for each pair's current episode, one row per past episode of
the same pair. An episode's *path* is its rebased ratio ``path_k = ratio_(s+k-1) / ratio_(s-1) *
100`` for k = 1..N, s being its first session and ratio_(s-1) its ``ratio_before``. N is the
current episode's sessions so far, or ``n_sessions`` when given (at most that many). A past
episode shorter than N is continued with the pair's sessions after its end (what the ratio did
next), as far as data exists; ``sessions_compared`` is the number of sessions compared.

- ``rmse = sqrt(mean_k (current_k - past_k)^2)``, in index points.
- ``correlation``: Pearson correlation of the two paths; null when fewer than 3 sessions are
  compared or a path is flat.
- ``rank``: by rmse ascending within the current episode, 1 = most similar; ``rank_by_correlation``
  by correlation descending, 1 = highest, null when correlation is. Equal values share the best
  rank (1, 1, 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
        "Every maximal run of consecutive sessions of a pair on which the ratio's change over "
        "window_sessions sessions exceeds threshold (run config; defaults 60 and 5%): a "
        "small-cap rotation episode, with its peak and the ratio's change over it. Rebuilt from "
        "the full history of analytics.relative_strength."
    ),
    columns=(
        Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
        Column(
            "episode_id",
            "VARCHAR",
            "'<pair_id>:<start_date YYYY-MM-DD>', e.g. IWM_SPY:2026-01-05.",
            nullable=False,
        ),
        Column("start_date", "DATE", "First session of the run.", nullable=False),
        Column("end_date", "DATE", "Last session of the run.", nullable=False),
        Column(
            "sessions", "INTEGER", "Sessions in the run (consecutive pair rows).", nullable=False
        ),
        Column(
            "peak_ratio_change",
            "DOUBLE",
            "Highest ratio_change_<window_sessions> in the run.",
            nullable=False,
        ),
        Column("peak_date", "DATE", "First session of the run with that peak.", nullable=False),
        Column(
            "ratio_change_over_episode",
            "DOUBLE",
            "ratio at end_date / ratio at the pair's session before start_date - 1 (the base "
            "100 if the run starts on the pair's first session).",
            nullable=False,
        ),
        Column(
            "is_current",
            "BOOLEAN",
            "True when the run contains the pair's last session (still under way).",
            nullable=False,
        ),
        Column(
            "window_sessions",
            "INTEGER",
            "W: the run is where ratio_change_W > threshold.",
            nullable=False,
        ),
        Column("threshold", "DOUBLE", "The threshold ratio_change_W must exceed.", nullable=False),
    ),
    key=("pair_id", "start_date"),
)

SIMILARITY = TableSpec(
    schema="analytics",
    name="episode_similarity",
    description=(
        "For each pair's current rotation episode (analytics.rotation_episodes), how closely "
        "each past episode of the same pair followed the same path: the ratio rebased to 100 at "
        "the session before each episode, compared over the current episode's sessions so far "
        "by RMSE (index points) and Pearson correlation, ranked 1 = most similar."
    ),
    columns=(
        Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
        Column("current_episode_id", "VARCHAR", "The pair's current episode.", nullable=False),
        Column("past_episode_id", "VARCHAR", "A past episode of the same pair.", nullable=False),
        Column("past_start_date", "DATE", "First session of the past episode.", nullable=False),
        Column(
            "past_episode_sessions",
            "INTEGER",
            "Sessions of the past episode; when fewer than sessions_compared, its path is "
            "continued with the sessions after its end.",
            nullable=False,
        ),
        Column(
            "sessions_compared",
            "INTEGER",
            "N: the first N sessions of both paths are compared (the current episode's length "
            "so far, or the configured n_sessions).",
            nullable=False,
        ),
        Column(
            "correlation",
            "DOUBLE",
            "Pearson correlation of the two rebased paths; null if N < 3 or a path is flat.",
        ),
        Column(
            "rmse",
            "DOUBLE",
            "sqrt(mean((current_k - past_k)^2)) of the rebased paths, in index points.",
            nullable=False,
        ),
        Column(
            "rank",
            "INTEGER",
            "Rank by rmse ascending among the current episode's past episodes; 1 = most similar.",
            nullable=False,
        ),
        Column(
            "rank_by_correlation",
            "INTEGER",
            "Rank by correlation descending; 1 = highest; null when correlation is null.",
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


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) positions of every maximal run of True in ``flags``."""
    padded = np.concatenate(([False], flags, [False])).astype("int8")
    edges = np.diff(padded)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def detect_episodes(
    relative: pd.DataFrame, threshold: float = 0.05, window: int = 60, min_sessions: int = 1
) -> pd.DataFrame:
    """Every maximal run of a pair's sessions with ratio_change_<window> > threshold.

    ``relative`` is the full relative_strength history (trade_date, pair_id, ratio and the
    ratio_change_<window> column). Sorted by pair_id, start_date. See the module docstring.
    """
    column = f"ratio_change_{window}"
    if column not in relative.columns:
        raise ValueError(f"relative has no column {column!r} for window={window}")
    if min_sessions < 1:
        raise ValueError(f"min_sessions must be at least 1, not {min_sessions}")
    rows = []
    for pair_id, pair in _per_pair(
        relative.loc[:, ["trade_date", "pair_id", "ratio", column]]
    ).items():
        change = pair[column].to_numpy("float64")
        ratio = pair["ratio"].to_numpy("float64")
        dates = pair["trade_date"]
        # NaN > threshold is False, so a null change ends a run like a dip does.
        for first, last in _runs(change > threshold):
            sessions = last - first + 1
            if sessions < min_sessions:
                continue
            peak = first + int(np.argmax(change[first : last + 1]))
            before = ratio[first - 1] if first > 0 else BASE
            rows.append(
                {
                    "pair_id": pair_id,
                    "episode_id": f"{pair_id}:{dates[first]:%Y-%m-%d}",
                    "start_date": dates[first],
                    "end_date": dates[last],
                    "sessions": sessions,
                    "peak_ratio_change": change[peak],
                    "peak_date": dates[peak],
                    "ratio_change_over_episode": ratio[last] / before - 1.0,
                    "is_current": last == len(pair) - 1,
                    "window_sessions": window,
                    "threshold": float(threshold),
                }
            )
    if not rows:
        return EPISODES.empty()
    return EPISODES.conform(pd.DataFrame(rows))


def _rebased_path(ratio: np.ndarray, first: int, length: int) -> np.ndarray:
    """ratio over ``length`` sessions from position ``first``, rebased to 100 the session before."""
    before = ratio[first - 1] if first > 0 else BASE
    return ratio[first : first + length] / before * BASE


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3:
        return np.nan
    da, db = a - a.mean(), b - b.mean()
    denominator = np.sqrt((da * da).sum() * (db * db).sum())
    if denominator == 0:
        return np.nan
    return float(np.clip((da * db).sum() / denominator, -1.0, 1.0))


def episode_similarity(
    relative: pd.DataFrame, episodes: pd.DataFrame, n_sessions: int | None = None
) -> pd.DataFrame:
    """Each pair's current episode against its past episodes: rmse, correlation and ranks.

    ``relative`` is the relative_strength history (trade_date, pair_id, ratio), ``episodes`` the
    rotation_episodes frame. Sorted by pair_id, rank, past_start_date. See the module docstring.
    """
    if n_sessions is not None and n_sessions < 1:
        raise ValueError(f"n_sessions must be at least 1, not {n_sessions}")
    relative_by_pair = _per_pair(relative.loc[:, ["trade_date", "pair_id", "ratio"]])
    episodes = episodes.assign(start_date=pd.to_datetime(episodes["start_date"]))
    parts = []
    for current in episodes[episodes["is_current"].astype(bool)].itertuples(index=False):
        pair = relative_by_pair.get(current.pair_id)
        if pair is None:
            continue
        dates = pair["trade_date"].to_numpy()
        ratio = pair["ratio"].to_numpy("float64")
        start = int(np.searchsorted(dates, np.datetime64(current.start_date)))
        length = int(current.sessions) if n_sessions is None else min(n_sessions, current.sessions)
        current_path = _rebased_path(ratio, start, length)
        past = episodes[
            (episodes["pair_id"] == current.pair_id)
            & ~episodes["is_current"].astype(bool)
            & (episodes["start_date"] < current.start_date)
        ]
        rows = []
        for episode in past.itertuples(index=False):
            first = int(np.searchsorted(dates, np.datetime64(episode.start_date)))
            # Slicing past the episode's end continues its path with what the ratio did next.
            past_path = _rebased_path(ratio, first, length)
            compared = current_path[: len(past_path)]
            rows.append(
                {
                    "pair_id": current.pair_id,
                    "current_episode_id": current.episode_id,
                    "past_episode_id": episode.episode_id,
                    "past_start_date": episode.start_date,
                    "past_episode_sessions": episode.sessions,
                    "sessions_compared": len(past_path),
                    "correlation": _pearson(compared, past_path),
                    "rmse": float(np.sqrt(np.mean((compared - past_path) ** 2))),
                }
            )
        if rows:
            part = pd.DataFrame(rows)
            part["rank"] = part["rmse"].rank(method="min", ascending=True)
            part["rank_by_correlation"] = part["correlation"].rank(method="min", ascending=False)
            parts.append(part)
    if not parts:
        return SIMILARITY.empty()
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["pair_id", "rank", "past_start_date"], kind="stable")
    return SIMILARITY.conform(frame)
