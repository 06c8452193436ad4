"""valuation_gap: the points seed, published and snapshot P/E gaps, and the price-only proxy."""

import numpy as np
import pandas as pd
import pytest

from rotation_assets.metrics.valuation_gap import (
    PRICE_RATIO_PERCENTILE,
    PROXY_MEASURE,
    VALUATION_GAP,
    price_ratio_percentile,
    valuation_gap,
)
from rotation_assets.reference.seed_files import SeedError
from rotation_assets.reference.universe import load_rotation_pairs, load_universe
from rotation_assets.reference.valuation_points import index_side, load_valuation_points
from rotation_assets.sources.valuation_snapshots import SNAPSHOT_SOURCE, VALUATION_SNAPSHOTS

HEADER = "date,index,ticker,metric,value,source,confidence,note\n"
PAIRS = pd.DataFrame(
    {
        "pair_id": ["RUT_GSPC", "RUT_IXIC", "IWM_SPY", "IWM_QQQ"],
        "small": ["^RUT", "^RUT", "IWM", "IWM"],
        "large": ["^GSPC", "^IXIC", "SPY", "QQQ"],
    }
)


def no_snapshots() -> pd.DataFrame:
    return VALUATION_SNAPSHOTS.conform(pd.DataFrame(columns=VALUATION_SNAPSHOTS.column_names))


def points_from(tmp_path, body: str) -> pd.DataFrame:
    path = tmp_path / "valuation_points.csv"
    path.write_text(HEADER + body)
    return load_valuation_points(path)


def snapshots_frame(rows: list[tuple]) -> pd.DataFrame:
    """(trade_date, ticker, trailing_pe, forward_pe[, source]) tuples as snapshot rows."""
    frame = pd.DataFrame(
        [(*r, SNAPSHOT_SOURCE)[:5] for r in rows],
        columns=["trade_date", "ticker", "trailing_pe", "forward_pe", "source"],
    )
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    frame["fetched_at"] = pd.Timestamp("2026-02-13 21:30")
    return VALUATION_SNAPSHOTS.conform(frame)


# --- the seed --------------------------------------------------------------------------------


def test_real_seed_loads_with_sides_and_numbers():
    points = load_valuation_points()
    assert points["date"].dtype.kind == "M"  # datetime64 (ns on pandas 2, us on pandas 3)
    assert str(points["value"].dtype) == "float64"
    assert set(points["side"]) == {"small", "large", "relative"}
    assert (points["source"] != "").all()
    relative = points[points["metric"] == "relative_forward_pe"]
    assert relative["value"].tolist() == [0.75] and relative["side"].tolist() == ["relative"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2026-02-30,S&P 500,^GSPC,forward_pe,21,src,high,\n", r"line 2: date '2026-02-30'"),
        ("2026-02-16,S&P 500,^GSPC,forward_pe,21x,src,high,\n", r"line 2: value '21x' is not"),
        ("2026-02-16,S&P 500,^GSPC,forward_pe,-3,src,high,\n", r"line 2: value '-3' is not"),
        ("2026-02-16,S&P 500,^GSPC,price_to_book,4,src,high,\n", r"line 2: metric 'price_to_b"),
        ("2026-02-16,S&P 500,^GSPC,forward_pe,21,src,sure,\n", r"line 2: confidence 'sure'"),
        ("2026-02-16,MSCI EAFE,,forward_pe,14,src,high,\n", r"line 2: index 'MSCI EAFE' is not"),
        (
            "2026-02-16,S&P 500,^GSPC,forward_pe,21,src,high,\n"
            "2026-02-16,Russell 1000 / Russell 2000,,relative_forward_pe,1.3,src,high,\n",
            r"line 3: relative_forward_pe index 'Russell 1000 / Russell 2000'",
        ),
        (
            "2026-02-16,S&P 500,^GSPC,forward_pe,21,src,high,\n"
            "2026-02-16,S&P 500,^GSPC,forward_pe,22,src,high,\n",
            r"line 3: duplicate",
        ),
        ("2026-02-16,S&P 500,^GSPC,forward_pe,21,,high,\n", r"line 2: empty source"),
    ],
)
def test_broken_points_seed_names_file_and_line(tmp_path, body, message):
    with pytest.raises(SeedError, match=r"valuation_points\.csv " + message):
        points_from(tmp_path, body)


def test_index_names_are_classed_small_or_large():
    assert index_side("Russell 2000") == "small"
    assert index_side("S&P SmallCap 600") == "small"
    assert index_side("small caps (index not named)") == "small"
    assert index_side("S&P 500") == "large"
    assert index_side("Nasdaq Composite") == "large"
    assert index_side("MSCI World") is None
    assert index_side("small caps vs S&P 500") is None  # both: ambiguous


# --- published points ------------------------------------------------------------------------


def test_real_seed_gives_the_factset_and_motley_fool_gaps():
    pairs = load_rotation_pairs(load_universe())
    gap = valuation_gap(load_valuation_points(), no_snapshots(), pairs)
    assert list(gap.columns) == VALUATION_GAP.column_names
    assert (gap["origin"] == "published").all()

    factset = gap[gap["source"] == "FactSet figures cited by Benzinga (2026-02-16)"]
    assert len(factset) == 1
    row = factset.iloc[0]
    assert row["as_of"] == pd.Timestamp("2026-02-16") and row["pair_id"] == "RUT_GSPC"
    assert (row["small_label"], row["large_label"]) == ("Russell 2000", "S&P 500")
    assert (row["small_pe"], row["large_pe"]) == (16.0, 21.0)
    assert row["relative_pe"] == pytest.approx(16 / 21) and round(row["relative_pe"], 4) == 0.7619
    assert row["discount"] == pytest.approx(1 - 16 / 21) and round(row["discount"], 4) == 0.2381
    assert row["metric"] == "forward_pe" and row["confidence"] == "medium"

    fool = gap[gap["as_of"] == pd.Timestamp("2025-12-02")]
    assert len(fool) == 1
    row = fool.iloc[0]
    assert (row["small_label"], row["large_label"]) == ("S&P 600", "S&P 500")
    assert row["relative_pe"] == pytest.approx(14.8 / 21.9)  # 0.6758
    assert row["discount"] == pytest.approx(1 - 14.8 / 21.9)  # 0.3242
    assert pd.isna(row["pair_id"])  # the S&P 600 is not in a rotation pair

    bofa = gap[gap["as_of"] == pd.Timestamp("2022-01-31")].iloc[0]
    assert (bofa["relative_pe"], bofa["discount"]) == (0.75, 0.25)
    assert pd.isna(bofa["small_pe"]) and pd.isna(bofa["large_pe"])
    assert (bofa["small_label"], bofa["large_label"]) == ("Russell 2000", "Russell 1000")
    # The lone FactSet S&P 500 point of 2025-10-29 has no small-cap partner: no row.
    assert pd.Timestamp("2025-10-29") not in set(gap["as_of"])
    assert len(gap) == 5


def test_points_pair_only_within_one_date_metric_and_source(tmp_path):
    points = points_from(
        tmp_path,
        "2026-01-05,Russell 2000,^RUT,forward_pe,15,A,high,\n"
        "2026-01-05,S&P 500,^GSPC,forward_pe,20,A,medium-low,\n"
        "2026-01-05,Nasdaq Composite,^IXIC,forward_pe,30,A,medium,\n"
        "2026-01-05,S&P 500,^GSPC,forward_pe,25,B,high,\n"  # other source: never mixed
        "2026-01-05,Russell 2000,^RUT,trailing_pe,40,A,high,\n"  # other metric: no partner
        "2026-01-06,S&P 500,^GSPC,forward_pe,21,A,high,\n"  # other date: no partner
        "2026-01-07,Russell 2000 / S&P 500,^RUT/^GSPC,relative_forward_pe,0.8,C,low,\n",
    )
    gap = valuation_gap(points, no_snapshots(), PAIRS)
    got = gap[["as_of", "pair_id", "large_label", "relative_pe", "discount", "confidence"]]
    expected = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-01-07"]).as_unit("ns"),
            "pair_id": ["RUT_IXIC", "RUT_GSPC", "RUT_GSPC"],
            "large_label": ["Nasdaq Composite", "S&P 500", "S&P 500"],
            "relative_pe": [0.5, 0.75, 0.8],
            "discount": [0.5, 0.25, 0.2],
            "confidence": ["medium", "medium-low", "low"],  # the lower of the two
        }
    )
    pd.testing.assert_frame_equal(got, expected, check_exact=False, check_dtype=False)
    assert (gap["source"] == ["A", "A", "C"]).all()
    assert gap["metric"].tolist() == ["forward_pe"] * 3


# --- snapshots -------------------------------------------------------------------------------


def test_snapshots_compare_forward_pe_or_fall_back_to_trailing():
    snaps = snapshots_frame(
        [
            ("2026-02-12", "IWM", 18.0, 15.0),
            ("2026-02-12", "SPY", 27.0, 22.0),  # IWM_SPY: forward 15 / 22
            ("2026-02-12", "QQQ", 32.0, np.nan),  # IWM_QQQ: trailing 18 / 32
            ("2026-02-12", "^RUT", np.nan, np.nan),  # index pairs: no values, no rows
            ("2026-02-12", "^GSPC", np.nan, 21.0),
            ("2026-02-13", "IWM", np.nan, 16.0),
            ("2026-02-13", "SPY", 26.0, np.nan),  # neither basis on both sides: no row
            ("2026-02-13", "QQQ", 30.0, 24.0, "yfinance Ticker.info (retry)"),
        ]
    )
    gap = valuation_gap(load_valuation_points().iloc[0:0], snaps, PAIRS)
    got = gap[["as_of", "pair_id", "metric", "small_pe", "large_pe", "relative_pe", "discount"]]
    expected = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2026-02-12", "2026-02-12", "2026-02-13"]).as_unit("ns"),
            "pair_id": ["IWM_QQQ", "IWM_SPY", "IWM_QQQ"],
            "metric": ["trailing_pe", "forward_pe", "forward_pe"],
            "small_pe": [18.0, 15.0, 16.0],
            "large_pe": [32.0, 22.0, 24.0],
            "relative_pe": [18 / 32, 15 / 22, 16 / 24],
            "discount": [1 - 18 / 32, 1 - 15 / 22, 1 - 16 / 24],
        }
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert (gap["origin"] == "snapshot").all() and (gap["confidence"] == "low").all()
    assert gap["small_label"].tolist() == ["IWM"] * 3
    assert gap["source"].tolist() == [
        SNAPSHOT_SOURCE,
        SNAPSHOT_SOURCE,
        f"{SNAPSHOT_SOURCE}; yfinance Ticker.info (retry)",
    ]


def test_published_and_snapshot_rows_together_sorted_and_typed():
    snaps = snapshots_frame([("2026-02-16", "IWM", 18.0, 15.0), ("2026-02-16", "SPY", 27, 22)])
    gap = valuation_gap(load_valuation_points(), snaps, PAIRS)
    day = gap[gap["as_of"] == pd.Timestamp("2026-02-16")]
    assert day["origin"].tolist() == ["published", "snapshot"]
    assert day["pair_id"].tolist() == ["RUT_GSPC", "IWM_SPY"]
    assert gap["as_of"].is_monotonic_increasing
    assert not gap.duplicated(list(VALUATION_GAP.key)).any()


def test_no_points_and_no_snapshots_give_an_empty_table():
    gap = valuation_gap(load_valuation_points().iloc[0:0], no_snapshots(), PAIRS)
    assert gap.empty and list(gap.columns) == VALUATION_GAP.column_names


# --- the price-only proxy --------------------------------------------------------------------


def relative_frame(pair_id: str, dates: list[str], ratios: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"trade_date": pd.to_datetime(dates), "pair_id": pair_id, "ratio": ratios, "source": "csv"}
    )


def test_percentile_over_a_trailing_calendar_window_by_hand():
    # years=1 keeps the hand-worked windows short; the rule is the one used for 25 years.
    relative = relative_frame(
        "P",
        ["2020-01-02", "2020-06-01", "2020-12-31", "2021-01-02", "2021-01-03", "2021-06-02"],
        [100.0, 90.0, 95.0, 95.0, 80.0, 120.0],
    )
    out = price_ratio_percentile(relative, years=1)
    assert list(out.columns) == PRICE_RATIO_PERCENTILE.column_names
    # 2021-01-02 reaches back to 2020-01-02 itself (inclusive) and counts its tie 95 <= 95;
    # 2021-01-03 no longer sees 2020-01-02, 2021-06-02 no longer sees 2020-06-01.
    assert out["price_ratio_percentile"].tolist() == pytest.approx(
        [1.0, 1 / 2, 2 / 3, 3 / 4, 1 / 4, 1.0]
    )
    assert out["window_sessions"].tolist() == [1, 2, 3, 4, 4, 4]
    assert out["window_start"].tolist() == list(
        pd.to_datetime(
            ["2020-01-02", "2020-01-02", "2020-01-02", "2020-01-02", "2020-06-01", "2020-12-31"]
        )
    )
    assert (out["measure"] == PROXY_MEASURE).all()
    assert "not P/E" in PROXY_MEASURE and "PROXY" in PRICE_RATIO_PERCENTILE.description


def test_a_window_from_29_february_starts_on_28_february_and_pairs_are_separate():
    relative = pd.concat(
        [
            relative_frame("A", ["2023-02-27", "2023-02-28", "2024-02-29"], [3.0, 2.0, 1.0]),
            relative_frame("B", ["2023-02-28", "2024-02-29"], [1.0, 2.0]),
        ]
    )
    out = price_ratio_percentile(relative, years=1)
    assert list(zip(out["trade_date"].dt.strftime("%F"), out["pair_id"], strict=True)) == [
        ("2023-02-27", "A"),
        ("2023-02-28", "A"),
        ("2023-02-28", "B"),
        ("2024-02-29", "A"),
        ("2024-02-29", "B"),
    ]
    last_a = out.iloc[3]
    assert last_a["window_start"] == pd.Timestamp("2023-02-28")
    assert (last_a["window_sessions"], last_a["price_ratio_percentile"]) == (2, 0.5)
    assert out.iloc[4]["price_ratio_percentile"] == 1.0


def brute_force(relative: pd.DataFrame, years: int) -> np.ndarray:
    """The definition, spelled out: compare today's ratio with every session in the window."""
    out = []
    for _, pair in relative.sort_values(["pair_id", "trade_date"]).groupby("pair_id"):
        dates, values = pair["trade_date"], pair["ratio"].to_numpy()
        for i, day in enumerate(dates):
            in_window = ((dates >= day - pd.DateOffset(years=years)) & (dates <= day)).to_numpy()
            out.append((values[in_window] <= values[i]).mean())
    return np.array(out)


def test_percentile_matches_the_definition_on_random_ratios_with_ties():
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2010-01-01", periods=700)
    relative = pd.concat(
        [
            # Rounded so that ties occur.
            relative_frame(p, dates, np.round(100 + rng.normal(0, 3, len(dates)).cumsum(), 0))
            for p in ("A", "B")
        ]
    )
    out = price_ratio_percentile(relative, years=1).sort_values(["pair_id", "trade_date"])
    np.testing.assert_allclose(out["price_ratio_percentile"], brute_force(relative, 1))


def test_percentile_is_point_in_time():
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2015-01-01", periods=800)
    relative = relative_frame("A", dates, 100 + rng.normal(0, 1, len(dates)).cumsum())
    full = price_ratio_percentile(relative, years=2)
    head = price_ratio_percentile(relative.iloc[:500], years=2)
    pd.testing.assert_frame_equal(full.iloc[:500], head)


def test_rows_from_a_date_on_equal_the_full_computation_exactly():
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2015-01-01", periods=900)
    relative = pd.concat(
        [relative_frame(p, dates, np.round(100 + rng.normal(0, 2, 900).cumsum(), 1)) for p in "AB"]
    )
    full = price_ratio_percentile(relative, years=2)
    since = dates[850]
    tail = price_ratio_percentile(relative, years=2, since=since)
    expected = full[full["trade_date"] >= since].reset_index(drop=True)
    pd.testing.assert_frame_equal(tail, expected)


def test_four_pairs_of_9500_sessions():
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("1988-01-04", periods=9_500)
    relative = pd.concat(
        [
            relative_frame(p, dates, 100 * np.exp(rng.normal(0, 0.01, len(dates)).cumsum()))
            for p in PAIRS["pair_id"]
        ]
    )
    out = price_ratio_percentile(relative)
    assert len(out) == 4 * 9_500
    assert out["window_sessions"].max() <= 25 * 262  # at most 25 years of weekdays
