import pandas as pd
import pytest

from rotation_assets.metrics.daily_returns import daily_returns


def prices(rows: list[tuple]) -> pd.DataFrame:
    """rows: (trade_date, ticker, close, adj_close, source, loaded_at)."""
    frame = pd.DataFrame(
        rows, columns=["trade_date", "ticker", "close", "adj_close", "source", "loaded_at"]
    )
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    frame["loaded_at"] = pd.to_datetime(frame["loaded_at"])
    return frame


def actions(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["trade_date", "ticker", "dividend", "split_ratio"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame


def by_date(out: pd.DataFrame, ticker: str) -> dict[str, tuple[float, float]]:
    rows = out[out["ticker"] == ticker]
    return {
        d.strftime("%Y-%m-%d"): (p, t)
        for d, p, t in zip(
            rows["trade_date"], rows["price_return"], rows["total_return"], strict=True
        )
    }


LOAD = "2026-03-01 00:00"


def test_first_session_has_no_row_and_ratios_of_a_single_basis_file():
    out = daily_returns(
        prices(
            [
                ("2026-02-02", "SPY", 100.0, 98.0, "csv", LOAD),
                ("2026-02-03", "SPY", 102.0, 99.96, "csv", LOAD),
                ("2026-02-03", "IWM", 50.0, 50.0, "csv", LOAD),  # IWM's first session
                ("2026-02-04", "IWM", 49.0, 49.0, "csv", LOAD),
            ]
        )
    )
    assert list(zip(out["trade_date"].dt.strftime("%m-%d"), out["ticker"], strict=True)) == [
        ("02-03", "SPY"),
        ("02-04", "IWM"),
    ]
    spy = out.iloc[0]
    assert spy["price_return"] == pytest.approx(0.02)  # 102 / 100 - 1
    assert spy["total_return"] == pytest.approx(0.02)  # 99.96 / 98 - 1
    assert out.iloc[1]["price_return"] == pytest.approx(-0.02)  # 49 / 50 - 1
    assert out["price_return"].notna().all() and out["total_return"].notna().all()
    assert out.iloc[0]["previous_date"] == pd.Timestamp("2026-02-02")


def test_split_in_an_adjusted_file_is_a_normal_day():
    # A 2-for-1 split on 02-03: the file's close is split-adjusted (100 -> 50 before the split).
    out = daily_returns(
        prices(
            [
                ("2026-02-02", "TSLA", 50.0, 50.0, "csv", LOAD),
                ("2026-02-03", "TSLA", 51.0, 51.0, "csv", LOAD),
            ]
        )
    )
    assert by_date(out, "TSLA")["2026-02-03"] == pytest.approx((0.02, 0.02))


# A dividend of 1.00 goes ex on 2026-02-04; SPY closes 100.00 on 02-03 and 99.50 on 02-04.
# Price return 99.5 / 100 - 1 = -0.5%. Total return, Yahoo's convention:
# 99.5 / (100 - 1) - 1 = +0.50505%.
DIVIDEND = actions([("2026-02-04", "SPY", 1.0, 1.0)])
PRICE_RETURN, TOTAL_RETURN = 99.5 / 100 - 1, 99.5 / 99 - 1


def test_ex_dividend_day_loaded_by_two_separate_daily_runs():
    # Each evening Yahoo's latest adj_close equals close: the 02-03 row stored on 02-03 does
    # not yet know the dividend, so adj_close_d / adj_close_p would drop it (99.5/100 - 1).
    out = daily_returns(
        prices(
            [
                ("2026-02-03", "SPY", 100.0, 100.0, "yfinance", "2026-02-03 23:15"),
                ("2026-02-04", "SPY", 99.5, 99.5, "yfinance", "2026-02-04 23:15"),
            ]
        ),
        DIVIDEND,
    )
    price, total = by_date(out, "SPY")["2026-02-04"]
    assert price == pytest.approx(PRICE_RETURN)
    assert total == pytest.approx(TOTAL_RETURN)


def test_ex_dividend_day_loaded_by_one_later_backfill_gives_the_same_returns():
    # Fetched together later: Yahoo scaled the 02-03 adj_close by 1 - 1/100 = 0.99.
    out = daily_returns(
        prices(
            [
                ("2026-02-03", "SPY", 100.0, 99.0, "yfinance", "2026-02-10 23:15"),
                ("2026-02-04", "SPY", 99.5, 99.5, "yfinance", "2026-02-10 23:15"),
            ]
        ),
        DIVIDEND,
    )
    price, total = by_date(out, "SPY")["2026-02-04"]
    assert price == pytest.approx(PRICE_RETURN)
    assert total == pytest.approx(TOTAL_RETURN)
    assert total == pytest.approx(99.5 / 99.0 - 1)  # equals the single-load adj_close ratio


def test_split_day_loaded_by_separate_daily_runs():
    # 2-for-1 on 02-04: stored 02-03 close (fetched before the split) is 200 pre-split shares;
    # 02-04 closes at 102 post-split. Price return 102 / (200 / 2) - 1 = +2%.
    out = daily_returns(
        prices(
            [
                ("2026-02-03", "NVDA", 200.0, 200.0, "yfinance", "2026-02-03 23:15"),
                ("2026-02-04", "NVDA", 102.0, 102.0, "yfinance", "2026-02-04 23:15"),
                ("2026-02-05", "NVDA", 103.02, 103.02, "yfinance", "2026-02-05 23:15"),
            ]
        ),
        actions([("2026-02-04", "NVDA", 0.0, 2.0)]),
    )
    returns = by_date(out, "NVDA")
    assert returns["2026-02-04"] == pytest.approx((0.02, 0.02))
    assert returns["2026-02-05"] == pytest.approx((0.01, 0.01))  # 103.02 / 102 - 1


def test_split_day_backfilled_after_the_split_gives_the_same_returns():
    # Fetched after the split: Yahoo already divided the 02-03 close by 2.
    out = daily_returns(
        prices(
            [
                ("2026-02-03", "NVDA", 100.0, 100.0, "yfinance", "2026-02-06 23:15"),
                ("2026-02-04", "NVDA", 102.0, 102.0, "yfinance", "2026-02-06 23:15"),
            ]
        ),
        actions([("2026-02-04", "NVDA", 0.0, 2.0)]),
    )
    assert by_date(out, "NVDA")["2026-02-04"] == pytest.approx((0.02, 0.02))


def test_dividend_then_later_split_uses_each_rows_own_basis():
    # Dividend 1.00 ex 02-04 (pre-split shares); 2-for-1 split 02-09. The 02-03 row was stored
    # on 02-03 (raw), the 02-04 row was refetched on 02-10 after the split: close 49.75 and the
    # dividend reported split-adjusted as 0.50. Raw: close_d 99.5, dividend 1.0, as before.
    out = daily_returns(
        prices(
            [
                ("2026-02-03", "SPY", 100.0, 100.0, "yfinance", "2026-02-03 23:15"),
                ("2026-02-04", "SPY", 49.75, 49.5, "yfinance", "2026-02-10 23:15"),
            ]
        ),
        actions([("2026-02-04", "SPY", 0.5, 1.0), ("2026-02-09", "SPY", 0.0, 2.0)]),
    )
    price, total = by_date(out, "SPY")["2026-02-04"]
    assert price == pytest.approx(PRICE_RETURN)
    assert total == pytest.approx(TOTAL_RETURN)
