"""The rotation charts, drawn headless (matplotlib's Agg canvas) and returned as PNG bytes.

Each function takes analytics frames as read from the warehouse and draws one chart:

- ``rebased_pair_chart``: one pair's two indices (IWM and QQQ by default; total return for
  that ETF pair) rebased to 100 at the close ``sessions`` sessions before the latest (the chart
  commentators post).
- ``ratio_history_chart``: per pair, the small/large ratio over its whole history on the pair's
  basis (price or total return), with same-leader streaks of ``min_streak``+ sessions shaded and
  detected rotation episodes marked; a pair whose leg stopped says since when.
- ``valuation_gap_chart``: the small-cap P/E discount (1 - small P/E / large P/E) over time per
  compared pair of indices.
- ``episode_overlay_chart``: per pair, the current episode's ratio path rebased to 100 at its
  start (the trough), over the paths of its most similar past episodes (and what they did
  next).

A chart drawn from synthetic (demo) prices says so in its title and across its plot. The PNG's
``Title`` text chunk holds the figure title and ``Description`` every text drawn, so a reader of
the file (or a test) can tell too.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

SYNTHETIC_LABEL = "SYNTHETIC DATA - not market data"
# How a pair's basis (reference.rotation_pairs.basis) reads in titles and labels.
BASIS_LABELS = {"total_return": "total return", "price": "price"}
NO_VALUATION_DATA = "no valuation data"
DPI = 100
SMALL_COLOR = "tab:green"
LARGE_COLOR = "tab:red"
EPISODE_COLOR = "tab:orange"


def is_synthetic(sources: Iterable) -> bool:
    """True when any source label (possibly 'csv+synthetic') includes synthetic."""
    return any("synthetic" in str(value).split("+") for value in sources if isinstance(value, str))


def finish_figure(fig: Figure, title: str, synthetic: bool) -> bytes:
    """Title (marked synthetic when it is), watermark, PNG bytes with the title in metadata."""
    if synthetic:
        title = f"{SYNTHETIC_LABEL}\n{title}"
        for ax in fig.axes:
            ax.text(
                0.5,
                0.5,
                SYNTHETIC_LABEL,
                transform=ax.transAxes,
                ha="center",
                va="center",
                rotation=20,
                fontsize=18,
                color="red",
                alpha=0.18,
                zorder=0,
            )
    fig.suptitle(title, fontsize=13, color="darkred" if synthetic else "black")
    # Every piece of text drawn, in the PNG too: screen readers, grep, and tests can read it.
    texts = " | ".join(t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Title": title, "Description": texts})
    return buffer.getvalue()


def _count(n: int, noun: str) -> str:
    """'1 episode', '3 episodes', '2 streaks of 10+ sessions'."""
    if n == 1:
        return f"1 {noun}"
    head, _, tail = noun.partition(" ")
    return f"{n} {head}s{' ' + tail if tail else ''}"


def empty_axes(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=13)
    ax.set_xticks([])
    ax.set_yticks([])


def _pair_rows(relative: pd.DataFrame, pair_id: str) -> pd.DataFrame:
    rows = relative[relative["pair_id"] == pair_id].sort_values("trade_date")
    return rows.assign(trade_date=pd.to_datetime(rows["trade_date"])).reset_index(drop=True)


def rebased_paths(rows: pd.DataFrame, sessions: int) -> pd.DataFrame:
    """trade_date, small, large: one pair's indices over its last ``sessions`` sessions, rebased
    to 100 at the session before them (the first row). With ``sessions`` or fewer rows, from
    the pair's base: a virtual session (NaT) one day before its first, where both are 100."""
    rows = rows.sort_values("trade_date")
    if len(rows) > sessions:
        window = rows.tail(sessions + 1)
        base_small, base_large = window["small_index"].iloc[0], window["large_index"].iloc[0]
        dates = window["trade_date"]
    else:
        window = rows
        base_small = base_large = 100.0
        first = pd.Timestamp(rows["trade_date"].iloc[0]) - pd.Timedelta(days=1)
        dates = pd.concat([pd.Series([first]), rows["trade_date"]])
    small = window["small_index"].to_numpy("float64") / base_small * 100.0
    large = window["large_index"].to_numpy("float64") / base_large * 100.0
    if len(rows) <= sessions:
        small, large = np.concatenate(([100.0], small)), np.concatenate(([100.0], large))
    return pd.DataFrame(
        {"trade_date": pd.to_datetime(dates.to_numpy()), "small": small, "large": large}
    )


def basis_label(basis: str | None) -> str:
    """'total return' or 'price' for a pair's basis; 'return' when it is not known."""
    return BASIS_LABELS.get(str(basis), "return")


def rebased_pair_chart(
    relative: pd.DataFrame,
    pair_id: str = "IWM_QQQ",
    small: str = "IWM",
    large: str = "QQQ",
    sessions: int = 90,
    basis: str = "total_return",
) -> bytes:
    """Both legs' indices on the pair's ``basis`` (total_return or price) over the pair's last
    ``sessions`` sessions, rebased to 100 at the close before them (so the end values are the
    ``sessions``-session returns).

    ``relative`` holds analytics.relative_strength rows (trade_date, pair_id, small_index,
    large_index, source). With fewer rows, the pair's whole history from its base (100).
    """
    rows = _pair_rows(relative, pair_id)
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    ax = fig.add_subplot()
    synthetic = is_synthetic(rows["source"]) if "source" in rows else False
    measure = basis_label(basis)
    if rows.empty:
        empty_axes(ax, f"no {pair_id} data yet")
        return finish_figure(fig, f"{small} vs {large}: {measure} rebased to 100", synthetic)

    paths = rebased_paths(rows, sessions)
    dates, small_path, large_path = paths["trade_date"], paths["small"], paths["large"]

    for path, name, color in ((small_path, small, SMALL_COLOR), (large_path, large, LARGE_COLOR)):
        end = float(path.iloc[-1])
        ax.plot(dates, path, color=color, linewidth=2, label=f"{name}  {end - 100:+.1f}%")
        ax.annotate(
            f"{name} {end:.1f}",
            (dates.iloc[-1], end),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            color=color,
            fontweight="bold",
        )
    ax.axhline(100, color="grey", linewidth=0.8, linestyle="--")
    gap = float(small_path.iloc[-1] - large_path.iloc[-1])
    n = len(paths) - 1
    ax.set_ylabel(f"{measure} index (100 = close before the window)")
    ax.legend(loc="upper left", title=f"gap {gap:+.1f} pp over {n} sessions")
    ax.grid(alpha=0.3)
    ax.margins(x=0.08)
    last = rows["trade_date"].iloc[-1].date()
    title = f"{small} vs {large}: {measure} rebased to 100, last {n} sessions to {last}"
    return finish_figure(fig, title, synthetic)


def _spans(ax, frame: pd.DataFrame, color: str, **kwargs) -> None:
    for start, end in zip(frame["start_date"], frame["end_date"], strict=True):
        ax.axvspan(pd.Timestamp(start), pd.Timestamp(end), color=color, linewidth=0, **kwargs)


def ratio_history_chart(
    relative: pd.DataFrame,
    streaks: pd.DataFrame,
    episodes: pd.DataFrame,
    pair_ids: list[str],
    min_streak: int = 10,
    bases: dict[str, str] | None = None,
) -> bytes:
    """One panel per pair: the ratio (100 * small index / large index, log scale) over its
    history; streaks of ``min_streak``+ sessions shaded green (small led) or red (large led);
    rotation episodes as orange bars along the top of the panel. ``bases`` (pair_id -> basis)
    names each panel's basis; a pair whose rows end before the latest pair's is marked stale
    since its last session."""
    bases = bases or {}
    latest = pd.to_datetime(relative["trade_date"]).max() if not relative.empty else None
    fig = Figure(figsize=(12, 3.2 * max(len(pair_ids), 1) + 0.8), layout="constrained")
    axes = fig.subplots(max(len(pair_ids), 1), 1, squeeze=False)[:, 0]
    synthetic = is_synthetic(relative["source"]) if "source" in relative else False
    long_streaks = streaks[streaks["sessions"] >= min_streak]
    for ax, pair_id in zip(axes, pair_ids, strict=False):
        rows = _pair_rows(relative, pair_id)
        if rows.empty:
            empty_axes(ax, f"{pair_id}: no data yet")
            continue
        pair_streaks = long_streaks[long_streaks["pair_id"] == pair_id]
        _spans(ax, pair_streaks[pair_streaks["leader"] == "small"], SMALL_COLOR, alpha=0.25)
        _spans(ax, pair_streaks[pair_streaks["leader"] == "large"], LARGE_COLOR, alpha=0.25)
        _spans(ax, episodes[episodes["pair_id"] == pair_id], EPISODE_COLOR, ymin=0.93, ymax=1.0)
        ax.plot(rows["trade_date"], rows["ratio"], color="black", linewidth=1)
        n_episodes = int((episodes["pair_id"] == pair_id).sum())
        last = rows["trade_date"].iloc[-1]
        basis = f" ({basis_label(bases[pair_id])})" if pair_id in bases else ""
        stale = f"  STALE since {last.date()}: a leg's series stopped" if last < latest else ""
        ax.set_title(
            f"{pair_id}{basis}: ratio {rows['ratio'].iloc[-1]:.1f} on {last.date()}"
            f"  ({_count(len(pair_streaks), f'streak of {min_streak}+ sessions')}, "
            f"{_count(n_episodes, 'episode')}){stale}",
            fontsize=11,
            loc="left",
            color="darkred" if stale else "black",
        )
        ax.set_ylabel("ratio (100 = pair's start)")
        ax.grid(alpha=0.3, which="both")
        ax.set_xlim(rows["trade_date"].iloc[0], rows["trade_date"].iloc[-1])
    episode_rule = "rotation episode"
    if not episodes.empty:
        window, threshold = episodes["window_sessions"].iloc[0], episodes["threshold"].iloc[0]
        episode_rule = (
            f"rotation episode (trough to peak: ratio up > {threshold:.0%} "
            f"within {window} sessions)"
        )
    fig.legend(
        handles=[
            Patch(color=SMALL_COLOR, alpha=0.25, label=f"small caps led {min_streak}+ sessions"),
            Patch(color=LARGE_COLOR, alpha=0.25, label=f"large caps led {min_streak}+ sessions"),
            Patch(color=EPISODE_COLOR, label=episode_rule),
        ],
        loc="outside lower center",
        ncols=3,
    )
    title = (
        "Small/large ratio (100 * small index / large index), each pair on its basis: price "
        "or total return\nrising = small caps lead (value leads, for a style pair)"
    )
    return finish_figure(fig, title, synthetic)


def valuation_gap_chart(valuation: pd.DataFrame) -> bytes:
    """Discount (1 - small P/E / large P/E) over time, one series per compared pair of indices.

    ``valuation`` holds analytics.valuation_gap rows; empty draws 'no valuation data'. These are
    published figures and Yahoo snapshots, not the price source, so never marked synthetic.
    """
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    ax = fig.add_subplot()
    title = "Small-cap valuation discount: 1 - small-cap P/E / large-cap P/E"
    if valuation.empty:
        empty_axes(ax, NO_VALUATION_DATA)
        return finish_figure(fig, title, synthetic=False)
    frame = valuation.assign(
        as_of=pd.to_datetime(valuation["as_of"]),
        series=np.where(
            valuation["pair_id"].notna(),
            valuation["pair_id"].astype(str),
            valuation["small_label"] + " vs " + valuation["large_label"],
        ),
    ).sort_values("as_of")
    for series, rows in frame.groupby("series", sort=True):
        line = ax.plot(
            rows["as_of"],
            rows["discount"] * 100,
            linewidth=1,
            marker="o",
            markersize=7,
            label=f"{series} ({_count(len(rows), 'point')})",
        )[0]
        snapshots = rows[rows["origin"] == "snapshot"]
        ax.scatter(
            snapshots["as_of"],
            snapshots["discount"] * 100,
            color=line.get_color(),
            marker="s",
            s=60,
            zorder=3,
        )
        for as_of, discount in zip(rows["as_of"], rows["discount"], strict=True):
            ax.annotate(
                f"{discount:.0%}",
                (as_of, discount * 100),
                xytext=(5, 5),
                textcoords="offset points",
                fontsize=9,
                color=line.get_color(),
            )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("discount, % (above 0 = small caps cheaper)")
    ax.legend(loc="best", fontsize=9, title="circle = published, square = Yahoo snapshot")
    ax.grid(alpha=0.3)
    ax.margins(x=0.1, y=0.15)
    fig.autofmt_xdate()
    return finish_figure(fig, title, synthetic=False)


def _rebased(ratio: np.ndarray, first: int, length: int) -> np.ndarray:
    """ratio from position ``first`` (an episode's start, its trough) and the ``length``
    sessions after it, rebased to 100 at ``first``."""
    return ratio[first : first + length + 1] / ratio[first] * 100.0


def episode_overlay_chart(
    relative: pd.DataFrame,
    episodes: pd.DataFrame,
    similarity: pd.DataFrame,
    pair_ids: list[str],
    top: int = 3,
) -> bytes:
    """One panel per pair in a current episode: its ratio path, rebased to 100 at its start (the
    trough), over its ``top`` most similar past episodes (analytics.episode_similarity
    rank), each drawn on for as many sessions again to show what the ratio did next. Pairs not
    in an episode are named below the panels."""
    synthetic = is_synthetic(relative["source"]) if "source" in relative else False
    current_episodes = episodes[episodes["is_current"].astype(bool)]
    in_episode = [
        p
        for p in pair_ids
        if (current_episodes["pair_id"] == p).any() and (relative["pair_id"] == p).any()
    ]
    n_panels = max(len(in_episode), 1)
    columns = 2 if n_panels > 1 else 1
    rows_n = (n_panels + columns - 1) // columns
    fig = Figure(figsize=(13 if columns == 2 else 11, 4.6 * rows_n + 1), layout="constrained")
    axes = fig.subplots(rows_n, columns, squeeze=False).ravel()
    outside = [p for p in pair_ids if p not in in_episode]
    if not in_episode:
        empty_axes(axes[0], "no pair is in a rotation episode now")
    elif outside:
        fig.supxlabel(
            f"No current rotation episode: {', '.join(outside)}", fontsize=10, color="dimgrey"
        )
    for ax, pair_id in zip(axes, in_episode, strict=False):
        current = current_episodes[current_episodes["pair_id"] == pair_id].iloc[0]
        rows = _pair_rows(relative, pair_id)
        dates = rows["trade_date"].to_numpy()
        ratio = rows["ratio"].to_numpy("float64")
        first = int(np.searchsorted(dates, np.datetime64(pd.Timestamp(current["start_date"]))))
        n = int(current["sessions"])
        horizon = 2 * n
        similar = similarity[similarity["pair_id"] == pair_id].sort_values("rank").head(top)
        for entry in similar.itertuples(index=False):
            past_first = int(
                np.searchsorted(dates, np.datetime64(pd.Timestamp(entry.past_start_date)))
            )
            path = _rebased(ratio, past_first, horizon)
            ax.plot(
                np.arange(len(path)),
                path,
                linewidth=1.3,
                alpha=0.8,
                label=f"#{int(entry.rank)} from {pd.Timestamp(entry.past_start_date).date()} "
                f"(distance {entry.distance:.1f})",
            )
        path = _rebased(ratio, first, n)
        ax.plot(
            np.arange(len(path)),
            path,
            color="black",
            linewidth=2.6,
            label=f"current, from {pd.Timestamp(current['start_date']).date()} ({n} sessions)",
        )
        ax.axvline(n, color="grey", linestyle=":", linewidth=1)
        ax.axhline(100, color="grey", linewidth=0.8, linestyle="--")
        note = "" if not similar.empty else ": no earlier episode to compare"
        ax.set_title(f"{pair_id}{note}", fontsize=11, loc="left")
        ax.set_xlabel("sessions since the episode began")
        ax.set_ylabel("ratio, rebased to 100")
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    title = (
        f"Current rotation episode vs the {top} most similar past episodes (closest "
        "volatility-normalised paths); "
        "dotted line = today"
    )
    return finish_figure(fig, title, synthetic)
