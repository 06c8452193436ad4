"""The charts, drawn from frames built in code: what they compute and what they say."""

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from rotation_assets.reporting import charts
from rotation_assets.reporting.charts import SYNTHETIC_LABEL

D = pd.Timestamp
SESSIONS = pd.bdate_range("2026-01-02", periods=6)


def png_text(png: bytes) -> dict[str, str]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.load()
    return {**image.text, "size": image.size}


def relative(pair_id: str, small_index, large_index, source: str = "csv", dates=SESSIONS):
    small_index = np.asarray(small_index, dtype=float)
    large_index = np.asarray(large_index, dtype=float)
    return pd.DataFrame(
        {
            "trade_date": dates[: len(small_index)],
            "pair_id": pair_id,
            "small_index": small_index,
            "large_index": large_index,
            "ratio": 100 * small_index / large_index,
            "source": source,
        }
    )


def test_rebased_paths_start_at_100_the_session_before_the_window():
    rows = relative("IWM_QQQ", [100, 110, 121, 133.1, 146.41], [100, 100, 100, 100, 50])
    paths = charts.rebased_paths(rows, sessions=3)
    # Base = the row 3 sessions before the last (110 and 100): end values are 3-session returns.
    assert list(paths["trade_date"]) == list(SESSIONS[1:5])
    np.testing.assert_allclose(paths["small"], [100, 110, 121, 133.1])
    np.testing.assert_allclose(paths["large"], [100, 100, 100, 50])

    # Fewer rows than sessions: from the pair's base (100 for both, before its first row).
    short = charts.rebased_paths(rows.head(2), sessions=3)
    np.testing.assert_allclose(short["small"], [100, 100, 110])
    np.testing.assert_allclose(short["large"], [100, 100, 100])


def test_rebased_chart_says_synthetic_only_for_synthetic_data():
    rows = relative("IWM_QQQ", [100, 110, 121, 133.1, 146.41], [100, 100, 100, 100, 50])
    real = png_text(charts.rebased_pair_chart(rows, sessions=3))
    assert real["Title"] == "IWM vs QQQ: total return rebased to 100, last 3 sessions to 2026-01-08"
    assert SYNTHETIC_LABEL not in real["Description"]
    # Legend: 3-session returns and the gap between them, in percentage points.
    assert "IWM  +33.1%" in real["Description"] and "QQQ  -50.0%" in real["Description"]
    assert "gap +83.1 pp over 3 sessions" in real["Description"]
    assert real["size"] == (1100, 550)

    fake = png_text(charts.rebased_pair_chart(rows.assign(source="synthetic"), sessions=3))
    assert fake["Title"].startswith(SYNTHETIC_LABEL)
    # The watermark across the plot as well as the title.
    assert fake["Description"].count(SYNTHETIC_LABEL) == 2


def test_ratio_history_counts_streaks_of_ten_sessions_and_episodes_per_pair():
    rows = pd.concat(
        [
            relative("A_B", [100, 101, 102], [100, 100, 100], "csv+synthetic"),
            relative("C_D", [100, 99, 98], [100, 100, 100], "csv"),
        ]
    )
    streaks = pd.DataFrame(
        {
            "pair_id": ["A_B", "A_B", "A_B", "C_D"],
            "leader": ["small", "large", "small", "large"],
            "start_date": [SESSIONS[0], SESSIONS[1], SESSIONS[2], SESSIONS[0]],
            "end_date": [SESSIONS[0], SESSIONS[1], SESSIONS[2], SESSIONS[2]],
            "sessions": [10, 12, 9, 3],
        }
    )
    episodes = pd.DataFrame(
        {
            "pair_id": ["A_B"],
            "start_date": [SESSIONS[1]],
            "end_date": [SESSIONS[2]],
            "window_sessions": [60],
            "threshold": [0.05],
        }
    )
    text = png_text(charts.ratio_history_chart(rows, streaks, episodes, ["A_B", "C_D", "E_F"]))
    description = text["Description"]
    # 'csv+synthetic' is partly synthetic: labelled.
    assert text["Title"].startswith(SYNTHETIC_LABEL)
    assert "A_B: ratio 102.0 on 2026-01-06  (2 streaks of 10+ sessions, 1 episode)" in description
    assert "C_D: ratio 98.0 on 2026-01-06  (0 streaks of 10+ sessions, 0 episodes)" in description
    assert "E_F: no data yet" in description
    assert "rotation episode (trough to peak: ratio up > 5% within 60 sessions)" in description


def test_valuation_gap_chart_series_per_pair_and_an_empty_chart_that_says_so():
    valuation = pd.DataFrame(
        {
            "as_of": [D("2026-02-04"), D("2026-02-16"), D("2025-12-02")],
            "pair_id": ["RUT_GSPC", "RUT_GSPC", None],
            "small_label": ["Russell 2000", "Russell 2000", "S&P 600"],
            "large_label": ["S&P 500", "S&P 500", "S&P 500"],
            "discount": [1 - 18 / 26, 1 - 16 / 21, 1 - 14.8 / 21.9],
            "origin": ["published", "published", "published"],
        }
    )
    description = png_text(charts.valuation_gap_chart(valuation))["Description"]
    assert "RUT_GSPC (2 points)" in description and "S&P 600 vs S&P 500 (1 point)" in description
    assert "31%" in description and "24%" in description and "32%" in description
    assert charts.NO_VALUATION_DATA not in description

    empty = png_text(charts.valuation_gap_chart(valuation.head(0)))
    assert charts.NO_VALUATION_DATA in empty["Description"]


def test_episode_overlay_draws_the_top_ranked_past_episodes():
    dates = pd.bdate_range("2025-01-01", periods=40)
    ratio = 100 + np.arange(40.0)
    rows = relative("A_B", ratio, np.full(40, 100.0), "synthetic", dates=dates)
    episodes = pd.DataFrame(
        {
            "pair_id": ["A_B"] * 5,
            "start_date": [dates[i] for i in (2, 8, 14, 20, 30)],
            "sessions": [3, 3, 3, 3, 4],
            "is_current": [False, False, False, False, True],
        }
    )
    similarity = pd.DataFrame(
        {
            "pair_id": ["A_B"] * 4,
            "past_start_date": [dates[i] for i in (2, 8, 14, 20)],
            "rank": [4, 2, 1, 3],
            "distance": [4.0, 2.0, 1.0, 3.0],
        }
    )
    text = png_text(charts.episode_overlay_chart(rows, episodes, similarity, ["A_B", "C_D"]))
    description = text["Description"]
    assert text["Title"].startswith(SYNTHETIC_LABEL)
    assert "current, from 2025-02-12 (4 sessions)" in description
    for rank, start in ((1, dates[14]), (2, dates[8]), (3, dates[20])):
        assert f"#{rank} from {start.date()}" in description
    assert "#4 " not in description
    assert "No current rotation episode: C_D" in description

    none = png_text(charts.episode_overlay_chart(rows, episodes.head(4), similarity, ["A_B"]))
    assert "no pair is in a rotation episode now" in none["Description"]


@pytest.mark.parametrize("sources, expected", [(["csv"], False), (["csv+synthetic"], True)])
def test_is_synthetic(sources, expected):
    assert charts.is_synthetic(sources) is expected


def test_report_and_charts_use_the_same_synthetic_label():
    from rotation_assets.reporting import report

    assert report.SYNTHETIC_LABEL == SYNTHETIC_LABEL


def test_chart_titles_name_each_pairs_basis_and_a_stale_pair():
    rows = relative("RUT_GSPC", [100, 101, 102, 103, 104], [100, 100, 100, 100, 100])
    price = png_text(charts.rebased_pair_chart(rows, "RUT_GSPC", "^RUT", "^GSPC", 3, "price"))
    assert price["Title"] == "^RUT vs ^GSPC: price rebased to 100, last 3 sessions to 2026-01-08"
    assert "total return" not in price["Description"]
    # IWN_IWO's rows stop two sessions before RUT_GSPC's: its panel says since when.
    stopped = relative("IWN_IWO", [100, 90, 81], [100, 100, 100])
    none = pd.DataFrame(columns=["pair_id", "leader", "sessions", "start_date", "end_date"])
    text = png_text(
        charts.ratio_history_chart(
            pd.concat([rows, stopped]),
            none,
            none.assign(window_sessions=[], threshold=[]),
            ["RUT_GSPC", "IWN_IWO"],
            bases={"RUT_GSPC": "price", "IWN_IWO": "total_return"},
        )
    )["Description"]
    assert "RUT_GSPC (price): ratio 104.0 on 2026-01-08" in text
    assert (
        "IWN_IWO (total return): ratio 81.0 on 2026-01-06  (0 streaks of 10+ sessions, "
        "0 episodes)  STALE since 2026-01-06: a leg's series stopped" in text
    )
    assert (
        "RUT_GSPC (price): ratio 104.0 on 2026-01-08  (0 streaks of 10+ sessions, 0 episodes) |"
        in (text)
    )
