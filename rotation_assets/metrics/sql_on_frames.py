"""Running a metric's SQL over pandas frames: how the unit tests (and small callers) use the
exact SQL the warehouse runs.

Each SQL metric is written once as a query over named relations (``returns``, ``spreads``,
...). In the warehouse those names are tables or filtered subqueries; in a test they are
small hand-made frames, registered on an in-memory DuckDB connection.
"""

from __future__ import annotations

import duckdb
import pandas as pd


def query_frames(sql: str, **frames: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``sql`` with each keyword frame registered as a relation of that name."""
    with duckdb.connect() as con:
        for name, frame in frames.items():
            con.register(name, frame)
        return con.execute(sql).df()
