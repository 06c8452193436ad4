"""The floor: one Dagster run of one no-op asset, through the instance in DAGSTER_HOME.

Run the same way as ``rotation update`` (a fresh interpreter, the same kind of instance, an
in-process run recorded in the event log), so ``update / floor`` is what the project adds on
top of what Dagster itself costs per run.
"""

from dagster import DagsterInstance, Definitions, MaterializeResult, asset, define_asset_job

from rotation_assets.instance.dagster_home import ensure_dagster_home


@asset
def noop() -> MaterializeResult:
    return MaterializeResult()


def main() -> int:
    ensure_dagster_home()
    defs = Definitions(assets=[noop], jobs=[define_asset_job("noop_job")])
    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def("noop_job").execute_in_process(instance=instance)
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
