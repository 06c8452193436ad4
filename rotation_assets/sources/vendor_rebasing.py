"""Vendor re-basing: a price file whose adjusted history changed basis between two loads.

A vendor's adjusted series is re-based after every dividend (and a split re-bases the close):
every earlier ``adj_close`` is multiplied by one factor, e.g. 0.98. A file that carries one
basis per load (the csv files, and the demo sample) then disagrees with the rows an earlier
load stored, and the first return across the seam (a stored row on the old basis, a new row on
the new one) would silently jump by that factor. So every load of such a source is compared
with what the warehouse holds before anything is written.

The overlap. The load reads, besides its window, the file's bars on the ``OVERLAP_SESSIONS``
NYSE sessions before the window and after it (a daily load of session D thus reads the bars
of the five sessions before D, which it does not write). For each ticker, the overlap is those
sessions on which the warehouse holds a row of the same source and the file has positive
prices; on each, ``ratio = file value / stored value``, for ``close`` (the basis of open, high,
low and close) and for ``adj_close`` separately.

The rule, per ticker and field:

- every ratio within ``REBASE_TOLERANCE`` (1e-5, relative) of 1: the basis is unchanged,
  nothing to do;
- every ratio within ``REBASE_TOLERANCE`` of each other, but not of 1: the vendor re-based by a
  constant factor ``f`` (the ratio on the overlap session nearest the window, before it if any).
  Every stored row of the ticker and source outside the window is rescaled by ``f`` (``adj_close``
  by the adj_close factor; open, high, low and close by the close factor; volume is left as
  reported), in the load's own transaction, so the stored history is on the file's new basis
  and the return at the seam is the file's own: new_adj_D / new_adj_p - 1. The load's record
  (``raw.price_loads``) then starts at the first rescaled session, so the analytics rebuild
  from there; the run logs and reports (metadata ``rebased``) the ticker, the factors and the
  sessions rescaled;
- otherwise (the ratio moves across the overlap: a revised bar, a re-base from a session inside
  the overlap, another series): the load is refused with ``VendorRebaseError`` naming the
  ticker, the sessions and their ratios, and nothing is written. Re-loading from the session
  where the ratio changes on puts every changed bar inside the window, where the load replaces
  it.

Sources that record dividends and splits (yfinance) are not compared: Yahoo re-bases on every
dividend by design, and their returns are built from what does not re-base (the raw close and
the recorded dividend, ``metrics.daily_returns``), so their seam is already exact. Rows another
source stored are not compared either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from rotation_assets.sources.base import PriceSourceError
from rotation_assets.trading_days import sessions_between
from rotation_assets.warehouse.connection import table_exists

# Sessions read on each side of the window: one would give an overlap, but a constant factor
# can only be told from a revised bar on two or more; a week costs nothing (a parsed csv file is
# cached whole) and still leaves a re-base some sessions back inside it.
OVERLAP_SESSIONS = 5
# Files carry about six decimals: a re-based value is rounded to them, which moves a ratio by
# less than 1e-6 for prices above 1; a dividend moves it by 1e-4 or more.
REBASE_TOLERANCE = 1e-5
# Price fields rescaled with each compared field.
BASES = {"close": ("open", "high", "low", "close"), "adj_close": ("adj_close",)}


class VendorRebaseError(PriceSourceError):
    """The file's prices changed against the stored rows by no constant factor; nothing was
    written."""


@dataclass(frozen=True)
class Rebasing:
    """The stored history of one ticker rescaled to the file's new basis."""

    ticker: str
    close_factor: float  # 1.0 when close kept its basis
    adj_close_factor: float
    first_session: dt.date  # first and last stored session rescaled
    last_session: dt.date
    rows: int
    overlap: tuple[dt.date, ...]  # the sessions compared

    def describe(self) -> str:
        """One line for the log: ticker, factors and sessions."""
        factors = f"adj_close x {self.adj_close_factor:.8g}"
        if self.close_factor != 1.0:
            factors += f", open/high/low/close x {self.close_factor:.8g}"
        return (
            f"{self.ticker}: vendor re-based its history ({factors}, constant on the "
            f"{len(self.overlap)} overlapping session(s) {self.overlap[0]}..{self.overlap[-1]}); "
            f"{self.rows} stored row(s) {self.first_session}..{self.last_session} rescaled"
        )


def overlap_sessions(sessions: Sequence[dt.date]) -> tuple[list[dt.date], list[dt.date]]:
    """The ``OVERLAP_SESSIONS`` NYSE sessions before the window ``sessions`` and after it."""
    start, end = sessions[0], sessions[-1]
    before = sessions_between(start - dt.timedelta(days=3 * OVERLAP_SESSIONS + 10), start)
    after = sessions_between(end, end + dt.timedelta(days=3 * OVERLAP_SESSIONS + 10))
    before = [d for d in before if d < start][-OVERLAP_SESSIONS:]
    after = [d for d in after if d > end][:OVERLAP_SESSIONS]
    return before, after


def overlap_ratios_sql(stored: str, delivered: str) -> str:
    """SQL: per ticker and session of the overlap, the file's close and adj_close over the
    stored ones. ``stored`` (trade_date, ticker, close, adj_close) holds the rows to compare
    (one source, outside the window); ``delivered`` the file's bars on the overlap sessions."""
    return f"""
SELECT d.ticker, d.trade_date,
       d.close / s.close AS close, d.adj_close / s.adj_close AS adj_close
FROM {delivered} d
JOIN {stored} s ON s.ticker = d.ticker AND s.trade_date = d.trade_date
WHERE d.close > 0 AND d.adj_close > 0 AND NOT isnan(d.close) AND NOT isnan(d.adj_close)
  AND s.close > 0 AND s.adj_close > 0
ORDER BY d.ticker, d.trade_date
"""


@dataclass(frozen=True)
class _Verdict:
    ticker: str
    factors: dict[str, float]  # field -> factor, for the fields that re-based
    overlap: tuple[dt.date, ...]


def judge_overlap(
    ratios: pd.DataFrame, window_start: dt.date, tolerance: float = REBASE_TOLERANCE
) -> list[_Verdict]:
    """The tickers whose basis changed by a constant factor (with the factor per field), from
    ``overlap_ratios_sql`` rows; raises ``VendorRebaseError`` naming every ticker whose ratio is
    not constant across its overlap."""
    verdicts, refused = [], []
    for ticker, rows in ratios.groupby("ticker", sort=True):
        rows = rows.sort_values("trade_date")
        dates = [pd.Timestamp(d).date() for d in rows["trade_date"]]
        # The factor is the ratio on the session nearest the window: the seam.
        before = [i for i, d in enumerate(dates) if d < window_start]
        seam = before[-1] if before else 0
        factors = {}
        for field in BASES:
            values = rows[field].to_numpy(dtype="float64")
            if (abs(values - 1.0) <= tolerance).all():
                continue
            if values.max() / values.min() - 1.0 > tolerance:
                listed = ", ".join(
                    f"{d} {c}={v:.8g}"
                    for d, c, v in zip(dates, [field] * len(dates), values, strict=True)
                )
                refused.append(f"{ticker} ({field} file/stored: {listed})")
                break
            factors[field] = float(values[seam])
        else:
            if factors:
                verdicts.append(_Verdict(str(ticker), factors, tuple(dates)))
    if refused:
        raise VendorRebaseError(
            "The price file changed against the stored rows by no constant factor, so it can "
            "be neither re-based nor joined to them; nothing was written: "
            + "; ".join(refused)
            + ". Re-load from the first session whose bar changed on (a window replaces "
            "its own rows)."
        )
    return verdicts


def rebase_stored_history(
    con: duckdb.DuckDBPyConnection,
    prices_table: str,
    delivered: str | None,
    window: tuple[dt.date, dt.date],
    source: str,
    loaded_at: dt.datetime,
) -> list[Rebasing]:
    """Compare the file's bars on the overlap sessions (``delivered``, a SQL relation; None:
    the source is not compared) with ``prices_table``'s rows of ``source`` outside ``window``,
    and rescale each re-based ticker's stored rows outside the window (setting their
    loaded_at), per the module's rule. Runs inside the caller's transaction, before the window
    is written; raises ``VendorRebaseError`` (having changed nothing) when a ticker's change is
    not a constant factor."""
    schema, name = prices_table.split(".")
    if delivered is None or not table_exists(con, schema, name):
        return []
    stored = (
        f"(SELECT trade_date, ticker, close, adj_close FROM {prices_table} "
        f"WHERE source = '{source}' AND trade_date NOT BETWEEN DATE '{window[0]}' "
        f"AND DATE '{window[1]}')"
    )
    ratios = con.execute(overlap_ratios_sql(stored, delivered)).df()
    done = []
    for verdict in judge_overlap(ratios, window[0]):
        close_factor = verdict.factors.get("close", 1.0)
        adj_factor = verdict.factors.get("adj_close", 1.0)
        sets = [f"{c} = {c} * {close_factor!r}" for c in BASES["close"]]
        sets += [f"{c} = {c} * {adj_factor!r}" for c in BASES["adj_close"]]
        where = (
            f"ticker = ? AND source = ? AND trade_date NOT BETWEEN DATE '{window[0]}' "
            f"AND DATE '{window[1]}'"
        )
        first, last, rows = con.execute(
            f"SELECT min(trade_date), max(trade_date), count(*) FROM {prices_table} WHERE {where}",
            [verdict.ticker, source],
        ).fetchone()
        con.execute(
            f"UPDATE {prices_table} SET {', '.join(sets)}, loaded_at = ? WHERE {where}",
            [loaded_at, verdict.ticker, source],
        )
        done.append(
            Rebasing(
                verdict.ticker, close_factor, adj_factor, first, last, int(rows), verdict.overlap
            )
        )
    return done


def rebasings_frame(rebasings: Sequence[Rebasing]) -> pd.DataFrame:
    """The re-basings as a table (for run metadata)."""
    return pd.DataFrame(
        [
            {
                "ticker": r.ticker,
                "adj_close_factor": r.adj_close_factor,
                "close_factor": r.close_factor,
                "first_session": r.first_session,
                "last_session": r.last_session,
                "rows": r.rows,
                "overlap": f"{r.overlap[0]}..{r.overlap[-1]} ({len(r.overlap)})",
            }
            for r in rebasings
        ]
    )
