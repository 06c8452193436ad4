"""The HTML report of a session: one self-contained file (charts embedded as base64).

The latest session by default; as of an earlier loaded session D (``rotation report --as-of
D``) every section uses only rows dated on or before D (``reporting.point_in_time``) and says
so at the top. Sections: the dashboard (analytics.rotation_dashboard, or its as-of macro),
valuation (the S&P 500's CAPE and trailing P/E against their history as usable on the session,
each pair's published P/E discount and its price-only proxy), the charts, leaders and laggards
(month to date, year to date, each market event) with the event windows, streak records (the
longest run per pair and leader, and the current one), historical parallels (seeded periods and
the most similar past episodes), and the claims with their verdicts. Reads the warehouse
read-only; a report of synthetic (demo) data says so at the top and on every chart.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rotation_assets.reporting.inputs import CHARTS, ReportInputs, read_report_inputs, render_chart
from rotation_assets.warehouse.connection import read_only_connection

SYNTHETIC_LABEL = "SYNTHETIC DATA - not market data"  # as on the charts (charts.SYNTHETIC_LABEL)

STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px auto;
       max-width: 1320px; color: #222; line-height: 1.4; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ccc; }
.meta { color: #555; margin-top: 0; }
.synthetic { background: #b00020; color: white; padding: 12px 16px; font-size: 20px;
             font-weight: bold; border-radius: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure { margin: 16px 0 28px; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
.verdict-confirmed { background: #e3f4e3; } .verdict-close { background: #fff6d6; }
.verdict-contradicted { background: #fde2e2; } .verdict-not_computable { background: #eee; }
.stale { background: #fff3e0; border-left: 4px solid #e65100; padding: 4px 12px; }
.asof { background: #e8f0fe; border-left: 4px solid #1a56db; padding: 8px 12px; }
"""


def _cell(value, kind: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<td>-</td>" if kind == "text" else '<td class="num">-</td>'
    if kind == "pct":
        return f'<td class="num">{value:+.1%}</td>'
    if kind == "share":
        return f'<td class="num">{value:.0%}</td>'
    if kind == "percentile":
        return f'<td class="num">{value:.1%}</td>'
    if kind == "float":
        return f'<td class="num">{value:,.2f}</td>'
    if kind == "int":
        return f'<td class="num">{int(value):,}</td>'
    if kind == "date":
        return f'<td class="num">{pd.Timestamp(value).date()}</td>'
    if kind == "month":
        return f'<td class="num">{pd.Timestamp(value):%Y-%m}</td>'
    if kind == "num_text":  # a number already written out (claims in their units)
        return f'<td class="num">{html.escape(str(value))}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def html_table(frame: pd.DataFrame, columns: list[tuple[str, str, str]], row_class=None) -> str:
    """A table of ``frame``: columns as (column, heading, kind); kind = text, pct, share, float,
    int, date, month or num_text (a number already written out). ``row_class(row)`` may name a CSS
    class per row."""
    if frame.empty:
        return "<p><em>No rows yet.</em></p>"
    head = "".join(f"<th>{html.escape(heading)}</th>" for _, heading, _ in columns)
    body = []
    for row in frame.to_dict("records"):
        css = f' class="{row_class(row)}"' if row_class else ""
        cells = "".join(_cell(row.get(column), kind) for column, _, kind in columns)
        body.append(f"<tr{css}>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


DASHBOARD_COLUMNS = [
    ("pair_id", "pair", "text"),
    ("basis", "basis", "text"),
    ("trade_date", "session", "date"),
    ("stale_since", "stale since", "date"),
    ("ratio_change_ytd", "ratio YTD", "pct"),
    ("return_difference_ytd", "return diff YTD", "pct"),
    ("spread_sum_ytd", "spread sum YTD", "pct"),
    ("ratio_change_20", "ratio 20d", "pct"),
    ("return_difference_20", "return diff 20d", "pct"),
    ("ratio_change_60", "ratio 60d", "pct"),
    ("return_difference_60", "return diff 60d", "pct"),
    ("ratio_change_252", "ratio 252d", "pct"),
    ("ratio_change_252_percentile", "252d percentile", "share"),
    ("streak_leader", "streak leader", "text"),
    ("streak_sessions", "streak sessions", "int"),
    ("streak_start_date", "streak since", "date"),
    ("streak_longest_since", "longest since", "date"),
    ("valuation_discount", "P/E discount", "share"),
    ("valuation_as_of", "P/E as of", "date"),
    ("source", "source", "text"),
]


STANDING_COLUMNS = [
    ("measure", "measure (S&P 500, Robert Shiller's data)", "text"),
    ("month", "month", "month"),
    ("value", "value", "float"),
    ("percentile_25y", "percentile, last 25 years", "share"),
    ("percentile_since_1881", "percentile since 1881", "share"),
    ("usable_from", "usable from", "date"),
    ("lag", "lag", "text"),
]

PAIR_VALUATION_COLUMNS = [
    ("pair_id", "pair", "text"),
    ("trade_date", "session", "date"),
    ("valuation_discount", "published P/E discount", "share"),
    ("valuation_metric", "P/E", "text"),
    ("valuation_as_of", "P/E as of", "date"),
    ("valuation_source", "P/E citation", "text"),
    ("price_proxy_percentile_25y", "PRICE-ONLY proxy: ratio percentile, 25 years", "share"),
]


def valuation_standing(standing: pd.DataFrame) -> pd.DataFrame:
    """The S&P 500's CAPE and trailing P/E rows of the report's valuation section, from the one
    row of ``metrics.valuation_history.standing_sql``."""
    if standing.empty:
        return pd.DataFrame()
    row = standing.iloc[0]
    return pd.DataFrame(
        [
            {
                "measure": label,
                "month": row[f"{measure}_month"],
                "value": row[measure],
                "percentile_25y": row[f"{measure}_percentile_25y"],
                "percentile_since_1881": row[f"{measure}_percentile_since_1881"],
                "usable_from": row[f"{measure}_usable_from"],
                "lag": lag,
            }
            for measure, label, lag in (
                ("cape", "CAPE (P/E10: price / 10-year average real earnings)", "month end"),
                ("trailing_pe", "trailing 12-month P/E", "its quarter's earnings out"),
            )
            if not pd.isna(row[f"{measure}_month"])
        ]
    )


def stale_pairs_note(dashboard: pd.DataFrame) -> str:
    """A paragraph naming each stale pair (a leg's series stopped), since when and which leg;
    empty when every pair is current."""
    if dashboard.empty or "stale_since" not in dashboard:
        return ""
    stale = dashboard[dashboard["stale_since"].notna()].sort_values("pair_id")
    if stale.empty:
        return ""
    items = "".join(
        f"<li><b>{html.escape(str(row.pair_id))}</b>: stale since "
        f"{pd.Timestamp(row.stale_since).date()}; stopped: "
        f"{html.escape(row.stale_legs if isinstance(row.stale_legs, str) else 'a leg')}. "
        "Its figures are as of that session.</li>"
        for row in stale.itertuples()
    )
    heading = "<b>Stale pairs</b> (a leg's series stopped before the report's session):"
    return f'<div class="stale"><p>{heading}</p><ul>{items}</ul></div>'


def streak_records(streaks: pd.DataFrame) -> pd.DataFrame:
    """Per pair and leader: the longest run (the most recent if several share the record), with
    the length and start of the current run when it is that leader's."""
    if streaks.empty:
        return pd.DataFrame()
    ordered = streaks.sort_values(["pair_id", "leader", "sessions", "end_date"])
    longest = ordered.groupby(["pair_id", "leader"], as_index=False).tail(1)
    current = streaks[streaks["is_current"].astype(bool)][
        ["pair_id", "leader", "sessions", "start_date", "longest_since"]
    ].rename(
        columns={
            "sessions": "current_sessions",
            "start_date": "current_start",
            "longest_since": "current_longest_since",
        }
    )
    records = longest.merge(current, on=["pair_id", "leader"], how="left")
    return records.sort_values(["pair_id", "leader"]).reset_index(drop=True)


STREAK_COLUMNS = [
    ("pair_id", "pair", "text"),
    ("leader", "leader", "text"),
    ("sessions", "record sessions", "int"),
    ("start_date", "record from", "date"),
    ("end_date", "record to", "date"),
    ("spread", "record spread", "pct"),
    ("current_sessions", "current sessions", "int"),
    ("current_start", "current since", "date"),
    ("current_longest_since", "current is longest since", "date"),
]

PARALLEL_COLUMNS = [
    ("period_id", "period", "text"),
    ("pair_id", "pair", "text"),
    ("first_session", "from", "date"),
    ("last_session", "to", "date"),
    ("sessions", "sessions", "int"),
    ("small_total_return", "small return (pair basis)", "pct"),
    ("large_total_return", "large return (pair basis)", "pct"),
    ("relative_return", "relative", "pct"),
    ("small_led_share", "small-led share", "share"),
    ("longest_small_streak", "longest small streak", "int"),
    ("max_relative_drawdown", "max rel. drawdown", "pct"),
    ("coverage_note", "coverage", "text"),
]

SIMILARITY_COLUMNS = [
    ("pair_id", "pair", "text"),
    ("current_episode_id", "current episode", "text"),
    ("rank", "rank", "int"),
    ("past_episode_id", "past episode", "text"),
    ("past_episode_sessions", "past sessions", "int"),
    ("sessions_compared", "compared", "int"),
    ("distance", "distance (daily sd)", "float"),
    ("correlation", "correlation", "float"),
    ("distance_percentile", "windows closer", "percentile"),
    ("past_ratio_change", "ratio at same age", "pct"),
    ("ratio_change_after_20", "then +20 sessions", "pct"),
    ("ratio_change_after_60", "+60", "pct"),
    ("ratio_change_after_120", "+120", "pct"),
    ("ratio_change_after_250", "+250", "pct"),
]

CLAIM_COLUMNS = [
    ("claim_id", "claim", "text"),
    ("document_as_of", "document, as of", "text"),
    ("text", "what was claimed", "text"),
    ("verdict", "verdict (worst part)", "text"),
    ("parts", "parts: computed vs claimed -> verdict", "text"),
    ("sensitivity_shown", "sensitivity (nearest other reading)", "text"),
    ("reason", "how the deciding part was checked", "text"),
]


def _in_unit(value, unit: str, signed: bool = False) -> str | None:
    """A claim value as its unit reads: returns in %, P/E with an x, percentiles in %,
    sessions, years and ranks as integers."""
    if value is None or pd.isna(value):
        return None
    if unit == "return":
        return f"{value:+.1%}" if signed else f"{value:.1%}"
    if unit == "percentile":
        return f"{value:+.1%}" if signed else f"{value:.1%}"
    if unit == "P/E":
        return f"{value:+.1f}x" if signed else f"{value:.1f}x"
    return f"{value:+.0f}" if signed else f"{value:.0f}"


def claims_display(claims: pd.DataFrame) -> pd.DataFrame:
    """claims_check rows for the report: the document and its as-of date, claimed, computed and
    difference of the deciding part written in its unit, and the sensitivity flagged when a
    nearer reading flips the verdict."""
    if claims.empty:
        return claims
    frame = claims.sort_values(["document", "claim_id"]).copy()
    for column, shown, signed in (
        ("claimed_value", "claimed", False),
        ("computed_value", "computed", False),
        ("difference", "off_by", True),
    ):
        frame[shown] = [
            _in_unit(v, u, signed) for v, u in zip(frame[column], frame["unit"], strict=True)
        ]
    frame["document_as_of"] = [
        f"{d}, {pd.Timestamp(a).date()}"
        for d, a in zip(frame["document"], frame["as_of_date"], strict=True)
    ]
    frame["sensitivity_shown"] = [
        f"FLIPS: {s}" if f else s for s, f in zip(frame["sensitivity"], frame["flips"], strict=True)
    ]
    return frame


def _with_return(ticker: str, value, versus, benchmark) -> str:
    text = f"{ticker} {value:+.1%}"
    if versus is not None and not pd.isna(versus) and isinstance(benchmark, str):
        text += f" ({versus:+.1%} vs {benchmark})"
    return text


def leaders_summary(
    leaders: pd.DataFrame, events: pd.DataFrame, session: pd.Timestamp | None, top: int = 3
) -> pd.DataFrame:
    """One row per leaders_laggards window (month to date, year to date, each event in date
    order): its dates, the ``top`` best and worst ranked stocks with their total return and
    their return against their own benchmark, IWM's and SPY's total return, and a note when an
    event runs past the report's ``session`` (its window is cut there)."""
    if leaders.empty:
        return pd.DataFrame()
    ends = (
        events.drop_duplicates("event_id").set_index("event_id")["event_end"]
        if not events.empty
        else pd.Series(dtype="datetime64[ns]")
    )
    rows = []
    ordered = leaders.assign(
        _order=leaders["window_id"].map({"mtd": 0, "ytd": 1}).fillna(2)
    ).sort_values(["_order", "window_start", "window_id"], kind="stable")
    for window_id, rows_of in ordered.groupby("window_id", sort=False):
        ranked = rows_of[rows_of["rank"].notna()].sort_values(["rank", "ticker"])
        yard = rows_of[rows_of["is_yardstick"].astype(bool)].set_index("ticker")["total_return"]
        first = rows_of.iloc[0]
        end = ends.get(window_id, pd.NaT)
        cut = session is not None and not pd.isna(end) and end > session
        rows.append(
            {
                "window_id": window_id,
                "window_start": first["window_start"],
                "window_end": first["window_end"],
                "leaders": ", ".join(
                    _with_return(r.ticker, r.total_return, r.vs_benchmark, r.benchmark)
                    for r in ranked.head(top).itertuples()
                ),
                "laggards": ", ".join(
                    _with_return(r.ticker, r.total_return, r.vs_benchmark, r.benchmark)
                    for r in ranked.tail(top).iloc[::-1].itertuples()
                ),
                "iwm": yard.get("IWM"),
                "spy": yard.get("SPY"),
                "note": f"event ends {end.date()}: cut at {session.date()}" if cut else None,
            }
        )
    return pd.DataFrame(rows)


LEADERS_COLUMNS = [
    ("window_id", "window", "text"),
    ("window_start", "from", "date"),
    ("window_end", "to", "date"),
    ("leaders", "best stocks (vs own benchmark)", "text"),
    ("laggards", "worst stocks (vs own benchmark)", "text"),
    ("iwm", "IWM", "pct"),
    ("spy", "SPY", "pct"),
    ("note", "note", "text"),
]

EVENT_TICKERS = ("^RUT", "^GSPC", "^IXIC", "IWM", "SPY", "QQQ")


def event_summary(events: pd.DataFrame, tickers: tuple[str, ...] = EVENT_TICKERS) -> pd.DataFrame:
    """One row per market event: the sessions measured, whether the window was cut at the
    report's session (the event runs past it), and the total return of each of ``tickers``
    over the event (analytics.event_windows; price indices: their price return)."""
    if events.empty:
        return pd.DataFrame()
    rows = []
    for event_id, of_event in events.sort_values(["first_session", "event_id"]).groupby(
        "event_id", sort=False
    ):
        returns = of_event.set_index("ticker")["total_return"]
        rows.append(
            {
                "event_id": event_id,
                "first_session": of_event["first_session"].min(),
                "last_session": of_event["last_session"].max(),
                "event_end": of_event["event_end"].iloc[0],
                "sessions": of_event["sessions"].max(),
                "cut": "cut at the report's session" if of_event["cut"].any() else None,
                **{ticker: returns.get(ticker) for ticker in tickers},
            }
        )
    return pd.DataFrame(rows)


EVENT_COLUMNS = [
    ("event_id", "event", "text"),
    ("first_session", "first session", "date"),
    ("last_session", "last session", "date"),
    ("event_end", "event ends", "date"),
    ("sessions", "sessions", "int"),
    ("cut", "window", "text"),
    *((ticker, ticker, "pct") for ticker in EVENT_TICKERS),
]


def _figure(name: str, caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="chart-{name}"><img alt="{html.escape(caption)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption>'
        "</figure>"
    )


def point_in_time_note(inputs: ReportInputs) -> str:
    """The paragraph at the top of an as-of report: the session, how far the warehouse
    reaches, and how each section keeps to the rows on or before the session; empty for the
    latest session."""
    if inputs.as_of is None:
        return ""
    day = f"{inputs.as_of.date()}"
    through = inputs.warehouse_latest.date() if inputs.warehouse_latest is not None else "?"
    return (
        f'<p class="asof"><b>Point in time: as of {day}.</b> The warehouse holds sessions '
        f"through {through}; this report uses only rows dated on or before {day}. The "
        "dashboard is <code>analytics.rotation_dashboard_as_of(DATE "
        f"'{day}')</code> (a streak running on {day} ends there, its length and &ldquo;longest "
        "since&rdquo; as of then); streak records, rotation episodes, episode similarity, the "
        "seeded periods, relative rotation, leaders and laggards and the event windows are "
        f"recomputed from the rows up to {day} (a period or event running past it is cut "
        f"there); valuation figures are those published by {day}; the claims shown are those "
        f"of documents out by {day} whose every reading ends by {day}. Nothing in it, charts "
        f"included, is dated after {day}.</p>"
    )


def render_html(inputs: ReportInputs, warehouse_path: str = "") -> str:
    """The report for the session of ``inputs`` (the latest, or its as-of session) as one HTML
    document."""
    latest = inputs.latest_session
    session = str(latest.date()) if latest is not None else "no session loaded yet"
    title = f"Small-cap vs large-cap rotation: {session}"
    if inputs.as_of is not None:
        title += " (as of)"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}{' (SYNTHETIC)' if inputs.synthetic else ''}</title>",
        f"<style>{STYLE}</style></head><body>",
    ]
    if inputs.synthetic:
        parts.append(
            f'<p class="synthetic">{SYNTHETIC_LABEL}: this report is built from generated demo '
            "prices (source = 'synthetic'). Nothing in it describes real markets.</p>"
        )
    generated = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts += [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Price source: <b>{html.escape(inputs.source)}</b> &middot; '
        f"warehouse {html.escape(warehouse_path)} &middot; generated {generated}. Returns are "
        "simple (+1.0% = 0.01); ratio = 100 &times; small index / large index, each pair on "
        "its basis: <b>price</b> for the index pairs (^RUT, ^GSPC, ^IXIC and ^NDX are price "
        "indices, without dividends), <b>total return</b> (dividends reinvested) for the ETF "
        "pairs.</p>",
        point_in_time_note(inputs),
        "<h2>Dashboard</h2>",
        "<p>One row per pair (<code>analytics.rotation_dashboard</code>, as of a date "
        "<code>analytics.rotation_dashboard_as_of(d)</code>): its basis, ratio "
        "change, return difference and spread sum year to date and over 20, 60 and 252 "
        "sessions; the current streak and since when it is the longest; the latest published "
        "P/E discount. A pair is stale when a leg's series stopped: its row is as of the legs' "
        "last common session.</p>",
        stale_pairs_note(inputs.dashboard),
        html_table(inputs.dashboard, DASHBOARD_COLUMNS),
        "<h2>Valuation</h2>",
        "<p>Large caps against their own history: the S&amp;P 500's CAPE and trailing P/E "
        f"usable on {html.escape(session)} (<code>analytics.valuation_history</code>, Robert "
        "Shiller's monthly data; a month's CAPE from the first session after it, its trailing "
        "P/E a quarter after its quarter, when its earnings are out), and where each stands "
        "among the last 25 years' months and among all months since 1881 (share of months at "
        "or below it).</p>",
        html_table(valuation_standing(inputs.valuation_standing), STANDING_COLUMNS),
        "<p>Small against large caps, per pair: the published P/E discount (1 - small P/E / "
        "large P/E, <code>analytics.valuation_gap</code>) chosen by confidence then date, never "
        "published after the pair's session; and a PRICE-ONLY PROXY, NOT A VALUATION: where the "
        "small/large price ratio stands among the pair's sessions of the last 25 years "
        "(<code>analytics.valuation_price_proxy</code>; it moves with relative returns and "
        "says nothing about earnings).</p>",
        html_table(inputs.dashboard, PAIR_VALUATION_COLUMNS),
        "<h2>Charts</h2>",
    ]
    parts += [_figure(name, text, render_chart(name, inputs)) for name, text in CHARTS.items()]
    parts += [
        "<h2>Leaders and laggards</h2>",
        "<p>The universe's stocks ranked by total return month to date, year to date and over "
        f"each market event up to {html.escape(session)} "
        "(<code>analytics.leaders_laggards</code>): the three best and worst, each also "
        "against its own benchmark (IWM for small-cap stocks, SPY for large-cap stocks), with "
        "IWM and SPY as yardsticks.</p>",
        html_table(leaders_summary(inputs.leaders, inputs.events, latest), LEADERS_COLUMNS),
        "<p>The market events (<code>analytics.event_windows</code>): each index's and ETF's "
        "return over the event's sessions (price return for the price indices ^RUT, ^GSPC, "
        "^IXIC; total return for the ETFs).</p>",
        html_table(event_summary(inputs.events), EVENT_COLUMNS),
    ]
    parts += [
        "<h2>Streak records</h2>",
        "<p>Runs of consecutive sessions led by the same side "
        "(<code>analytics.outperformance_streaks</code>): the longest per pair and leader "
        "(the most recent if tied), and the current run.</p>",
        html_table(streak_records(inputs.streaks), STREAK_COLUMNS),
        "<h2>Historical parallels</h2>",
        "<p>Seeded periods measured per pair (<code>analytics.historical_parallels</code>; "
        "returns on each pair's basis: price for index pairs, total return for ETF pairs).</p>",
        html_table(
            inputs.parallels.sort_values(["period_id", "pair_id"])
            if not inputs.parallels.empty
            else inputs.parallels,
            PARALLEL_COLUMNS,
        ),
        "<p>Past episodes most like the current one (<code>analytics.episode_similarity"
        "</code>, top 3 by distance between the volatility-normalised log-ratio paths since "
        "each trough; windows closer = share of all stretches of history as long that are "
        "closer still), and what the ratio did after the same age.</p>",
        html_table(
            inputs.similarity[inputs.similarity["rank"] <= 3].sort_values(["pair_id", "rank"]),
            SIMILARITY_COLUMNS,
        ),
        "<h2>Claims</h2>",
        "<p>Claims of the two source documents (the article as of 2026-02-11, the research "
        "note as of 2026-02-04) checked part by part against the warehouse "
        "(<code>analytics.claims_check</code>, each part in <code>analytics.claim_parts</code>): "
        "confirmed within tolerance, close within twice it, contradicted, or not computable; a "
        "claim is as good as its worst part. The sensitivity says whether the verdict flips "
        "under the nearest other reading (near ties of about 1 bp, total vs price return, the "
        "session before or after the as-of date) and the value there.</p>",
        html_table(
            claims_display(inputs.claims),
            CLAIM_COLUMNS,
            row_class=lambda row: f"verdict-{row['verdict']}",
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


@dataclass(frozen=True)
class Report:
    html: str
    latest_session: dt.date | None  # the session the report is for (latest, or as-of)
    synthetic: bool

    @property
    def filename(self) -> str:
        """rotation_report_<session>.html (``_empty`` before any session is loaded): the same
        name for the latest session's report and an as-of report of that session, which hold
        the same figures."""
        return f"rotation_report_{self.latest_session or 'empty'}.html"


def build_report(
    warehouse_path: str | Path, lock_wait_seconds: float = 60.0, as_of: dt.date | None = None
) -> Report:
    """The report of the warehouse file at ``warehouse_path``, opened read-only, as of the
    session ``as_of`` (default: the latest; NotALoadedSession when it is not loaded)."""
    path = str(Path(warehouse_path).resolve())
    with read_only_connection(path, lock_wait_seconds) as con:
        inputs = read_report_inputs(con, as_of)
    latest = inputs.latest_session
    return Report(
        html=render_html(inputs, path),
        latest_session=latest.date() if latest is not None else None,
        synthetic=inputs.synthetic,
    )
