"""``analytics.relative_rotation``: each instrument against its benchmark, week by week, in the
plane of a relative rotation graph (RRG).

The originator's formulas (JdK RS-Ratio and RS-Momentum, Julius de Kempenaer) are not public.
This is an open approximation, the one the open-source RRG tools use (rolling z-scores, as in
RRGPy and RRG-Lite), with every choice stated:

- **Weekly closes.** A pair's observations are its weeks (Monday to Friday) in which both legs
  have a close on a common session; the week's observation is the last such session
  (``week_end``), and both legs' closes are taken on that one session, never on two different
  ones. A week without a common session (one leg missing, e.g. after its data stop) is no
  observation: nothing is carried forward or interpolated, and a pair whose leg stops ends
  with its last common session. The latest week may be unfinished: its row is dated by its last
  loaded session.
- **Which close.** The total-return close: each leg's ``analytics.daily_returns.total_return``
  compounded, ``level_d = prod(1 + total_return)`` over its sessions up to d. That is the
  vendor's dividend-adjusted close (``adj_close``) where the vendor adjusts for dividends
  (ETFs, dividend-paying stocks; adjusted-only files' ``close``), and the price for price
  indices (``^RUT``, ``^GSPC``: ``adj_close = close``). Compounding the stored returns, rather
  than dividing stored ``adj_close`` values, stays on one basis when Yahoo re-bases
  ``adj_close`` between two loads (``metrics.daily_returns``). A leg's first stored session
  has no return, so its observations start with its second.
- ``rs = 100 * (level / level_benchmark)``, rebased so that ``rs = 100`` on the pair's first
  week: 100 x the instrument's close over the benchmark's, on total-return closes.
- ``rs_ratio = 100 + (rs - mean) / sd``, mean and sd (population) of ``rs`` over the pair's
  trailing N weekly observations, the current one included: how far relative strength stands
  above or below its recent trend, in standard deviations.
- ``roc = 100 * (rs_ratio / rs_ratio M weeks earlier - 1)``, rs_ratio's M-week rate of change.
- ``rs_momentum = 100 + (roc - mean) / sd`` over the trailing N values of ``roc``.
- A window whose sd is 0 (a flat series) gives a z-score of 0.
- **N = 14 weeks** (the open tools' window) **and M = 4 weeks** (they take M = 1; on the real
  data a 4-week change halves the weeks whose quadrant flips, and the tails still turn
  clockwise: the README gives the counts). Rows start only with full windows: ``rs_ratio``
  needs N weeks of ``rs``, ``roc`` a ``rs_ratio`` M weeks earlier, ``rs_momentum`` N values of
  ``roc``; so a pair's first row is its (2N + M - 1)th week, the 31st. Nothing is computed on
  a partial window.
- ``quadrant``: ``leading`` (rs_ratio >= 100 and rs_momentum >= 100), ``weakening``
  (rs_ratio >= 100, rs_momentum < 100), ``lagging`` (both < 100), ``improving`` (rs_ratio < 100,
  rs_momentum >= 100): clockwise in the plane, the order in which an RRG reads a rotation.

Because ``rs_ratio`` and ``rs_momentum`` are z-scores, they do not depend on where ``rs`` is
based; and each row reads only sessions on or before its ``week_end`` (point in time). The pairs
come from the universe: each instrument with a benchmark (small-cap stocks against IWM,
large-cap stocks against SPY); an instrument paired with itself is skipped. Computed in DuckDB
SQL (``relative_rotation_sql``), the whole table at once (about 50 rows a year per pair).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rotation_assets.metrics.provenance import source_column, sql_sources_aggregate
from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.metrics.window_returns import sql_string
from rotation_assets.warehouse.table_spec import Column, TableSpec

# Weekly observations in each z-score window (see the module docstring and the README).
WINDOW_WEEKS = 14
# Weeks over which rs_ratio's rate of change is taken (M).
MOMENTUM_WEEKS = 4
# A standard deviation at or below this is a flat window (z-score 0), not a division by ~0.
FLAT = 1e-12

RELATIVE_ROTATION = TableSpec(
    schema="analytics",
    name="relative_rotation",
    description=(
        "Each instrument against its benchmark, weekly (each week's last common session): "
        "relative strength on total-return closes, its RS-ratio and RS-momentum (an open "
        f"approximation of the RRG's JdK measures: {WINDOW_WEEKS}-week z-scores of relative "
        f"strength and of its {MOMENTUM_WEEKS}-week rate of change) and the "
        "quadrant they place it in."
    ),
    columns=(
        Column("ticker", "VARCHAR", "The instrument (universe ticker).", nullable=False),
        Column(
            "benchmark",
            "VARCHAR",
            "The instrument it is measured against (its universe benchmark: IWM for small-cap "
            "stocks, SPY for large-cap stocks).",
            nullable=False,
        ),
        Column(
            "week_end",
            "DATE",
            "The week's last NYSE session on which both legs have a close (a holiday Friday: "
            "Thursday; the latest week: its last loaded session). Both closes are of this "
            "session.",
            nullable=False,
        ),
        Column(
            "rs",
            "DOUBLE",
            "100 * total-return close / the benchmark's total-return close on week_end, "
            "rebased to 100 on the pair's first week (closes = compounded daily total returns: "
            "dividends reinvested where the vendor adjusts for them; the price for price "
            "indices).",
            nullable=False,
        ),
        Column(
            "rs_ratio",
            "DOUBLE",
            f"100 + (rs - mean) / sd, mean and population sd of rs over the pair's last "
            f"{WINDOW_WEEKS} weeks including this one (sd 0: 100). Above 100: relative strength "
            "above its recent trend.",
            nullable=False,
        ),
        Column(
            "rs_momentum",
            "DOUBLE",
            f"100 + z-score of rs_ratio's {MOMENTUM_WEEKS}-week rate of change (100 * "
            f"(rs_ratio / rs_ratio {MOMENTUM_WEEKS} weeks earlier - 1)) over the pair's last "
            f"{WINDOW_WEEKS} weeks (sd 0: 100). Above 100: rs_ratio rising faster than usual.",
            nullable=False,
        ),
        Column(
            "quadrant",
            "VARCHAR",
            "leading (rs_ratio >= 100, rs_momentum >= 100), weakening (>= 100, < 100), lagging "
            "(both < 100) or improving (< 100, >= 100).",
            nullable=False,
        ),
        source_column("both legs' daily_returns rows from the pair's first week to week_end"),
    ),
    key=("ticker", "benchmark", "week_end"),
)


def relative_rotation_sql(
    returns: str = "returns",
    pairs: str = "pairs",
    window: int = WINDOW_WEEKS,
    momentum_weeks: int = MOMENTUM_WEEKS,
    as_of: str | dt.date | None = None,
) -> str:
    """SQL for the relative_rotation rows, sorted by ticker, benchmark and week_end.

    ``returns`` names a relation (table or parenthesised subquery) with the daily trade_date,
    ticker, total_return, source (``analytics.daily_returns``); ``pairs`` one with ticker,
    benchmark (rows without a benchmark, or with the ticker as its own, are skipped).
    ``window``: N, the weeks of each z-score window; ``momentum_weeks``: M, the weeks of
    rs_ratio's rate of change. ``as_of``: read only sessions on or before it (a date, or a SQL
    expression giving one); None reads all. The result has exactly ``RELATIVE_ROTATION``'s
    columns, in order.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 weeks (a z-score needs two), not {window}")
    if momentum_weeks < 1:
        raise ValueError(f"momentum_weeks must be at least 1, not {momentum_weeks}")
    if as_of is None:
        on_or_before = "TRUE"
    elif isinstance(as_of, dt.date):
        on_or_before = f"r.trade_date <= DATE {sql_string(as_of.strftime('%Y-%m-%d'))}"
    else:
        on_or_before = f"r.trade_date <= CAST(({as_of}) AS DATE)"
    trailing = f"ROWS BETWEEN {window - 1} PRECEDING AND CURRENT ROW"
    return f"""
WITH wanted_pairs AS (
    SELECT DISTINCT ticker, benchmark
    FROM {pairs}
    WHERE benchmark IS NOT NULL AND ticker <> benchmark
),
legs AS (
    SELECT ticker FROM wanted_pairs UNION SELECT benchmark FROM wanted_pairs
),
leg_returns AS (
    SELECT r.trade_date, r.ticker, r.total_return, r.source
    FROM {returns} AS r
    WHERE r.ticker IN (SELECT ticker FROM legs) AND {on_or_before}
),
levels AS (
    -- the total-return close, up to a constant: returns compounded in session order
    SELECT trade_date, ticker,
        product(1 + total_return) OVER (
            PARTITION BY ticker ORDER BY trade_date
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS level
    FROM leg_returns
),
common AS (
    -- both legs on the same session, never two different ones
    SELECT p.ticker, p.benchmark, t.trade_date, t.level / b.level AS relative
    FROM wanted_pairs AS p
    JOIN levels AS t ON t.ticker = p.ticker
    JOIN levels AS b ON b.ticker = p.benchmark AND b.trade_date = t.trade_date
),
weekly AS (
    SELECT ticker, benchmark, trade_date AS week_end, relative
    FROM common
    QUALIFY row_number() OVER (
        PARTITION BY ticker, benchmark, date_trunc('week', trade_date)
        ORDER BY trade_date DESC
    ) = 1
),
strength AS (
    SELECT ticker, benchmark, week_end,
        100 * relative / first_value(relative) OVER (
            PARTITION BY ticker, benchmark ORDER BY week_end
        ) AS rs
    FROM weekly
),
rs_stats AS (
    SELECT *,
        count(rs) OVER w AS rs_weeks,
        avg(rs) OVER w AS rs_mean,
        stddev_pop(rs) OVER w AS rs_sd
    FROM strength
    WINDOW w AS (PARTITION BY ticker, benchmark ORDER BY week_end {trailing})
),
ratios AS (
    SELECT ticker, benchmark, week_end, rs,
        CASE WHEN rs_weeks = {window}
            THEN 100 + CASE WHEN rs_sd > {FLAT} THEN (rs - rs_mean) / rs_sd ELSE 0 END
        END AS rs_ratio
    FROM rs_stats
),
changes AS (
    SELECT *,
        100 * (rs_ratio / lag(rs_ratio, {momentum_weeks}) OVER (
            PARTITION BY ticker, benchmark ORDER BY week_end
        ) - 1) AS roc
    FROM ratios
),
roc_stats AS (
    SELECT *,
        count(roc) OVER w AS roc_weeks,
        avg(roc) OVER w AS roc_mean,
        stddev_pop(roc) OVER w AS roc_sd
    FROM changes
    WINDOW w AS (PARTITION BY ticker, benchmark ORDER BY week_end {trailing})
),
measured AS (
    SELECT ticker, benchmark, week_end, rs, rs_ratio,
        100 + CASE WHEN roc_sd > {FLAT} THEN (roc - roc_mean) / roc_sd ELSE 0 END
            AS rs_momentum
    FROM roc_stats
    WHERE roc_weeks = {window}
),
pair_start AS (
    SELECT ticker, benchmark, min(week_end) AS first_week FROM weekly GROUP BY ALL
),
leg_sources AS (
    SELECT ticker, source, min(trade_date) AS first_date, max(trade_date) AS last_date
    FROM leg_returns
    GROUP BY ALL
),
sourced AS (
    SELECT m.ticker, m.benchmark, m.week_end, {sql_sources_aggregate("s.source")} AS source
    FROM measured AS m
    JOIN pair_start AS ps USING (ticker, benchmark)
    JOIN leg_sources AS s
        ON s.ticker IN (m.ticker, m.benchmark)
        AND s.first_date <= m.week_end AND s.last_date >= ps.first_week
    GROUP BY m.ticker, m.benchmark, m.week_end
)
SELECT m.ticker, m.benchmark, m.week_end, m.rs, m.rs_ratio, m.rs_momentum,
    CASE
        WHEN m.rs_ratio >= 100 AND m.rs_momentum >= 100 THEN 'leading'
        WHEN m.rs_ratio >= 100 THEN 'weakening'
        WHEN m.rs_momentum < 100 THEN 'lagging'
        ELSE 'improving'
    END AS quadrant,
    s.source
FROM measured AS m
JOIN sourced AS s USING (ticker, benchmark, week_end)
ORDER BY m.ticker, m.benchmark, m.week_end
"""


def relative_rotation(
    returns: pd.DataFrame,
    pairs: pd.DataFrame,
    window: int = WINDOW_WEEKS,
    momentum_weeks: int = MOMENTUM_WEEKS,
    as_of: dt.date | str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The relative_rotation rows of ``pairs`` (ticker, benchmark) from the daily ``returns``
    (trade_date, ticker, total_return, source), per the module's definition, with N =
    ``window`` and M = ``momentum_weeks`` weeks; only sessions on or before ``as_of`` (if
    given) are read, so a view as of an earlier session gets that session's own rows (its
    unfinished week included)."""
    day = None if as_of is None else pd.Timestamp(as_of).date()
    sql = relative_rotation_sql("returns", "pairs", window, momentum_weeks, day)
    return RELATIVE_ROTATION.conform(query_frames(sql, returns=returns, pairs=pairs))
