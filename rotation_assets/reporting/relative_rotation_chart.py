"""The relative rotation chart: each instrument's last weeks in the RS-ratio / RS-momentum plane.

Drawn from ``analytics.relative_rotation`` rows (``metrics.relative_rotation`` defines them):
x = ``rs_ratio``, y = ``rs_momentum``, the four quadrants around (100, 100) shaded and labelled
(leading top right, weakening bottom right, lagging bottom left, improving top left). Each
instrument is a tail of its weekly points over the last ``weeks`` weeks (8 by default) up to
the chart's week, the newest point marked and named. The chart's week is the week of the
newest ``week_end`` on or before ``as_of`` (all rows when None), so a view as of an earlier
session draws only rows dated on or before it. An instrument whose data stopped before the
chart's week draws its shorter tail, dated; one with no week in the window is named below
the plot with its last week. Styled and finished like ``reporting.charts`` (headless Agg, PNG
bytes, synthetic data marked in the title and across the plot, every text in the PNG's
``Description``).
"""

from __future__ import annotations

import datetime as dt
import textwrap

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from rotation_assets.metrics.relative_rotation import MOMENTUM_WEEKS, WINDOW_WEEKS
from rotation_assets.reporting.charts import empty_axes, finish_figure, is_synthetic

TAIL_WEEKS = 8
# The RRG's customary colours: green leading, yellow weakening, red lagging, blue improving.
QUADRANT_COLORS = {
    "leading": "tab:green",
    "weakening": "gold",
    "lagging": "tab:red",
    "improving": "tab:blue",
}
# Where each quadrant's label sits, in axes coordinates.
QUADRANT_CORNERS = {
    "leading": (0.98, 0.98, "right", "top"),
    "weakening": (0.98, 0.02, "right", "bottom"),
    "lagging": (0.02, 0.02, "left", "bottom"),
    "improving": (0.02, 0.98, "left", "top"),
}
NO_ROTATION_DATA = "no relative rotation data yet"


def _mondays(days: pd.Series) -> pd.Series:
    """The Monday of each date's week (Monday to Sunday), as the metric groups sessions."""
    return days.dt.normalize() - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _on_or_before(
    rotation: pd.DataFrame, as_of: dt.date | str | pd.Timestamp | None
) -> pd.DataFrame:
    """The rows dated on or before ``as_of`` (all when None), week_end as timestamps."""
    rows = rotation.assign(week_end=pd.to_datetime(rotation["week_end"]))
    return rows if as_of is None else rows[rows["week_end"] <= pd.Timestamp(as_of)]


def rotation_tails(
    rotation: pd.DataFrame,
    weeks: int = TAIL_WEEKS,
    as_of: dt.date | str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """What the chart draws: per pair (ticker, benchmark), its rows whose week_end lies in the
    last ``weeks`` weeks up to the chart's week (the week of the newest week_end on or before
    ``as_of``; None: of all rows), oldest first. Columns: ticker, benchmark, week_end,
    rs_ratio, rs_momentum, quadrant, source."""
    columns = ["ticker", "benchmark", "week_end", "rs_ratio", "rs_momentum", "quadrant", "source"]
    rows = _on_or_before(rotation, as_of)
    if rows.empty:
        return rows.reindex(columns=columns).reset_index(drop=True)
    mondays = _mondays(rows["week_end"])
    tails = rows[mondays >= mondays.max() - pd.Timedelta(weeks=weeks - 1)]
    return (
        tails.sort_values(["ticker", "benchmark", "week_end"])
        .reindex(columns=columns)
        .reset_index(drop=True)
    )


def _limits(tails: pd.DataFrame) -> tuple[float, float]:
    """Square axes centred on 100, wide enough for every point (at least 98 to 102)."""
    values = np.concatenate([tails["rs_ratio"].to_numpy(), tails["rs_momentum"].to_numpy()])
    half = max(2.0, float(np.nanmax(np.abs(values - 100.0))) * 1.12) if len(values) else 2.0
    return 100.0 - half, 100.0 + half


def relative_rotation_figure(
    rotation: pd.DataFrame,
    weeks: int = TAIL_WEEKS,
    as_of: dt.date | str | pd.Timestamp | None = None,
) -> tuple[Figure, str]:
    """The chart's figure and title, before finishing; each tail is a line whose ``gid`` is
    'TICKER vs BENCHMARK' and whose points are ``rotation_tails``' rs_ratio, rs_momentum."""
    tails = rotation_tails(rotation, weeks, as_of)
    fig = Figure(figsize=(10, 9.5), layout="constrained")
    ax = fig.add_subplot()
    title = f"Relative rotation against each benchmark (total return, weekly): last {weeks} weeks"
    if tails.empty:
        empty_axes(ax, NO_ROTATION_DATA)
        return fig, title
    chart_week = tails["week_end"].max()
    title = f"{title} to {chart_week.date()}"

    low, high = _limits(tails)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    half = high - 100.0
    for quadrant, corner in {
        "leading": (100, 100),
        "weakening": (100, low),
        "lagging": (low, low),
        "improving": (low, 100),
    }.items():
        ax.add_patch(
            Rectangle(corner, half, half, color=QUADRANT_COLORS[quadrant], alpha=0.1, zorder=0)
        )
        x, y, ha, va = QUADRANT_CORNERS[quadrant]
        ax.text(
            x,
            y,
            quadrant.capitalize(),
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=14,
            fontweight="bold",
            color=QUADRANT_COLORS[quadrant],
            alpha=0.8,
        )
    ax.axhline(100, color="grey", linewidth=0.8)
    ax.axvline(100, color="grey", linewidth=0.8)

    groups = list(tails.groupby(["ticker", "benchmark"], sort=True))
    palette = mpl.colormaps["tab10" if len(groups) <= 10 else "tab20"]
    for i, ((ticker, benchmark), rows) in enumerate(groups):
        color = palette(i % palette.N)
        head = rows.iloc[-1]
        stale = "" if head["week_end"] == chart_week else f", to {head['week_end'].date()}"
        ax.plot(
            rows["rs_ratio"],
            rows["rs_momentum"],
            color=color,
            linewidth=1.4,
            gid=f"{ticker} vs {benchmark}",
            label=f"{ticker} vs {benchmark}: {head['quadrant']}{stale}",
        )
        # Points grow towards the newest week, which is ringed: the tail's direction.
        sizes = np.linspace(6, 30, len(rows))
        sizes[-1] = 80
        ax.scatter(
            rows["rs_ratio"],
            rows["rs_momentum"],
            s=sizes,
            color=color,
            edgecolors=["none"] * (len(rows) - 1) + ["black"],
            zorder=3,
        )
        ax.annotate(
            ticker,
            (head["rs_ratio"], head["rs_momentum"]),
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
            color=color,
        )
    ax.set_xlabel(f"RS-ratio (100 + z-score of relative strength over {WINDOW_WEEKS} weeks)")
    ax.set_ylabel(
        f"RS-momentum (100 + z-score of RS-ratio's {MOMENTUM_WEEKS}-week change, "
        f"{WINDOW_WEEKS} weeks)"
    )
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncols=3, fontsize=9, title="newest week: quadrant")

    drawn = {(t, b) for (t, b), _ in groups}
    read = _on_or_before(rotation, as_of)
    last = read.groupby(["ticker", "benchmark"], sort=True)["week_end"].max()
    missing = [
        f"{t} vs {b} (last week {day.date()})"
        for (t, b), day in last.items()
        if (t, b) not in drawn
    ]
    if missing:
        # Wrapped: with several stopped series one line runs off the figure.
        ax.set_title(
            textwrap.fill(f"No week in the last {weeks}: {', '.join(missing)}", width=110),
            fontsize=10,
            color="dimgrey",
            loc="left",
        )
    return fig, title


def relative_rotation_chart(
    rotation: pd.DataFrame,
    weeks: int = TAIL_WEEKS,
    as_of: dt.date | str | pd.Timestamp | None = None,
) -> bytes:
    """PNG bytes of the relative rotation chart of ``rotation`` (analytics.relative_rotation
    rows): every pair's last ``weeks`` weeks up to the chart's week (see the module)."""
    fig, title = relative_rotation_figure(rotation, weeks, as_of)
    rows = _on_or_before(rotation, as_of)
    synthetic = is_synthetic(rows["source"]) if "source" in rows else False
    return finish_figure(fig, title, synthetic)
