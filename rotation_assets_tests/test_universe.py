import datetime as dt
from pathlib import Path

import pytest

from rotation_assets.reference.seed_files import SeedError
from rotation_assets.reference.universe import expected_tickers, load_rotation_pairs, load_universe

SHARED_PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices"


def test_default_universe_is_the_fourteen_instruments():
    universe = load_universe()
    assert sorted(universe["ticker"]) == sorted(
        [
            "^RUT",
            "^GSPC",
            "^IXIC",
            "^VIX",
            "IWM",
            "SPY",
            "QQQ",
            "GLD",
            "SLV",
            "TLT",
            "UUP",
            "AMZN",
            "TSLA",
            "UNH",
        ]
    )


@pytest.mark.skipif(
    not SHARED_PRICES.exists(), reason="../shared/data/prices is not on this machine"
)
def test_first_trading_dates_match_the_first_row_of_each_price_file():
    for row in load_universe().itertuples():
        path = SHARED_PRICES / (row.ticker.replace("^", "_") + ".csv")
        with path.open() as f:
            f.readline()
            assert f.readline().split(",")[0] == row.first_trading_date.date().isoformat(), (
                row.ticker
            )


def test_pairs_include_the_four_required_comparisons():
    pairs = load_rotation_pairs(load_universe())
    assert {(p.small, p.large) for p in pairs.itertuples()} >= {
        ("^RUT", "^GSPC"),
        ("^RUT", "^IXIC"),
        ("IWM", "SPY"),
        ("IWM", "QQQ"),
    }


def test_expected_tickers_follow_first_trading_dates():
    universe = load_universe()
    assert "IWM" not in expected_tickers(universe, dt.date(2000, 5, 25))
    assert "IWM" in expected_tickers(universe, dt.date(2000, 5, 26))
    assert len(expected_tickers(universe, dt.date(2026, 2, 13))) == 14


def test_seed_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "universe.csv"
    bad.write_text(
        "ticker,name,role,instrument_type,first_trading_date\n"
        "IWM,iShares,small_cap,etf,2000-05-26\n"
        "SPY,SPDR,giant_cap,etf,1993-01-29\n"
    )
    with pytest.raises(SeedError, match=r"universe.csv line 3: role 'giant_cap'"):
        load_universe(bad)
    bad.write_text(
        "ticker,name,role,instrument_type,first_trading_date\n"
        "IWM,iShares,small_cap,etf,2000-05-26\n"
        "IWM,iShares,small_cap,etf,2000-05-26\n"
    )
    with pytest.raises(SeedError, match="line 3: duplicate"):
        load_universe(bad)
    bad.write_text(
        "ticker,name,role,instrument_type,first_trading_date\nIWM,i,small_cap,etf,26/05/2000\n"
    )
    with pytest.raises(SeedError, match="line 2: first_trading_date '26/05/2000'"):
        load_universe(bad)


def test_pair_with_a_ticker_outside_the_universe_is_refused(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("pair_id,small,large,description\nIWO_SPY,IWO,SPY,growth\n")
    with pytest.raises(
        SeedError, match="small ticker 'IWO' of pair IWO_SPY is not in the universe"
    ):
        load_rotation_pairs(load_universe(), pairs)


def test_rotation_universe_path_points_the_seed_elsewhere(tmp_path, monkeypatch):
    seed = tmp_path / "universe.csv"
    seed.write_text(
        "ticker,name,role,instrument_type,first_trading_date\n"
        "IWM,iShares Russell 2000 ETF,small_cap,etf,2000-05-26\n"
        "SPY,SPDR S&P 500 ETF Trust,large_cap,etf,1993-01-29\n"
    )
    monkeypatch.setenv("ROTATION_UNIVERSE_PATH", str(seed))
    assert list(load_universe()["ticker"]) == ["IWM", "SPY"]
    monkeypatch.delenv("ROTATION_UNIVERSE_PATH")
    assert len(load_universe()) == 14
