"""``reference.market_events``: dated market events of the rotation (seeds/market_events.csv)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rotation_assets.paths import SEEDS_DIR
from rotation_assets.reference.seed_files import check_date_order, parse_seed_dates, read_seed
from rotation_assets.warehouse.table_spec import Column, TableSpec

MARKET_EVENTS = TableSpec(
    schema="reference",
    name="market_events",
    description=(
        "Dated market events of the 2026 rotation (seed: seeds/market_events.csv). Events from "
        "commentary are claims to check; the others describe only what the price files show."
    ),
    columns=(
        Column("event_id", "VARCHAR", "Identifier, e.g. ai_disruption_selloff.", nullable=False),
        Column("name", "VARCHAR", "Short name of the event.", nullable=False),
        Column("start_date", "DATE", "First day of the event window (inclusive).", nullable=False),
        Column("end_date", "DATE", "Last day of the event window (inclusive).", nullable=False),
        Column("description", "VARCHAR", "What happened, as the source states it.", nullable=False),
        Column("source", "VARCHAR", "Where the event and its dates come from.", nullable=False),
    ),
    key=("event_id",),
)


def load_market_events(path: Path = SEEDS_DIR / "market_events.csv") -> pd.DataFrame:
    """The events seed, validated: unique ids, every field filled, ISO dates, start <= end."""
    frame = read_seed(path, MARKET_EVENTS)
    for column in ("start_date", "end_date"):
        frame[column] = parse_seed_dates(path, frame, column)
    check_date_order(path, frame)
    return frame
