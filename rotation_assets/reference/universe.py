"""The universe and rotation pairs: reading and validating the reference seeds.

``seeds/universe.csv`` lists every instrument loaded, with its role in the rotation story, the
benchmark it is measured against, what its stored prices give (``return_basis``: is ``close`` a
price, or does it already include dividends?) and the sessions it is expected on (from
``first_trading_date``, up to an optional ``last_trading_date`` for a delisted instrument).
``seeds/rotation_pairs.csv`` pairs two legs to compare: small caps against large caps (a *size*
pair) or small-cap value against small-cap growth (a *style* pair). What each leg is and whether
the pair compares price or total return are derived from the universe, never typed twice.

Every problem raises ``SeedError`` naming the file, the 1-based line (the header is line 1) and
the value, before anything is written.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.seed_files import SeedError, parse_seed_dates, read_seed
from rotation_assets.warehouse.table_spec import Column, TableSpec
from rotation_assets.warehouse.writes import read_table

# role -> (instrument types it may have, what it is as a leg of a rotation pair or None).
ROLES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "small_cap_index": (("index",), "small_cap"),
    "small_cap_etf": (("etf",), "small_cap"),
    "large_cap_index": (("index",), "large_cap"),
    "large_cap_etf": (("etf",), "large_cap"),
    "small_value_etf": (("etf",), "small_value"),
    "small_growth_etf": (("etf",), "small_growth"),
    "small_cap_stock": (("stock",), None),
    "large_cap_stock": (("stock",), None),
    "commodity": (("etf", "index"), None),
    "currency": (("etf", "index"), None),
    "rates": (("etf", "index"), None),
    "volatility": (("index", "etf"), None),
}
STOCK_ROLES = ("small_cap_stock", "large_cap_stock")
INSTRUMENT_TYPES = ("index", "etf", "stock")

# What a ticker's stored close and adj_close are (the csv files: ../shared/data/PROVENANCE.md).
RETURN_BASES: dict[str, str] = {
    "price_and_total_return": "close is the split-adjusted price (no dividends) and adj_close "
    "adds the dividends: both a price return and a total return",
    "total_return_only": "an adjusted-only series: close = adj_close, both already include "
    "dividends; no price-only close, so its 'price' return is a total return",
    "no_dividends": "pays no dividends: close = adj_close is both the price and the total return",
    "price_only": "a price index (or level): close = adj_close, dividends not included; no total "
    "return",
}
# Return bases that give a price return / a total return.
GIVES_PRICE_RETURN = ("price_and_total_return", "no_dividends", "price_only")
GIVES_TOTAL_RETURN = ("price_and_total_return", "total_return_only", "no_dividends")

# comparison -> (what the pair's `small` leg is, what its `large` leg is).
COMPARISONS: dict[str, tuple[str, str]] = {
    "size": ("small_cap", "large_cap"),
    "style": ("small_value", "small_growth"),
}
PAIR_BASES = ("total_return", "price")


def _described(values) -> str:
    return ", ".join(values)


UNIVERSE = TableSpec(
    schema="reference",
    name="universe",
    description=(
        "Instruments loaded every NYSE session, with their role, benchmark and what their stored "
        "prices give (seed: seeds/universe.csv)."
    ),
    columns=(
        Column("ticker", "VARCHAR", "Yahoo Finance symbol, e.g. ^RUT, IWM.", nullable=False),
        Column("name", "VARCHAR", "Instrument name."),
        Column(
            "role",
            "VARCHAR",
            f"The instrument's part in the rotation story: one of {_described(ROLES)}. Small or "
            "large cap for stocks as the source documents in ../shared/seeds place them.",
            nullable=False,
        ),
        Column(
            "instrument_type", "VARCHAR", f"One of {_described(INSTRUMENT_TYPES)}.", nullable=False
        ),
        Column(
            "benchmark",
            "VARCHAR",
            "Universe ticker this instrument is measured against: IWM for small-cap stocks and "
            "the small-cap value/growth ETFs, SPY for large-cap stocks, the other ETFs and the "
            "macro ETFs (commodity, currency, rates), ^GSPC for the other indices (price against "
            "price); empty for SPY, ^GSPC and ^VIX (a volatility level has no relative strength).",
        ),
        Column(
            "return_basis",
            "VARCHAR",
            "What the ticker's close and adj_close are in the csv price files: "
            + "; ".join(f"{k} = {v}" for k, v in RETURN_BASES.items())
            + ". The yfinance source always delivers close as the split-adjusted price and "
            "adj_close with dividends.",
            nullable=False,
        ),
        Column(
            "first_trading_date",
            "DATE",
            "First session with a price in the source; the ticker is expected on every session "
            "from here on.",
            nullable=False,
        ),
        Column(
            "last_trading_date",
            "DATE",
            "Last session of a delisted instrument: no bar is expected after it; empty while it "
            "trades. A series that merely stops early without it is a stale tail (warned).",
        ),
    ),
    key=("ticker",),
)

ROTATION_PAIRS = TableSpec(
    schema="reference",
    name="rotation_pairs",
    description=(
        "Pairs the rotation analytics compare (seeds/rotation_pairs.csv): small caps against "
        "large caps (size) or small-cap value against small-cap growth (style), each on one "
        "return basis (price or total return)."
    ),
    columns=(
        Column("pair_id", "VARCHAR", "Identifier of the pair, e.g. IWM_SPY.", nullable=False),
        Column(
            "small",
            "VARCHAR",
            "Ticker of the first leg: the small-cap side of a size pair, the value side of a "
            "style pair. The analytics' small_* columns and leader 'small' refer to it.",
            nullable=False,
        ),
        Column(
            "large",
            "VARCHAR",
            "Ticker of the second leg: the large-cap side of a size pair, the growth side of a "
            "style pair. The analytics' large_* columns and leader 'large' refer to it.",
            nullable=False,
        ),
        Column(
            "comparison",
            "VARCHAR",
            "size (small caps vs large caps) or style (small-cap value vs small-cap growth).",
            nullable=False,
        ),
        Column(
            "small_leg_kind",
            "VARCHAR",
            "What the small leg is, from its universe role: small_cap or small_value.",
            nullable=False,
        ),
        Column(
            "large_leg_kind",
            "VARCHAR",
            "What the large leg is, from its universe role: large_cap or small_growth.",
            nullable=False,
        ),
        Column(
            "basis",
            "VARCHAR",
            "What the pair compares, from its legs' return_basis: total_return (both legs give "
            "dividends reinvested: ETFs with adj_close, adjusted-only files, non-payers) or "
            "price (a leg is a price index). The analytics use the legs' total_return or "
            "price_return accordingly.",
            nullable=False,
        ),
        Column("description", "VARCHAR", "What the pair compares."),
    ),
    key=("pair_id",),
)
# The seed file's columns: the leg kinds and the basis are derived, not typed.
ROTATION_PAIRS_SEED = replace(
    ROTATION_PAIRS,
    columns=tuple(
        c
        for c in ROTATION_PAIRS.columns
        if c.name not in ("small_leg_kind", "large_leg_kind", "basis")
    ),
)


UNIVERSE_PATH_ENV_VAR = "ROTATION_UNIVERSE_PATH"


def universe_seed_path() -> Path:
    """``seeds/universe.csv``, or the file ROTATION_UNIVERSE_PATH names (e.g. a benchmark's)."""
    override = os.environ.get(UNIVERSE_PATH_ENV_VAR)
    return Path(override) if override else SEEDS_DIR / "universe.csv"


def pair_basis(first: str, second: str) -> str | None:
    """The return basis two instruments can be compared on, from their return_basis values:
    total_return when both give a total return, else price when both give a price return,
    else None (e.g. an adjusted-only ETF against a price index: no like-for-like measure)."""
    if first in GIVES_TOTAL_RETURN and second in GIVES_TOTAL_RETURN:
        return "total_return"
    if first in GIVES_PRICE_RETURN and second in GIVES_PRICE_RETURN:
        return "price"
    return None


def load_universe(path: Path | None = None) -> pd.DataFrame:
    """The universe seed, validated: unique tickers; known roles, instrument types and return
    bases; benchmarks that are other universe tickers comparable on one return basis; ISO
    dates, a last trading date not before the first."""
    path = path or universe_seed_path()
    frame = read_seed(path, UNIVERSE)

    def fail(i: int, problem: str) -> SeedError:
        return SeedError(f"{path} line {i + 2}: {problem}")

    for i, row in frame.iterrows():
        if row["role"] not in ROLES:
            raise fail(i, f"role {row['role']!r} is not one of {tuple(ROLES)}")
        types = ROLES[row["role"]][0]
        if row["instrument_type"] not in types:
            raise fail(
                i,
                f"instrument_type {row['instrument_type']!r} does not fit role {row['role']!r} "
                f"(expected {' or '.join(types)})",
            )
        if row["return_basis"] not in RETURN_BASES:
            raise fail(
                i, f"return_basis {row['return_basis']!r} is not one of {tuple(RETURN_BASES)}"
            )
    basis_of = dict(zip(frame["ticker"], frame["return_basis"], strict=True))
    for i, row in frame.iterrows():
        benchmark = row["benchmark"]
        if not benchmark:
            continue
        if benchmark == row["ticker"]:
            raise fail(i, f"{row['ticker']} cannot be its own benchmark")
        if benchmark not in basis_of:
            raise fail(
                i, f"benchmark {benchmark!r} of {row['ticker']} is not a ticker of the universe"
            )
        if pair_basis(row["return_basis"], basis_of[benchmark]) is None:
            raise fail(
                i,
                f"{row['ticker']} ({row['return_basis']}) and its benchmark {benchmark} "
                f"({basis_of[benchmark]}) share no return basis (neither both price nor both "
                "total return)",
            )
    frame["first_trading_date"] = parse_seed_dates(path, frame, "first_trading_date")
    listed_until = frame["last_trading_date"] != ""
    last = pd.Series(pd.NaT, index=frame.index).astype(frame["first_trading_date"].dtype)
    if listed_until.any():
        last[listed_until] = parse_seed_dates(path, frame[listed_until], "last_trading_date")
    early = frame.index[last < frame["first_trading_date"]]
    if len(early):
        i = early[0]
        raise fail(
            i,
            f"last_trading_date {last[i].date()} is before first_trading_date "
            f"{frame.at[i, 'first_trading_date'].date()}",
        )
    frame["last_trading_date"] = last
    frame["benchmark"] = frame["benchmark"].where(frame["benchmark"] != "", None)
    return frame


def load_rotation_pairs(
    universe: pd.DataFrame, path: Path = SEEDS_DIR / "rotation_pairs.csv"
) -> pd.DataFrame:
    """The pairs seed, validated and completed: both legs are universe tickers whose roles make
    the stated comparison (size: small_cap vs large_cap; style: small_value vs small_growth) and
    whose return bases share one (the pair's ``basis``)."""
    frame = read_seed(path, ROTATION_PAIRS_SEED)
    by_ticker = universe.set_index("ticker")
    leg_kinds: dict[str, list[str]] = {"small": [], "large": []}
    bases = []
    for i, row in frame.iterrows():
        where = f"{path} line {i + 2}"
        for side in ("small", "large"):
            if row[side] not in by_ticker.index:
                raise SeedError(
                    f"{where}: {side} ticker {row[side]!r} of pair {row['pair_id']} is not in "
                    "the universe"
                )
        if row["comparison"] not in COMPARISONS:
            raise SeedError(
                f"{where}: comparison {row['comparison']!r} is not one of {tuple(COMPARISONS)}"
            )
        roles = {side: by_ticker.at[row[side], "role"] for side in ("small", "large")}
        kinds = {side: ROLES.get(roles[side], ((), None))[1] for side in ("small", "large")}
        wanted = dict(zip(("small", "large"), COMPARISONS[row["comparison"]], strict=True))
        if kinds != wanted:
            raise SeedError(
                f"{where}: a {row['comparison']} pair compares a {wanted['small']} leg (small) "
                f"with a {wanted['large']} leg (large), but {row['small']} is a "
                f"{roles['small']} and {row['large']} a {roles['large']}"
            )
        legs = {side: by_ticker.at[row[side], "return_basis"] for side in ("small", "large")}
        basis = pair_basis(legs["small"], legs["large"])
        if basis is None:
            raise SeedError(
                f"{where}: {row['small']} ({legs['small']}) and {row['large']} "
                f"({legs['large']}) share no return basis (neither both price nor both total "
                "return)"
            )
        for side in ("small", "large"):
            leg_kinds[side].append(kinds[side])
        bases.append(basis)
    frame["small_leg_kind"] = leg_kinds["small"]
    frame["large_leg_kind"] = leg_kinds["large"]
    frame["basis"] = bases
    return frame[ROTATION_PAIRS.column_names]


def tickers_in_window(universe: pd.DataFrame, start: dt.date, end: dt.date) -> list[str]:
    """Tickers expected on some session of [start, end]: listed by ``end`` and not delisted
    before ``start`` (``last_trading_date``)."""
    listed = universe["first_trading_date"] <= pd.Timestamp(end)
    last = universe.get("last_trading_date")
    if last is not None:
        listed &= last.isna() | (last >= pd.Timestamp(start))
    return sorted(universe.loc[listed, "ticker"])


def expected_tickers(universe: pd.DataFrame, session: dt.date) -> list[str]:
    """Tickers that must have a price on ``session``: listed by then, not delisted before it.
    (A ticker whose series stopped is excused by the price audit, which knows its history.)"""
    # Compared as timestamps: converting the column to dates costs ms per call, per session.
    return tickers_in_window(universe, session, session)


def read_universe(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.universe`` as stored, dates as timestamps, by ticker."""
    frame = UNIVERSE.with_timestamps(read_table(con, UNIVERSE))
    return frame.sort_values("ticker").reset_index(drop=True)


def read_rotation_pairs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """``reference.rotation_pairs`` as stored, by pair_id."""
    return read_table(con, ROTATION_PAIRS).sort_values("pair_id").reset_index(drop=True)
