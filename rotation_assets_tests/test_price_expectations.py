import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rotation_assets.quality.expectations import HELPER_COLUMNS, validate_prices_with_gx
from rotation_assets.quality.price_rules import (
    OHLC_TOLERANCE,
    inconsistent_ohlc,
    nonpositive_prices,
)
from rotation_assets.sources.price_window import RAW_PRICES

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# 1 column list + 9 not-null (the 6 non-nullable raw.prices columns, and open, high and low
# unless all three are empty) + 5 prices > 0 + volume >= 0 + unique key + known source + 2 OHLC
# bounds.
EXPECTED_EXPECTATIONS = 20


def bars() -> pd.DataFrame:
    """Four clean bars in raw.prices column order; ^RUT has no volume, as in real data."""
    rows = [
        ("2024-01-02", "IWM", 200.0, 202.0, 199.0, 201.0, 199.5, 1.0e6, "yfinance"),
        ("2024-01-02", "SPY", 470.0, 473.0, 468.0, 472.0, 465.0, 5.0e6, "yfinance"),
        ("2024-01-03", "IWM", 201.0, 201.5, 197.0, 198.0, 196.6, 1.1e6, "yfinance"),
        ("2024-01-03", "^RUT", 2000.0, 2010.0, 1990.0, 2005.0, 2005.0, np.nan, "yfinance"),
    ]
    names = ["trade_date", "ticker", "open", "high", "low", "close", "adj_close", "volume"]
    frame = pd.DataFrame(rows, columns=[*names, "source"])
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    frame["loaded_at"] = pd.Timestamp("2024-01-04 06:00:00")
    return frame[RAW_PRICES.column_names]


def with_values(frame: pd.DataFrame, ticker: str, day: str, **values: object) -> pd.DataFrame:
    out = frame.copy()
    row = (out["ticker"] == ticker) & (out["trade_date"] == pd.Timestamp(day))
    assert row.sum() == 1
    for column, value in values.items():
        out.loc[row, column] = value
    return out


def failed_checks(summary) -> list[str]:
    return [f["check"] for f in summary.failures]


def test_clean_frame_passes_every_expectation():
    frame = bars()
    summary = validate_prices_with_gx(frame)

    assert summary.success is True
    assert summary.evaluated == EXPECTED_EXPECTATIONS
    assert summary.failed == 0
    assert summary.failures == []
    assert summary.as_metadata() == {
        "gx_success": True,
        "gx_expectations": EXPECTED_EXPECTATIONS,
        "gx_failed": 0,
        "gx_failures": [],
        "gx_failures_table": f"All {EXPECTED_EXPECTATIONS} Great Expectations checks passed.",
    }
    # The helper columns live only in the validated copy.
    assert list(frame.columns) == RAW_PRICES.column_names
    assert not set(HELPER_COLUMNS) & set(frame.columns)


def test_negative_close_fails_close_positivity_and_names_the_row():
    frame = with_values(bars(), "IWM", "2024-01-03", close=-1.0)
    summary = validate_prices_with_gx(frame)

    assert summary.success is False
    # low (197) above a close of -1 is also a real OHLC break, as price_quality says too.
    assert failed_checks(summary) == ["close_positive", "ohlc_low_under_body"]
    assert len(nonpositive_prices(frame)) == 1 and len(inconsistent_ohlc(frame)) == 1
    positive = summary.failures[0]
    assert positive["expectation"] == "expect_column_values_to_be_between"
    assert positive["columns"] == ["close"]
    assert positive["unexpected_count"] == 1
    assert positive["sample"] == [
        {"row": 2, "trade_date": "2024-01-03", "ticker": "IWM", "close": -1.0}
    ]
    # The other prices of the same bar stay within their own positivity rules.
    assert not {"open_positive", "low_positive", "adj_close_positive"} & set(failed_checks(summary))


def test_zero_price_fails_strict_positivity():
    frame = with_values(bars(), "SPY", "2024-01-02", adj_close=0.0)
    summary = validate_prices_with_gx(frame)
    assert failed_checks(summary) == ["adj_close_positive"]
    assert summary.failures[0]["sample"][0]["adj_close"] == 0.0


@pytest.mark.parametrize(
    ("values", "check"),
    [
        # IWM on 2024-01-03: open 201, close 198, so the body is [198, 201].
        ({"low": 198.0 * 1.002}, "ohlc_low_under_body"),  # low 0.2% above the body
        ({"high": 201.0 / 1.002}, "ohlc_high_covers_body"),  # high 0.2% below the body
    ],
)
def test_ohlc_beyond_tolerance_fails(values: dict, check: str):
    summary = validate_prices_with_gx(with_values(bars(), "IWM", "2024-01-03", **values))

    assert failed_checks(summary) == [check]
    failure = summary.failures[0]
    assert failure["expectation"] == "expect_column_pair_values_a_to_be_greater_than_b"
    assert failure["unexpected_count"] == 1
    (row,) = failure["sample"]
    assert (row["ticker"], row["trade_date"]) == ("IWM", "2024-01-03")
    # Samples show the real prices, not the helper columns.
    assert set(row) == {"row", "trade_date", "ticker", "open", "high", "low", "close"}
    assert row[next(iter(values))] == pytest.approx(next(iter(values.values())))


@pytest.mark.parametrize(
    "values",
    [
        {"low": 198.0 * 1.0005},  # 0.05% above the body: vendor rounding
        {"high": 201.0 / 1.0005},  # 0.05% below the body
        {"low": 198.0 * (1 + OHLC_TOLERANCE)},  # exactly at the tolerance
    ],
)
def test_ohlc_within_tolerance_passes(values: dict):
    frame = with_values(bars(), "IWM", "2024-01-03", **values)
    summary = validate_prices_with_gx(frame)
    assert summary.success is True
    assert inconsistent_ohlc(frame).empty  # the same verdict as the blocking rule


def test_tolerance_parameter_is_applied():
    frame = with_values(bars(), "IWM", "2024-01-03", low=198.0 * 1.0005)
    assert failed_checks(validate_prices_with_gx(frame, tolerance=0.0)) == ["ohlc_low_under_body"]


def test_default_tolerance_matches_price_quality():
    default = inspect.signature(validate_prices_with_gx).parameters["tolerance"].default
    assert default == OHLC_TOLERANCE


def test_duplicate_key_fails_uniqueness():
    frame = bars()
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)  # SPY on 2024-01-02 twice
    summary = validate_prices_with_gx(frame)

    assert failed_checks(summary) == ["unique_trade_date_ticker"]
    failure = summary.failures[0]
    assert failure["expectation"] == "expect_compound_columns_to_be_unique"
    assert failure["columns"] == ["trade_date", "ticker"]
    assert failure["unexpected_count"] == 2
    assert [(r["row"], r["ticker"], r["trade_date"]) for r in failure["sample"]] == [
        (1, "SPY", "2024-01-02"),
        (4, "SPY", "2024-01-02"),
    ]


def test_unknown_source_fails():
    frame = with_values(bars(), "^RUT", "2024-01-03", source="bloomberg")
    summary = validate_prices_with_gx(frame)

    assert failed_checks(summary) == ["source_known"]
    assert summary.failures[0]["unexpected_count"] == 1
    assert summary.failures[0]["sample"] == [
        {"row": 3, "trade_date": "2024-01-03", "ticker": "^RUT", "source": "bloomberg"}
    ]


def test_missing_volume_is_allowed_but_negative_volume_fails():
    assert validate_prices_with_gx(bars()).success  # ^RUT has a NaN volume
    frame = with_values(bars(), "SPY", "2024-01-02", volume=-5.0)
    summary = validate_prices_with_gx(frame)
    assert failed_checks(summary) == ["volume_non_negative"]
    assert summary.failures[0]["sample"][0]["volume"] == -5.0


def test_null_price_fails_not_null_only():
    frame = with_values(bars(), "SPY", "2024-01-02", open=np.nan)
    summary = validate_prices_with_gx(frame)
    # Positivity and OHLC skip the missing value, as price_quality does.
    assert failed_checks(summary) == ["open_not_null"]
    assert summary.failures[0]["sample"] == [
        {"row": 1, "trade_date": "2024-01-02", "ticker": "SPY", "open": None}
    ]


def test_close_only_bar_passes_but_a_bar_missing_only_its_low_fails():
    # A close-only bar (open, high and low all empty, as the vendor kept only the close) is a
    # bar; one missing only its low is a defect, named by low_not_null.
    close_only = with_values(bars(), "IWM", "2024-01-03", open=np.nan, high=np.nan, low=np.nan)
    assert validate_prices_with_gx(close_only).success
    summary = validate_prices_with_gx(with_values(bars(), "IWM", "2024-01-03", low=np.nan))
    assert failed_checks(summary) == ["low_not_null"]
    assert summary.failures[0]["sample"] == [
        {"row": 2, "trade_date": "2024-01-03", "ticker": "IWM", "low": None}
    ]


def test_extra_column_fails_the_column_list():
    frame = bars().assign(note="x")
    summary = validate_prices_with_gx(frame)

    assert failed_checks(summary) == ["columns_match_raw_prices"]
    failure = summary.failures[0]
    assert failure["unexpected_count"] is None
    assert failure["sample"] == []
    assert failure["details"] == "observed columns: " + ", ".join(
        [*RAW_PRICES.column_names, "note"]
    )


def test_missing_column_fails_its_expectations_instead_of_raising():
    summary = validate_prices_with_gx(bars().drop(columns="high"))

    assert summary.evaluated == EXPECTED_EXPECTATIONS
    # open's and low's not-null checks read high too (a bar may lack all three, not one).
    assert failed_checks(summary) == [
        "columns_match_raw_prices",
        "open_not_null",
        "high_not_null",
        "low_not_null",
        "high_positive",
        "ohlc_high_covers_body",
    ]
    assert summary.failures[2]["details"] == 'Error: The column "high" in BatchData does not exist.'


def test_failures_are_json_metadata_with_a_markdown_table():
    frame = with_values(bars(), "IWM", "2024-01-03", close=-1.0)
    frame = with_values(frame, "^RUT", "2024-01-03", source="bloomberg")
    metadata = validate_prices_with_gx(frame, sample_size=1).as_metadata()

    assert json.loads(json.dumps(metadata)) == metadata
    assert metadata["gx_success"] is False
    assert metadata["gx_expectations"] == EXPECTED_EXPECTATIONS
    assert metadata["gx_failed"] == 3
    assert [f["check"] for f in metadata["gx_failures"]] == [
        "close_positive",
        "source_known",
        "ohlc_low_under_body",
    ]
    assert metadata["gx_failures_table"].splitlines()[:3] == [
        "| check | columns | unexpected | first example |",
        "|---|---|---|---|",
        "| close_positive | close | 1 | IWM 2024-01-03 (close=-1.0) |",
    ]


def test_sample_size_caps_the_rows_kept():
    frame = bars().assign(close=-1.0, low=-2.0)
    summary = validate_prices_with_gx(frame, sample_size=2)
    close = next(f for f in summary.failures if f["check"] == "close_positive")
    assert close["unexpected_count"] == 4
    assert [r["row"] for r in close["sample"]] == [0, 1]


def test_module_import_does_not_load_great_expectations():
    # GX costs ~4 s to import; it must wait for the first validation.
    code = (
        "import sys, rotation_assets.quality.expectations; "
        "assert 'great_expectations' not in sys.modules, 'great_expectations was imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True, timeout=60)
