"""The code version of an analytics table covers every project module its rows depend on."""

from __future__ import annotations

import importlib
import linecache
import sys
import textwrap
from pathlib import Path

import pytest

from rotation_assets.metrics import analytics_tables, event_windows, leaders_laggards
from rotation_assets.metrics.code_version import code_reached, code_version

PACKAGE = "probe_metrics"


def _write(root: Path, name: str, text: str) -> None:
    (root / PACKAGE / f"{name}.py").write_text(textwrap.dedent(text))


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A small package shaped like ours: a build function in ``tables`` calling a helper beside
    it, a metric module, a shared SQL fragment it imports, and a module nothing reaches."""
    (tmp_path / PACKAGE).mkdir()
    _write(tmp_path, "__init__", "")
    _write(tmp_path, "shared", "def fragment():\n    return 'ln(close)'\n")
    _write(tmp_path, "unrelated", "X = 1\n")
    _write(
        tmp_path,
        "metric",
        """
        from probe_metrics.shared import fragment

        def metric_sql():
            return f"SELECT {fragment()}"
        """,
    )
    _write(
        tmp_path,
        "tables",
        """
        from probe_metrics import metric

        def _helper():
            return 1

        def _not_called():
            return 2

        def build(con, scope):
            return metric.metric_sql() * _helper()
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def _version(root: Path) -> str:
    linecache.checkcache()
    importlib.invalidate_caches()
    for name in ("shared", "unrelated", "metric", "tables"):
        module = sys.modules.get(f"{PACKAGE}.{name}")
        if module is not None:
            importlib.reload(module)
    tables = importlib.import_module(f"{PACKAGE}.tables")
    metric = importlib.import_module(f"{PACKAGE}.metric")
    code_version.cache_clear()
    return code_version(tables.build, (metric,), PACKAGE)


def test_it_follows_helpers_and_imported_modules_but_not_the_rest(probe):
    tables = importlib.import_module(f"{PACKAGE}.tables")
    metric = importlib.import_module(f"{PACKAGE}.metric")
    assert code_reached(tables.build, (metric,), PACKAGE) == [
        "probe_metrics.tables._helper",
        "probe_metrics.tables.build",
        "probe_metrics.metric",
        "probe_metrics.shared",
    ]


def test_a_change_to_a_shared_module_or_a_helper_changes_it_and_an_unrelated_one_does_not(
    probe,
):
    first = _version(probe)
    _write(probe, "unrelated", "X = 2\n")
    _write(
        probe,
        "tables",
        (probe / PACKAGE / "tables.py").read_text().replace("return 2", "return 3"),
    )
    assert _version(probe) == first  # nothing the build reaches changed
    _write(probe, "shared", "def fragment():\n    return 'ln(adj_close)'\n")
    after_shared = _version(probe)
    assert after_shared != first
    _write(
        probe,
        "tables",
        (probe / PACKAGE / "tables.py").read_text().replace("return 1", "return 4"),
    )
    assert _version(probe) not in (first, after_shared)


def test_event_windows_and_leaders_laggards_cover_the_window_sql_and_the_source_column():
    for table, module in (
        ("analytics.event_windows", event_windows),
        ("analytics.leaders_laggards", leaders_laggards),
    ):
        (derived,) = [t for t in analytics_tables.ANALYTICS_TABLES if t.name == table]
        assert module in derived.modules
        reached = code_reached(derived.build, derived.modules)
        assert "rotation_assets.metrics.window_returns" in reached
        assert "rotation_assets.metrics.provenance" in reached
        assert "rotation_assets.metrics.sql_on_frames" in reached
