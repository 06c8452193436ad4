"""rotation_assets: a Dagster code location for a small-cap vs large-cap rotation warehouse."""

import warnings

from dagster import BetaWarning, PreviewWarning

# Two Dagster features this project relies on on purpose: single-run backfills (beta) and
# per-partition asset checks (preview). Silence exactly those notices, nothing else.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
warnings.filterwarnings(
    "ignore", category=PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*"
)
