"""Dagster definitions only: assets, checks, jobs, schedules and resources, by domain.

``load_from_defs_folder`` imports every module below this package; the domain code they wire
lives in the plain packages beside it (sources, reference, quality, metrics, warehouse,
reporting), which import no Dagster.
"""

import warnings

from dagster import BetaWarning

# Single-run backfills are a beta Dagster feature this project relies on on purpose: silence
# exactly that notice, nothing else.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
