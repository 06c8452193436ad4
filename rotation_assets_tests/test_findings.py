"""The README's generated findings: formatting, marker replacement and the claims summary."""

import duckdb
import pytest

from rotation_assets.reporting.findings import (
    END_MARKER,
    START_MARKER,
    claims_section,
    markdown_table,
    percent,
    replace_between_markers,
)


def test_percent_formats_signed_and_unsigned_and_missing():
    assert percent(0.01234) == "+1.2%"
    assert percent(-0.0561) == "-5.6%"
    assert percent(0.997, signed=False) == "99.7%"
    assert percent(0.0002, signed=False, digits=2) == "0.02%"
    assert percent(None) == "n/a"
    assert percent(float("nan")) == "n/a"


def test_markdown_table_escapes_pipes_inside_cells():
    assert markdown_table(["a", "b"], [["IWM|QQQ", "x"]]) == "| a | b |\n|---|---|\n| IWM/QQQ | x |"


def test_only_the_text_between_the_markers_is_replaced():
    text = f"intro\n{START_MARKER}\nold body\n{END_MARKER}\n\nafter\n"
    assert replace_between_markers(text, "new body") == (
        f"intro\n{START_MARKER}\n\nnew body\n\n{END_MARKER}\n\nafter\n"
    )
    with pytest.raises(ValueError, match="markers not found"):
        replace_between_markers("no markers here", "body")


def test_claims_section_counts_verdicts_and_shows_values_in_their_unit():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA analytics")
    con.execute(
        "CREATE TABLE analytics.claims_check AS SELECT * FROM (VALUES "
        "('b_streak', 'sessions', 15.0, 14.0, 'contradicted', 'one short'), "
        "('a_return', 'return', 0.085, 0.0213, 'contradicted', NULL), "
        "('c_move', 'return', -0.06, -0.0555, 'confirmed', 'AMZN')) "
        "t(claim_id, unit, claimed_value, computed_value, verdict, reason)"
    )
    section = claims_section(con)
    assert "2 contradicted, 1 confirmed" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and "claim" not in line]
    # Sorted by claim_id; returns in percent with a sign, sessions as plain numbers.
    assert rows == [
        "| a_return | +8.5% | +2.1% | contradicted |  |",
        "| b_streak | 15 | 14 | contradicted | one short |",
        "| c_move | -6.0% | -5.5% | confirmed | AMZN |",
    ]
