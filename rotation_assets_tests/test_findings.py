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


def test_claims_section_counts_verdicts_and_lists_parts_and_sensitivity_by_document_date():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA analytics")
    con.execute(
        "CREATE TABLE analytics.claims_check AS SELECT * FROM (VALUES "
        "('b_streak', 'article', DATE '2026-02-11', 'contradicted', 'length: 14 vs 15', "
        "'flips to confirmed when near ties count the other way'), "
        "('a_return', 'article', DATE '2026-02-11', 'contradicted', 'gap: +2.1% vs +8.5%', NULL), "
        "('c_ytd', 'note', DATE '2026-02-04', 'confirmed', 'x: 1 vs 1', 'no reading flips')) "
        "t(claim_id, document, as_of_date, verdict, parts, sensitivity)"
    )
    section = claims_section(con)
    assert "2 contradicted, 1 confirmed" in section
    lines = section.splitlines()
    rows = [line for line in lines if line.startswith("| ") and "claim |" not in line]
    # The note (2026-02-04) before the article (2026-02-11); within a document by claim_id.
    assert rows == [
        "| c_ytd | note (2026-02-04) | **confirmed** | x: 1 vs 1 | no reading flips |",
        "| a_return | article (2026-02-11) | **contradicted** | gap: +2.1% vs +8.5% |  |",
        "| b_streak | article (2026-02-11) | **contradicted** | length: 14 vs 15 | "
        "flips to confirmed when near ties count the other way |",
    ]
