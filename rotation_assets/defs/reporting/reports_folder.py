"""Where charts and HTML reports are written (ROTATION_REPORTS_DIR; default reports/)."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from rotation_assets.paths import DEFAULT_REPORTS_DIR


class ReportsFolder(ConfigurableResource):
    """A folder for chart PNGs and HTML reports, created on first write."""

    path: str = Field(
        default=str(DEFAULT_REPORTS_DIR),
        description="Folder for chart PNGs and HTML reports (ROTATION_REPORTS_DIR).",
    )

    def write(self, name: str, content: bytes) -> Path:
        """Write ``content`` to ``name`` in the folder (replacing it) and return the file."""
        folder = Path(self.path)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        # Write beside it, then rename: a reader never sees half a PNG.
        partial = target.with_name(f".{name}.partial")
        partial.write_bytes(content)
        partial.replace(target)
        return target.resolve()
