"""Data-quality rules for daily bars, as SQL over a relation of bars.

The same rules audit a fetched window before it is written (so bad data never replaces good
rows) and check the stored window afterwards (the Dagster asset checks): both run the SQL below,
in DuckDB, over a relation with ``trade_date, ticker, open, high, low, close, adj_close,
volume`` (the staged fetch, or the stored window). Each rule returns the offending rows, so a
failure can name ticker and date. The functions over frames run the same SQL on an in-memory
DuckDB (for tests and small callers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.sources.base import PRICE_FIELDS
from rotation_assets.trading_days import previous_session, sessions_between

# Vendors round open/high/low/close separately: allow 0.1% before calling a bar inconsistent.
OHLC_TOLERANCE = 0.001
# Real single-session moves beyond this exist (silver fell ~30% on 2026-01-30): warn only.
LARGE_MOVE_THRESHOLD = 0.25

# The rules that block a write, as the checks that re-run them on stored rows describe them.
BLOCKING_RULES = {
    "expected_tickers_present": "No hole: every universe ticker has a bar on every session from "
    "its first trading date up to its last bar (or its last_trading_date), and its first bar in "
    "the window follows its last stored one. A series that stops early is a stale tail "
    "(no_stale_tails, a warning), not a hole.",
    "no_null_prices": "close and adj_close are present; open, high and low are all present or "
    "all empty (a close-only bar).",
    "prices_positive": "Every price is > 0 and finite (an infinite price is refused too).",
    "ohlc_consistent": "low <= min(open, close) and max(open, close) <= high, within 0.1%.",
    "unique_trade_date_ticker": "One bar per (trade_date, ticker).",
}
STALE_TAILS = "no_stale_tails"
STALE_TAILS_DESCRIPTION = (
    "Warns for each ticker whose bars stop before the window's last session (a stale tail: no "
    "bar after some session, none missing before it), naming the ticker and its last session. "
    "Its rows load up to there and nothing else is blocked; a universe last_trading_date ends "
    "what is expected of a delisted ticker."
)
# Bars whose open, high and low are all empty carry only a close (some vendors' older rows).
BAR_PARTS = ("open", "high", "low")


@dataclass(frozen=True)
class RuleResult:
    name: str
    description: str
    violations: pd.DataFrame
    blocking: bool = True

    @property
    def passed(self) -> bool:
        return self.violations.empty

    def summary(self, limit: int = 5) -> str:
        """One line naming the rule and the first offending tickers and dates."""
        if self.passed:
            return f"{self.name}: passed"
        shown = "; ".join(_describe_row(r) for r in self.violations.head(limit).to_dict("records"))
        more = len(self.violations) - limit
        return (
            f"check {self.name} failed ({self.description}) on {len(self.violations)} rows: "
            f"{shown}{f'; and {more} more' if more > 0 else ''}"
        )

    def merged(self, other: RuleResult) -> RuleResult:
        """This rule's violations followed by ``other``'s (the same rule on another chunk)."""
        frames = [f for f in (self.violations, other.violations) if not f.empty]
        violations = pd.concat(frames, ignore_index=True) if frames else self.violations
        return RuleResult(self.name, self.description, violations, self.blocking)


def _describe_row(row: dict) -> str:
    details = ", ".join(
        f"{k}={_fmt(v)}" for k, v in row.items() if k not in ("trade_date", "ticker")
    )
    if "trade_date" not in row:  # a per-ticker finding (a stale tail)
        return f"{row.get('ticker')}" + (f" ({details})" if details else "")
    date = row.get("trade_date")
    if isinstance(date, pd.Timestamp | dt.date):
        date = pd.Timestamp(date).date().isoformat()
    return f"{row.get('ticker')} on {date}" + (f" ({details})" if details else "")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


# --- the rules, in SQL over a relation of bars ---------------------------------------------

_FIELDS = ", ".join(PRICE_FIELDS)
_ORDER = "ORDER BY trade_date, ticker"


def missing_tickers_sql(bars: str, expected: str) -> str:
    """(trade_date, ticker) of ``expected`` (the bars each session must have) absent from
    ``bars``."""
    return (
        f"SELECT e.trade_date, e.ticker FROM {expected} e "
        f"ANTI JOIN {bars} b ON b.trade_date = e.trade_date AND b.ticker = e.ticker {_ORDER}"
    )


def _missing(field: str) -> str:
    return f"({field} IS NULL OR isnan({field}))"


def null_prices_sql(bars: str) -> str:
    """Rows with a missing close or adj_close, or with some but not all of open, high and low
    (a close-only bar has all three empty; volume may always be empty)."""
    parts = [_missing(f) for f in BAR_PARTS]
    partial = f"(({' OR '.join(parts)}) AND NOT ({' AND '.join(parts)}))"
    bad = " OR ".join([_missing("close"), _missing("adj_close"), partial])
    return f"SELECT trade_date, ticker, {_FIELDS} FROM {bars} WHERE {bad} {_ORDER}"


def nonpositive_prices_sql(bars: str) -> str:
    """Rows where any price is zero, negative or infinite (an infinite bar passes every other
    rule: inf > 0, and inf <= inf * 1.001)."""
    bad = " OR ".join(f"{f} <= 0 OR isinf({f})" for f in PRICE_FIELDS)
    return f"SELECT trade_date, ticker, {_FIELDS} FROM {bars} WHERE {bad} {_ORDER}"


def inconsistent_ohlc_sql(bars: str, tolerance: float = OHLC_TOLERANCE) -> str:
    """Rows where ``low > min(open, close)`` or ``max(open, close) > high``, beyond rounding
    (min and max skip a missing open or close)."""
    return (
        f"SELECT trade_date, ticker, open, high, low, close FROM {bars} "
        f"WHERE low > least(open, close) * (1 + {tolerance}) "
        f"OR greatest(open, close) > high * (1 + {tolerance}) {_ORDER}"
    )


def duplicate_keys_sql(bars: str) -> str:
    """Rows whose (trade_date, ticker) occurs more than once (every copy)."""
    return (
        f"SELECT trade_date, ticker FROM (SELECT trade_date, ticker, count(*) OVER "
        f"(PARTITION BY trade_date, ticker) AS copies FROM {bars}) WHERE copies > 1 {_ORDER}"
    )


def large_moves_sql(bars: str, threshold: float = LARGE_MOVE_THRESHOLD) -> str:
    """Sessions whose close moved more than ``threshold`` from the ticker's previous close in
    ``bars`` (which may hold the session before the window: its rows are compared with, not
    reported). The window starts at the relation's ``window_start`` column."""
    return f"""
        SELECT trade_date, ticker, close, previous_close, close / previous_close - 1 AS move
        FROM (
            SELECT trade_date, ticker, close, window_start,
                   lag(close) OVER (PARTITION BY ticker ORDER BY trade_date) AS previous_close
            FROM {bars}
        )
        WHERE abs(close / previous_close - 1) > {threshold} AND trade_date >= window_start
        {_ORDER}
    """


def stale_tails_sql(
    bars: str, universe: str, sessions: str, history: str, window_start: str
) -> str:
    """One row per ticker whose bars stop before the window's last session it is expected on:
    ticker, last_session (its last bar in ``bars``, else its last stored bar before the window),
    sessions_without_bar (expected sessions of the window after it) and through (the last
    of them). Relations as for ``expected_bars_sql``; ``window_start`` a SQL date expression.
    A ticker with no bar at all (none delivered, none stored) is missing, not stale."""
    return f"""
        WITH delivered AS (SELECT ticker, max(trade_date) AS last_bar FROM {bars} GROUP BY ticker)
        SELECT u.ticker, coalesce(d.last_bar, h.last_stored) AS last_session,
               count(*) AS sessions_without_bar, max(s.trade_date) AS through
        FROM {sessions} s
        JOIN {universe} u ON u.first_trading_date <= s.trade_date
            AND (u.last_trading_date IS NULL OR s.trade_date <= u.last_trading_date)
        LEFT JOIN delivered d ON d.ticker = u.ticker
        LEFT JOIN {history} h ON h.ticker = u.ticker
        WHERE s.trade_date >= {window_start}
          AND s.trade_date > coalesce(d.last_bar, h.last_stored)
        GROUP BY u.ticker, coalesce(d.last_bar, h.last_stored)
        ORDER BY u.ticker
    """


def audit(con: duckdb.DuckDBPyConnection, bars: str, expected: str) -> list[RuleResult]:
    """Every blocking rule over ``bars``: what must hold before the rows are published.

    ``expected`` is a relation of (trade_date, ticker): the bars each session must have.
    """
    queries = {
        "expected_tickers_present": missing_tickers_sql(bars, expected),
        "no_null_prices": null_prices_sql(bars),
        "prices_positive": nonpositive_prices_sql(bars),
        "ohlc_consistent": inconsistent_ohlc_sql(bars),
        "unique_trade_date_ticker": duplicate_keys_sql(bars),
    }
    descriptions = {
        "expected_tickers_present": "no hole: every universe ticker has a bar on every session "
        "from its first trading date up to its last bar",
        "no_null_prices": "close and adj_close are present; open, high and low all or none",
        "prices_positive": "every price is > 0 and finite",
        "ohlc_consistent": "low <= min(open, close) and max(open, close) <= high within "
        f"{OHLC_TOLERANCE:.1%}",
        "unique_trade_date_ticker": "one bar per (trade_date, ticker)",
    }
    return [
        RuleResult(name, descriptions[name], _timestamps(con.execute(sql).df()))
        for name, sql in queries.items()
    ]


def _timestamps(frame: pd.DataFrame) -> pd.DataFrame:
    if "trade_date" in frame:
        frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame


def expected_bars_sql(
    universe: str, sessions: str, bars: str, history: str, window_start: str
) -> str:
    """(trade_date, ticker) the bars must hold: a missing one is a hole.

    ``universe`` (ticker, first_trading_date, last_trading_date), ``sessions`` (trade_date: the
    window's sessions, preceded by those since the earliest last stored bar of ``history``),
    ``bars`` (the window's bars), ``history`` (ticker, last_stored: each ticker's last stored
    bar before the window), ``window_start`` a SQL date expression. Per ticker listed and not
    delisted on the session:

    - in the window, every session up to its last bar there; a ticker with no bar in the window
      is expected on none if it has stored history (it stopped: a stale tail, ``stale_tails_sql``)
      and on every session if it has none (it is missing);
    - before the window, when it has bars in the window: every session after its last stored
      bar, so a series that resumes after a gap is a hole too.
    """
    return f"""
        WITH delivered AS (SELECT ticker, max(trade_date) AS last_bar FROM {bars} GROUP BY ticker)
        SELECT s.trade_date, u.ticker
        FROM {sessions} s
        JOIN {universe} u ON u.first_trading_date <= s.trade_date
            AND (u.last_trading_date IS NULL OR s.trade_date <= u.last_trading_date)
        LEFT JOIN delivered d ON d.ticker = u.ticker
        LEFT JOIN {history} h ON h.ticker = u.ticker
        WHERE CASE WHEN s.trade_date >= {window_start}
                   THEN s.trade_date <= coalesce(d.last_bar, h.last_stored, s.trade_date)
                   ELSE d.last_bar IS NOT NULL AND s.trade_date > h.last_stored END
    """


def register_window(
    con: duckdb.DuckDBPyConnection,
    universe: pd.DataFrame,
    sessions: list[dt.date],
    history: pd.DataFrame,
) -> str:
    """Register what ``expected_bars_sql`` and ``stale_tails_sql`` read as ``universe``,
    ``sessions`` and ``history`` on ``con``; return the window's start as a SQL date.

    ``universe`` has ticker, first_trading_date and (optionally) last_trading_date; ``history``
    ticker and last_stored (each ticker's last stored bar before the window; may be empty). The
    sessions start early enough to hold every session after a last stored bar that is older
    than the session before the window (where a resumed series would have a hole)."""
    start = sessions[0]
    calendar = list(sessions)
    stored = pd.to_datetime(history["last_stored"]) if len(history) else pd.Series([])
    older = stored[stored < pd.Timestamp(previous_session(start))]
    if len(older):
        calendar = sessions_between(older.min().date() + dt.timedelta(days=1), start) + calendar
        calendar = sorted(set(calendar))
    frame = universe[["ticker", "first_trading_date"]].copy()
    frame["last_trading_date"] = universe.get("last_trading_date", pd.NaT)
    con.register("universe", frame.astype({"last_trading_date": "datetime64[ns]"}))
    con.register("sessions", pd.DataFrame({"trade_date": pd.to_datetime(calendar)}))
    con.register(
        "history",
        pd.DataFrame(
            {
                "ticker": history["ticker"].astype(str).to_numpy() if len(history) else [],
                "last_stored": pd.to_datetime(stored.to_numpy()),
            }
        ),
    )
    return f"DATE '{start.isoformat()}'"


def no_history() -> pd.DataFrame:
    """A ``history`` relation with no ticker: nothing stored before the window."""
    return pd.DataFrame(
        {"ticker": pd.Series(dtype="object"), "last_stored": pd.Series(dtype="datetime64[ns]")}
    )


# --- the same rules over frames (tests, small callers) --------------------------------------


def _expected_frame(
    expected: Callable[[dt.date], Iterable[str]], sessions: list[dt.date]
) -> pd.DataFrame:
    rows = [(pd.Timestamp(day), t) for day in sessions for t in expected(day)]
    frame = pd.DataFrame(rows, columns=["trade_date", "ticker"])
    frame["trade_date"] = frame["trade_date"].astype("datetime64[ns]")
    return frame


def _bars(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(trade_date=pd.to_datetime(frame["trade_date"]))


def missing_tickers(
    frame: pd.DataFrame, expected: Callable[[dt.date], Iterable[str]], sessions: list[dt.date]
) -> pd.DataFrame:
    """(trade_date, ticker) pairs expected on a session but absent from ``frame``."""
    out = query_frames(
        missing_tickers_sql("bars", "expected"),
        bars=_bars(frame),
        expected=_expected_frame(expected, sessions),
    )
    return _timestamps(out)


def null_prices(frame: pd.DataFrame) -> pd.DataFrame:
    return _timestamps(query_frames(null_prices_sql("bars"), bars=_bars(frame)))


def nonpositive_prices(frame: pd.DataFrame) -> pd.DataFrame:
    return _timestamps(query_frames(nonpositive_prices_sql("bars"), bars=_bars(frame)))


def inconsistent_ohlc(frame: pd.DataFrame, tolerance: float = OHLC_TOLERANCE) -> pd.DataFrame:
    return _timestamps(query_frames(inconsistent_ohlc_sql("bars", tolerance), bars=_bars(frame)))


def duplicate_keys(frame: pd.DataFrame) -> pd.DataFrame:
    return _timestamps(query_frames(duplicate_keys_sql("bars"), bars=_bars(frame)))


def large_moves(
    frame: pd.DataFrame,
    previous_close: pd.DataFrame | None = None,
    threshold: float = LARGE_MOVE_THRESHOLD,
) -> pd.DataFrame:
    """Sessions whose close moved more than ``threshold`` from the ticker's previous close.

    ``previous_close`` (trade_date, ticker, close) supplies the session before the frame's
    first date, so the first day of a window is compared too.
    """
    bars = _bars(frame)[["trade_date", "ticker", "close"]]
    if previous_close is not None and not previous_close.empty:
        bars = pd.concat([_bars(previous_close)[["trade_date", "ticker", "close"]], bars])
    bars = bars.assign(window_start=pd.to_datetime(frame["trade_date"]).min())
    return _timestamps(query_frames(large_moves_sql("bars", threshold), bars=bars))


def audit_prices(
    frame: pd.DataFrame,
    expected: Callable[[dt.date], Iterable[str]],
    sessions: list[dt.date],
) -> list[RuleResult]:
    """Every blocking rule over ``frame`` (see ``audit``)."""
    with duckdb.connect() as con:
        con.register("bars", _bars(frame))
        con.register("expected", _expected_frame(expected, sessions))
        return audit(con, "bars", "expected")


def holes_and_stale_tails(
    frame: pd.DataFrame,
    universe: pd.DataFrame,
    sessions: list[dt.date],
    history: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The holes (trade_date, ticker: bars missing between delivered ones, or a ticker with no
    bar at all) and the stale tails (ticker, last_session, sessions_without_bar, through) of a
    window of bars, as ``expected_bars_sql`` and ``stale_tails_sql`` define them."""
    with duckdb.connect() as con:
        start = register_window(
            con, universe, sessions, history if history is not None else no_history()
        )
        con.register("bars", _bars(frame))
        expected = f"({expected_bars_sql('universe', 'sessions', 'bars', 'history', start)})"
        holes = con.execute(missing_tickers_sql("bars", expected)).df()
        stale = con.execute(stale_tails_sql("bars", "universe", "sessions", "history", start)).df()
    return _timestamps(holes), stale.astype(
        {"last_session": "datetime64[ns]", "through": "datetime64[ns]"}
    )
