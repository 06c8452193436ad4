from pathlib import Path

from rotation_assets.catalog import ALL_TABLES
from rotation_assets.warehouse.table_guide import END, START, render

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_guide_is_generated_from_the_table_definitions():
    text = README.read_text()
    guide = text[text.index(START) : text.index(END) + len(END)]
    assert guide == render(list(ALL_TABLES)), (
        "run: python -m rotation_assets.warehouse.table_guide --write README.md"
    )


def test_every_table_and_column_is_described():
    tables = list(ALL_TABLES)
    assert len({t.qualified_name for t in tables}) == len(tables)
    for spec in tables:
        assert spec.description.strip(), spec.qualified_name
        assert spec.key, f"{spec.qualified_name} has no grain"
        for column in spec.columns:
            assert column.description.strip(), f"{spec.qualified_name}.{column.name}"
