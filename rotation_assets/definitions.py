"""The code location: everything under ``defs/``, loaded the dg way.

``dg``, ``dagster`` and ``workspace.yaml`` load ``defs`` (the ``@definitions`` function below),
which finds every asset, check, job, schedule and resource under ``rotation_assets/defs``.
``build_definitions`` gives tests and the CLI the same definitions with other resources bound.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg


def load_definitions() -> dg.Definitions:
    """Every definition under ``rotation_assets/defs``, with the configured resources."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


def build_definitions(
    warehouse: dg.ConfigurableResource,
    price_source: dg.ConfigurableResource,
    reports: dg.ConfigurableResource | None = None,
    shiller_source: dg.ConfigurableResource | None = None,
) -> dg.Definitions:
    """The definitions with ``warehouse``, ``price_source`` and (if given) ``reports`` and
    ``shiller_source`` bound instead of the ones configured from the environment."""
    defs = load_definitions()
    resources = {**defs.resources, "warehouse": warehouse, "price_source": price_source}
    if reports is not None:
        resources["reports"] = reports
    if shiller_source is not None:
        resources["shiller_source"] = shiller_source
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        loggers=defs.loggers,
        resources=resources,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return load_definitions()
