"""The floor of ``dagster definitions validate``: a code location of one no-op asset.

dagster definitions validate -f benchmarks/one_asset_module.py
"""

from dagster import Definitions, MaterializeResult, asset


@asset
def noop() -> MaterializeResult:
    return MaterializeResult()


defs = Definitions(assets=[noop])
