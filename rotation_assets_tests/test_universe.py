"""The universe and pairs seeds: every priced instrument, roles, benchmarks, return bases, pairs'
comparison and basis, and a clear error naming file and line for each kind of bad line."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from rotation_assets.reference.seed_files import SeedError
from rotation_assets.reference.universe import (
    expected_tickers,
    load_rotation_pairs,
    load_universe,
    pair_basis,
    tickers_in_window,
)
from rotation_assets_tests.conftest import SHARED_PRICES, requires_shared_prices

HEADER = (
    "ticker,name,role,instrument_type,benchmark,return_basis,first_trading_date,last_trading_date\n"
)
IWM = "IWM,iShares Russell 2000 ETF,small_cap_etf,etf,SPY,price_and_total_return,2000-05-26,\n"
SPY = "SPY,SPDR S&P 500 ETF Trust,large_cap_etf,etf,,price_and_total_return,1993-01-29,\n"


def seed(tmp_path: Path, *lines: str, name: str = "universe.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(lines))
    return path


@requires_shared_prices
def test_default_universe_is_every_instrument_with_a_price_file():
    files = sorted(p.stem.replace("_", "^") for p in SHARED_PRICES.glob("*.csv"))
    assert len(files) == 24
    assert sorted(load_universe()["ticker"]) == files


def test_roles_benchmarks_and_return_bases_as_documented():
    universe = load_universe().set_index("ticker")
    # Small or large cap as the source documents place the companies (shared/seeds).
    assert sorted(universe.index[universe["role"] == "small_cap_stock"]) == [
        "EXPI",
        "KTOS",
        "UNF",
        "UPBD",
    ]
    assert sorted(universe.index[universe["role"] == "large_cap_stock"]) == [
        "AMZN",
        "GM",
        "HUM",
        "NUE",
        "TSLA",
        "UNH",
    ]
    stocks = universe[universe["instrument_type"] == "stock"]
    assert (
        stocks["benchmark"]
        == stocks["role"].map({"small_cap_stock": "IWM", "large_cap_stock": "SPY"})
    ).all()
    assert universe.loc["IWN", "benchmark"] == universe.loc["IWO", "benchmark"] == "IWM"
    assert universe.loc["^RUT", "benchmark"] == "^GSPC"
    assert universe[["benchmark"]].loc[["SPY", "^GSPC", "^VIX"]].isna().all().all()
    # PROVENANCE.md: adjusted-only files, non-payers, price indices.
    by_basis = universe.groupby("return_basis").groups
    assert sorted(by_basis["total_return_only"]) == sorted(
        ["IWO", "IWN", "GM", "NUE", "UPBD", "UNF", "UNH", "HUM", "EXPI", "UUP"]
    )
    assert sorted(by_basis["no_dividends"]) == ["AMZN", "KTOS", "TSLA"]
    assert sorted(by_basis["price_only"]) == ["^GSPC", "^IXIC", "^NDX", "^RUT", "^VIX"]
    assert sorted(by_basis["price_and_total_return"]) == ["GLD", "IWM", "QQQ", "SLV", "SPY", "TLT"]
    # Nothing in the default universe is delisted: the early ends are stale tails.
    assert universe["last_trading_date"].isna().all()


@requires_shared_prices
def test_first_trading_dates_match_the_first_row_of_each_price_file():
    for row in load_universe().itertuples():
        path = SHARED_PRICES / (row.ticker.replace("^", "_") + ".csv")
        with path.open() as f:
            f.readline()
            assert f.readline().split(",")[0] == row.first_trading_date.date().isoformat(), (
                row.ticker
            )


def test_pairs_state_comparison_leg_kinds_and_basis():
    pairs = load_rotation_pairs(load_universe()).set_index("pair_id")
    assert list(pairs.index) == ["RUT_GSPC", "RUT_IXIC", "RUT_NDX", "IWM_SPY", "IWM_QQQ", "IWN_IWO"]
    assert pairs.loc["IWN_IWO", ["small", "large", "comparison"]].tolist() == [
        "IWN",
        "IWO",
        "style",
    ]
    assert pairs.loc["IWN_IWO", ["small_leg_kind", "large_leg_kind"]].tolist() == [
        "small_value",
        "small_growth",
    ]
    assert pairs.loc["RUT_NDX", ["small", "large", "comparison"]].tolist() == [
        "^RUT",
        "^NDX",
        "size",
    ]
    # Price indices compare prices; the ETFs (adj_close, or adjusted-only files) total return.
    assert pairs["basis"].to_dict() == {
        "RUT_GSPC": "price",
        "RUT_IXIC": "price",
        "RUT_NDX": "price",
        "IWM_SPY": "total_return",
        "IWM_QQQ": "total_return",
        "IWN_IWO": "total_return",
    }
    size = pairs[pairs["comparison"] == "size"]
    assert set(size["small_leg_kind"]) == {"small_cap"}
    assert set(size["large_leg_kind"]) == {"large_cap"}


@pytest.mark.parametrize(
    "first, second, basis",
    [
        ("price_and_total_return", "price_and_total_return", "total_return"),
        ("total_return_only", "price_and_total_return", "total_return"),
        ("no_dividends", "total_return_only", "total_return"),
        ("price_only", "price_only", "price"),
        ("price_only", "price_and_total_return", "price"),  # the ETF's close is a price
        ("price_only", "no_dividends", "price"),
        ("total_return_only", "price_only", None),  # an adjusted close has no price return
    ],
)
def test_pair_basis_is_what_both_legs_give(first, second, basis):
    assert pair_basis(first, second) == basis
    assert pair_basis(second, first) == basis


def test_expected_tickers_follow_first_and_last_trading_dates(tmp_path):
    universe = load_universe()
    assert "IWM" not in expected_tickers(universe, dt.date(2000, 5, 25))
    assert "IWM" in expected_tickers(universe, dt.date(2000, 5, 26))
    # On 2026-02-13 every one of the 24 is listed (EXPI, the latest, since 2018-02-07).
    assert len(expected_tickers(universe, dt.date(2026, 2, 13))) == 24
    delisted = load_universe(seed(tmp_path, IWM, SPY.replace(",\n", ",2026-02-11\n")))
    assert expected_tickers(delisted, dt.date(2026, 2, 11)) == ["IWM", "SPY"]
    assert expected_tickers(delisted, dt.date(2026, 2, 12)) == ["IWM"]
    # A window is fetched for every ticker expected on one of its sessions.
    assert tickers_in_window(delisted, dt.date(2026, 2, 11), dt.date(2026, 2, 20)) == [
        "IWM",
        "SPY",
    ]
    assert tickers_in_window(delisted, dt.date(2026, 2, 12), dt.date(2026, 2, 20)) == ["IWM"]


GSPC = "^GSPC,S&P 500 Index,large_cap_index,index,,price_only,1927-12-30,\n"
QQQ = "QQQ,Invesco QQQ Trust,large_cap_etf,etf,SPY,price_and_total_return,1999-03-10,\n"
# Each case: the bad line (line 5, after SPY, IWM and ^GSPC) and the error it must raise.
BAD_UNIVERSE_LINES = {
    "unknown role": (
        QQQ.replace("large_cap_etf", "giant_cap"),
        "line 5: role 'giant_cap' is not one of",
    ),
    "type that does not fit the role": (
        QQQ.replace("large_cap_etf,etf", "large_cap_etf,stock"),
        "line 5: instrument_type 'stock' does not fit role 'large_cap_etf' (expected etf)",
    ),
    "unknown return basis": (
        QQQ.replace("price_and_total_return", "dividends"),
        "line 5: return_basis 'dividends' is not one of",
    ),
    "benchmark outside the universe": (
        QQQ.replace(",SPY,", ",VTI,"),
        "line 5: benchmark 'VTI' of QQQ is not a ticker of the universe",
    ),
    "its own benchmark": (QQQ.replace(",SPY,", ",QQQ,"), "line 5: QQQ cannot be its own benchmark"),
    "benchmark on no common basis": (
        "IWN,iShares Russell 2000 Value ETF,small_value_etf,etf,^GSPC,total_return_only,"
        "2000-07-28,\n",
        "line 5: IWN (total_return_only) and its benchmark ^GSPC (price_only) share no return "
        "basis",
    ),
    "duplicate ticker": (IWM, "line 5: duplicate ticker ['IWM']"),
    "unparsable first date": (
        QQQ.replace("1999-03-10", "10/03/1999"),
        "line 5: first_trading_date '10/03/1999' is not YYYY-MM-DD",
    ),
    "unparsable last date": (
        QQQ.replace("1999-03-10,", "1999-03-10,2026-02-30"),
        "line 5: last_trading_date '2026-02-30' is not YYYY-MM-DD",
    ),
    "delisted before listed": (
        QQQ.replace("1999-03-10,", "1999-03-10,1990-01-02"),
        "line 5: last_trading_date 1990-01-02 is before first_trading_date 1999-03-10",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UNIVERSE_LINES))
def test_a_bad_universe_line_is_refused_naming_file_and_line(tmp_path, case):
    line, message = BAD_UNIVERSE_LINES[case]
    path = seed(tmp_path, SPY, IWM, GSPC, line)
    with pytest.raises(SeedError) as error:
        load_universe(path)
    assert str(error.value).startswith(f"{path} {message}"), str(error.value)


PAIRS_HEADER = "pair_id,small,large,comparison,description\n"
PAIR_UNIVERSE = (
    IWM,
    SPY,
    "IWN,iShares Russell 2000 Value ETF,small_value_etf,etf,IWM,total_return_only,2000-07-28,\n",
    "IWO,iShares Russell 2000 Growth ETF,small_growth_etf,etf,IWM,total_return_only,2000-07-28,\n",
    "^GSPC,S&P 500 Index,large_cap_index,index,,price_only,1927-12-30,\n",
    "GM,General Motors Co.,large_cap_stock,stock,SPY,total_return_only,2010-11-18,\n",
)
BAD_PAIR_LINES = {
    "ticker outside the universe": (
        "IWO_QQQ,IWO,QQQ,size,x\n",
        "line 3: large ticker 'QQQ' of pair IWO_QQQ is not in the universe",
    ),
    "unknown comparison": (
        "IWN_IWO,IWN,IWO,sector,x\n",
        "line 3: comparison 'sector' is not one of",
    ),
    "legs that do not make the comparison": (
        "IWM_IWO,IWM,IWO,size,x\n",
        "line 3: a size pair compares a small_cap leg (small) with a large_cap leg (large), but "
        "IWM is a small_cap_etf and IWO a small_growth_etf",
    ),
    "a stock as a leg": (
        "IWM_GM,IWM,GM,size,x\n",
        "line 3: a size pair compares a small_cap leg (small) with a large_cap leg (large), but "
        "IWM is a small_cap_etf and GM a large_cap_stock",
    ),
    "style legs the wrong way round": (
        "IWO_IWN,IWO,IWN,style,x\n",
        "line 3: a style pair compares a small_value leg (small) with a small_growth leg "
        "(large), but IWO is a small_growth_etf and IWN a small_value_etf",
    ),
    "duplicate pair": ("IWM_SPY,IWM,SPY,size,again\n", "line 3: duplicate pair_id ['IWM_SPY']"),
}


@pytest.mark.parametrize("case", list(BAD_PAIR_LINES))
def test_a_bad_pair_line_is_refused_naming_file_and_line(tmp_path, case):
    line, message = BAD_PAIR_LINES[case]
    universe = load_universe(seed(tmp_path, *PAIR_UNIVERSE))
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(PAIRS_HEADER + "IWM_SPY,IWM,SPY,size,ok\n" + line)
    with pytest.raises(SeedError) as error:
        load_rotation_pairs(universe, pairs)
    assert str(error.value).startswith(f"{pairs} {message}"), str(error.value)


def test_a_size_pair_whose_legs_share_no_basis_is_refused(tmp_path):
    # A small-cap ETF from an adjusted-only file against a price index: neither both price nor
    # both total return.
    adjusted_iwm = IWM.replace("price_and_total_return", "total_return_only").replace(",SPY,", ",,")
    universe = load_universe(
        seed(
            tmp_path,
            adjusted_iwm,
            "^GSPC,S&P 500 Index,large_cap_index,index,,price_only,1927-12-30,\n",
        )
    )
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(PAIRS_HEADER + "IWM_GSPC,IWM,^GSPC,size,x\n")
    with pytest.raises(
        SeedError,
        match=r"pairs.csv line 2: IWM \(total_return_only\) and \^GSPC \(price_only\) share no "
        "return basis",
    ):
        load_rotation_pairs(universe, pairs)


def test_rotation_universe_path_points_the_seed_elsewhere(tmp_path, monkeypatch):
    path = seed(tmp_path, IWM, SPY)
    monkeypatch.setenv("ROTATION_UNIVERSE_PATH", str(path))
    assert list(load_universe()["ticker"]) == ["IWM", "SPY"]
    monkeypatch.delenv("ROTATION_UNIVERSE_PATH")
    assert len(load_universe()) == 24


def test_loaded_frame_matches_the_table_spec():
    from rotation_assets.reference.universe import ROTATION_PAIRS, UNIVERSE

    universe = load_universe()
    assert list(universe.columns) == UNIVERSE.column_names
    pairs = load_rotation_pairs(universe)
    assert list(pairs.columns) == ROTATION_PAIRS.column_names
    conformed = UNIVERSE.conform(universe)
    assert pd.api.types.is_datetime64_any_dtype(conformed["last_trading_date"])
