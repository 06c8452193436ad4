"""``analytics.pair_spreads``: the daily spread of each rotation pair, on the pair's basis.

A pair compares its legs on one basis (``reference.rotation_pairs.basis``, derived from the
legs' return_basis): ``total_return`` (dividends reinvested: ETFs with an adjusted close,
adjusted-only files) or ``price`` (a leg is a price index such as ^RUT, whose close carries no
dividends).

Aligned legs: both returns of a row span the same interval. A leg *has a price* on a session
when it has a ``daily_returns`` row there or a row measured from there (its ``previous_date``);
the pair's *common sessions* are those on which both legs have a price. For each common
session d after the pair's first, with p the previous common session, each leg's return is its
own returns compounded over (p, d]::

    leg_return = prod(1 + r_i) - 1    over the leg's rows with p < trade_date <= d

(a single row is taken as it is, not as ``(1 + r) - 1``, so every session that both legs trade
keeps its return bit for bit). On a session one leg is missing, the pair has no row; on the
next common session the other leg's returns over both sessions are compounded, so a two-session
return is never compared with a one-session one. A leg's return over (p, d] is unknown when
one of its rows there has no return (null or NaN on the pair's basis): the pair has no row on d,
and goes on from d. A ticker's first session has no return, and a leg that starts later, or
stops earlier, has no price outside its own sessions: a pair starts at its legs' first common
session (its first row on the next one) and ends at their last common session, never with half
a row. Definitions, with returns simple (0.01 = +1%):

- ``basis``: the pair's basis, as the pairs table states it.
- ``previous_date``: p, the previous common session: both returns are measured from its close.
- ``small_return`` / ``large_return``: the return of the small / large leg over (p, d] on that
  basis (its ``total_return`` for a total_return pair, its ``price_return`` for a price pair),
  compounded as above.
- ``spread = small_return - large_return``, computed as exactly that subtraction, so the
  identity holds bit for bit in the stored values.
- ``leader``: ``'small'`` when spread > 0, ``'large'`` when spread < 0, ``'tie'`` when spread == 0
  exactly (no tolerance: only identical returns tie).
- ``source``: the price sources of the return rows of both legs over (p, d], combined.

Computed in DuckDB SQL (``pair_spreads_sql``), from a start date on: a new session appends one
row per pair, a re-loaded session rebuilds from that session on, reading each leg's returns
from the pair's last common session before it (point in time: a row of session d reads only
returns dated on or before d).
"""

from __future__ import annotations

import pandas as pd

from rotation_assets.metrics.provenance import sql_sources_of, with_source
from rotation_assets.metrics.sql_on_frames import query_frames
from rotation_assets.trading_days import previous_session
from rotation_assets.warehouse.table_spec import Column, TableSpec

PAIR_SPREADS = with_source(
    TableSpec(
        schema="analytics",
        name="pair_spreads",
        description=(
            "Daily spread of each rotation pair on the pair's basis (price or total return, "
            "reference.rotation_pairs.basis): one row per pair and NYSE session on which both "
            "legs have a return, both returns measured from the same previous session (the "
            "pair's previous common session: a leg that missed a session has its other leg "
            "compounded over both), so a pair whose leg stops ends at the legs' last common "
            "session. spread = small_return - large_return exactly; leader is small (spread > "
            "0), large (spread < 0) or tie (spread = 0)."
        ),
        columns=(
            Column("trade_date", "DATE", "NYSE session.", nullable=False),
            Column("pair_id", "VARCHAR", "Rotation pair, e.g. IWM_SPY.", nullable=False),
            Column(
                "small",
                "VARCHAR",
                "Ticker of the small leg (small caps; value for a style pair).",
                nullable=False,
            ),
            Column(
                "large",
                "VARCHAR",
                "Ticker of the large leg (large caps; growth for a style pair).",
                nullable=False,
            ),
            Column(
                "basis",
                "VARCHAR",
                "What both returns are: total_return (dividends reinvested) or price (price "
                "return), the pair's basis in reference.rotation_pairs.",
                nullable=False,
            ),
            Column(
                "previous_date",
                "DATE",
                "The pair's previous common session p (both legs have a price there): both "
                "returns run from p's close to trade_date's, so they span the same sessions.",
                nullable=False,
            ),
            Column(
                "small_return",
                "DOUBLE",
                "Return of the small leg from previous_date to trade_date on the pair's basis, "
                "simple (0.01 = +1%): its daily returns over those sessions compounded (one "
                "session unless the other leg missed one).",
                nullable=False,
            ),
            Column(
                "large_return",
                "DOUBLE",
                "Return of the large leg from previous_date to trade_date on the pair's basis, "
                "simple (0.01 = +1%), compounded over the same sessions as small_return.",
                nullable=False,
            ),
            Column(
                "spread",
                "DOUBLE",
                "small_return - large_return (exactly that subtraction); > 0 when small-caps led.",
                nullable=False,
            ),
            Column(
                "leader",
                "VARCHAR",
                "small if spread > 0, large if spread < 0, tie if spread = 0 exactly.",
                nullable=False,
            ),
        ),
        key=("trade_date", "pair_id"),
    )
)

LEADERS = ("small", "large", "tie")


def leader_sql(spread: str) -> str:
    """SQL: 'small' / 'large' / 'tie' by the sign of ``spread`` (exact zero is a tie)."""
    return f"CASE WHEN {spread} > 0 THEN 'small' WHEN {spread} < 0 THEN 'large' ELSE 'tie' END"


def leader_of(spread: pd.Series) -> pd.Series:
    """The leader of each spread, by ``leader_sql`` (for frames built in tests)."""
    frame = pd.DataFrame({"spread": spread.astype("float64").to_numpy()})
    labels = query_frames(f"SELECT {leader_sql('spread')} AS leader FROM frame", frame=frame)
    return pd.Series(labels["leader"].to_numpy(), index=spread.index, dtype="object")


def pair_spreads_sql(returns: str, pairs: str, start: str | None = None) -> str:
    """SQL for the spreads of every session (>= ``start``, a SQL date expression, if given),
    reading ``returns`` (trade_date, ticker, previous_date, price_return, total_return, source)
    and ``pairs`` (pair_id, small, large, basis). Each leg's returns are read from the pair's
    last common session before ``start`` on, whatever their dates."""
    since = f"session >= {start}" if start else "TRUE"

    def leg_rows(leg: str) -> str:
        on_basis = (
            "CAST(CASE WHEN p.basis = 'price' THEN r.price_return ELSE r.total_return END "
            "AS DOUBLE)"
        )
        return (
            f"SELECT p.pair_id, '{leg}' AS leg, r.trade_date, r.previous_date, r.source, "
            f"{on_basis} AS r FROM {pairs} p JOIN {returns} r ON r.ticker = p.{leg}"
        )

    return f"""
WITH leg_rows AS (
    -- each leg's return rows on the pair's basis; a NaN return is no return (null)
    SELECT pair_id, leg, trade_date, previous_date, source,
           CASE WHEN isnan(r) THEN NULL ELSE r END AS r
    FROM ({leg_rows("small")} UNION ALL {leg_rows("large")})
),
priced AS (
    -- the sessions on which a leg has a price: its rows' dates and the dates they start from
    -- (mostly the same sessions twice: counted once per leg below)
    SELECT pair_id, leg, trade_date AS session FROM leg_rows
    UNION ALL
    SELECT pair_id, leg, previous_date FROM leg_rows WHERE previous_date IS NOT NULL
),
common AS (
    -- the pair's common sessions (both legs priced), each with the one before it
    SELECT pair_id, session,
           lag(session) OVER (PARTITION BY pair_id ORDER BY session) AS previous_date
    FROM priced
    GROUP BY pair_id, session
    HAVING count(DISTINCT leg) = 2
),
wanted AS (
    SELECT pair_id, session, previous_date FROM common
    WHERE previous_date IS NOT NULL AND {since}
),
reach AS (SELECT pair_id, min(previous_date) AS after FROM wanted GROUP BY pair_id),
spans AS (
    -- each leg row belongs to the first common session on or after it: the interval (p, d]
    SELECT c.pair_id, c.session AS trade_date, x.leg,
           count(*) AS n_rows,
           count(x.r) AS n_known,
           min(x.previous_date) AS starts_from,
           max(x.trade_date) AS ends_on,
           CASE WHEN count(*) = 1 THEN any_value(x.r)
                ELSE product(1 + x.r) - 1 END AS leg_return,
           -- one label per daily_returns row: combined (split, sorted) with the other leg's
           string_agg(x.source, '+') AS source
    FROM (SELECT x.* FROM leg_rows x JOIN reach b
          ON b.pair_id = x.pair_id AND x.trade_date > b.after) x
    ASOF JOIN common c ON c.pair_id = x.pair_id AND x.trade_date <= c.session
    GROUP BY c.pair_id, c.session, x.leg
),
legs AS (
    SELECT w.pair_id, p.small, p.large, p.basis, w.session AS trade_date, w.previous_date,
           s.leg_return AS small_return, l.leg_return AS large_return,
           {sql_sources_of("s.source", "l.source")} AS source
    FROM wanted w
    JOIN {pairs} p ON p.pair_id = w.pair_id
    JOIN spans s ON s.pair_id = w.pair_id AND s.trade_date = w.session AND s.leg = 'small'
    JOIN spans l ON l.pair_id = w.pair_id AND l.trade_date = w.session AND l.leg = 'large'
    -- both legs' returns known over the whole of (p, d], each chained from p's close to d's
    WHERE s.n_known = s.n_rows AND l.n_known = l.n_rows
      AND s.starts_from = w.previous_date AND l.starts_from = w.previous_date
      AND s.ends_on = w.session AND l.ends_on = w.session
)
SELECT trade_date, pair_id, small, large, basis, previous_date, small_return, large_return,
       small_return - large_return AS spread,
       {leader_sql("small_return - large_return")} AS leader,
       source
FROM legs
ORDER BY trade_date, pair_id
"""


def _with_previous_dates(returns: pd.DataFrame) -> pd.DataFrame:
    """``returns`` with ``previous_date`` filled where it is absent: the ticker's previous row,
    or for its first row the NYSE session before it (each row a return from the bar before,
    as ``daily_returns`` computes them)."""
    frame = returns.copy()
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    if "previous_date" not in frame:
        frame["previous_date"] = pd.NaT
    frame["previous_date"] = pd.to_datetime(frame["previous_date"])
    order = frame.sort_values(["ticker", "trade_date"]).index
    lagged = frame.loc[order].groupby("ticker")["trade_date"].shift(1)
    frame["previous_date"] = frame["previous_date"].fillna(lagged)
    first = frame["previous_date"].isna()
    frame.loc[first, "previous_date"] = [
        pd.Timestamp(previous_session(day.date())) for day in frame.loc[first, "trade_date"]
    ]
    return frame


def pair_spreads(returns: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per pair and common session, both legs' returns over the same interval on the pair's
    basis, the spread, leader and source (the module's definition). ``returns`` has
    trade_date, ticker, price_return, total_return, source and, as ``daily_returns`` has it,
    previous_date (absent or empty: the ticker's previous row, or the NYSE session before its
    first row); other columns are ignored. ``pairs`` has pair_id, small, large and basis
    (price or total_return). Sorted by trade_date, pair_id.
    """
    if returns.duplicated(["trade_date", "ticker"]).any():
        raise ValueError("returns has more than one row for a ticker and session")
    returns = _with_previous_dates(returns)
    out = query_frames(pair_spreads_sql("returns", "pairs"), returns=returns, pairs=pairs)
    return PAIR_SPREADS.conform(out)
