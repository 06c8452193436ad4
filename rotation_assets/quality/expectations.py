"""The ``raw.prices`` quality rules as a Great Expectations suite, for a second opinion.

``price_quality`` stays the source of truth for blocking the write; this module re-states the
same rules in GX terms and reduces the result to plain values for Dagster check metadata.

``import great_expectations`` takes about 4 s, so it (and pandas and the table spec) are
imported inside ``validate_prices_with_gx``: importing this module costs nothing extra, and the
price is paid only by the run that actually validates.

GX has no expectation for "low <= min(open, close) * (1 + tol)", so the OHLC rules compare
helper columns (``HELPER_COLUMNS``) computed on a copy of the frame. They exist only in the
validated copy; the caller's frame is never modified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from rotation_assets.warehouse.table_spec import TableSpec

# Labels a price source may write into raw.prices.source (see RAW_PRICES' column description).
PRICE_SOURCE_LABELS = ("yfinance", "csv", "synthetic")

# Helper columns appended to the validated copy only; "_gx_" keeps them clear of real columns.
HIGH_TOLERANT = "_gx_high_tolerant"  # high * (1 + tol)
BODY_HIGH = "_gx_body_high"  # max(open, close)
BODY_LOW_TOLERANT = "_gx_body_low_tolerant"  # min(open, close) * (1 + tol)
HELPER_COLUMNS = (HIGH_TOLERANT, BODY_HIGH, BODY_LOW_TOLERANT)

_KEY = ("trade_date", "ticker")
_OHLC = ["open", "high", "low", "close"]
_BAR_PARTS = ("open", "high", "low")


@dataclass(frozen=True)
class GXSummary:
    """What a GX run found, reduced to JSON-able values.

    ``failures`` holds one dict per failed expectation, in suite order, with the keys ``check``
    (short rule name), ``expectation`` (GX type), ``columns``, ``unexpected_count`` (None for
    table-level expectations and errors), ``sample`` (up to ``sample_size`` offending rows, each
    with ``row``, ``trade_date`` as ISO date, ``ticker`` and the columns involved) and
    ``details`` (observed columns or the error message, else None).
    """

    success: bool
    evaluated: int
    failed: int
    failures: list[dict]

    def as_metadata(self) -> dict[str, Any]:
        """Metadata for a Dagster ``AssetCheckResult``: counts, the failures, a markdown table."""
        return {
            "gx_success": self.success,
            "gx_expectations": self.evaluated,
            "gx_failed": self.failed,
            "gx_failures": self.failures,
            "gx_failures_table": self.markdown(),
        }

    def markdown(self) -> str:
        """A short table of the failures, one line each with its first offending row."""
        if not self.failures:
            return f"All {self.evaluated} Great Expectations checks passed."
        lines = ["| check | columns | unexpected | first example |", "|---|---|---|---|"]
        for failure in self.failures:
            count = failure["unexpected_count"]
            example = _describe(failure["sample"][0]) if failure["sample"] else failure["details"]
            cells = [
                failure["check"],
                ", ".join(failure["columns"]),
                "" if count is None else str(count),
                example or "",
            ]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)


def validate_prices_with_gx(
    frame: pd.DataFrame | Iterable[pd.DataFrame], tolerance: float = 0.001, sample_size: int = 5
) -> GXSummary:
    """Run the raw.prices GX suite on ``frame`` in an ephemeral context (nothing written).

    ``frame`` may be a sequence of frames (chunks of sessions, so that memory stays bounded):
    they are validated in turn and the results merged. ``tolerance`` is the vendor rounding
    allowed on OHLC consistency (the default equals ``price_rules.OHLC_TOLERANCE``);
    ``sample_size`` caps the offending rows kept per failure.
    """
    if sample_size < 0:
        raise ValueError(f"sample_size must be >= 0, got {sample_size}")

    # Deferred on purpose: see the module docstring (GX alone is ~4 s).
    import great_expectations.expectations as gxe

    from rotation_assets.sources.base import PRICE_FIELDS
    from rotation_assets.sources.price_window import RAW_PRICES

    checked = (_with_helper_columns(chunk, tolerance) for chunk in _chunks(frame))
    return run_gx_suite(
        checked, "raw_prices", _expectations(gxe, RAW_PRICES, PRICE_FIELDS), sample_size
    )


def _chunks(frame: pd.DataFrame | Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
    import pandas as pd

    return [frame] if isinstance(frame, pd.DataFrame) else frame


def validate_returns_with_gx(
    frame: pd.DataFrame | Iterable[pd.DataFrame], sample_size: int = 5
) -> GXSummary:
    """The analytics.daily_returns GX suite: schema, defined values, unique keys, known sources,
    and returns inside (-100%, +1000%] (anything outside is a data error, not a market move)."""
    import great_expectations.expectations as gxe

    from rotation_assets.metrics.daily_returns import DAILY_RETURNS

    def meta(check: str, columns: list[str]) -> dict[str, Any]:
        return {"check": check, "columns": columns}

    expectations: list[Any] = [
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=DAILY_RETURNS.column_names, meta=meta("columns_match", [])
        ),
        *(
            gxe.ExpectColumnValuesToNotBeNull(
                column=c.name, meta=meta(f"{c.name}_not_null", [c.name])
            )
            for c in DAILY_RETURNS.columns
            if not c.nullable
        ),
        *(
            gxe.ExpectColumnValuesToBeBetween(
                column=c,
                min_value=-1.0,
                max_value=10.0,
                strict_min=True,
                meta=meta(f"{c}_plausible", [c]),
            )
            for c in ("price_return", "total_return")
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=list(_KEY), meta=meta("unique_trade_date_ticker", list(_KEY))
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="source",
            value_set=list(PRICE_SOURCE_LABELS),
            meta=meta("known_source", ["source"]),
        ),
    ]
    return run_gx_suite(_chunks(frame), "daily_returns", expectations, sample_size)


def run_gx_suite(
    frames: Iterable[pd.DataFrame], name: str, expectations: list[Any], sample_size: int = 5
) -> GXSummary:
    """Validate each of ``frames`` against ``expectations`` in one ephemeral GX context, and
    merge the results: a failure's unexpected counts add up, its samples come from the first
    chunks that had any. Chunks must not split a key (split them by session)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Otherwise every run draws tqdm bars on stderr, which ends up in Dagster's compute logs.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(f"{name}_frame")
        .add_batch_definition_whole_dataframe("whole_frame")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )
    order = {e.meta["check"]: i for i, e in enumerate(expectations)}
    merged: dict[str, dict] = {}
    success, evaluated = True, 0
    for frame in frames:
        # include_unexpected_rows hands back the first offending rows whole (ticker, date and
        # the prices), already capped at partial_unexpected_count. unexpected_index_column_names
        # would also identify rows, but builds a dict per offending row first: on 100k rows
        # with ~140k offending values it took 5.4 s against 0.3 s.
        result = validation.run(
            batch_parameters={"dataframe": frame},
            result_format={
                "result_format": "SUMMARY",
                "include_unexpected_rows": True,
                "partial_unexpected_count": sample_size,
            },
        )
        success = success and bool(result.success)
        evaluated = int(result.statistics["evaluated_expectations"])
        for failure in (_failure(r) for r in result.results if not r.success):
            merged[failure["check"]] = _merge_failures(
                merged.get(failure["check"]), failure, sample_size
            )
    failures = sorted(merged.values(), key=lambda f: order.get(f["check"], len(order)))
    return GXSummary(success=success, evaluated=evaluated, failed=len(failures), failures=failures)


def _merge_failures(first: dict | None, later: dict, sample_size: int) -> dict:
    """The same expectation failing in two chunks: counts add up, samples fill up in order."""
    if first is None:
        return later
    counts = (first["unexpected_count"], later["unexpected_count"])
    return {
        **first,
        "unexpected_count": None if None in counts else sum(counts),
        "sample": (first["sample"] + later["sample"])[:sample_size],
    }


def _with_helper_columns(frame: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """A copy of ``frame`` with the OHLC helper columns appended and a 0..n-1 index.

    Same arithmetic as ``price_quality.inconsistent_ohlc`` (min/max skip a missing open or
    close). A helper whose inputs are missing is left out, so its expectation errors and fails.
    """
    # The positional index makes a sampled row's "row" its position in the caller's frame.
    checked = frame.reset_index(drop=True)
    if {"open", "close"} <= set(checked.columns):
        body = checked[["open", "close"]]
        if "high" in checked.columns:
            checked[HIGH_TOLERANT] = checked["high"] * (1 + tolerance)
            checked[BODY_HIGH] = body.max(axis=1)
        checked[BODY_LOW_TOLERANT] = body.min(axis=1) * (1 + tolerance)
    # copy() consolidates the appended blocks once; GX copies the frame per metric and would
    # otherwise re-consolidate each time (about a third of the run time on 100k rows).
    return checked.copy()


def _expectations(gxe: Any, spec: TableSpec, price_fields: list[str]) -> list[Any]:
    """The suite, in a fixed order; ``meta`` carries the rule name and the real columns."""

    from great_expectations.expectations.row_conditions import Column

    def meta(check: str, columns: list[str]) -> dict[str, Any]:
        return {"check": check, "columns": columns}

    out = [
        # The helpers are appended by _with_helper_columns, so they are expected at the end.
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=[*spec.column_names, *HELPER_COLUMNS],
            meta=meta("columns_match_raw_prices", spec.column_names),
        )
    ]
    for c in spec.columns:
        if not c.nullable:
            out.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=c.name, meta=meta(f"{c.name}_not_null", [c.name])
                )
            )
        elif c.name in _BAR_PARTS:
            # A close-only bar leaves open, high and low all empty; one of them missing beside
            # the others is a defect (price_rules.null_prices_sql says the same).
            first, second = (Column(p).is_not_null() for p in _BAR_PARTS if p != c.name)
            out.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=c.name,
                    row_condition=first | second,
                    meta=meta(f"{c.name}_not_null", [c.name]),
                )
            )
    out += [
        gxe.ExpectColumnValuesToBeBetween(
            column=c, min_value=0, strict_min=True, meta=meta(f"{c}_positive", [c])
        )
        for c in price_fields
    ]
    out += [
        # Column-map expectations skip nulls, so an empty volume (^RUT) is allowed.
        gxe.ExpectColumnValuesToBeBetween(
            column="volume", min_value=0, mostly=1.0, meta=meta("volume_non_negative", ["volume"])
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=list(spec.key), meta=meta("unique_trade_date_ticker", list(spec.key))
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="source",
            value_set=list(PRICE_SOURCE_LABELS),
            meta=meta("source_known", ["source"]),
        ),
        # Rows with a missing price are skipped here, as in price_quality: *_not_null reports them.
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=HIGH_TOLERANT,
            column_B=BODY_HIGH,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=meta("ohlc_high_covers_body", _OHLC),
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=BODY_LOW_TOLERANT,
            column_B="low",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=meta("ohlc_low_under_body", _OHLC),
        ),
    ]
    return out


def _failure(result: Any) -> dict:
    """One failed expectation result as a JSON-able dict (see ``GXSummary``)."""
    config = result.expectation_config
    columns = list(config.meta["columns"])
    detail = result.result or {}
    rows = detail.get("unexpected_rows")
    sample: list[dict] = []
    if rows is not None and len(rows):
        keep = list(dict.fromkeys(c for c in [*_KEY, *columns] if c in rows.columns))
        sample = [
            {"row": int(index), **{c: _json_value(c, v) for c, v in record.items()}}
            for index, record in zip(rows.index, rows[keep].to_dict("records"), strict=True)
        ]
    details = _error_message(result.exception_info)
    if details is None and "observed_value" in detail:
        observed = [c for c in detail["observed_value"] if c not in HELPER_COLUMNS]
        details = f"observed columns: {', '.join(map(str, observed))}"
    count = detail.get("unexpected_count")
    return {
        "check": config.meta["check"],
        "expectation": config.type,
        "columns": columns,
        "unexpected_count": None if count is None else int(count),
        "sample": sample,
        "details": details,
    }


def _error_message(info: Any) -> str | None:
    """The exception message of a result, if computing it raised (e.g. a missing column).

    GX reports either one flat dict or a dict of them keyed by metric id.
    """
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _json_value(column: str, value: Any) -> Any:
    """A cell as a JSON value: dates as ISO strings, missing as None, numpy as Python."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_scalar(value) and pd.isna(value):  # None, NaN, NaT, pd.NA
        return None
    if isinstance(value, dt.datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if column == "trade_date" else stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _describe(row: dict) -> str:
    """``IWM 2024-01-02 (close=-1)``: a sampled row in one short phrase."""
    values = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("row", *_KEY))
    return f"{row.get('ticker')} {row.get('trade_date')}" + (f" ({values})" if values else "")
