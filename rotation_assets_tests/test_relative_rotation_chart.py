"""The relative rotation chart: which points it draws (each instrument's last 8 weeks) and what
it says, read from the figure and the PNG's text, not from pixels."""

import io

import numpy as np
import pandas as pd
from PIL import Image

from rotation_assets.reporting import relative_rotation_chart as chart
from rotation_assets.reporting.charts import SYNTHETIC_LABEL

D = pd.Timestamp
# Ten Fridays, 2026-06-05 .. 2026-08-07; the chart's week is the last.
FRIDAYS = pd.date_range("2026-06-05", periods=10, freq="W-FRI")


def rows(ticker: str, benchmark: str, weeks, ratio, momentum, source: str = "csv"):
    ratio, momentum = np.asarray(ratio, float), np.asarray(momentum, float)
    quadrant = np.where(
        ratio >= 100,
        np.where(momentum >= 100, "leading", "weakening"),
        np.where(momentum >= 100, "improving", "lagging"),
    )
    return pd.DataFrame(
        {
            "ticker": ticker,
            "benchmark": benchmark,
            "week_end": list(weeks),
            "rs": 100.0,
            "rs_ratio": ratio,
            "rs_momentum": momentum,
            "quadrant": quadrant,
            "source": source,
        }
    )


def rotation(source: str = "csv") -> pd.DataFrame:
    # AAA: ten weeks, ratio 95..104 by 1, momentum 101, 99, 101, ...: the tail is the last 8
    # (ratio 97..104). CCC stopped two weeks before the chart's week (its last on 2026-07-24),
    # so its tail is its rows from 2026-06-19 on: weeks 3-8. DDD's last week is 2026-06-05,
    # more than 8 weeks back: not drawn, named.
    return pd.concat(
        [
            rows("AAA", "SPY", FRIDAYS, np.arange(95, 105), [101, 99] * 5, source),
            rows("CCC", "IWM", FRIDAYS[:8], [98] * 8, [103] * 8),
            rows("DDD", "IWM", FRIDAYS[:1], [90], [90]),
        ],
        ignore_index=True,
    )


def test_tails_are_the_last_eight_weeks_up_to_the_charts_week():
    tails = chart.rotation_tails(rotation())
    aaa = tails[tails["ticker"] == "AAA"]
    assert list(aaa["week_end"]) == list(FRIDAYS[2:])
    assert list(aaa["rs_ratio"]) == [97, 98, 99, 100, 101, 102, 103, 104]
    assert list(tails.loc[tails["ticker"] == "CCC", "week_end"]) == list(FRIDAYS[2:8])
    assert "DDD" not in set(tails["ticker"])

    # As of a Wednesday, 2026-07-01: the newest week on or before it is 2026-06-26 (FRIDAYS[3]),
    # whose window (8 weeks) reaches back past the first row: AAA rows 0-3, CCC 0-3, DDD's one.
    earlier = chart.rotation_tails(rotation(), as_of="2026-07-01")
    assert list(earlier.loc[earlier["ticker"] == "AAA", "week_end"]) == list(FRIDAYS[:4])
    assert set(earlier["ticker"]) == {"AAA", "CCC", "DDD"}


def test_the_figure_draws_each_tail_in_the_ratio_momentum_plane():
    fig, title = chart.relative_rotation_figure(rotation())
    assert title == (
        "Relative rotation against each benchmark (total return, weekly): last 8 weeks to "
        "2026-08-07"
    )
    (ax,) = fig.axes
    tails = {line.get_gid(): line.get_xydata() for line in ax.get_lines() if line.get_gid()}
    assert set(tails) == {"AAA vs SPY", "CCC vs IWM"}
    # x = rs_ratio, y = rs_momentum, oldest first; the newest point is AAA's (104, 99).
    np.testing.assert_array_equal(
        tails["AAA vs SPY"],
        np.column_stack([np.arange(97, 105), [101, 99] * 4]),
    )
    np.testing.assert_array_equal(tails["CCC vs IWM"], [[98, 103]] * 6)
    # Square axes centred on (100, 100), wide enough for every point: the farthest is 104
    # (4 from 100), plus 12%: 100 +- 4.48.
    assert ax.get_xlim() == ax.get_ylim()
    np.testing.assert_allclose(ax.get_xlim(), (95.52, 104.48))


def test_the_png_names_quadrants_instruments_and_the_one_left_out(tmp_path):
    path = tmp_path / "relative_rotation.png"
    path.write_bytes(chart.relative_rotation_chart(rotation()))
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    assert image.format == "PNG"
    assert image.text["Title"].endswith("last 8 weeks to 2026-08-07")
    description = image.text["Description"]
    for quadrant in ("Leading", "Weakening", "Lagging", "Improving"):
        assert quadrant in description
    # Legend: the newest week's quadrant; CCC's newest week is dated, it stopped early.
    assert "AAA vs SPY: weakening" in description  # (104, 99)
    assert "CCC vs IWM: improving, to 2026-07-24" in description  # (98, 103)
    assert "No week in the last 8: DDD vs IWM (last week 2026-06-05)" in description
    assert SYNTHETIC_LABEL not in description


def test_synthetic_data_is_marked_and_no_data_says_so():
    fake = Image.open(io.BytesIO(chart.relative_rotation_chart(rotation("synthetic"))))
    assert fake.text["Title"].startswith(SYNTHETIC_LABEL)

    empty = Image.open(io.BytesIO(chart.relative_rotation_chart(rotation().head(0))))
    assert chart.NO_ROTATION_DATA in empty.text["Description"]
    # Before the first week: nothing to draw either.
    early = Image.open(io.BytesIO(chart.relative_rotation_chart(rotation(), as_of="2026-06-01")))
    assert chart.NO_ROTATION_DATA in early.text["Description"]
