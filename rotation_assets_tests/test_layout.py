"""The layout keeps its promises: domain code imports no Dagster, and nothing reaches into
Dagster's private modules."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rotation_assets"
# Plain domain code: sources, reference seeds, quality rules, metrics, warehouse I/O, reporting.
PLAIN = ("sources", "quality", "reference", "metrics", "warehouse", "reporting")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PLAIN)
def test_domain_packages_import_no_dagster_and_nothing_from_defs(package):
    files = sorted((PACKAGE / package).rglob("*.py"))
    assert files, package
    for path in files:
        for module in imported_modules(path):
            assert not module.split(".")[0].startswith("dagster"), f"{path}: imports {module}"
            assert not module.startswith("rotation_assets.defs"), f"{path}: imports {module}"


# The one module allowed to use Dagster internals: a storage pinned to the Dagster minor it was
# built for (see its docstring).
EVENT_LOG_STORAGE = PACKAGE / "instance" / "event_log_storage.py"


def test_nothing_imports_dagster_private_modules_but_the_event_log_storage():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == EVENT_LOG_STORAGE:
            continue
        text = path.read_text()
        private = [m for m in imported_modules(path) if m.startswith("dagster._")]
        if private or "dagster._" in text:
            offenders.append(
                f"{path.relative_to(PACKAGE.parent)}: {private or 'dagster._ in text'}"
            )
    assert offenders == []
