"""The Shiller sources: the CSV copy (offline) and Shiller's published workbook (online).

The workbook tests read a small .xls written here with xlwt in the layout of the copy Shiller
saved on 2026-05-06 (SecondOrderEdge/Macro-Dashboard @ 3a1c36a, data/ie_data.xls; the layout is
described in ``sources.shiller_workbook``): sheets Disclaimer and Data; on Data a title, headings
over rows 1-7, the short names in row 8 (Date, P, D, E, CPI, Fraction, Rate GS10, Price,
Dividend, Price, Earnings, Earnings, CAPE, '', TR CAPE, ...), then one row per month with Date
as YYYY.MM, 'NA' for CAPE before 1881, empty cells for unpublished figures, and a footnote row.
"""

import io
import math

import pandas as pd
import pytest

from rotation_assets.sources.shiller_csv import (
    DEFAULT_SHILLER_FILE,
    parse_shiller_csv,
    read_shiller_file,
)
from rotation_assets.sources.shiller_monthly import (
    SHILLER_FIELDS,
    SHILLER_MONTHLY,
    MalformedValuationFileError,
    ShillerContent,
    ValuationSourceError,
    ValuationSourceUnavailableError,
)
from rotation_assets.sources.shiller_workbook import download_workbook, parse_shiller_workbook

D = pd.Timestamp
HEADER = "month,sp500_price,dividend_12m,earnings_12m,cpi,gs10,trailing_pe,cape,tr_cape\n"
ROWS = (
    "1880-12,6.0,0.3,0.5,9.0,4.0,12.0,,\n"
    "1881-01,6.2,0.3,0.5,9.1,4.0,12.4,18.5,24.1\n"
    "1881-02,6.4,,,9.2,4.1,,19.0,24.6\n"
)


def csv_content(tmp_path, body: str, header: str = HEADER) -> ShillerContent:
    path = tmp_path / "shiller.csv"
    path.write_text(header + body)
    return read_shiller_file(path)


# --- the CSV copy ----------------------------------------------------------------------------


def test_csv_rows_are_read_as_the_file_gives_them(tmp_path):
    frame = parse_shiller_csv(csv_content(tmp_path, ROWS))
    assert list(frame.columns) == ["month", *SHILLER_FIELDS, "source"]
    assert list(frame["month"]) == [D("1880-12-01"), D("1881-01-01"), D("1881-02-01")]
    assert frame["sp500_price"].tolist() == [6.0, 6.2, 6.4]
    assert frame["trailing_pe"].tolist()[:2] == [12.0, 12.4]
    # Empty fields are missing values: CAPE before 1881, earnings not yet published.
    assert math.isnan(frame.at[0, "cape"]) and math.isnan(frame.at[2, "earnings_12m"])
    assert frame.at[1, "cape"] == 18.5
    # The source names Shiller and the file by its name (not its folder).
    assert frame["source"].unique().tolist() == [
        "Robert Shiller, Irrational Exuberance data (ie_data.xls, sheet Data) via shiller.csv"
    ]
    SHILLER_MONTHLY.conform(frame.assign(loaded_at=D("2026-12-01")))


@pytest.mark.parametrize(
    ("header", "body", "message"),
    [
        (
            HEADER.replace(",cape", ""),
            ROWS.replace(",18.5", "").replace(",19.0", "").replace(",,\n", ",\n", 1),
            "shiller.csv line 1: header 'month,sp500_price,dividend_12m,earnings_12m,cpi,gs10,"
            "trailing_pe,tr_cape' has missing column(s) cape",
        ),
        (HEADER, ROWS.replace("1881-01", "1881-13"), "line 3 column month: '1881-13' is not"),
        (HEADER, ROWS.replace("1881-01", "Jan 1881"), "line 3 column month: 'Jan 1881' is not"),
        (HEADER, ROWS.replace("9.1", "9.1x"), "line 3 column cpi: '9.1x' is not a number"),
        (HEADER, ROWS.replace("1881-02", "1881-01"), "line 4: duplicate month 1881-01 (also at"),
        (
            HEADER,
            ROWS.replace("1881-02", "1881-03"),
            "line 4: month 1881-03 follows 1881-01; expected 1881-02",
        ),
        (HEADER, ROWS.replace("6.4,", "0,"), "line 4: sp500_price 0.0 is not a positive number"),
        (HEADER, ROWS.replace("9.2,", ""), "line 4: 8 fields, expected 9"),
    ],
    ids=[
        "missing column",
        "month 13",
        "month as text",
        "bad number",
        "duplicate month",
        "skipped month",
        "zero price",
        "short line",
    ],
)
def test_a_malformed_csv_names_the_file_line_and_column(tmp_path, header, body, message):
    content = csv_content(tmp_path, body, header)
    with pytest.raises(MalformedValuationFileError) as failure:
        parse_shiller_csv(content)
    assert message in str(failure.value)
    assert str(tmp_path / "shiller.csv") in str(failure.value)


def test_an_absent_csv_file_is_a_typed_error_naming_it(tmp_path):
    with pytest.raises(ValuationSourceError, match="shiller.csv does not exist"):
        read_shiller_file(tmp_path / "shiller.csv")


@pytest.mark.skipif(not DEFAULT_SHILLER_FILE.exists(), reason=f"{DEFAULT_SHILLER_FILE} is absent")
def test_the_shared_copy_loads_with_the_spot_values_of_its_provenance():
    frame = parse_shiller_csv(read_shiller_file(DEFAULT_SHILLER_FILE)).set_index("month")
    assert len(frame) == 1865
    assert frame.index[0] == D("1871-01-01") and frame.index[-1] == D("2026-05-01")
    # PROVENANCE.md: 2000-03 P/E 28.31, CAPE 43.22; 2026-02 P/E 25.62, CAPE 38.94.
    assert round(frame.at[D("2000-03-01"), "trailing_pe"], 2) == 28.31
    assert round(frame.at[D("2000-03-01"), "cape"], 2) == 43.22
    assert round(frame.at[D("2026-02-01"), "trailing_pe"], 2) == 25.62
    assert round(frame.at[D("2026-02-01"), "cape"], 2) == 38.94
    assert frame["cape"].first_valid_index() == D("1881-01-01")


# --- the published workbook ------------------------------------------------------------------

SHORT_NAMES = [
    "Date",
    "P",
    "D",
    "E",
    "CPI",
    "Fraction",
    "Rate GS10",
    "Price",
    "Dividend",
    "Price",
    "Earnings",
    "Earnings",
    "CAPE",
    "",
    "TR CAPE",
    "",
    "Yield",
    "Returns",
]


def workbook_rows() -> list[tuple]:
    """Six months, 1880-11 .. 1881-04: (Date, P, D, E, CPI, Rate GS10, CAPE, TR CAPE), None
    for an empty cell."""
    rows = []
    for i, (year, month) in enumerate(
        [(1880, 11), (1880, 12), (1881, 1), (1881, 2), (1881, 3), (1881, 4)]
    ):
        date = year + month / 100
        cape = "NA" if year < 1881 else 18.0 + i
        # The last two months: dividends and earnings not published yet (empty cells).
        dividend, earnings = (None, None) if i >= 4 else (0.3, 0.5 - 0.05 * i)
        rows.append((date, 6.0 + i, dividend, earnings, 9.0 + i / 10, 4.0, cape, cape))
    return rows


def write_workbook(rows, short_names=SHORT_NAMES, sheet="Data") -> bytes:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    book.add_sheet("Disclaimer").write(0, 0, "Data may be used with attribution.")
    data = book.add_sheet(sheet)
    data.write(1, 0, 'Stock Market Data Used in "Irrational Exuberance"')
    data.write(2, 0, "Robert J. Shiller ")
    data.write(1, 12, "Cyclically")
    data.write(5, 1, "S&P")
    data.write(6, 1, "Comp.")
    data.write(6, 12, "P/E10 or")
    for column, name in enumerate(short_names):
        if name:
            data.write(7, column, name)
    for offset, (date, price, dividend, earnings, cpi, gs10, cape, tr_cape) in enumerate(rows):
        row = 8 + offset
        for column, value in (
            (0, date),
            (1, price),
            (2, dividend),
            (3, earnings),
            (4, cpi),
            (5, None if date is None else date + 0.04),  # "Fraction", not read
            (6, gs10),
            (12, cape),
            (14, tr_cape),
        ):
            if value is not None:
                data.write(row, column, value)
    data.write(8 + len(rows), 1, "Apr price is Apr 5th close")  # the footnote: no Date
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parsed(data: bytes, origin: str = "/data/ie_data.xls") -> pd.DataFrame:
    pytest.importorskip("xlrd")
    return parse_shiller_workbook(ShillerContent(data, origin))


def test_workbook_months_values_and_computed_trailing_pe():
    frame = parsed(write_workbook(workbook_rows()))
    assert list(frame["month"]) == [
        D(m) for m in ("1880-11-01", "1880-12-01", "1881-01-01", "1881-02-01", "1881-03-01")
    ] + [D("1881-04-01")]
    assert frame["sp500_price"].tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    # 'NA' before 1881 is a missing CAPE; from 1881 the sheet's own figure.
    assert frame["cape"].isna().tolist() == [True, True, False, False, False, False]
    assert frame["cape"].tolist()[2:] == [20.0, 21.0, 22.0, 23.0]
    # trailing P/E = P / E: 6.0 / 0.5 = 12; 7.0 / 0.45 = 15.5556; 9.0 / 0.35 = 25.7143.
    assert frame.at[0, "trailing_pe"] == 12.0
    assert frame.at[1, "trailing_pe"] == pytest.approx(15.555556, abs=1e-6)
    assert frame.at[3, "trailing_pe"] == pytest.approx(25.714286, abs=1e-6)
    # Empty D and E cells (not yet published): no earnings, no P/E.
    assert frame[["dividend_12m", "earnings_12m", "trailing_pe"]].iloc[4:].isna().all().all()
    assert frame["gs10"].tolist() == [4.0] * 6
    assert frame["source"].unique().tolist() == [
        "Robert Shiller, Irrational Exuberance data (ie_data.xls, sheet Data) via ie_data.xls"
    ]


def test_october_is_written_yyyy_1_and_read_as_month_10():
    rows = [
        (1881.09, 6.0, 0.3, 0.5, 9.0, 4.0, 18.0, 24.0),
        (1881.1, 6.1, 0.3, 0.5, 9.0, 4.0, 18.1, 24.1),
        (1881.11, 6.2, 0.3, 0.5, 9.0, 4.0, 18.2, 24.2),
        (1881.12, 6.3, 0.3, 0.5, 9.0, 4.0, 18.3, 24.3),
        (1882.01, 6.4, 0.3, 0.5, 9.0, 4.0, 18.4, 24.4),
    ]
    frame = parsed(write_workbook(rows))
    assert [m.strftime("%Y-%m") for m in frame["month"]] == [
        "1881-09",
        "1881-10",
        "1881-11",
        "1881-12",
        "1882-01",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"short_names": [n if n != "CAPE" else "P/E10" for n in SHORT_NAMES]},
            "sheet Data row 8: missing column(s) CAPE",
        ),
        ({"date": 1881.13}, "sheet Data row 11 column A (Date): 1881.13 is not a month"),
        ({"date": 1881.015}, "sheet Data row 11 column A (Date): 1881.015 is not a month"),
        ({"cpi": "9,1"}, "sheet Data row 11 column E (CPI): '9,1' is not a number"),
        ({"cape": "n/a"}, "sheet Data row 11 column M (CAPE): 'n/a' is not a number"),
        ({"sheet": "Sheet1"}, "no sheet 'Data' (sheets: Disclaimer, Sheet1)"),
        ({"date": 1881.03}, "sheet Data row 11: month 1881-03 follows 1880-12; expected 1881-01"),
    ],
    ids=["missing column", "month 13", "not a month", "bad number", "bad text", "no sheet", "gap"],
)
def test_a_malformed_workbook_names_the_row_and_column(change, message):
    rows = workbook_rows()
    date, price, dividend, earnings, cpi, gs10, cape, tr_cape = rows[2]  # sheet row 11
    rows[2] = (
        change.get("date", date),
        price,
        dividend,
        earnings,
        change.get("cpi", cpi),
        gs10,
        change.get("cape", cape),
        tr_cape,
    )
    data = write_workbook(
        rows,
        short_names=change.get("short_names", SHORT_NAMES),
        sheet=change.get("sheet", "Data"),
    )
    with pytest.raises(MalformedValuationFileError) as failure:
        parsed(data)
    assert message in str(failure.value)
    assert str(failure.value).startswith("/data/ie_data.xls")


def test_a_month_after_the_footnotes_is_refused():
    rows = workbook_rows()
    # Months in sheet rows 9-11, row 12 without a Date, another month in row 13.
    late = write_workbook([*rows[:3], (None,) * 8, rows[3]])
    with pytest.raises(MalformedValuationFileError) as failure:
        parsed(late)
    assert "sheet Data row 12: no Date between the months of rows 11 and 13" in str(failure.value)


def test_the_workbook_is_read_from_a_path_or_a_file_url(tmp_path):
    path = tmp_path / "ie_data.xls"
    path.write_bytes(write_workbook(workbook_rows()))
    for location in (str(path), path.as_uri()):
        content = download_workbook(location)
        assert content.data == path.read_bytes() and content.origin == str(path)
    with pytest.raises(ValuationSourceError, match="does not exist"):
        download_workbook(str(tmp_path / "missing.xls"))


def test_an_unreachable_workbook_url_is_a_retryable_typed_error():
    # Port 9 on the loopback: nothing listens, the connection is refused at once.
    with pytest.raises(ValuationSourceUnavailableError, match="could not be downloaded"):
        download_workbook("http://127.0.0.1:9/ie_data.xls", timeout_seconds=5)
