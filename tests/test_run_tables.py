"""Times written many at once read exactly as ``Timestamp.isoformat`` writes them one by one."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.run_tables import iso_times


@pytest.mark.parametrize("times", [
    ["2024-01-01 00:00:00", "2024-03-31 23:59:00"],
    ["2024-01-01 00:00:00.5", "2024-01-01 00:00:01.25"],
    ["2024-01-01 00:00:00.000001", "2024-01-01 00:00:00"],
    ["2024-01-01 00:00:00.000000001"],
])
def test_iso_times_match_isoformat(times) -> None:
    index = pd.DatetimeIndex(times, tz="UTC")
    assert iso_times(index) == [t.isoformat() for t in index]


def test_other_zones_are_written_in_utc() -> None:
    index = pd.DatetimeIndex(["2024-06-01 12:00"], tz="Europe/Berlin")
    assert iso_times(index) == ["2024-06-01T10:00:00+00:00"]
    assert iso_times(pd.DatetimeIndex([], tz="UTC")) == []
