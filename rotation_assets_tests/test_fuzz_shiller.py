"""Fuzzed copies of Shiller's monthly file through ``sources.shiller_csv.parse_shiller_csv``.

What is only written differently (BOM, CRLF, rows out of order, columns in another order, extra
columns, blank lines) parses to the same frame; a file with one defect of any class
(fuzz_inputs.SHILLER_DEFECTS) raises ``MalformedValuationFileError`` naming the file and the
line (and the column where there is one); any bytes give a frame or that error, never another
exception. The load asset parses before it opens the warehouse (defs/valuation/assets.py), and
test_fuzz_price_load.py runs bad files through it against a warehouse.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rotation_assets.sources.shiller_csv import parse_shiller_csv
from rotation_assets.sources.shiller_monthly import (
    SHILLER_FIELDS,
    MalformedValuationFileError,
    ShillerContent,
)
from rotation_assets_tests.fuzz_inputs import (
    SHILLER_COLUMNS,
    Corruption,
    corrupted_shiller_files,
    examples,
    extra_column_names,
    render_shiller,
    shiller_numbers,
    shiller_rows,
)

ORIGIN = "/data/valuation/shiller.csv"


def parse(data: bytes) -> pd.DataFrame:
    return parse_shiller_csv(ShillerContent(data, ORIGIN))


def expected(rows: list[list[str]]) -> pd.DataFrame:
    frame = pd.DataFrame({"month": pd.to_datetime([r[0] + "-01" for r in rows]).astype("M8[ns]")})
    for i, field in enumerate(SHILLER_FIELDS, start=1):
        frame[field] = np.array([float(r[i]) if r[i] else np.nan for r in rows], dtype="float64")
    frame["source"] = (
        "Robert Shiller, Irrational Exuberance data (ie_data.xls, sheet Data) via shiller.csv"
    )
    return frame


@given(rows=shiller_rows(), data=st.data())
@examples(150)
def test_a_file_written_differently_parses_to_the_same_rows(rows, data) -> None:
    header = list(SHILLER_COLUMNS)
    order = data.draw(st.permutations(range(len(rows))), label="row order")
    columns = data.draw(st.permutations(range(9)), label="column order")
    extra = data.draw(st.lists(st.tuples(extra_column_names, shiller_numbers), max_size=2))
    extra = [(n, v) for n, v in extra if n.strip() not in SHILLER_COLUMNS]
    variant_header = [header[c] for c in columns] + [n for n, _ in extra]
    variant_rows = [[rows[i][c] for c in columns] + [v for _, v in extra] for i in order]
    data_bytes = render_shiller(
        variant_header,
        variant_rows,
        bom=data.draw(st.booleans(), label="bom"),
        crlf=data.draw(st.booleans(), label="crlf"),
    )
    if data.draw(st.booleans(), label="blank line"):
        lines = data_bytes.split(b"\n")
        at = data.draw(st.integers(1, len(lines) - 1))
        data_bytes = b"\n".join([*lines[:at], b"", *lines[at:]])

    canonical = parse(render_shiller(header, rows))

    pd.testing.assert_frame_equal(canonical, expected(rows))
    pd.testing.assert_frame_equal(parse(data_bytes), canonical)


@given(corruption=corrupted_shiller_files())
@examples(200)
@example(
    Corruption(
        "unparsable month",
        render_shiller(SHILLER_COLUMNS, [["0000-01", "1.0", *[""] * 7]]),
        ("column month", "'0000-01'"),
        2,
    )
).via("found by this property: year 0 crashed with ValueError (datetime.date)")
@example(
    Corruption(
        "unparsable month",
        render_shiller(SHILLER_COLUMNS, [["１９９０-01", "1.0", *[""] * 7]]),
        ("column month", "'１９９０-01'"),
        2,
    )
).via("found by this property: full-width digits were read as 1990-01")
def test_a_malformed_file_is_refused_naming_file_line_and_column(corruption: Corruption) -> None:
    with pytest.raises(MalformedValuationFileError) as raised:
        parse(corruption.data)
    message = str(raised.value)
    assert message.startswith(ORIGIN), message
    if corruption.line is not None:
        assert message.startswith(f"{ORIGIN} line {corruption.line}"), message
    for fragment in corruption.fragments:
        assert fragment in message, (fragment, message)


_LINE = re.compile(r" line (\d+)")


@given(rows=shiller_rows(), junk=st.binary(max_size=8), data=st.data())
@examples(150)
def test_any_bytes_give_rows_or_a_typed_error_naming_the_line(rows, junk, data) -> None:
    base = render_shiller(SHILLER_COLUMNS, rows)
    at = data.draw(st.integers(0, len(base)), label="at")
    corrupted = base[:at] + junk + base[at:]
    try:
        frame = parse(corrupted)
    except MalformedValuationFileError as error:
        message = str(error)
        assert message.startswith(ORIGIN), message
        if (match := _LINE.search(message)) is not None:
            assert 1 <= int(match.group(1)) <= corrupted.count(b"\n") + 1, message
        return
    # Parsed: one row per month, consecutive, a positive price, finite or missing numbers.
    assert frame["month"].is_monotonic_increasing and frame["month"].is_unique
    assert (frame["sp500_price"] > 0).all()
    assert not np.isinf(frame[list(SHILLER_FIELDS)].to_numpy()).any()
