"""reporting.point_in_time: the report's summaries recomputed as of an earlier session."""

import datetime as dt

import pandas as pd

from rotation_assets.metrics.historical_parallels import detect_episodes
from rotation_assets.reporting.point_in_time import claims_as_of, episode_settings, episodes_as_of

D = pd.Timestamp
DAYS = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-12"]


def relative(ratios: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"trade_date": pd.to_datetime(DAYS), "pair_id": "AAA_BBB", "ratio": ratios, "source": "csv"}
    )


def test_episodes_as_of_a_session_use_its_rows_and_the_stored_run_config():
    # Ratio 100, 100, 106, 110, 104, 103. With a threshold of 8% (the stored run's config; the
    # default is 5%) and a 3-session window: 106 / 100 = +6% on 01-07 opens no leg; 110 / 100
    # = +10% on 01-08 does, from the trough of 01-06 (the last of the equal lows); 104 <=
    # 0.95 * 110 = 104.5 on 01-09 ends it at its peak, 01-08.
    rows = relative([100.0, 100.0, 106.0, 110.0, 104.0, 103.0])
    stored = detect_episodes(
        rows, threshold=0.08, window=3, end_drawdown=0.05, merge_gap_sessions=0
    )
    (latest,) = stored.to_dict("records")
    assert (latest["start_date"], latest["confirmed_date"]) == (D("2026-01-06"), D("2026-01-08"))
    assert (latest["end_date"], latest["ended_date"]) == (D("2026-01-08"), D("2026-01-09"))
    assert not latest["is_current"]
    assert episode_settings(stored) == {
        "threshold": 0.08,
        "window": 3,
        "end_drawdown": 0.05,
        "merge_gap_sessions": 0,
    }

    # As of 01-08: the same episode, still current (the drawdown comes a session later):
    # 2 sessions after the trough, peak +10%.
    episodes, similarity = episodes_as_of(rows, stored, dt.date(2026, 1, 8))
    (current,) = episodes.to_dict("records")
    assert current["episode_id"] == "AAA_BBB:2026-01-06" and current["is_current"]
    assert current["end_date"] == D("2026-01-08") and pd.isna(current["ended_date"])
    assert current["sessions"] == 2 and abs(current["peak_ratio_change"] - 0.10) < 1e-12
    assert current["source"] == "csv"
    assert similarity.empty  # 2 sessions: younger than the 20 a comparison needs

    # As of 01-07 the move is +6%, under the stored 8%: no episode yet (the default 5% would
    # have opened one: the stored config is what counts).
    episodes, _ = episodes_as_of(rows, stored, dt.date(2026, 1, 7))
    assert episodes.empty
    defaults, _ = episodes_as_of(rows, stored.iloc[0:0], dt.date(2026, 1, 7))
    assert list(defaults["episode_id"]) == ["AAA_BBB:2026-01-06"]


def test_claims_as_of_keep_those_published_and_read_by_the_session():
    claims = pd.DataFrame(
        {
            "claim_id": ["note", "article", "pe_point_later", "old_window_new_note"],
            "as_of_date": pd.to_datetime(["2026-02-04", "2026-02-11", "2026-02-04", "2026-02-04"]),
            # The session after the as-of date (sensitivity) or a P/E point's own date.
            "latest_session_used": pd.to_datetime(
                ["2026-02-05", "2026-02-12", "2026-02-16", "2007-01-03"]
            ),
        }
    )
    shown = {
        day: list(claims_as_of(claims, dt.date.fromisoformat(day))["claim_id"])
        for day in ("2026-02-03", "2026-02-04", "2026-02-05", "2026-02-12", "2026-02-16")
    }
    assert shown == {
        # Neither document is out: a 2000-2006 claim made in 2026 is not shown in 2026-02-03's view.
        "2026-02-03": [],
        # The note is out, but its sensitivity reads 2026-02-05.
        "2026-02-04": ["old_window_new_note"],
        "2026-02-05": ["note", "old_window_new_note"],
        "2026-02-12": ["note", "article", "old_window_new_note"],
        "2026-02-16": ["note", "article", "pe_point_later", "old_window_new_note"],
    }
