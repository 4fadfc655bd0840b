"""A stored run's equity chart is dated by the times stored with its points."""

from __future__ import annotations

import numpy as np

from screens.equity_curve import EquityCurve

METRICS = {"start": "2024-01-01T00:00:00+00:00", "end": "2024-01-31T00:00:00+00:00", "final_equity": 3.0}


def test_stored_times_date_the_buckets_even_when_the_points_are_uneven() -> None:
    day = 86_400
    start = 1_704_067_200  # 2024-01-01
    # Most points in the last days, as a thinned curve of a run that traded late would have.
    seconds = [start, start + 1 * day, *(start + 25 * day + k * 3_600 for k in range(98))]
    curve = EquityCurve.from_stored(list(np.linspace(1.0, 3.0, len(seconds))), 1.0, METRICS, seconds)
    assert curve.times[0] == start * 10**9
    assert curve.times[len(curve.times) // 2] >= (start + 25 * day) * 10**9  # not the evenly spread mid-month


def test_without_times_the_points_are_spread_from_first_to_last_bar() -> None:
    curve = EquityCurve.from_stored([1.0, 2.0, 3.0], 1.0, METRICS)
    assert curve.times[0] == 1_704_067_200 * 10**9 and curve.times[-1] == 1_706_659_200 * 10**9
    mismatched = EquityCurve.from_stored([1.0, 2.0, 3.0], 1.0, METRICS, [1, 2])  # a damaged row: as if absent
    assert list(mismatched.times) == list(curve.times)
