"""rotation_assets: a Dagster code location for a small-cap vs large-cap rotation warehouse."""

import warnings

from dagster import BetaWarning

# Single-run backfills are a beta Dagster feature this project relies on on purpose: silence
# exactly that notice, nothing else.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
