"""Dagster's SQLite event log test class, run against the batching storage.

Not collected here: ``test_event_log_conformance.py`` copies this file next to the
``dagster_tests`` package extracted from the installed Dagster's sdist and runs it there with
pytest, one class per process.
"""

import os
import tempfile

import dagster as dg
import pytest
from alembic.script import ScriptDirectory
from dagster_tests.storage_tests import test_event_log as suite

from rotation_assets.instance.event_log_storage import BatchingSqliteEventLogStorage


@pytest.fixture(scope="session", autouse=True)
def enable_defensive_checks():
    """As Dagster's own ``dagster_tests/conftest.py`` does for its tests."""
    previous = os.environ.get("DAGSTER_RECORD_DEFENSIVE_CHECKS")
    os.environ["DAGSTER_RECORD_DEFENSIVE_CHECKS"] = "true"
    yield
    if previous is None:
        del os.environ["DAGSTER_RECORD_DEFENSIVE_CHECKS"]
    else:
        os.environ["DAGSTER_RECORD_DEFENSIVE_CHECKS"] = previous


@pytest.fixture(scope="session", autouse=True)
def read_migration_scripts_once():
    """Dagster reads all of its alembic migration scripts again for every instance and every new
    run shard, which is half of this suite's time; they do not change during the run, so each
    folder of them is read once. Storage behaviour is unchanged: only the parsing is shared."""
    read = ScriptDirectory.from_config
    scripts: dict[tuple[str | None, str | None], ScriptDirectory] = {}

    def from_config(config):
        key = (config.get_main_option("script_location"), config.config_file_name)
        if key not in scripts:
            scripts[key] = read(config)
        return scripts[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ScriptDirectory, "from_config", staticmethod(from_config))
        yield


def _instance_with(storage_class: type[BatchingSqliteEventLogStorage]):
    tmpdir = tempfile.TemporaryDirectory(dir=os.getcwd())
    overrides = {
        "event_log_storage": {
            "module": storage_class.__module__,
            "class": storage_class.__name__,
            "config": {"base_dir": os.path.join(tmpdir.name, "history", "runs")},
        }
    }
    with tmpdir, dg.instance_for_test(temp_dir=tmpdir.name, overrides=overrides) as instance:
        assert type(instance.event_log_storage) is storage_class
        yield instance


class TestBatchingSqliteEventLogStorage(suite.TestSqliteEventLogStorage):
    """The suite as Dagster runs it on its stock SQLite event log: single events through
    ``store_event``, batches where a test asks for them."""

    __test__ = True

    @pytest.fixture(name="instance", scope="function")
    def instance(self):
        yield from _instance_with(BatchingSqliteEventLogStorage)


class EveryEventInABatch(BatchingSqliteEventLogStorage):
    """Stores each single event as a batch of one, so that every test of the suite goes through
    the batch path: its connections, transaction, commits and the closing that checkpoints."""

    def store_event(self, event):
        if getattr(self._local, "batch", None) is None:
            self.store_event_batch([event])
        else:
            super().store_event(event)


class TestEveryEventInABatch(suite.TestSqliteEventLogStorage):
    """The suite with every event stored through the batch path, and Dagster's batching on."""

    __test__ = True

    @pytest.fixture(name="instance", scope="function")
    def instance(self, monkeypatch):
        monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "5000")
        yield from _instance_with(EveryEventInABatch)
