"""The Dagster UI and DuckDB explain every asset: groups, kinds, owners, descriptions, row counts,
previews, and the same column descriptions in DuckDB (live and snapshot) as in Dagster.

One demo run of the whole ``rotation_job`` backs the tests that need materializations.
"""

import datetime as dt
from collections import defaultdict

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

from rotation_assets.catalog import META_TABLES
from rotation_assets.cli import execute_range, step_failures
from rotation_assets.definitions import build_definitions
from rotation_assets.defs.prices.sources import DemoPriceSource
from rotation_assets.defs.warehouse import DuckDBWarehouse
from rotation_assets.sources.shiller_csv import DEFAULT_SHILLER_FILE
from rotation_assets_tests.conftest import SHILLER_TABLES

GROUPS = {"reference", "prices", "valuation", "analytics", "reporting"}
SPAN = (dt.date(2026, 2, 9), dt.date(2026, 2, 13))
OBJECTS_SQL = """
SELECT schema_name || '.' || table_name AS name, comment FROM duckdb_tables()
WHERE database_name = current_database()
UNION ALL
SELECT schema_name || '.' || view_name, comment FROM duckdb_views()
WHERE database_name = current_database() AND NOT internal
"""
COLUMNS_SQL = """
SELECT schema_name || '.' || table_name AS name, column_name, data_type, comment
FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal
ORDER BY name, column_index
"""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """(defs, live path, snapshot path, {asset key: [materialization metadata]})."""
    folder = tmp_path_factory.mktemp("operators")
    warehouse = DuckDBWarehouse(database=str(folder / "rotation.duckdb"))
    defs = build_definitions(warehouse, DemoPriceSource())
    with DagsterInstance.ephemeral() as instance:
        result = execute_range(defs, *SPAN, instance, "test")
    assert result.success, step_failures(result)
    materialized = defaultdict(list)
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        materialized[materialization.asset_key].append(materialization.metadata)
    return defs, warehouse.database, warehouse.published_snapshot_path(), materialized


def asset_specs(defs):
    return {spec.key: spec for spec in defs.resolve_all_asset_specs()}


def table_assets(defs) -> dict[AssetKey, object]:
    """Assets that publish a warehouse table or view (they name it in dagster/table_name)."""
    return {k: s for k, s in asset_specs(defs).items() if "dagster/table_name" in s.metadata}


def test_every_asset_is_grouped_owned_kinded_and_described():
    from rotation_assets.definitions import load_definitions

    defs = load_definitions()

    specs = asset_specs(defs)
    assert len(specs) >= 22
    problems = []
    for key, spec in specs.items():
        name = key.to_user_string()
        if spec.group_name not in GROUPS:
            problems.append(f"{name}: group {spec.group_name!r}")
        if not spec.kinds:
            problems.append(f"{name}: no kinds")
        if not spec.owners:
            problems.append(f"{name}: no owners")
        if not (spec.description or "").strip():
            problems.append(f"{name}: no description")
    assert problems == []
    # Every table-publishing asset shows its columns in the UI.
    assert all("dagster/column_schema" in s.metadata for s in table_assets(defs).values())
    assert {k.path[0] for k in table_assets(defs)} == {"reference", "raw", "analytics"}


def test_every_warehouse_asset_reports_its_row_count_and_a_preview(demo_run):
    defs, _, _, materialized = demo_run
    tables = table_assets(defs)
    assert set(tables) <= set(materialized)  # the run materialized every table asset
    problems = []
    for key in tables:
        for metadata in materialized[key]:
            rows = metadata.get("dagster/row_count")
            if rows is None:
                problems.append(f"{key.to_user_string()}: no dagster/row_count")
            elif rows.value > 0 and "|" not in getattr(metadata.get("preview"), "value", ""):
                problems.append(f"{key.to_user_string()}: {rows.value} rows but no preview")
    assert problems == []
    row_counts = {k: max(m["dagster/row_count"].value for m in materialized[k]) for k in tables}
    # The 24 universe tickers, all listed by then (EXPI, the latest, since 2018), x 5 sessions.
    assert row_counts[AssetKey(["raw", "prices"])] == 24 * 5
    assert row_counts[AssetKey(["reference", "universe"])] == 24


def catalog(path) -> tuple[dict[str, str | None], dict[str, list[tuple]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        objects = dict(con.execute(OBJECTS_SQL).fetchall())
        columns = defaultdict(list)
        for name, column, data_type, comment in con.execute(COLUMNS_SQL).fetchall():
            columns[name].append((column, data_type, comment))
    return objects, columns


def test_duckdb_comments_and_dagster_column_schemas_agree_live_and_in_the_snapshot(demo_run):
    defs, live, snapshot, materialized = demo_run
    tables = {s.metadata["dagster/table_name"]: (k, s) for k, s in table_assets(defs).items()}
    # Assets that had nothing to write (demo prices carry no corporate actions or P/E
    # snapshots; two weeks are too short to compare an episode, 20 sessions at least, or to hold
    # the 31 weeks a relative rotation row needs): their tables exist, empty.
    wrote_nothing = {
        name
        for name, (key, _) in tables.items()
        if all(m["dagster/row_count"].value == 0 for m in materialized[key])
    }
    assert wrote_nothing == {
        "raw.corporate_actions",
        "raw.valuation_snapshots",
        "analytics.episode_similarity",
        "analytics.relative_rotation",
    } | (set() if DEFAULT_SHILLER_FILE.exists() else SHILLER_TABLES)
    # The refresh's bookkeeping is the only table without an asset, and it is documented too.
    bookkeeping = {spec.qualified_name: spec for spec in META_TABLES}
    for path in (live, snapshot):
        objects, columns = catalog(path)
        assert set(objects) == set(tables) | set(bookkeeping), path
        for name, comment in objects.items():
            assert comment and comment.strip(), f"{path}: {name} has no COMMENT"
            if name in bookkeeping:
                spec = bookkeeping[name]
                assert comment == spec.description
                expected = [(c.name, c.sql_type, c.description) for c in spec.columns]
                assert columns[name] == expected, f"{path}: {name}"
                continue
            _, spec = tables[name]
            schema = spec.metadata["dagster/column_schema"]
            expected = [(c.name, c.type.upper(), c.description) for c in schema.columns]
            assert columns[name] == expected, f"{path}: {name}"
            assert all(description for _, _, description in expected), name
