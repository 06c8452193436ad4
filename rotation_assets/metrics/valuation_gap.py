"""Small-cap vs large-cap valuation: published P/E points, Yahoo snapshots and a price proxy.

The published points are ``reference.valuation_points`` (``rotation_assets.reference.
valuation_points`` says what each field means and how index names are classed).

``analytics.valuation_gap``: one row per comparison of a small-cap P/E with a large-cap P/E.

- ``relative_pe = small_pe / large_pe``; ``discount = 1 - relative_pe`` (0.25 = small caps
  trade 25% below large caps on this measure; negative = at a premium).
- Published rows (``origin = 'published'``): every small-cap point paired with every large-cap
  point of the same date, the same metric and the *same source text* (figures from different
  sources are never mixed). A published ``relative_forward_pe`` gives ``relative_pe`` directly,
  with ``small_pe`` and ``large_pe`` null and ``metric = 'forward_pe'``. ``confidence`` is the
  lower of the two points'. ``pair_id`` is the rotation pair whose small and large tickers are
  the points' tickers (^RUT and ^GSPC -> RUT_GSPC), else null.
- Snapshot rows (``origin = 'snapshot'``): per rotation pair and trade_date of
  ``raw.valuation_snapshots`` where both tickers have a row: forward P/E when both sides have
  one, else trailing P/E when both have one (``metric`` says which), else no row. Labels are the
  tickers; ``confidence`` is 'low' (Yahoo does not document how it computes these fields, and
  its ETF values come and go).
- Only comparisons with both sides known (positive P/Es) or a published relative appear.

``analytics.valuation_price_proxy`` is a PRICE-ONLY PROXY, NOT A VALUATION: it uses no earnings.
Per pair and session t, with ``ratio`` the small/large ratio of ``analytics.relative_strength``
(100 * small index / large index on the pair's basis: price for the index pairs, total
return for the ETF pairs):

- the *window* is the pair's sessions with trade_date in [t - 25 calendar years, t] (both ends
  included; 25 years before 29 February is 28 February), so it only looks back and later rows
  never change a value; ``window_start`` is its first session, ``window_sessions`` its size
  (less than 25 years of sessions while the pair's history is shorter).
- ``price_ratio_percentile`` = (sessions in the window whose ratio <= today's ratio) /
  ``window_sessions``: in (0, 1], 1 at a 25-year high of the ratio; ties count as <=.

A low percentile says small caps have lagged large caps in market value over the window, not
that they are cheap: the ratio moves with relative returns whatever happens to earnings.
"""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd

from rotation_assets.metrics.provenance import with_source
from rotation_assets.reference.valuation_points import (
    CONFIDENCE_LEVELS,
    RELATIVE_METRICS,
    point_side,
    split_relative,
)
from rotation_assets.sources.valuation_snapshots import SNAPSHOT_SOURCE
from rotation_assets.warehouse.table_spec import Column, TableSpec

SNAPSHOT_CONFIDENCE = "low"
PROXY_MEASURE = "price ratio percentile (proxy, not P/E)"


VALUATION_GAP = TableSpec(
    schema="analytics",
    name="valuation_gap",
    description=(
        "Small-cap vs large-cap P/E: relative_pe = small_pe / large_pe and discount = 1 - "
        "relative_pe, from published points of one source and date (origin 'published'; a "
        "published relative forward P/E is taken as is) and from Yahoo snapshots per rotation "
        "pair (origin 'snapshot'; forward P/E, else trailing when either side lacks it)."
    ),
    columns=(
        Column(
            "as_of", "DATE", "Date of the points, or trade_date of the snapshots.", nullable=False
        ),
        Column(
            "pair_id",
            "VARCHAR",
            "Rotation pair whose small and large tickers these are; null when the published "
            "indices are not a pair (e.g. S&P 600 vs S&P 500).",
        ),
        Column("small_label", "VARCHAR", "Small-cap side: index name or ticker.", nullable=False),
        Column("large_label", "VARCHAR", "Large-cap side: index name or ticker.", nullable=False),
        Column(
            "metric",
            "VARCHAR",
            "P/E compared: forward_pe or trailing_pe (snapshots fall back to trailing_pe when "
            "either side lacks a forward P/E).",
            nullable=False,
        ),
        Column("small_pe", "DOUBLE", "Small-cap P/E; null when only the ratio was published."),
        Column("large_pe", "DOUBLE", "Large-cap P/E; null when only the ratio was published."),
        Column(
            "relative_pe",
            "DOUBLE",
            "small_pe / large_pe (or the published relative P/E); < 1 = small caps cheaper.",
            nullable=False,
        ),
        Column(
            "discount",
            "DOUBLE",
            "1 - relative_pe: how far below the large-cap P/E the small-cap P/E is.",
            nullable=False,
        ),
        Column(
            "source",
            "VARCHAR",
            f"Citation of the published figures, or '{SNAPSHOT_SOURCE}' for snapshots.",
            nullable=False,
        ),
        Column(
            "confidence",
            "VARCHAR",
            "Lower confidence of the two points (seed scale); 'low' for snapshots.",
            nullable=False,
        ),
        Column("origin", "VARCHAR", "'published' (seed) or 'snapshot' (Yahoo).", nullable=False),
    ),
    key=("as_of", "origin", "small_label", "large_label", "metric", "source"),
)

PRICE_RATIO_PERCENTILE = with_source(
    TableSpec(
        schema="analytics",
        name="valuation_price_proxy",
        description=(
            "PRICE-ONLY PROXY, NOT A VALUATION (no earnings): per pair and session, the "
            "point-in-time percentile of the small/large ratio of analytics.relative_strength "
            "within the pair's sessions of the trailing 25 calendar years."
        ),
        columns=(
            Column("trade_date", "DATE", "NYSE session.", nullable=False),
            Column("pair_id", "VARCHAR", "Rotation pair, e.g. RUT_GSPC.", nullable=False),
            Column("ratio", "DOUBLE", "relative_strength's ratio this session.", nullable=False),
            Column(
                "price_ratio_percentile",
                "DOUBLE",
                "Share of the window's sessions whose ratio <= this session's (ties count), in "
                "(0, 1]. A price proxy: says nothing about earnings.",
                nullable=False,
            ),
            Column(
                "window_start",
                "DATE",
                "First session of the window [trade_date - 25 calendar years, trade_date].",
                nullable=False,
            ),
            Column("window_sessions", "INTEGER", "Sessions in the window.", nullable=False),
            Column("measure", "VARCHAR", f"Always '{PROXY_MEASURE}'.", nullable=False),
        ),
        key=("trade_date", "pair_id"),
    )
)


def _lower_confidence(a: pd.Series, b: pd.Series) -> pd.Series:
    rank = {level: i for i, level in enumerate(CONFIDENCE_LEVELS)}
    return pd.Series(np.where(a.map(rank) <= b.map(rank), a, b), index=a.index)


def _published_gap(
    points: pd.DataFrame, pair_by_tickers: dict[tuple[str, str], str]
) -> pd.DataFrame:
    if "side" not in points.columns:  # e.g. read back from reference.valuation_points
        points = points.assign(
            side=[point_side(m, i) for m, i in zip(points["metric"], points["index"], strict=True)]
        )
    keys = ["date", "source", "metric"]
    columns = [*keys, "index", "ticker", "value", "confidence"]
    small = points.loc[points["side"] == "small", columns]
    large = points.loc[points["side"] == "large", columns]
    paired = small.merge(large, on=keys, suffixes=("_s", "_l"))
    from_pairs = pd.DataFrame(
        {
            "as_of": paired["date"],
            "pair_id": [
                pair_by_tickers.get((s, lg))
                for s, lg in zip(paired["ticker_s"], paired["ticker_l"], strict=True)
            ],
            "small_label": paired["index_s"],
            "large_label": paired["index_l"],
            "metric": paired["metric"],
            "small_pe": paired["value_s"],
            "large_pe": paired["value_l"],
            "relative_pe": paired["value_s"] / paired["value_l"],
            "source": paired["source"],
            "confidence": _lower_confidence(paired["confidence_s"], paired["confidence_l"]),
        }
    )

    direct = points.loc[points["side"] == "relative"]
    labels = [split_relative(name) or (name, "") for name in direct["index"]]
    # A relative point's ticker, when given, reads '<small>/<large>' like its index.
    tickers = [split_relative(t) if isinstance(t, str) else None for t in direct["ticker"]]
    from_relatives = pd.DataFrame(
        {
            "as_of": direct["date"],
            "pair_id": [pair_by_tickers.get(t) if t else None for t in tickers],
            "small_label": [small_label for small_label, _ in labels],
            "large_label": [large_label for _, large_label in labels],
            "metric": direct["metric"].map(RELATIVE_METRICS),
            "small_pe": np.nan,
            "large_pe": np.nan,
            "relative_pe": direct["value"],
            "source": direct["source"],
            "confidence": direct["confidence"],
        }
    )
    frames = [f for f in (from_pairs, from_relatives) if not f.empty]
    out = pd.concat(frames, ignore_index=True) if frames else from_pairs
    return out.assign(origin="published")


def _snapshot_gap(snapshots: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    if snapshots.duplicated(["trade_date", "ticker"]).any():
        raise ValueError("snapshots has more than one row for a ticker and trade_date")
    columns = ["trade_date", "ticker", "forward_pe", "trailing_pe", "source"]
    snaps = snapshots.loc[:, columns].copy()
    for column in ("forward_pe", "trailing_pe"):
        pe = snaps[column].astype("float64")
        # A P/E <= 0 cannot be compared as a ratio: treat it as unknown.
        snaps[column] = pe.where(pe > 0)
    parts = []
    for pair in pairs.itertuples(index=False):
        small = snaps[snaps["ticker"] == pair.small]
        large = snaps[snaps["ticker"] == pair.large]
        both = small.merge(large, on="trade_date", suffixes=("_s", "_l"))
        forward = both["forward_pe_s"].notna() & both["forward_pe_l"].notna()
        trailing = both["trailing_pe_s"].notna() & both["trailing_pe_l"].notna()
        both = both.assign(metric=np.where(forward, "forward_pe", "trailing_pe"))
        both = both[forward | trailing]
        use_forward = both["metric"] == "forward_pe"
        small_pe = both["forward_pe_s"].where(use_forward, both["trailing_pe_s"])
        large_pe = both["forward_pe_l"].where(use_forward, both["trailing_pe_l"])
        same_source = both["source_s"] == both["source_l"]
        parts.append(
            pd.DataFrame(
                {
                    "as_of": both["trade_date"],
                    "pair_id": pair.pair_id,
                    "small_label": pair.small,
                    "large_label": pair.large,
                    "metric": both["metric"],
                    "small_pe": small_pe,
                    "large_pe": large_pe,
                    "relative_pe": small_pe / large_pe,
                    "source": both["source_s"].where(
                        same_source, both["source_s"] + "; " + both["source_l"]
                    ),
                    "confidence": SNAPSHOT_CONFIDENCE,
                }
            )
        )
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=VALUATION_GAP.column_names)
    return pd.concat(parts, ignore_index=True).assign(origin="snapshot")


def valuation_gap(
    points: pd.DataFrame, snapshots: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    """Small-cap vs large-cap P/E comparisons from published points and Yahoo snapshots.

    ``points`` is ``load_valuation_points()`` (with ``side``), ``snapshots`` rows of
    ``raw.valuation_snapshots``, ``pairs`` the rotation pairs (pair_id, small, large). Sorted by
    as_of, origin, small_label, large_label, metric. See the module docstring for definitions.
    """
    pair_by_tickers = {
        (p.small, p.large): p.pair_id for p in pairs[["pair_id", "small", "large"]].itertuples()
    }
    parts = [_published_gap(points, pair_by_tickers), _snapshot_gap(snapshots, pairs)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return VALUATION_GAP.conform(pd.DataFrame(columns=VALUATION_GAP.column_names))
    frame = pd.concat(parts, ignore_index=True)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["discount"] = 1.0 - frame["relative_pe"]
    frame = frame.sort_values(
        ["as_of", "origin", "small_label", "large_label", "metric"], kind="stable"
    )
    return VALUATION_GAP.conform(frame)


def _window_percentiles(values: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """For each i: share of values[lo[i] : i + 1] that are <= values[i].

    ``lo`` must be non-decreasing. A sorted list of the window's values is kept up to date (add
    today's, drop those that left), so each step is a bisect plus a memmove of at most the
    window's length, instead of comparing against the whole window.
    """
    window: list[float] = []
    out = np.empty(len(values))
    start = 0
    for i, value in enumerate(values.tolist()):
        bisect.insort(window, value)
        for old in values[start : lo[i]].tolist():
            del window[bisect.bisect_left(window, old)]
        start = lo[i]
        out[i] = bisect.bisect_right(window, value) / (i - start + 1)
    return out


def price_ratio_percentile(
    relative: pd.DataFrame, years: int = 25, since: pd.Timestamp | None = None
) -> pd.DataFrame:
    """PRICE-ONLY PROXY: point-in-time percentile of each pair's ratio over ``years`` years.

    ``relative`` has trade_date, pair_id, ratio and source (``analytics.relative_strength``);
    sessions with a null ratio are left out. Only the rows from ``since`` on when given (each
    still looks back over its whole window). Sorted by trade_date, pair_id. See the module
    docstring.
    """
    if years <= 0:
        raise ValueError(f"years must be positive, got {years}")
    columns = ["trade_date", "pair_id", "ratio", "source"]
    frame = relative.loc[:, columns].dropna(subset=["ratio"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    frame = frame.sort_values(["pair_id", "trade_date"], kind="stable")
    if frame.duplicated(["pair_id", "trade_date"]).any():
        raise ValueError("relative has more than one row for a pair and session")
    parts = []
    for _, pair in frame.groupby("pair_id", sort=False):
        dates = pd.DatetimeIndex(pair["trade_date"])
        lo = dates.searchsorted(dates - pd.DateOffset(years=years), side="left")
        values = pair["ratio"].to_numpy(dtype="float64")
        first = 0 if since is None else int(dates.searchsorted(since, side="left"))
        if first == 0:
            percentiles = _window_percentiles(values, lo)
        else:
            # A few new sessions: count each one's window directly (same counts, same division).
            percentiles = np.full(len(values), np.nan)
            for i in range(first, len(values)):
                window = values[lo[i] : i + 1]
                percentiles[i] = np.count_nonzero(window <= values[i]) / len(window)
        part = pair.assign(
            price_ratio_percentile=percentiles,
            window_start=dates[lo],
            window_sessions=np.arange(1, len(pair) + 1) - lo,
        )
        parts.append(part.iloc[first:])
    if not parts:
        return PRICE_RATIO_PERCENTILE.empty()
    result = pd.concat(parts).assign(measure=PROXY_MEASURE)
    result = result.sort_values(["trade_date", "pair_id"], kind="stable")
    return PRICE_RATIO_PERCENTILE.conform(result)
